"""``waitlist campaign unreachable`` lists who staff must contact, as a table or JSON, audited."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import AuditEvent, Pathway
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist
from tests.web.test_campaign_api import running_campaign_with_progress


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """A migrated database with one campaign that left one pathway unreachable."""
    with fresh_database(tmp_path_factory.mktemp("cli")) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with Session(engine) as session:
            campaign = running_campaign_with_progress(session)
            reference = session.scalars(
                select(Pathway.pathway_id).where(
                    Pathway.cohort_id == campaign.cohort_id, Pathway.outcome == "unreachable"
                )
            ).one()
            session.commit()
            campaign_id = campaign.id
        engine.dispose()
        yield url, campaign_id, reference


def listings(url: str) -> list[AuditEvent]:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return list(
                session.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == "pathway.list_unreachable")
                    .order_by(AuditEvent.id)
                )
            )
    finally:
        engine.dispose()


def test_it_prints_one_json_document_and_audits_the_listing(
    committed: tuple[str, int, str], tmp_path: Path
) -> None:
    url, campaign_id, reference = committed
    before = len(listings(url))

    result = run_waitlist(
        "campaign",
        "unreachable",
        str(campaign_id),
        "--json",
        cwd=tmp_path,
        env={"WAITLIST_DATABASE_URL": url},
    )

    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["pathway_reference"], row["specialty_code"], row["attempts"]) == (
        reference,
        "110",
        2,
    )
    assert row["recorded_at"] == "2026-03-02T09:00:00+00:00"
    new = listings(url)[before:]
    assert [(event.actor, event.pathway_id) for event in new] == [("cli", row["pathway_id"])]


def test_it_prints_a_table_without_json(committed: tuple[str, int, str], tmp_path: Path) -> None:
    url, campaign_id, reference = committed

    result = run_waitlist(
        "campaign",
        "unreachable",
        str(campaign_id),
        cwd=tmp_path,
        env={"WAITLIST_DATABASE_URL": url},
    )

    assert result.returncode == 0, result.stderr
    # Human output is on stdout, so `| head` and `> file` get it.
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == [reference, "110", "2", "attempts"]
    assert lines[-1] == "1 unreachable"
