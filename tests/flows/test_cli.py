"""``waitlist flow lint|simulate|approve`` run as an operator would run them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from app.cli import cli
from app.config import get_settings
from tests.flows.conftest import BROKEN, MINIMAL
from tests.test_cli import run_waitlist


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each command reads the environment afresh (settings are cached per process)."""
    for name in ("WAITLIST_CALL_FLOWS_DIR", "WAITLIST_HOME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def waitlist(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run a command in this process (a subprocess costs seconds on a busy machine)."""
    return CliRunner().invoke(cli, list(args), env=env)


def test_lint_passes_the_shipped_scripts_in_a_real_process(tmp_path: Path) -> None:
    result = run_waitlist("flow", "lint", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "2 script file(s) checked: ok" in result.stdout


def test_lint_fails_on_a_broken_script_naming_file_step_and_fix() -> None:
    path = BROKEN / "unknown_next.yaml"
    result = waitlist("flow", "lint", str(path), "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["files"] == [str(path)]
    (problem,) = report["problems"]
    assert problem["file"] == str(path)
    assert problem["step"] == "condition"
    assert "did you mean 'staying'" in problem["fix"]


def test_simulate_prints_the_transcript_and_outcome_as_json() -> None:
    result = waitlist(
        "flow", "simulate", "standard-validation", "--answers", "14031956,1,1", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outcome"] == "worsened"
    assert report["approved"] is True
    assert report["recorded"] == {"still_needed": True, "condition": "worse"}
    assert [line["speaker"] for line in report["transcript"]][:3] == [
        "service",
        "service",
        "patient",
    ]


def test_simulate_by_sms_in_text() -> None:
    result = waitlist(
        "flow", "simulate", "standard-validation", "--channel", "sms",
        "--answers", "14/03/1956,no thanks,1",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert 'patient: "no thanks" (text)' in result.stdout
    assert result.stdout.rstrip().splitlines()[-2] == "outcome: leave"


def test_simulate_marks_a_draft_and_approve_makes_it_approved(tmp_path: Path) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    shutil.copy(MINIMAL, flows / "minimal.yaml")
    env = {"WAITLIST_CALL_FLOWS_DIR": str(flows)}
    draft = waitlist("flow", "simulate", "minimal", "--answers", "14031956,2", env=env)
    assert draft.exit_code == 0, draft.stderr
    assert draft.stdout.startswith("DRAFT")
    approved = waitlist(
        "flow", "approve", "minimal", "--by", "Dr A Example (CSO)", "--json", env=env
    )
    assert approved.exit_code == 0, approved.stderr
    assert json.loads(approved.stdout)["approved_by"] == "Dr A Example (CSO)"
    entries = yaml.safe_load((flows / "approvals.yaml").read_text(encoding="utf-8"))["approvals"]
    assert [entry["flow_id"] for entry in entries] == ["minimal"]
    again = waitlist("flow", "simulate", "minimal", "--answers", "14031956,2", env=env)
    assert not again.stdout.startswith("DRAFT")


def test_simulate_needs_answers_when_not_in_a_terminal() -> None:
    result = waitlist("flow", "simulate", "standard-validation")
    assert result.exit_code == 2
    assert "--answers" in result.stderr


def test_an_unknown_flow_is_reported() -> None:
    result = waitlist("flow", "simulate", "no-such-flow", "--answers", "1")
    assert result.exit_code == 1
    assert "No call script with id 'no-such-flow'" in result.stderr


def test_evaluate_reports_figures_per_question_and_no_risky_case() -> None:
    result = waitlist("flow", "evaluate", "standard-validation", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    (english,) = report["scripts"]
    assert english["risky_cases"] == []
    assert set(english["by_question"]) == {"identity", "still_needed", "condition", "mutual_aid"}
    assert english["by_question"]["condition"]["confusion"]["worse"].keys() <= {
        "worse",
        "red_flags",
    }
    assert english["held_out"]["share_right"] >= 0.98
