"""The newcomer's command, end to end, exactly as the README runs it (in a child process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.db import make_engine, make_session_factory
from app.models import (
    ClinicalDecision,
    Outcome,
    Pathway,
    ReviewItem,
    ReviewStatus,
    TaskReason,
)
from tests.support.databases import TEST_DATABASE_ENV, fresh_database

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_demo_runs_the_whole_job_queues_every_leave_and_worsened_and_lists_every_follow_up(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAITLIST_")}
        env["PYTHONPATH"] = str(ROOT)
        if os.environ.get(TEST_DATABASE_ENV):
            env["WAITLIST_DATABASE_URL"] = url
        else:
            url = f"sqlite:///{tmp_path / 'waitlist.db'}"  # the default: a file in the cwd
        summary = run_demo(tmp_path, env, rows=200)

        imported = summary["import"]
        assert imported["rows"] == 200
        assert imported["imported"] + imported["rejected"] == 200
        assert imported["rejected"] >= 1  # the synthetic cohort carries deliberate bad rows
        assert sum(summary["outcomes"].values()) == imported["imported"]
        assert summary["outcomes"]["excluded"] > 0
        assert summary["outcomes"].get("stay", 0) > 0
        answered = sum(summary["outcomes"].get(k, 0) for k in ("stay", "leave", "worsened"))
        assert answered > 0
        decided = summary["decided"]  # the demo clinician decides one leave and one unclear
        for reason in ("leave", "worsened", "unclear"):
            assert summary["review_queue"].get(reason, 0) + decided.get(reason, 0) == summary[
                "outcomes"
            ].get(reason, 0)
        worklist = summary["worklist"]
        # Every kind of follow-up is on the list, on every run (the cast and showcase patients).
        assert set(TaskReason) <= worklist.keys(), sorted(set(TaskReason) - worklist.keys())
        # Nobody in a dead end: every patient the service could not validate has a task.
        for reason in ("unverified", "unreachable", "unclear"):
            assert worklist.get(reason, 0) >= summary["outcomes"].get(reason, 0)
        asked_for_a_person = worklist.get("callback_requested", 0) + worklist.get(
            "reported_deceased", 0
        )
        assert asked_for_a_person >= summary["outcomes"].get("callback_requested", 0)
        assert worklist.get("unreachable", 0) > 0
        assert worklist.get("letter", 0) >= worklist["unreachable"]
        if decided.get("leave"):
            assert worklist["letter"] >= worklist["unreachable"] + 2  # patient and GP letters
        # A schedule is left running, and every pathway not under review has its due date.
        assert summary["schedule"]["status"] == "active"
        assert summary["schedule"]["due"]["not_scheduled"] == 0
        assert summary["schedule"]["due"]["due_next_week"] >= 0
        # Patients with a mobile are told a call is coming (the pre-call text), at most once.
        notices = summary["notices"]
        assert notices.get("pre_call:sent", 0) > 0
        assert not {key for key in notices if key.endswith((":sending", ":in_doubt"))}

        engine = make_engine(url)
        try:
            with make_session_factory(engine)() as session:
                needing_review = set(
                    session.scalars(
                        select(Pathway.id).where(
                            Pathway.outcome.in_((Outcome.LEAVE, Outcome.WORSENED))
                        )
                    )
                )
                queued = set(
                    session.scalars(
                        select(ReviewItem.pathway_id).where(ReviewItem.status == ReviewStatus.OPEN)
                    )
                )
                queued |= set(session.scalars(select(ClinicalDecision.pathway_id)))
        finally:
            engine.dispose()
        assert needing_review <= queued

        # Running it again in the same place shows new synthetic patients being contacted,
        # rather than re-importing the ones already called today.
        again = run_demo(tmp_path, env, rows=100)
        assert again["campaign_id"] != summary["campaign_id"]
        assert again["import"]["imported"] == 100 - again["import"]["rejected"]
        assert sum(v for k, v in again["attempts"].items() if k != "planned") > 0
        assert set(TaskReason) <= again["worklist"].keys()


def run_demo(cwd: Path, env: dict[str, str], *, rows: int) -> dict[str, Any]:
    """``waitlist demo --no-serve --json`` in a child process, as a newcomer runs it."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "demo",
            "--no-serve",
            "--json",
            "--rows",
            str(rows),
            "--port",
            "0",
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary
