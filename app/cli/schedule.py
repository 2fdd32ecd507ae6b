"""``waitlist schedule ...``: rolling validation schedules over a cohort."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.campaigns import schedules as service
from app.cli.common import console, emit_json, errors, load_settings, unit_of_work
from app.db import utcnow
from app.errors import DomainError, InvalidInputError
from app.flows import load_registry
from app.models import ScheduleStatus

app = typer.Typer(
    help="Rolling validation: create, list, status, run, pause, resume.", no_args_is_help=True
)
ACTOR = "cli"


def _fail(error: DomainError) -> typer.Exit:
    errors.print(f"[red]{error}[/red]")
    return typer.Exit(1)


def _weeks(value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError as exc:
        raise InvalidInputError(
            f"milestones must be whole weeks separated by commas, not {value!r}",
            field="milestones",
        ) from exc


def _show(document: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(document)
        return
    due = document["due"]
    console.print(
        f"Schedule {document['id']} ({document['name']}): {document['status']}; "
        f"campaign {document['campaign_id']} {document['campaign_status']}"
    )
    console.print(
        f"  milestones {document['milestone_weeks']} weeks, then every "
        f"{document['every_weeks']}; or {document['after_validation_weeks']} weeks after the "
        f"last validation; window {document['window_days']} days"
    )
    console.print(
        f"  overdue {due['overdue']}, due now {due['due_now']}, falls due next week "
        f"{due['due_next_week']}, rounds under way {due['under_way']}"
    )


@app.command()
def create(
    name: str = typer.Option(..., help="A name staff will recognise."),
    cohort: int = typer.Option(..., help="Cohort id."),
    script: str = typer.Option(..., help="Flow id of a script in call_flows/."),
    milestones: str | None = typer.Option(None, help="Weeks from clock start (default 12,26,52)."),
    every: int | None = typer.Option(None, help="Then every N weeks (default 12)."),
    after: int | None = typer.Option(None, help="Or N weeks after the last validation (12)."),
    window_days: int = typer.Option(7, help="Contact up to N days before the due date."),
    daily_limit: int | None = typer.Option(None, help="At most N new rounds a day."),
    windows: Annotated[
        Path | None, typer.Option(help="JSON calling windows (default Mon-Fri 09-19, Sat 10-16).")
    ] = None,
    calls_per_second: float | None = typer.Option(None, help="Rate cap (default: the account's)."),
    simulated: bool = typer.Option(False, help="Demo schedule against the simulator only."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Create a schedule and its standing campaign; every pathway gets its next due date."""
    settings = load_settings()
    try:
        with unit_of_work() as session:
            created = service.create_schedule(
                session,
                registry=load_registry(settings.flows_path),
                name=name,
                cohort_id=cohort,
                flow_id=script,
                provider_name=settings.telephony_provider,
                account_calls_per_second=settings.calls_per_second,
                milestones=_weeks(milestones),
                every_weeks=every,
                after_validation_weeks=after,
                window_days=window_days,
                daily_limit=daily_limit,
                calling_windows=json.loads(windows.read_text()) if windows else None,
                calls_per_second=calls_per_second,
                simulated=simulated,
                timezone=settings.timezone,
                created_by=ACTOR,
            )
            view = service.view_schedule(session, schedule_id=created.id, today=utcnow().date())
            document = view.as_json()
    except DomainError as error:
        raise _fail(error) from error
    _show(document, as_json)


@app.command("list")
def list_(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Every schedule with what is due."""
    with unit_of_work() as session:
        documents = [v.as_json() for v in service.list_schedules(session, today=utcnow().date())]
    if as_json:
        emit_json(documents)
        return
    if not documents:
        console.print("No schedules.")
    for document in documents:
        _show(document, False)


@app.command()
def status(
    schedule_id: int,
    next_due: int = typer.Option(0, help="Also list the N pathways next due."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A schedule's rule, its campaign and what is due, overdue and due next week."""
    try:
        with unit_of_work() as session:
            document = service.view_schedule(
                session, schedule_id=schedule_id, today=utcnow().date()
            ).as_json()
            if next_due:
                document["next_due"] = [
                    {"pathway_id": ref, "specialty_code": code, "next_due_date": when}
                    for ref, code, when in service.next_due_dates(
                        session, schedule_id=schedule_id, limit=next_due
                    )
                ]
    except DomainError as error:
        raise _fail(error) from error
    _show(document, as_json)
    if not as_json:
        for row in document.get("next_due", []):
            console.print(f"  {row['next_due_date']}  {row['pathway_id']}  {row['specialty_code']}")


@app.command()
def run(
    schedule_id: int,
    at: Annotated[
        dt.datetime | None, typer.Option(help="Run as of this time (ISO 8601; default now).")
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Run today's selection now (the worker does this once a day by itself)."""
    now = (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at) if at else utcnow()
    try:
        with unit_of_work() as session:
            schedule = service.get_schedule(session, schedule_id=schedule_id)
            result = service.run_schedule(session, schedule=schedule, now=now).as_json()
    except DomainError as error:
        raise _fail(error) from error
    if as_json:
        emit_json(result)
        return
    console.print(
        f"Schedule {schedule_id} on {result['run_date']}: {result['selected']} due, "
        f"{result['planned']} calls planned, {result['unreachable']} without a number"
    )
    for reason, count in sorted(result["skipped"].items()):
        console.print(f"  skipped {reason}: {count}")


def _set(schedule_id: int, to: ScheduleStatus, as_json: bool) -> None:
    try:
        with unit_of_work() as session:
            service.set_status(session, schedule_id=schedule_id, to=to, actor=ACTOR)
            document = service.view_schedule(
                session, schedule_id=schedule_id, today=utcnow().date()
            ).as_json()
    except DomainError as error:
        raise _fail(error) from error
    _show(document, as_json)


@app.command()
def pause(schedule_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stop the daily selection (contacts already planned go on)."""
    _set(schedule_id, ScheduleStatus.PAUSED, as_json)


@app.command()
def resume(schedule_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """Start the daily selection again."""
    _set(schedule_id, ScheduleStatus.ACTIVE, as_json)
