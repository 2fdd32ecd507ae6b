"""What sending a notice costs a worker: claim, re-check, send, record, against the bare send.

    python scripts/bench_notices.py --notices 500                # SQLite in a temp directory
    python scripts/bench_notices.py --notices 500 --database-url postgresql+psycopg://...

Plans one first call and its pre-call text per pathway (``plan_campaign`` on an always-open,
simulated campaign with the shipped script), then times ``send_due_notices`` until every notice
has gone, and, in the same run, the bare limit: the same number of ``send_sms`` calls to the same
in-memory provider with no database. CPU time of this process is reported beside wall time (the
machine is shared; CPU time hardly depends on the others' load).
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.campaigns.budget import LocalBudget  # noqa: E402
from app.campaigns.dispatcher import DispatchConfig  # noqa: E402
from app.campaigns.outbox import send_due_notices  # noqa: E402
from app.campaigns.planning import plan_campaign  # noqa: E402
from app.campaigns.runtime import sms_composer  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, make_session_factory  # noqa: E402
from app.flows import ensure_call_script, load_registry  # noqa: E402
from app.models import Campaign, CampaignStatus, Cohort, Pathway, Patient  # noqa: E402
from app.schema import upgrade  # noqa: E402
from app.telephony.provider import Placed, SmsRequest  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)


class MemoryProvider:
    """Accepts every text at once (the provider's own latency is not ours to measure)."""

    name = "memory"

    def __init__(self) -> None:
        self.sent = 0
        self._ids = itertools.count(1)

    def place_call(self, request: object) -> Placed:
        raise NotImplementedError

    def send_sms(self, request: SmsRequest) -> Placed:
        self.sent += 1
        return Placed(sid=f"SM{next(self._ids):032d}")

    def find_contact(self, **_: object) -> None:
        return None


def seed(factory: object, settings: Settings, count: int) -> None:
    with factory() as session:  # type: ignore[operator]
        registry = load_registry(settings.flows_path)
        script = ensure_call_script(session, registry.get("standard-validation"))
        cohort = Cohort(name="bench")
        session.add(cohort)
        session.flush()
        for n in range(count):
            patient = Patient(
                nhs_number=f"{9990000000 + n}",
                given_name="Bench",
                family_name="Patient",
                date_of_birth=dt.date(1956, 3, 14),
                mobile_phone=f"+4477009{n:05d}",
            )
            session.add(patient)
            session.flush()
            session.add(
                Pathway(
                    provider_code="RXX",
                    pathway_id=f"B-{n}",
                    patient_id=patient.id,
                    cohort_id=cohort.id,
                    specialty_code="110",
                    clock_start_date=dt.date(2026, 1, 1),
                    row_hash="x",
                )
            )
        campaign = Campaign(
            name="bench",
            cohort_id=cohort.id,
            call_script_id=script.id,
            status=CampaignStatus.RUNNING,
            calling_windows={"timezone": "Europe/London", "weekly": {}, "always_open": True},
            attempt_policy={},
            calls_per_second=1000.0,
            simulated=True,
        )
        session.add(campaign)
        session.flush()
        plan_campaign(session, campaign=campaign, now=NOW)
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/bench.db"
        upgrade(url, ROOT / "migrations")
        engine = make_engine(url)
        factory = make_session_factory(engine)
        settings = Settings(database_url=url)
        seed(factory, settings, args.notices)
        provider = MemoryProvider()
        config = DispatchConfig(
            worker_id="bench", account_key="bench", account_calls_per_second=1e6
        )
        writer = sms_composer(settings)
        wall, cpu = time.perf_counter(), time.process_time()
        while provider.sent < args.notices:
            send_due_notices(
                session_factory=factory,
                provider=provider,
                budget=LocalBudget(),
                writer=writer,
                config=config,
                clock=lambda: NOW,
                stop=threading.Event(),
            )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        bare = MemoryProvider()
        bare_wall, bare_cpu = time.perf_counter(), time.process_time()
        for n in range(args.notices):
            request = SmsRequest(to=f"+4477009{n:05d}", token=str(n), body="x", kind="pre_call")
            bare.send_sms(request)
        bare_wall, bare_cpu = time.perf_counter() - bare_wall, time.process_time() - bare_cpu
        engine.dispose()
    result = {
        "database": url.split(":", 1)[0],
        "notices": args.notices,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "ms_per_notice_cpu": round(1000 * cpu / args.notices, 2),
        "bare_ms_per_send_cpu": round(1000 * bare_cpu / args.notices, 4),
        "ratio_cpu": round(cpu / bare_cpu, 0) if bare_cpu else None,
        "load_average": os.getloadavg(),
        "utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
