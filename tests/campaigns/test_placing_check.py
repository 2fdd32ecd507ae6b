"""Each reason of the placing check stops a placement, through the worker as it runs.

The dispatcher moves an attempt to ``placing`` in the same statement that checks these facts, and
asks which one held only when the move is refused: each fact must stop the move itself, and be
named when it does. (``block_for_attempt``'s own tests ask the facts directly.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.eligibility import Block
from app.db import utcnow
from app.models import (
    AttemptStatus,
    Channel,
    Cohort,
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
    PathwayStatus,
    Patient,
    RoundStatus,
    ValidationRound,
)
from app.validation.rounds import open_round
from tests.campaigns.support import RecordingProvider, make_campaign, make_worker
from tests.campaigns.test_dispatcher import plan
from tests.support.factories import make_cohort, make_pathway

A = AttemptStatus
OTHER_NUMBER = "+447700900999"


@dataclass(frozen=True)
class Scene:
    """A due attempt of a running campaign, in its pathway's open round, about to be placed."""

    session: Session
    cohort: Cohort
    campaign_id: int
    pathway: Pathway
    round_id: int
    attempt: ContactAttempt

    @classmethod
    def due(cls, session: Session) -> Scene:
        """Planned as planning leaves it: in the pathway's open round, due now."""
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        pathway = make_pathway(session, cohort=cohort)
        round_ = open_round(session, pathway=pathway, now=utcnow())
        attempt = plan(session, campaign.id, pathway, validation_round_id=round_.id)
        return cls(session, cohort, campaign.id, pathway, round_.id, attempt)

    def another_pathway(self, *, same_patient: bool = True) -> Pathway:
        other = make_pathway(self.session, cohort=self.cohort)
        if same_patient:
            other.patient_id = self.pathway.patient_id
            self.session.flush()
        return other

    def gone_out(self, pathway: Pathway, **fields: object) -> None:
        """An attempt of ``pathway`` that already went out (to another number by default)."""
        attempt = plan(self.session, self.campaign_id, pathway)
        for name, value in ({"to_number": OTHER_NUMBER} | fields).items():
            setattr(attempt, name, value)
        self.session.flush()


def _patient(scene: Scene) -> Patient:
    patient = scene.session.get(Patient, scene.pathway.patient_id)
    assert patient is not None
    return patient


def pathway_closed(scene: Scene) -> None:
    """The pathway left the hospital's extract (treated, or removed) since it was planned."""
    scene.pathway.status = PathwayStatus.CLOSED


def opted_out(scene: Scene) -> None:
    """The patient asked not to be contacted this way again."""
    _patient(scene).opted_out_at = utcnow()


def died(scene: Scene) -> None:
    """The extract now gives the patient's date of death."""
    _patient(scene).date_of_death = utcnow().date()


def reported_death(scene: Scene) -> None:
    """A death reported on another of the patient's pathways."""
    scene.another_pathway().outcome = Outcome.REPORTED_DECEASED


def answered_in_round(scene: Scene) -> None:
    """The patient answered another contact of this round while this one was queued."""
    scene.pathway.outcome = Outcome.STAY


def excluded(scene: Scene) -> None:
    """An exclusion rule holds the pathway back."""
    scene.session.add(
        Exclusion(pathway_id=scene.pathway.id, rule_id="r1", reason="test", rule_set_hash="h")
    )


def closed_round(scene: Scene) -> None:
    """The attempt's round has closed (answered or decided) since it was planned."""
    round_ = scene.session.get(ValidationRound, scene.round_id)
    assert round_ is not None
    round_.status = RoundStatus.CLOSED


def call_in_flight(scene: Scene) -> None:
    """Another of the patient's contacts is with the provider (on another number)."""
    scene.gone_out(scene.another_pathway(), status=A.PLACED)


def contacted_today(scene: Scene) -> None:
    """The patient was contacted earlier today about another pathway."""
    scene.gone_out(scene.another_pathway(), status=A.COMPLETED, dispatched_at=utcnow())


def number_in_flight(scene: Scene) -> None:
    """Another patient's call to the same (household) number is with the provider."""
    neighbour = scene.another_pathway(same_patient=False)
    scene.gone_out(neighbour, status=A.PLACED, to_number=_patient(scene).mobile_phone)


CASES: dict[str, tuple[Callable[[Scene], None], AttemptStatus, str | None]] = {
    # What the attempt's own rows say (read with the placing row, no fact needed).
    "pathway_closed": (pathway_closed, A.CANCELLED, "pathway_closed"),
    "opted_out": (opted_out, A.CANCELLED, "opted_out"),
    "deceased": (died, A.CANCELLED, "deceased"),
    # The block's name is the cancelled attempt's error code: PostgreSQL once refused the two
    # names longer than the column, and the attempt was claimed and failed again and again.
    "answered_this_round": (answered_in_round, A.CANCELLED, "answered_this_round"),
    "reported_deceased": (reported_death, A.CANCELLED, "reported_deceased"),
    "excluded": (excluded, A.CANCELLED, "excluded"),
    "round_closed": (closed_round, A.CANCELLED, "round_closed"),
    # Waiting can help: the attempt goes back to the queue, due later.
    "in_flight": (call_in_flight, A.PLANNED, None),
    "contacted_today": (contacted_today, A.PLANNED, None),
    "number_in_flight": (number_in_flight, A.PLANNED, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_fact_stops_the_placement_and_is_named(
    factory: sessionmaker[Session], case: str
) -> None:
    arrange, status, error_code = CASES[case]
    with factory() as session:
        scene = Scene.due(session)
        planned_due, attempt_id = scene.attempt.due_at, scene.attempt.id
        arrange(scene)
        session.commit()
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert provider.contacts == []
    with factory() as session:
        after = session.get(ContactAttempt, attempt_id)
        assert after is not None
        assert after.status == status
        assert after.error_code == error_code
        if status == A.PLANNED:
            assert after.due_at > planned_due, "deferred, not tried again at once"


def test_a_clear_attempt_is_placed_by_the_guarded_move(factory: sessionmaker[Session]) -> None:
    """The control: the same arrangement with nothing in the way is placed, call or text."""
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort)
        ids = []
        for channel in (Channel.VOICE, Channel.SMS):
            pathway = make_pathway(session, cohort=cohort)
            round_ = open_round(session, pathway=pathway, now=utcnow())
            ids.append(
                plan(
                    session, campaign.id, pathway, channel=channel, validation_round_id=round_.id
                ).id
            )
        session.commit()
    provider = RecordingProvider()
    make_worker(factory, provider).run(once=True)
    assert sorted(contact.channel for contact in provider.contacts) == ["sms", "voice"]
    with factory() as session:
        placed = [session.get(ContactAttempt, attempt_id) for attempt_id in ids]
        assert [attempt.status for attempt in placed if attempt] == [A.PLACED, A.PLACED]
        assert all(attempt and attempt.dispatched_at is not None for attempt in placed)


def test_every_blocks_name_fits_the_attempts_error_code() -> None:
    column_type = ContactAttempt.__table__.c.error_code.type
    assert isinstance(column_type, String) and column_type.length is not None
    assert max(len(block.value) for block in Block) <= column_type.length
