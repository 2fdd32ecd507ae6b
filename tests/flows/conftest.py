"""Fixtures for call scripts: the shipped scripts, the minimal one, a synthetic patient."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.flows import LoadedScript, PatientFacts, ScriptRegistry, load_registry, load_script

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "call_flows"
HERE = Path(__file__).resolve().parent
BROKEN = HERE / "broken"
MINIMAL = HERE / "scripts" / "minimal.yaml"
# Distinctive values, so a test can tell whether anything about the patient was said.
PATIENT = PatientFacts(
    given_name="Quenby",
    date_of_birth=dt.date(1956, 3, 14),
    specialty_name="Zygology",
    organisation_name="Example Teaching Hospitals NHS Foundation Trust",
    callback_number="0113 496 0000",
)


@pytest.fixture(scope="session")
def shipped() -> ScriptRegistry:
    """The scripts in ``call_flows/``, loaded as the app loads them."""
    return load_registry(SHIPPED)


@pytest.fixture
def english(shipped: ScriptRegistry) -> LoadedScript:
    """The standard adult validation script."""
    return shipped.get("standard-validation")


@pytest.fixture
def welsh(shipped: ScriptRegistry) -> LoadedScript:
    """The same script in Welsh."""
    return shipped.get("standard-validation-cy")


@pytest.fixture
def minimal() -> LoadedScript:
    """The smallest script that passes lint (a draft: nobody approved it)."""
    return load_script(MINIMAL)
