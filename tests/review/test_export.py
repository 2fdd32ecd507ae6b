from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.csvcells import safe_cell
from app.db import make_engine, make_session_factory, session_scope
from app.errors import PermissionDeniedError
from app.models import AuditEvent, ClinicalDecision, Decision, Outcome, Pathway, Role, User
from app.outcomes.service import record_outcome
from app.review.decisions import decide
from app.review.export import COLUMNS, export_outcomes
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.review.conftest import MONDAY_NOON, make_user, queue_pathway
from tests.support.databases import fresh_database
from tests.support.factories import make_pathway
from tests.test_cli import run_waitlist

DECIDED_AT = MONDAY_NOON + dt.timedelta(hours=2)
# A removal reaches the PAS only once its change-of-mind window (14 days) has closed.
EXPORTED_AT = DECIDED_AT + dt.timedelta(days=15)


def decided(
    session: Session, by: User, *, decision: Decision = Decision.REMOVE, note: str = "Reviewed."
) -> ClinicalDecision:
    item = queue_pathway(session, outcome=Outcome.LEAVE)
    return decide(
        session,
        item_id=item.id,
        seen_version=item.version,
        decision=decision,
        rtt_status_code="35" if decision == Decision.REMOVE else None,
        note=note,
        by=by,
        now=DECIDED_AT,
    )


def exported(session: Session, actor: User | str, **kw: object) -> list[dict[str, str]]:
    out = io.StringIO()
    now = kw.pop("now", EXPORTED_AT)
    export_outcomes(session, out=out, actor=actor, now=now, **kw)  # type: ignore[arg-type]
    reader = csv.DictReader(io.StringIO(out.getvalue()))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Patient declined", "Patient declined"),
        ("", ""),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_made_inert(cell: str, safe: str) -> None:
    assert safe_cell(cell) == safe


def test_it_writes_one_row_per_decision_with_the_contract_columns(
    db_session: Session, alice: User
) -> None:
    decision = decided(db_session, alice, note="=cmd|' /C calc'!A0")
    pathway = db_session.get(Pathway, decision.pathway_id)
    assert pathway is not None

    [row] = exported(db_session, alice)

    assert row == {
        "provider_code": "RXX",
        "pathway_id": pathway.pathway_id,
        "nhs_number": row["nhs_number"],
        "patient_answer": "leave",
        "clinical_decision": "remove",
        "rtt_status_code": "35",
        "decided_by": alice.username,
        "decided_at": "2026-11-23T14:00:00+00:00",
        "note": "'=cmd|' /C calc'!A0",
        "new_priority": "",
        "round": "1",
        "due_date": "2026-11-23",
        "validated_date": "",
        "willing_to_travel": "",
        "contacts": "0",
    }
    assert row["nhs_number"].startswith("999")


def test_exported_decisions_are_marked_and_not_exported_twice(
    db_session: Session, alice: User, bob: User
) -> None:
    first = decided(db_session, alice)
    assert len(exported(db_session, bob)) == 1
    db_session.refresh(first)
    assert first.exported_at == EXPORTED_AT
    decided(db_session, alice, decision=Decision.KEEP)

    again = exported(db_session, bob)

    assert [r["clinical_decision"] for r in again] == ["keep"]
    since = exported(db_session, bob, since=MONDAY_NOON)
    assert [r["clinical_decision"] for r in since] == ["remove", "keep"]


def test_a_removal_waits_for_its_change_of_mind_window(db_session: Session, alice: User) -> None:
    decided(db_session, alice)

    assert exported(db_session, alice, now=DECIDED_AT + dt.timedelta(days=1)) == []
    [row] = exported(db_session, alice)
    assert row["clinical_decision"] == "remove"


def test_a_stay_is_exported_with_its_validation_date_and_travel_answer(
    db_session: Session, alice: User
) -> None:
    pathway = make_pathway(db_session)
    record_outcome(
        db_session,
        pathway=pathway,
        outcome=Outcome.STAY,
        recorded={"willing_to_travel": False},
        now=MONDAY_NOON,
    )

    [row] = exported(db_session, alice)

    assert row["patient_answer"] == "stay"
    assert row["clinical_decision"] == ""
    assert row["validated_date"] == "2026-11-23"
    assert row["willing_to_travel"] == "no"


def test_it_reads_in_batches_across_many_decisions(
    db_session: Session, alice: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.review.export.BATCH_SIZE", 2)
    for _ in range(5):
        decided(db_session, alice, decision=Decision.KEEP)

    assert len(exported(db_session, alice)) == 5


def test_an_export_is_audited_and_an_admin_cannot_export(db_session: Session, bob: User) -> None:
    exported(db_session, bob)
    [event] = db_session.scalars(
        select(AuditEvent).where(AuditEvent.action == "review.exported")
    ).all()
    assert (event.actor_user_id, event.detail["rows"]) == (bob.id, 0)

    admin = make_user(db_session, role=Role.ADMIN, name="Charlie")
    with pytest.raises(PermissionDeniedError):
        exported(db_session, admin)


def test_the_command_line_writes_the_file_and_reports_json(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as session:
            alice = make_user(session, role=Role.CLINICIAN, name="Alice")
            decided(session, alice, decision=Decision.KEEP, note="-1 day")
        engine.dispose()
        out = tmp_path / "outcomes.csv"

        result = run_waitlist(
            "review",
            "export",
            "--out",
            str(out),
            "--json",
            cwd=tmp_path,
            env={"WAITLIST_DATABASE_URL": url},
        )

        assert result.returncode == 0, result.stderr
        assert '"rows": 1' in result.stdout
        [row] = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
        assert row["note"] == "'-1 day"
        rerun = run_waitlist(
            "review",
            "export",
            "--out",
            str(out),
            "--json",
            cwd=tmp_path,
            env={"WAITLIST_DATABASE_URL": url},
        )
        assert '"rows": 0' in rerun.stdout
