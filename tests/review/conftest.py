"""People and queued pathways for review tests."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Outcome, Patient, ReviewItem, Role, User
from app.outcomes.service import record_outcome
from tests.support.factories import make_pathway

MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
_people = itertools.count(1)


def make_user(session: Session, *, role: Role, name: str) -> User:
    """A user with ``role``; usernames are unique per call."""
    user = User(username=f"{name.lower()}-{next(_people)}", full_name=name, role=role)
    session.add(user)
    session.flush()
    return user


def queue_pathway(
    session: Session,
    *,
    outcome: Outcome = Outcome.LEAVE,
    now: dt.datetime = MONDAY_NOON,
    **fields: Any,
) -> ReviewItem:
    """A pathway whose patient gave ``outcome``, and the review item it raised."""
    names = {k: fields.pop(k) for k in ("given_name", "family_name") if k in fields}
    pathway = make_pathway(session, **fields)
    if names:
        patient = session.get(Patient, pathway.patient_id)
        assert patient is not None
        for key, value in names.items():
            setattr(patient, key, value)
    entry = record_outcome(session, pathway=pathway, outcome=outcome, now=now)
    return session.scalars(
        select(ReviewItem).where(ReviewItem.pathway_outcome_id == entry.id)
    ).one()


@pytest.fixture
def alice(db_session: Session) -> User:
    """A clinician."""
    return make_user(db_session, role=Role.CLINICIAN, name="Alice")


@pytest.fixture
def dora(db_session: Session) -> User:
    """A second clinician."""
    return make_user(db_session, role=Role.CLINICIAN, name="Dora")


@pytest.fixture
def bob(db_session: Session) -> User:
    """A coordinator."""
    return make_user(db_session, role=Role.COORDINATOR, name="Bob")
