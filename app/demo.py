"""The whole job on the embedded default, in one call: the newcomer's first look.

Synthetic cohort -> import and exclusions -> a simulated campaign with the approved standard script
-> the real dispatcher placing calls through the simulator, which answers over real HTTP webhooks
signed like Twilio's -> outcomes and the review queue. Nothing here is a shortcut around the
production code path; the only demo-specific choices are the campaign's (simulated, always-open
window, one call per patient) and the synthetic data.
"""

from __future__ import annotations

import datetime as dt
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, sessionmaker

from app import schema
from app.attempts import IN_FLIGHT
from app.campaigns.languages import store_translations
from app.campaigns.runtime import build_worker, provider_for
from app.campaigns.schedules import create_schedule, view_schedule
from app.campaigns.service import campaign_status, create_campaign, start_campaign
from app.campaigns.worker import single_worker_lock
from app.cohort.service import import_cohort
from app.cohort.synth import synthesise
from app.config import Settings
from app.db import engine_for, make_session_factory, read_only, session_scope, utcnow
from app.eligibility.rules import load_rules
from app.errors import ConflictError, InvalidInputError
from app.flows import ensure_call_script, load_registry
from app.main import create_app
from app.models import (
    AttemptStatus,
    Cohort,
    ContactAttempt,
    ContactNotice,
    Decision,
    Pathway,
    Patient,
    ReviewItem,
    ReviewStatus,
    Role,
    TaskState,
    User,
    WorklistTask,
)
from app.review.decisions import decide
from app.telephony.personas import CAST, Persona
from app.telephony.simulator import SimulatorProvider
from app.users.service import create_user, set_password
from app.worklist.letters import prepare_removal_letters

DEMO_SCRIPT = "standard-validation"
DEMO_COHORT_PREFIX = "Demo cohort "
DEMO_ACTOR = "waitlist demo"
DEMO_CALLS_PER_SECOND = 30.0
# Demo only: one call per patient, no SMS, so the whole run fits in about a minute. Real
# campaigns keep the default policy (3 calls at least 4 hours apart, then an SMS).
DEMO_POLICY: dict[str, Any] = {"calls": 1, "sms": False}
DEMO_USERS = (
    ("demo.clinician", "Dr Demo Clinician (synthetic)", Role.CLINICIAN),
    ("demo.coordinator", "Demo Coordinator (synthetic)", Role.COORDINATOR),
    ("demo.admin", "Demo Administrator (synthetic)", Role.ADMIN),
)

Progress = Callable[[str, int, int], None]


@dataclass
class DemoResult:
    """What the demo did, for the summary and ``--json``."""

    campaign_id: int
    cohort: str
    base_url: str
    imported: dict[str, int]
    excluded: dict[str, int]
    attempts: dict[str, int]
    outcomes: dict[str, int]
    review_queue: dict[str, int]
    worklist: dict[str, int] = field(default_factory=dict)
    routed: dict[str, int] = field(default_factory=dict)
    decided: dict[str, int] = field(default_factory=dict)
    sign_in: dict[str, str] = field(default_factory=dict)
    # The rolling schedule left running over the cohort, with what falls due next week.
    schedule: dict[str, Any] = field(default_factory=dict)
    # The campaign's notices (the pre-call texts), as ``kind:state`` -> how many.
    notices: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    settled: bool = True

    def as_dict(self) -> dict[str, Any]:
        """The ``waitlist demo --json`` document (no passwords: those go to the terminal)."""
        return {
            "campaign_id": self.campaign_id,
            "cohort": self.cohort,
            "base_url": self.base_url,
            "import": self.imported,
            "excluded": self.excluded,
            "attempts": self.attempts,
            "outcomes": self.outcomes,
            "review_queue": self.review_queue,
            "worklist": self.worklist,
            "routed": self.routed,
            "decided": self.decided,
            "settled": self.settled,
            "schedule": self.schedule,
            "notices": self.notices,
            "seconds": round(self.seconds, 1),
        }


def free_port(host: str) -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


class PortInUseError(ConflictError):
    """The demo's web port is taken (another ``waitlist demo`` or ``serve`` is running)."""


def require_free_port(host: str, port: int) -> None:
    """Refuse early, in one sentence, when ``port`` on ``host`` cannot be listened on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"port {port} on {host} is in use (is another waitlist demo or serve running?):"
                " choose another with --port, or --port 0 for any free port"
            ) from exc


@contextmanager
def serve_in_background(settings: Settings, *, host: str, port: int) -> Iterator[uvicorn.Server]:
    """The real web app under uvicorn in a thread, until the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,  # as `waitlist serve`: the server's make is nobody's business
        )
    )
    thread = threading.Thread(target=server.run, name="demo-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the web app did not start on {host}:{port}")
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def demo_settings(settings: Settings, *, host: str, port: int) -> Settings:
    """The settings for this run: the simulator, calling our own server, at a demo pace."""
    if settings.telephony_provider != "simulator":
        raise InvalidInputError(
            "waitlist demo runs only with the simulator (WAITLIST_TELEPHONY_PROVIDER=simulator): "
            "it would otherwise ring real people"
        )
    return settings.model_copy(
        update={
            # The demo's texts, too, stay inside the simulator, whatever Notify settings are set.
            "notify_api_key": None,
            "sms_provider": "telephony",
            "public_base_url": f"http://{host}:{port}",
            "calls_per_second": max(settings.calls_per_second, DEMO_CALLS_PER_SECOND),
        }
    )


def ensure_demo_users(session: Session) -> dict[str, str]:
    """Demo sign-ins with fresh random passwords (printed to the terminal, never stored)."""
    passwords: dict[str, str] = {}
    for username, full_name, role in DEMO_USERS:
        password = secrets.token_urlsafe(16)
        existing = session.scalar(select(User).where(User.username == username))
        if existing is None:
            create_user(
                session,
                username=username,
                full_name=full_name,
                role=role,
                password=password,
                actor=DEMO_ACTOR,
            )
        else:
            set_password(session, user=existing, password=password, actor=DEMO_ACTOR)
        passwords[username] = password
    return passwords


def _counts(session: Session, column: Any, *where: Any) -> dict[str, int]:
    rows = session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    return {str(getattr(key, "value", key)): count for key, count in rows}


def calling_progress(session: Session, *, campaign_id: int, now: dt.datetime) -> tuple[int, int]:
    """(pathways still being contacted now, pathways the campaign contacts) for the progress bar.

    Counted in pathways, not attempts, so the total is fixed once the campaign is planned: a
    follow-up attempt does not grow it. Attempts planned for a later day (a patient's second
    pathway is never contacted on the same day) do not hold the demo up; the summary counts them.
    """
    due = ContactAttempt.due_at <= now
    in_campaign = ContactAttempt.campaign_id == campaign_id
    total = session.scalar(
        select(func.count(func.distinct(ContactAttempt.pathway_id))).where(in_campaign)
    )
    open_ = session.scalar(
        select(func.count(func.distinct(ContactAttempt.pathway_id))).where(
            in_campaign,
            or_(
                ContactAttempt.status.in_(IN_FLIGHT | {AttemptStatus.CLAIMED}),
                and_(ContactAttempt.status == AttemptStatus.PLANNED, due),
            ),
        )
    )
    return int(open_ or 0), int(total or 0)


def run_demo(
    settings: Settings,
    *,
    rows: int = 1500,
    seed: int = 7,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout_seconds: float = 240.0,
    progress: Progress | None = None,
    while_serving: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """Run the whole job once; ``while_serving`` runs while the web app is still up."""
    started = time.monotonic()
    report = progress or (lambda _stage, _done, _total: None)
    if port:
        require_free_port(host, port)
    run_settings = demo_settings(settings, host=host, port=port or free_port(host))
    schema.upgrade(run_settings.database_url, run_settings.migrations_path)
    engine = engine_for(run_settings)
    factory = make_session_factory(engine)
    try:
        with (
            single_worker_lock(run_settings.database_url),
            serve_in_background(
                run_settings, host=host, port=int(run_settings.public_base_url.rsplit(":", 1)[1])
            ),
        ):
            result = _run(
                run_settings,
                factory,
                rows=rows,
                seed=seed,
                report=report,
                timeout_seconds=timeout_seconds,
            )
            result.seconds = time.monotonic() - started
            if while_serving is not None:
                while_serving(result)
        return result
    finally:
        engine.dispose()


def _run(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    rows: int,
    seed: int,
    report: Progress,
    timeout_seconds: float,
) -> DemoResult:
    today = dt.datetime.now(settings.zone).date()
    stamp = dt.datetime.now(settings.zone).strftime("%Y-%m-%d %H:%M:%S")
    cohort_name = f"{DEMO_COHORT_PREFIX}{stamp}"
    # Each run in the same database gets new synthetic people and pathways: re-importing the
    # last run's would only update pathways already contacted today (and contact nobody).
    with factory() as session:
        run = 1 + int(
            session.scalar(select(func.count()).where(Cohort.name.startswith(DEMO_COHORT_PREFIX)))
            or 0
        )
    rules = load_rules(settings.exclusions_path)
    registry = load_registry(settings.flows_path)
    with tempfile.TemporaryDirectory(prefix="waitlist-demo-") as folder:
        path = Path(folder) / "demo-cohort.csv"
        report("Writing a synthetic cohort", 0, rows)
        synthesise(
            path,
            rows=rows,
            seed=seed + run - 1,
            bad_rows=max(1, rows // 400),
            as_of=today,
            pathway_prefix=f"DEMO{run}",
            showcase=True,  # language and access routings, whatever the dice
        )
        report("Writing a synthetic cohort", rows, rows)
        with session_scope(factory) as session:
            imported = import_cohort(
                session,
                cohort_name=cohort_name,
                path=path,
                default_provider_code=settings.default_provider_code,
                rules=rules,
                actor=DEMO_ACTOR,
                progress=lambda done, expected: report("Importing", done, expected),
            )
    with session_scope(factory) as session:
        passwords = ensure_demo_users(session)
        call_script = ensure_call_script(session, registry.get(DEMO_SCRIPT))
        # Welsh speakers hear the Welsh script, as in a real campaign.
        store_translations(session, registry=registry, flow_id=DEMO_SCRIPT)
        cohort_id = session.scalar(
            select(Pathway.cohort_id).where(Pathway.last_import_job_id == imported.import_job_id)
        )
        if cohort_id is None:
            raise ConflictError("the demo cohort imported no pathways")
        campaign = create_campaign(
            session,
            name=f"Demo campaign {stamp} (SIMULATED)",
            cohort_id=cohort_id,
            call_script_id=call_script.id,
            provider_name="simulator",
            account_calls_per_second=settings.calls_per_second,
            calling_windows={"always_open": True},
            attempt_policy=DEMO_POLICY,
            calls_per_second=settings.calls_per_second,
            simulated=True,
            timezone=settings.timezone,
            created_by=DEMO_ACTOR,
        )
        start_campaign(session, campaign_id=campaign.id, actor=DEMO_ACTOR)
        campaign_id = campaign.id
        cast = cast_patients(session, campaign_id=campaign_id)
    settled = _dispatch_until_settled(
        settings,
        factory,
        campaign_id=campaign_id,
        report=report,
        timeout_seconds=timeout_seconds,
        cast=cast,
    )
    with session_scope(factory) as session:
        decided = demonstrate_decisions(session, campaign_id=campaign_id)
    with session_scope(factory) as session:
        attempts = _counts(
            session, ContactAttempt.status, ContactAttempt.campaign_id == campaign_id
        )
        outcomes = _counts(session, Pathway.outcome, Pathway.cohort_id == cohort_id)
        notices = {
            f"{kind}:{state}": count
            for kind, state, count in session.execute(
                select(ContactNotice.kind, ContactNotice.status, func.count())
                .where(ContactNotice.campaign_id == campaign_id)
                .group_by(ContactNotice.kind, ContactNotice.status)
            )
        }
        queue = _counts(
            session,
            ReviewItem.reason,
            ReviewItem.campaign_id == campaign_id,
            ReviewItem.status == ReviewStatus.OPEN,
        )
        # Validation goes on: a schedule revalidates each pathway as it falls due.
        schedule = create_schedule(
            session,
            registry=registry,
            name=f"Demo rolling validation {stamp} (SIMULATED)",
            cohort_id=cohort_id,
            flow_id=DEMO_SCRIPT,
            provider_name="simulator",
            account_calls_per_second=settings.calls_per_second,
            calling_windows={"always_open": True},
            attempt_policy=DEMO_POLICY,
            calls_per_second=settings.calls_per_second,
            simulated=True,
            timezone=settings.timezone,
            created_by=DEMO_ACTOR,
        )
        schedule_view = view_schedule(session, schedule_id=schedule.id, today=today).as_json()
        worklist = _counts(
            session,
            WorklistTask.reason,
            WorklistTask.state == TaskState.OPEN,
            WorklistTask.pathway_id.in_(select(Pathway.id).where(Pathway.cohort_id == cohort_id)),
        )
        routed = campaign_status(session, campaign_id=campaign_id).routed
    return DemoResult(
        campaign_id=campaign_id,
        cohort=cohort_name,
        base_url=settings.public_base_url,
        imported=imported.counts,
        excluded={k: v for k, v in imported.excluded.items() if v},
        attempts=attempts,
        outcomes=outcomes,
        review_queue=queue,
        worklist=worklist,
        routed=routed,
        decided=decided,
        sign_in=passwords,
        settled=settled,
        schedule=schedule_view,
        notices=notices,
    )


def demonstrate_decisions(session: Session, *, campaign_id: int) -> dict[str, int]:
    """The demo clinician decides two items so the worklist shows what decisions lead to: a
    "call the patient back" task, and a removal's letters to the patient and the GP.

    Demo only: the removal is given no change-of-mind window, so its letters are prepared at
    once (a real removal waits ``WAITLIST_REVIEW_UNDO_DAYS`` before anything is sent).
    Returns the reasons of the items decided.
    """
    decided: dict[str, int] = {}
    clinician = session.scalar(select(User).where(User.username == DEMO_USERS[0][0]))
    assert clinician is not None
    open_items = select(ReviewItem).where(
        ReviewItem.campaign_id == campaign_id, ReviewItem.status == ReviewStatus.OPEN
    )
    for reason, decision, code in (
        ("unclear", Decision.CALL_BACK, None),
        ("leave", Decision.REMOVE, "35"),
    ):
        item = session.scalars(
            open_items.where(ReviewItem.reason == reason).order_by(ReviewItem.id).limit(1)
        ).first()
        if item is None:
            continue
        decide(
            session,
            item_id=item.id,
            seen_version=item.version,
            decision=decision,
            by=clinician,
            note=f"Demo decision ({DEMO_ACTOR})",
            rtt_status_code=code,
            undo_days=0,
        )
        decided[reason] = decided.get(reason, 0) + 1
    prepare_removal_letters(session)
    return decided


def cast_patients(session: Session, *, campaign_id: int) -> dict[int, Persona]:
    """Patient id -> the ``CAST`` persona they play, so every dead end shows on every run.

    The first patients (by id) with one pathway, a number of their own and the English script,
    one per persona: the rest answer as the dice say.
    """
    other = aliased(Patient)
    shared = exists().where(
        other.id != Patient.id,
        or_(
            other.mobile_phone == ContactAttempt.to_number,
            other.landline_phone == ContactAttempt.to_number,
        ),
    )
    patients = session.scalars(
        select(ContactAttempt.patient_id)
        .join(Patient, Patient.id == ContactAttempt.patient_id)
        .where(
            ContactAttempt.campaign_id == campaign_id,
            ContactAttempt.call_script_id.is_(None),
            Patient.preferred_language == "en",
            ~shared,
        )
        .group_by(ContactAttempt.patient_id)
        .having(func.count() == 1)
        .order_by(ContactAttempt.patient_id)
        .limit(len(CAST))
    ).all()
    return dict(zip(patients, CAST.values(), strict=False))


def _dispatch_until_settled(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    campaign_id: int,
    report: Progress,
    timeout_seconds: float,
    cast: dict[int, Persona],
) -> bool:
    """Run the real worker until every attempt of the campaign has settled (or time runs out)."""
    provider = provider_for(settings, factory, cast=cast)
    assert isinstance(provider, SimulatorProvider)  # demo_settings() refused anything else
    worker = build_worker(settings, session_factory=factory, provider=provider)
    worker.housekeeping_every = 1.0
    worker.idle_sleep = 0.2
    thread = threading.Thread(target=worker.run, name="demo-worker", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_seconds
    settled = False
    try:
        while time.monotonic() < deadline:
            with factory() as session:
                open_, total = calling_progress(
                    read_only(session), campaign_id=campaign_id, now=utcnow()
                )
            report("Calling (simulated), pathways", total - open_, total)
            if total and not open_ and provider.wait_idle(0.1):
                settled = True
                break
            time.sleep(0.5)
    finally:
        worker.stop.set()
        thread.join(timeout=60)
        provider.close()
    return settled
