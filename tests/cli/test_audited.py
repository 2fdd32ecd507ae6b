"""The command line is audited as the web app is: a report or an import from ``waitlist``
leaves the same audit record as from a page or the API (the domain function writes it)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models import AuditEvent
from tests.support.campaign_factories import make_synthetic_campaign
from tests.test_cli import run_waitlist

CLI_ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def committed(committed_engine: Engine) -> tuple[str, Engine]:
    """A migrated database of the test's own, for the command line's own commits."""
    return committed_engine.url.render_as_string(hide_password=False), committed_engine


def _events(engine: Engine, action: str) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.mark.parametrize(
    ("options", "action"),
    [((), "report_viewed"), (("--csv", "report.csv"), "report_downloaded")],
)
def test_a_report_on_the_command_line_is_audited(
    committed: tuple[str, Engine], tmp_path: Path, options: tuple[str, ...], action: str
) -> None:
    url, engine = committed
    with Session(engine) as session:
        campaign_id = make_synthetic_campaign(session, people=5).id
        session.commit()

    result = run_waitlist(
        "report",
        str(campaign_id),
        "--json",
        *options,
        cwd=tmp_path,
        env={"WAITLIST_DATABASE_URL": url},
    )

    assert result.returncode == 0, result.stderr
    [event] = _events(engine, action)
    assert (event.actor, event.entity_type, event.entity_id) == (
        CLI_ACTOR,
        "campaign",
        str(campaign_id),
    )


def test_an_unknown_campaigns_report_is_not_audited(
    committed: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = committed

    result = run_waitlist("report", "424242", cwd=tmp_path, env={"WAITLIST_DATABASE_URL": url})

    assert result.returncode == 1
    assert _events(engine, "report_viewed") == []


def test_an_import_on_the_command_line_is_audited(
    committed: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = committed
    env = {"WAITLIST_DATABASE_URL": url}
    cohort = tmp_path / "cohort.csv"
    assert run_waitlist("synth", "--rows", "6", "--out", str(cohort), cwd=tmp_path).returncode == 0

    result = run_waitlist("import", str(cohort), "--json", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    [event] = _events(engine, "cohort_imported")
    assert (event.actor, event.entity_type, event.entity_id) == (
        CLI_ACTOR,
        "import_job",
        str(document["import_job_id"]),
    )
    assert event.detail["imported"] == document["imported"] == 6
