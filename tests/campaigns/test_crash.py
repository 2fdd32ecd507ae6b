from __future__ import annotations

import datetime as dt
import functools
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.campaigns.dispatcher import DispatchConfig
from app.campaigns.planning import new_token
from app.campaigns.scheduled import recover_expired_leases
from app.models import AttemptStatus, ContactAttempt, Pathway, Patient
from tests.campaigns.support import make_campaign
from tests.campaigns.test_dispatcher import PAST
from tests.support.factories import make_cohort

ROOT = Path(__file__).resolve().parents[2]
PATIENTS = 150
KILLS = 3
UNFINISHED = (
    AttemptStatus.PLANNED,
    AttemptStatus.CLAIMED,
    AttemptStatus.PLACING,
    AttemptStatus.IN_DOUBT,
)


def seed_campaign(factory: sessionmaker[Session], patients: int = PATIENTS) -> None:
    with factory() as session:
        cohort = make_cohort(session)
        campaign = make_campaign(session, cohort=cohort, policy={"calls": 1, "sms": False})
        base = 10_000
        session.execute(
            insert(Patient),
            [
                {
                    "id": base + i,
                    "nhs_number": f"999{i:07d}",
                    "given_name": "Ada",
                    "family_name": "Test",
                    "date_of_birth": PAST.date(),
                    "mobile_phone": f"+4477009{i:05d}",
                    "preferred_language": "en",
                    "interpreter_required": False,
                }
                for i in range(patients)
            ],
        )
        session.execute(
            insert(Pathway),
            [
                {
                    "id": base + i,
                    "provider_code": "RXX",
                    "pathway_id": f"CRASH-{i}",
                    "patient_id": base + i,
                    "cohort_id": cohort.id,
                    "specialty_code": "110",
                    "clock_start_date": PAST.date(),
                    "row_hash": "h",
                    "flags": [],
                    "diagnosis_codes": [],
                }
                for i in range(patients)
            ],
        )
        session.execute(
            insert(ContactAttempt),
            [
                {
                    "campaign_id": campaign.id,
                    "pathway_id": base + i,
                    "patient_id": base + i,
                    "attempt_number": 1,
                    "channel": "voice",
                    "status": "planned",
                    "token": new_token(),
                    "due_at": PAST,
                    "fence": 0,
                    "retry_count": 0,
                    "conversation": {},
                }
                for i in range(patients)
            ],
        )
        session.commit()


def unfinished(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return (
            session.scalar(select(func.count()).where(ContactAttempt.status.in_(UNFINISHED))) or 0
        )


def placed(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return (
            session.scalar(
                select(func.count()).where(ContactAttempt.status == AttemptStatus.PLACED)
            )
            or 0
        )


def placed_at_least(factory: sessionmaker[Session], count: int) -> bool:
    return placed(factory) >= count


def start_worker(url: str, contacts: Path, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.campaigns.crash_worker", url, str(contacts), "50", *options],
        cwd=ROOT,
    )


def wait_until(check: Callable[[], bool], *, deadline: float) -> None:
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.slow
def test_nothing_is_lost_or_duplicated_when_workers_are_killed_at_random(
    factory: sessionmaker[Session], committed_url: str, tmp_path: Path
) -> None:
    seed_campaign(factory)
    contacts = tmp_path / "provider.jsonl"
    rng = random.Random(7)
    # Generous for a shared, busy machine; on an idle one the whole test takes about 20 s.
    deadline = time.monotonic() + 90
    kills = 0
    # Each worker is killed mid-flight once it has placed a few more attempts: killing on a
    # timer instead would, on a busy machine, kill most workers before their imports finish.
    for _ in range(KILLS):
        before = placed(factory)
        process = start_worker(committed_url, contacts)
        wait_until(functools.partial(placed_at_least, factory, before + 5), deadline=deadline)
        time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    # A last worker recovers the dead workers' leases and doubts, and finishes the queue.
    survivor = start_worker(committed_url, contacts)
    ready = Path(f"{contacts}.ready-{survivor.pid}")
    wait_until(ready.exists, deadline=time.monotonic() + 60)
    wait_until(lambda: unfinished(factory) == 0, deadline=deadline)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0, "the survivor stops cleanly on SIGTERM"
    assert kills == KILLS
    assert unfinished(factory) == 0, "every attempt reached the provider or was reconciled"
    records = [json.loads(line) for line in contacts.read_text().splitlines()]
    per_token = Counter(record["token"] for record in records)
    assert max(per_token.values()) == 1, "no attempt was placed twice"
    with factory() as session:
        attempts = list(session.scalars(select(ContactAttempt)))
    assert {a.status for a in attempts} == {AttemptStatus.PLACED}
    assert {a.token for a in attempts} == set(per_token)
    sids = {record["token"]: record["sid"] for record in records}
    assert all(a.provider_sid == sids[a.token] for a in attempts)


def attempt_with(factory: sessionmaker[Session], token: str) -> ContactAttempt:
    with factory() as session:
        return session.scalars(select(ContactAttempt).where(ContactAttempt.token == token)).one()


@pytest.mark.slow
@pytest.mark.parametrize("moment", ["accepted", "unsent"])
def test_a_kill_inside_the_placing_window_is_reconciled_and_nobody_is_rung_twice(
    factory: sessionmaker[Session], committed_url: str, tmp_path: Path, moment: str
) -> None:
    """The worker dies after ``placing`` is committed and before the provider answers.

    ``accepted``: the provider had the call, so reconciliation adopts its sid; ``unsent``: it had
    not, so the attempt is queued again and placed once.
    """
    seed_campaign(factory, patients=12)
    contacts = tmp_path / "provider.jsonl"
    hung = Path(f"{contacts}.hung")
    doomed = start_worker(committed_url, contacts, "--hang-in-placing", moment)
    wait_until(hung.exists, deadline=time.monotonic() + 60)
    time.sleep(0.05)  # the marker's text is written in one call; let it land
    doomed.send_signal(signal.SIGKILL)
    doomed.wait()
    token = hung.read_text()
    assert token, "the worker reached the placing window"
    assert attempt_with(factory, token).status == AttemptStatus.PLACING

    # The lease (2 s in the crash worker) runs out: the attempt's fate is unknown.
    with factory() as session:
        config = DispatchConfig(
            worker_id="test",
            account_key="crash",
            account_calls_per_second=1,
            reconcile_after=dt.timedelta(seconds=0),
        )
        later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
        recover_expired_leases(session, now=later, config=config)
        session.commit()
    doubted = attempt_with(factory, token)
    assert (doubted.status, doubted.error_code) == (AttemptStatus.IN_DOUBT, "lease_expired")

    survivor = start_worker(committed_url, contacts)
    wait_until(lambda: unfinished(factory) == 0, deadline=time.monotonic() + 60)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(timeout=30) == 0
    records = [json.loads(line) for line in contacts.read_text().splitlines()]
    per_token = Counter(record["token"] for record in records)
    assert per_token[token] == 1 and max(per_token.values()) == 1, "nobody was rung twice"
    resolved = attempt_with(factory, token)
    assert resolved.status == AttemptStatus.PLACED
    assert resolved.provider_sid == next(r["sid"] for r in records if r["token"] == token)
    # Adopted as it was (the provider had it), or queued again once (it had not).
    assert resolved.retry_count == (0 if moment == "accepted" else 1)
