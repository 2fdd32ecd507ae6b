"""The call_script row: one per exact content, carrying its approval."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.flows import LoadedScript, ensure_call_script, load_script
from app.flows.approval import approve_script
from app.models import CallScript
from tests.flows.conftest import MINIMAL


def test_it_stores_the_exact_content_once(db_session: Session, english: LoadedScript) -> None:
    first = ensure_call_script(db_session, english)
    again = ensure_call_script(db_session, english)
    assert first.id == again.id
    assert (first.flow_id, first.version, first.content_hash) == (
        "standard-validation",
        1,
        english.content_hash,
    )
    assert first.content == english.path.read_text(encoding="utf-8")
    assert first.approved_by == "Dr Test Approver (synthetic, demo only)"
    count = db_session.scalar(
        select(func.count()).select_from(CallScript).where(CallScript.flow_id == english.id)
    )
    assert count == 1


def test_changed_content_gets_its_own_row(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "minimal.yaml"
    shutil.copy(MINIMAL, path)
    draft = ensure_call_script(db_session, load_script(path))
    assert draft.approved_by is None
    path.write_text(path.read_text(encoding="utf-8").replace("in touch.", "in touch soon."))
    changed = ensure_call_script(db_session, load_script(path))
    assert changed.id != draft.id


def test_a_later_approval_is_copied_onto_the_row(db_session: Session, tmp_path: Path) -> None:
    path = tmp_path / "minimal.yaml"
    shutil.copy(MINIMAL, path)
    row = ensure_call_script(db_session, load_script(path))
    at = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
    approve_script(load_script(path), by="Dr A Example", at=at, flows_path=tmp_path)
    again = ensure_call_script(db_session, load_script(path))
    assert again.id == row.id
    assert (again.approved_by, again.approved_at) == ("Dr A Example", at)
