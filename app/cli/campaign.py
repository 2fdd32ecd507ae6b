"""``waitlist campaign ...`` and ``waitlist worker``: run campaigns and their dispatcher."""

from __future__ import annotations

import datetime as dt
import json
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from app.campaigns import service
from app.campaigns.runtime import build_worker, provider_for
from app.campaigns.unreachable import list_unreachable_pathways
from app.campaigns.worker import WorkerAlreadyRunningError, single_worker_lock
from app.cli.common import console, emit_json, errors, load_settings, session_factory, unit_of_work
from app.errors import DomainError
from app.flows import load_registry
from app.logging import configure_logging
from app.telephony.provider import Provider

app = typer.Typer(
    help="Campaigns: create, start, pause, resume, cancel, status.", no_args_is_help=True
)
ACTOR = "cli"


def _fail(error: DomainError) -> typer.Exit:
    errors.print(f"[red]{error}[/red]")
    return typer.Exit(1)


@app.command()
def create(
    name: str = typer.Option(..., help="A name staff will recognise."),
    cohort: int = typer.Option(..., help="Cohort id."),
    script: str = typer.Option(..., help="Flow id of a script in call_flows/."),
    starts_at: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Start, in the hospital's local time (WAITLIST_TIMEZONE, as the web form),"
            " unless an offset is given: 2026-03-02T09:00 or 2026-03-02T09:00+00:00."
        ),
    ] = None,
    windows: Annotated[
        Path | None, typer.Option(help="JSON calling windows (default Mon-Fri 09-19, Sat 10-16).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="JSON attempt policy (default: 3 calls, then SMS).")
    ] = None,
    calls_per_second: float | None = typer.Option(None, help="Rate cap (default: the account's)."),
    simulated: bool = typer.Option(False, help="Demo campaign against the simulator only."),
    rule_set: str | None = typer.Option(None, help="Exclusion rule set name."),
    sms_provider: str | None = typer.Option(
        None, help="How texts go: telephony (as the calls) or notify (default: the settings')."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a draft campaign; the script is stored exactly as the API and the page store it."""
    settings = load_settings()
    start = (
        starts_at.replace(tzinfo=settings.zone)
        if starts_at and starts_at.tzinfo is None
        else starts_at
    )
    try:
        with unit_of_work() as session:
            campaign = service.create_campaign_from_flow(
                session,
                registry=load_registry(settings.flows_path),
                flow_id=script,
                name=name,
                cohort_id=cohort,
                provider_name=settings.telephony_provider,
                account_calls_per_second=settings.calls_per_second,
                starts_at=start,
                calling_windows=json.loads(windows.read_text()) if windows else None,
                attempt_policy=json.loads(policy.read_text()) if policy else None,
                calls_per_second=calls_per_second,
                simulated=simulated,
                rule_set=rule_set,
                sms_provider=sms_provider or settings.sms_provider,
                sms_providers=settings.sms_providers,
                timezone=settings.timezone,
                created_by=ACTOR,
            )
            report = service.campaign_status(session, campaign_id=campaign.id)
    except DomainError as error:
        raise _fail(error) from error
    _show(report.as_json(), as_json)


def _show(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(document)
        return
    console.print(f"Campaign {document['id']} ({document['name']}): {document['status']}")
    for key in ("attempts", "outcomes", "routed"):
        if document.get(key):
            console.print(f"  {key}: " + ", ".join(f"{k} {v}" for k, v in document[key].items()))
    if "unreachable" in document:
        console.print(f"  unreachable: {document['unreachable']}")


def _lifecycle(action: str, campaign_id: int, as_json: bool) -> None:
    try:
        with unit_of_work() as session:
            if action == "start":
                service.start_campaign(session, campaign_id=campaign_id, actor=ACTOR)
            elif action == "pause":
                service.pause_campaign(session, campaign_id=campaign_id, actor=ACTOR)
            elif action == "resume":
                service.resume_campaign(session, campaign_id=campaign_id, actor=ACTOR)
            else:
                service.cancel_campaign(session, campaign_id=campaign_id, actor=ACTOR)
            report = service.campaign_status(session, campaign_id=campaign_id)
    except DomainError as error:
        raise _fail(error) from error
    _show(report.as_json(), as_json)


@app.command()
def start(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Plan the first attempts and schedule the campaign."""
    _lifecycle("start", campaign_id, as_json)


@app.command()
def pause(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop placing contacts (calls already ringing finish)."""
    _lifecycle("pause", campaign_id, as_json)


@app.command()
def resume(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Place contacts again."""
    _lifecycle("resume", campaign_id, as_json)


@app.command()
def cancel(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Cancel the campaign and its unclaimed attempts."""
    _lifecycle("cancel", campaign_id, as_json)


@app.command()
def status(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Progress: attempts by state, pathways by outcome, unreachable count."""
    try:
        with unit_of_work() as session:
            report = service.campaign_status(session, campaign_id=campaign_id)
    except DomainError as error:
        raise _fail(error) from error
    _show(report.as_json(), as_json)


@app.command()
def unreachable(campaign_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Pathways the policy could not reach, for staff to telephone or write to."""
    try:
        with unit_of_work() as session:
            rows = list_unreachable_pathways(session, campaign_id=campaign_id, actor=ACTOR)
    except DomainError as error:
        raise _fail(error) from error
    document = [row.__dict__ | {"recorded_at": row.recorded_at.isoformat()} for row in rows]
    if as_json:
        emit_json(document)
        return
    for row in rows:
        console.print(
            f"{row.pathway_reference}\t{row.specialty_code}\t{row.attempts} attempts\t{row.note}"
        )
    console.print(f"{len(rows)} unreachable")


def _provider() -> Provider:
    """The configured provider, wired to the database's patients (for the simulator)."""
    return provider_for(load_settings(), session_factory())


def worker(
    once: bool = typer.Option(False, "--once", help="Stop when nothing is due."),
    max_seconds: float | None = typer.Option(None, "--max-seconds", help="Stop after this long."),
    concurrency: int = typer.Option(8, help="Provider calls in flight at once."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON summary at the end."),
) -> None:
    """Run the dispatcher: place due contacts inside calling hours, at the configured rate."""
    settings = load_settings()
    configure_logging(level=settings.log_level, json_lines=settings.log_format == "json")
    runner = build_worker(
        settings, session_factory=session_factory(), provider=_provider(), concurrency=concurrency
    )

    def stop(_signum: int, _frame: FrameType | None) -> None:
        runner.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with single_worker_lock(settings.database_url):
            stats = runner.run(once=once, max_seconds=max_seconds)
    except WorkerAlreadyRunningError as error:
        errors.print(f"[red]{error}[/red]")
        raise typer.Exit(3) from error
    if as_json:
        emit_json({"claimed": stats.claimed, "results": stats.results})
    else:
        console.print(
            f"Claimed {stats.claimed}: " + ", ".join(f"{k} {v}" for k, v in stats.results.items())
        )
