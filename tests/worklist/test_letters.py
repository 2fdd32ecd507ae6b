"""A confirmed removal is communicated: a letter to the patient and one to the GP, read back."""

from __future__ import annotations

import datetime as dt
import io

from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import (
    Decision,
    Letter,
    LetterKind,
    Outcome,
    TaskReason,
    TaskState,
    User,
    WorklistTask,
)
from app.review.decisions import decide
from app.worklist.letters import mark_letter_sent, prepare_removal_letters
from app.worklist.printing import _latin1, letters_pdf, letters_to_print
from tests.review.conftest import queue_pathway
from tests.worklist.conftest import MONDAY_NOON

ORGANISATION = "Example Teaching Hospitals NHS Foundation Trust"


def _removed(session: Session, alice: User, *, code: str = "35", given_name: str = "Ada") -> int:
    item = queue_pathway(
        session, outcome=Outcome.LEAVE, given_name=given_name, specialty_name="Ophthalmology"
    )
    decide(
        session,
        item_id=item.id,
        seen_version=item.version,
        decision=Decision.REMOVE,
        by=alice,
        note="Had it done privately",
        rtt_status_code=code,
        undo_days=14,
        now=MONDAY_NOON,
    )
    return item.pathway_id


def _pdf_text(body: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(body)).pages]


def test_no_letter_goes_while_the_removal_can_still_be_undone(
    db_session: Session, alice: User
) -> None:
    _removed(db_session, alice)
    assert prepare_removal_letters(db_session, now=MONDAY_NOON + dt.timedelta(days=13)) == 0


def test_after_the_undo_window_the_patient_and_gp_letters_are_made_and_read_back(
    db_session: Session, alice: User
) -> None:
    pathway_id = _removed(db_session, alice, given_name="Siân")
    later = MONDAY_NOON + dt.timedelta(days=15)

    assert prepare_removal_letters(db_session, now=later) == 1
    assert prepare_removal_letters(db_session, now=later) == 0  # once per removal

    letters = db_session.scalars(
        select(Letter).where(Letter.pathway_id == pathway_id).order_by(Letter.id)
    ).all()
    assert [letter.kind for letter in letters] == [
        LetterKind.REMOVAL_CONFIRMATION,
        LetterKind.GP_DISCHARGE,
    ]
    assert {letter.letter_date for letter in letters} == {later.date()}
    body = letters_pdf(letters, organisation_name=ORGANISATION, callback_number="0113 496 0000")
    patient_page, gp_page = _pdf_text(body)
    assert "Dear Siân Testpatient" in patient_page
    assert "taken off the waiting list" in patient_page
    assert "you told us you no longer want this treatment" in patient_page
    assert "8 December 2026" in patient_page
    assert "Dear Doctor" in gp_page
    assert "RTT status 35" in gp_page
    assert "Ophthalmology" in gp_page


def test_a_death_is_told_to_the_gp_only(db_session: Session, alice: User) -> None:
    pathway_id = _removed(db_session, alice, code="36")
    prepare_removal_letters(db_session, now=MONDAY_NOON + dt.timedelta(days=15))
    kinds = db_session.scalars(select(Letter.kind).where(Letter.pathway_id == pathway_id)).all()
    assert kinds == [LetterKind.GP_DISCHARGE]


def test_each_letter_is_a_task_until_it_is_marked_sent(db_session: Session, alice: User) -> None:
    _removed(db_session, alice)
    prepare_removal_letters(db_session, now=MONDAY_NOON + dt.timedelta(days=15))
    batch = letters_to_print(db_session, actor=alice)
    assert len(batch) == 2
    for letter in batch:
        mark_letter_sent(db_session, letter_id=letter.id, actor=alice)
    assert letters_to_print(db_session, actor=alice) == []
    states = db_session.scalars(
        select(WorklistTask.state).where(WorklistTask.reason == TaskReason.LETTER)
    ).all()
    assert set(states) == {TaskState.DONE}


def test_names_outside_the_core_font_still_print() -> None:
    assert _latin1("Łucja Ó Ceallaigh ŵ") == "Lucja Ó Ceallaigh w"
