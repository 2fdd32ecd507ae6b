"""``waitlist campaign create`` works on a fresh database, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import CallScript, Campaign, Cohort
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist


def test_it_creates_a_draft_from_a_flow_id_on_a_fresh_database(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"WAITLIST_DATABASE_URL": url}
        for command in (
            ("db", "upgrade"),
            ("synth", "--rows", "5", "--out", "c.csv", "--as-of", "2026-11-22"),
        ):
            assert run_waitlist(*command, cwd=tmp_path, env=env).returncode == 0
        imported = run_waitlist("import", "c.csv", "--name", "north", cwd=tmp_path, env=env)
        assert imported.returncode == 0, imported.stderr
        engine = make_engine(url)
        with Session(engine) as session:
            cohort_id = session.scalars(select(Cohort.id).where(Cohort.name == "north")).one()

        result = run_waitlist(
            "campaign",
            "create",
            "--name",
            "T&O autumn",
            "--cohort",
            str(cohort_id),
            "--script",
            "standard-validation",
            "--json",
            cwd=tmp_path,
            env=env,
        )

        assert result.returncode == 0, result.stderr + result.stdout
        document = json.loads(result.stdout)
        assert (document["name"], document["status"]) == ("T&O autumn", "draft")
        try:
            with Session(engine) as session:
                campaign = session.get(Campaign, document["id"])
                assert campaign is not None
                script = session.scalars(
                    select(CallScript).where(CallScript.id == campaign.call_script_id)
                ).one()
        finally:
            engine.dispose()
        assert (script.flow_id, script.version) == ("standard-validation", 1)
        assert script.approved_at is not None, "the approval in approvals.yaml was stored with it"
