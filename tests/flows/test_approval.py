"""Approval binds a named person to exact content; any change makes the script a draft again."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from app.errors import InvalidInputError
from app.flows import UnapprovedScriptError, load_registry, load_script, require_approved
from app.flows.approval import approve_script, read_approvals
from app.flows.loading import canonical_hash
from tests.flows.conftest import MINIMAL, SHIPPED

WHEN = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    shutil.copy(MINIMAL, tmp_path / "minimal.yaml")
    return tmp_path


def test_a_new_script_is_a_draft_and_cannot_run_for_real(flows: Path) -> None:
    script = load_registry(flows).get("minimal")
    assert not script.approved and script.approval is None
    with pytest.raises(UnapprovedScriptError) as refused:
        require_approved(script)
    message = str(refused.value)
    assert "'minimal' version 1" in message
    assert "waitlist flow approve minimal --by NAME" in message


def test_approving_records_who_what_and_when(flows: Path) -> None:
    script = load_registry(flows).get("minimal")
    approve_script(script, by="Dr A Example (CSO)", at=WHEN, flows_path=flows)
    written = yaml.safe_load((flows / "approvals.yaml").read_text(encoding="utf-8"))
    assert written == {
        "approvals": [
            {
                "flow_id": "minimal",
                "version": 1,
                "sha256": script.content_hash,
                "approved_by": "Dr A Example (CSO)",
                "approved_at": "2026-11-02T09:30:00+00:00",
            }
        ]
    }
    reloaded = load_registry(flows).get("minimal")
    assert reloaded.approved
    assert reloaded.approval is not None
    assert (reloaded.approval.by, reloaded.approval.at) == ("Dr A Example (CSO)", WHEN)
    require_approved(reloaded)


def test_changing_one_character_unapproves_the_script(flows: Path) -> None:
    approve_script(load_script(flows / "minimal.yaml"), by="Dr A", at=WHEN, flows_path=flows)
    path = flows / "minimal.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("in touch.", "in touch!"), "utf-8")
    assert not load_registry(flows).get("minimal").approved


def test_comments_and_layout_do_not_change_the_canonical_content(flows: Path) -> None:
    path = flows / "minimal.yaml"
    before = load_script(path).content_hash
    text = path.read_text(encoding="utf-8")
    path.write_text("# reviewed on the ward\n" + text.replace("version: 1\n", "version:   1\n"))
    assert load_script(path).content_hash == before


def test_the_canonical_content_is_sorted_compact_json() -> None:
    assert canonical_hash({"b": 1, "a": "ŵ"}) == canonical_hash({"a": "ŵ", "b": 1})
    assert (
        canonical_hash({"a": "ŵ", "b": 1}) == hashlib.sha256('{"a":"ŵ","b":1}'.encode()).hexdigest()
    )


def test_earlier_approvals_are_kept_as_history(flows: Path) -> None:
    script = load_script(flows / "minimal.yaml")
    approve_script(script, by="Dr One", at=WHEN, flows_path=flows)
    approve_script(script, by="Dr Two", at=WHEN + dt.timedelta(days=1), flows_path=flows)
    assert [r.approval.by for r in read_approvals(flows)] == ["Dr One", "Dr Two"]
    approval = load_script(flows / "minimal.yaml").approval
    assert approval is not None and approval.by == "Dr Two"


def test_an_approver_must_be_named(flows: Path) -> None:
    with pytest.raises(InvalidInputError, match="full name"):
        approve_script(load_script(flows / "minimal.yaml"), by=" ", at=WHEN, flows_path=flows)


def test_the_shipped_scripts_are_approved_by_the_synthetic_test_approver() -> None:
    for script in load_registry(SHIPPED).all():
        assert script.approved, script.id
        assert script.approval is not None
        assert script.approval.by == "Dr Test Approver (synthetic, demo only)"
