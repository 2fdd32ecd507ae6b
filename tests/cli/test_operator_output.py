"""The command line as an operator meets it: results on stdout, one clear line for each mistake."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.db import make_engine
from app.models import Campaign
from tests.support.databases import fresh_database
from tests.test_cli import run_waitlist


def test_an_unmigrated_database_gets_advice_not_a_traceback(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"WAITLIST_DATABASE_URL": url}
        assert run_waitlist("synth", "--rows", "5", "--out", "c.csv", cwd=tmp_path).returncode == 0

        imported = run_waitlist("import", "c.csv", cwd=tmp_path, env=env)
        reported = run_waitlist("report", "1", cwd=tmp_path, env=env)

    for result in (imported, reported):
        assert result.returncode == 2
        assert "waitlist db upgrade" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cohorts_are_listed_with_ids_and_a_start_time_is_read_as_uk_time(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        env = {"WAITLIST_DATABASE_URL": url}
        for command in (
            ("db", "upgrade"),
            ("synth", "--rows", "5", "--out", "c.csv", "--as-of", "2026-11-22"),
            ("import", "c.csv", "--name", "north"),
        ):
            assert run_waitlist(*command, cwd=tmp_path, env=env).returncode == 0

        listed = run_waitlist("cohort", "list", cwd=tmp_path, env=env)
        as_json = run_waitlist("cohort", "list", "--json", cwd=tmp_path, env=env)
        [cohort] = json.loads(as_json.stdout)
        created = run_waitlist(
            *("campaign", "create", "--name", "Summer", "--cohort", str(cohort["id"])),
            *("--script", "standard-validation", "--starts-at", "2026-07-01T09:00"),
            cwd=tmp_path,
            env=env,
        )
        engine = make_engine(url)
        try:
            with Session(engine) as session:
                starts_at = session.scalars(select(Campaign.starts_at)).one()
        finally:
            engine.dispose()  # no connection left for the garbage collector to warn about

    assert listed.returncode == 0, listed.stderr
    assert "north" in listed.stdout and str(cohort["id"]) in listed.stdout
    assert cohort["name"] == "north" and cohort["open_pathways"] >= 1
    assert created.returncode == 0, created.stderr
    assert "Campaign" in created.stdout  # the human summary is on stdout
    # 09:00 in London in July is 08:00 UTC (British Summer Time), as the web form reads it.
    assert starts_at is not None
    assert starts_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)


def test_the_demo_says_in_one_line_when_its_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_waitlist("demo", "--no-serve", "--port", str(port), cwd=tmp_path)

    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
