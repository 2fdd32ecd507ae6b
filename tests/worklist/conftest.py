"""People, scripts and patients for worklist tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.flows import LoadedScript, ScriptRegistry, load_registry
from app.models import Pathway, Patient, Role, TaskState, User, WorklistTask
from tests.review.conftest import make_user

SHIPPED = Path(__file__).resolve().parents[2] / "call_flows"
MONDAY_NOON = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def shipped() -> ScriptRegistry:
    """The scripts shipped in call_flows/."""
    return load_registry(SHIPPED)


@pytest.fixture
def english(shipped: ScriptRegistry) -> LoadedScript:
    """The standard English script."""
    return shipped.get("standard-validation")


@pytest.fixture
def erin(db_session: Session) -> User:
    """A coordinator who works the worklist."""
    return make_user(db_session, role=Role.COORDINATOR, name="Erin")


@pytest.fixture
def alice(db_session: Session) -> User:
    """A clinician."""
    return make_user(db_session, role=Role.CLINICIAN, name="Alice")


@pytest.fixture
def charlie(db_session: Session) -> User:
    """An administrator (reads the list, does not work it)."""
    return make_user(db_session, role=Role.ADMIN, name="Charlie")


def open_tasks(session: Session, pathway: Pathway) -> list[WorklistTask]:
    """The pathway's open tasks, oldest first."""
    return list(
        session.scalars(
            select(WorklistTask)
            .where(WorklistTask.pathway_id == pathway.id, WorklistTask.state == TaskState.OPEN)
            .order_by(WorklistTask.id)
        )
    )


def patient_of(session: Session, pathway: Pathway) -> Patient:
    """The pathway's patient."""
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    return patient
