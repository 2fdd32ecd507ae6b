"""How long a campaign report takes over a region's quarter, against a bare scan of the same rows.

    python scripts/bench_reports.py --pathways 30000 [--database-url URL]

Fills a fresh migrated database (a temporary SQLite file unless a URL is given) with one
campaign: pathways with demographics, 1-3 attempts each, outcomes, exclusions and decisions. Then
times ``build_campaign_report`` (every section, including five equity breakdowns) and, as the bare
limit measured in the same run, one aggregate pass over the same tables (pathways joined to
patients, plus attempts): the least work any report of these rows must do. Prints the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine
from app.models import (
    AttemptStatus,
    CallScript,
    Campaign,
    Channel,
    Cohort,
    ContactAttempt,
    Exclusion,
    Outcome,
    Pathway,
    PathwayOutcome,
    Patient,
)
from app.reports.campaign import build_campaign_report
from app.schema import upgrade

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
START = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


def fill(session: Session, pathways: int, seed: int = 1) -> int:
    """One campaign over ``pathways`` synthetic pathways; returns its id."""
    rng = random.Random(seed)
    cohort = Cohort(name="bench")
    script = CallScript(
        flow_id="bench",
        version=1,
        content_hash="0" * 64,
        title="b",
        language="en-GB",
        content="spec: 1",
    )
    session.add_all([cohort, script])
    session.flush()
    campaign = Campaign(
        name="bench", cohort_id=cohort.id, call_script_id=script.id, started_at=START
    )
    session.add(campaign)
    session.flush()
    session.execute(
        insert(Patient),
        [
            {
                "nhs_number": f"999{n:07d}",
                "given_name": "A",
                "family_name": "B",
                "date_of_birth": dt.date(rng.randint(1935, 2004), 1 + n % 12, 1 + n % 28),
                "sex": rng.choice("12"),
                "imd_decile": rng.randint(1, 10),
                "ethnic_category": rng.choice("ABCHJMNRZ"),
                "preferred_language": rng.choice(["en"] * 9 + ["pl"]),
            }
            for n in range(pathways)
        ],
    )
    patient_ids = list(session.scalars(select(Patient.id).order_by(Patient.id)))
    session.execute(
        insert(Pathway),
        [
            {
                "provider_code": "RXX",
                "pathway_id": f"P{n}",
                "patient_id": pid,
                "cohort_id": cohort.id,
                "specialty_code": rng.choice(["110", "120", "130", "101"]),
                "clock_start_date": dt.date(2025, 6, 1),
                "row_hash": "h",
            }
            for n, pid in enumerate(patient_ids)
        ],
    )
    rows = session.execute(select(Pathway.id, Pathway.patient_id).order_by(Pathway.id)).all()
    attempts, outcomes, exclusions = [], [], []
    for pathway_id, patient_id in rows:
        if rng.random() < 0.05:
            exclusions.append(
                {
                    "pathway_id": pathway_id,
                    "rule_id": "deceased",
                    "reason": "r",
                    "rule_set_hash": "h",
                }
            )
            continue
        tries = rng.randint(1, 3)
        answered = rng.random() < 0.7
        for number in range(1, tries + 1):
            last = number == tries
            placed = START + dt.timedelta(days=number, minutes=rng.randint(0, 600))
            attempts.append(
                {
                    "campaign_id": campaign.id,
                    "pathway_id": pathway_id,
                    "patient_id": patient_id,
                    "attempt_number": number,
                    "channel": Channel.SMS if number == 3 else Channel.VOICE,
                    "status": AttemptStatus.COMPLETED
                    if last and answered
                    else AttemptStatus.NO_ANSWER,
                    "token": f"t{pathway_id}-{number}",
                    "due_at": placed,
                    "placed_at": placed,
                    "answered_at": placed if last and answered else None,
                    "duration_seconds": rng.randint(30, 200) if last and answered else None,
                }
            )
        outcome = (
            rng.choice([Outcome.STAY, Outcome.LEAVE, Outcome.UNCLEAR])
            if answered
            else Outcome.UNREACHABLE
        )
        outcomes.append(
            {
                "pathway_id": pathway_id,
                "campaign_id": campaign.id,
                "outcome": outcome,
                "recorded_at": START,
            }
        )
    session.execute(insert(Exclusion), exclusions)
    session.execute(insert(ContactAttempt), attempts)
    session.execute(insert(PathwayOutcome), outcomes)
    return campaign.id


def bare_scan(session: Session) -> None:
    """The least any report of these rows must do: one aggregate pass over each table."""
    session.execute(
        select(Patient.imd_decile, func.count())
        .join(Pathway, Pathway.patient_id == Patient.id)
        .group_by(Patient.imd_decile)
    ).all()
    session.execute(
        select(
            ContactAttempt.channel, func.count(), func.sum(ContactAttempt.duration_seconds)
        ).group_by(ContactAttempt.channel)
    ).all()
    session.execute(
        select(PathwayOutcome.outcome, func.count()).group_by(PathwayOutcome.outcome)
    ).all()


def timed(action: object, repeat: int) -> float:
    """Median seconds of ``repeat`` runs."""
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append(time.perf_counter() - began)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pathways", type=int, default=3000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    upgrade(url, MIGRATIONS)
    engine = make_engine(url)
    with Session(engine) as session:
        began = time.perf_counter()
        campaign_id = fill(session, args.pathways)
        session.commit()
        # As autovacuum would soon after an import: without statistics PostgreSQL plans the
        # grouped subqueries as nested loops over a "1-row" table (~400x slower at 3,000 rows).
        session.execute(text("ANALYZE"))
        session.commit()
        print(f"filled {args.pathways} pathways in {time.perf_counter() - began:.1f}s")
    settings = Settings(database_url=url)
    with Session(engine) as session:
        report_s = timed(
            lambda: build_campaign_report(
                session, campaign_id=campaign_id, settings=settings, actor="bench"
            ),
            args.repeat,
        )
        bare_s = timed(lambda: bare_scan(session), args.repeat)
    print(f"backend: {engine.dialect.name}; pathways: {args.pathways}")
    print(f"campaign report: {report_s * 1000:.0f} ms (median of {args.repeat})")
    print(f"bare aggregate scan: {bare_s * 1000:.0f} ms")
    print(f"ratio report / bare: {report_s / bare_s:.1f}")
    engine.dispose()


if __name__ == "__main__":
    main()
