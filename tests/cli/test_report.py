"""``waitlist report`` prints the report as JSON or text and writes the CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.db import make_engine
from app.schema import upgrade
from tests.conftest import MIGRATIONS
from tests.support.campaign_factories import make_synthetic_campaign
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist


@pytest.fixture(scope="module")
def committed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A migrated database holding one committed synthetic campaign."""
    with fresh_database(tmp_path_factory.mktemp("cli")) as url:
        upgrade(url, MIGRATIONS)
        engine = make_engine(url)
        with Session(engine) as session:
            campaign_id = make_synthetic_campaign(session, people=60).id
            session.commit()
        engine.dispose()
        yield url, campaign_id


def test_it_prints_one_json_document_and_writes_the_csv(
    committed: tuple[str, int], tmp_path: Path
) -> None:
    url, campaign_id = committed
    out = tmp_path / "report.csv"
    result = run_waitlist(
        "report",
        str(campaign_id),
        "--json",
        "--csv",
        str(out),
        cwd=tmp_path,
        env={"WAITLIST_DATABASE_URL": url},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["campaign_id"] == campaign_id
    assert document["funnel"]["cohort"] == 60
    assert {b["dimension"] for b in document["equity"]} >= {"imd_decile", "age_band"}
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["section", "group", "measure", "value"]
    assert ["funnel", "", "cohort", "60"] in rows


def test_it_prints_a_table_without_json(committed: tuple[str, int], tmp_path: Path) -> None:
    url, campaign_id = committed
    result = run_waitlist(
        "report", str(campaign_id), cwd=tmp_path, env={"WAITLIST_DATABASE_URL": url}
    )
    assert result.returncode == 0, result.stderr
    assert "Pathways in cohort" in result.stdout
    # The plain report has the equity section its help promises.
    assert "Equity:" in result.stdout
    assert "Responded (95% CI)" in result.stdout


def test_an_unknown_campaign_exits_with_an_error(
    committed: tuple[str, int], tmp_path: Path
) -> None:
    url, _ = committed
    result = run_waitlist("report", "424242", cwd=tmp_path, env={"WAITLIST_DATABASE_URL": url})
    assert result.returncode == 1
    assert "campaign 424242 does not exist" in result.stderr
