"""``waitlist schedule ...`` on a fresh database, as an operator runs it."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import Cohort
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist


def test_an_operator_creates_runs_and_pauses_a_schedule(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"WAITLIST_DATABASE_URL": url}
        for command in (
            ("db", "upgrade"),
            ("synth", "--rows", "20", "--out", "c.csv", "--as-of", "2026-11-22"),
            ("import", "c.csv", "--name", "north"),
        ):
            done = run_waitlist(*command, cwd=tmp_path, env=env)
            assert done.returncode == 0, done.stderr
        engine = make_engine(url)
        with Session(engine) as session:
            cohort_id = session.scalars(select(Cohort.id).where(Cohort.name == "north")).one()
        engine.dispose()

        refused = run_waitlist(
            "schedule", "create", "--name", "x", "--cohort", str(cohort_id),
            "--script", "standard-validation", "--milestones", "26,12",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert refused.returncode == 1
        assert "rising" in refused.stderr

        created = run_waitlist(
            "schedule", "create", "--name", "North rolling", "--cohort", str(cohort_id),
            "--script", "standard-validation", "--json",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr + created.stdout
        document = json.loads(created.stdout)
        assert document["milestone_weeks"] == [12, 26, 52]
        assert document["due"]["not_scheduled"] == 0, "every pathway has a due date"
        schedule_id = str(document["id"])

        status = run_waitlist(
            "schedule", "status", schedule_id, "--next-due", "3", "--json", cwd=tmp_path, env=env
        )
        assert status.returncode == 0, status.stderr
        assert len(json.loads(status.stdout)["next_due"]) == 3

        ran = run_waitlist(
            "schedule", "run", schedule_id, "--at", "2026-11-23T10:00:00", "--json",
            cwd=tmp_path, env=env,
        )  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        result = json.loads(ran.stdout)
        assert (
            result["planned"] + result["unreachable"] + sum(result["skipped"].values())
            == (result["selected"])
        )

        paused = run_waitlist("schedule", "pause", schedule_id, "--json", cwd=tmp_path, env=env)
        assert json.loads(paused.stdout)["status"] == "paused"
        listed = run_waitlist("schedule", "list", "--json", cwd=tmp_path, env=env)
        assert [s["status"] for s in json.loads(listed.stdout)] == ["paused"]
