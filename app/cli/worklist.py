"""``waitlist worklist``: the follow-ups staff owe patients, their CSV, and letters to print."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import console, emit_json, errors, load_settings, unit_of_work
from app.errors import DomainError
from app.models import TaskReason, TaskState
from app.worklist.letters import mark_letter_sent, prepare_removal_letters
from app.worklist.listing import TaskFilter, list_tasks, tasks_csv
from app.worklist.printing import letters_pdf, letters_to_print

app = typer.Typer(help="The staff worklist: follow-ups, CSV and letters.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
ReasonOption = Annotated[
    TaskReason | None, typer.Option("--reason", help="Only tasks with this reason.")
]
StateOption = Annotated[
    TaskState | None, typer.Option("--state", help="Only tasks in this state (default: open).")
]
OverdueOption = Annotated[
    bool, typer.Option("--overdue", help="Only open tasks past their due date.")
]


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _filters(
    reason: TaskReason | None,
    state: TaskState | None,
    campaign: int | None,
    overdue: bool = False,
) -> TaskFilter:
    return TaskFilter(
        reason=reason, state=state or TaskState.OPEN, campaign_id=campaign, overdue=overdue
    )


@app.command("list")
def list_command(
    reason: ReasonOption = None,
    state: StateOption = None,
    campaign: Annotated[
        int | None, typer.Option("--campaign", help="Only this campaign's.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 100,
    overdue: OverdueOption = False,
    as_json: JsonOption = False,
) -> None:
    """Tasks overdue and safety-critical first, then soonest due, with counts per reason and the
    overdue count (every task shown is audited)."""
    settings = load_settings()
    with unit_of_work() as session:
        page = list_tasks(
            session,
            filters=_filters(reason, state, campaign, overdue),
            actor=_actor(),
            today=dt.datetime.now(settings.zone).date(),
            limit=limit,
        )
    if as_json:
        emit_json(
            {
                "total": page.total,
                "by_reason": page.by_reason,
                "by_state": page.by_state,
                "overdue": page.overdue,
                "tasks": [line.as_json() for line in page.lines],
            }
        )
        return
    for name, count in sorted(page.by_reason.items()):
        console.print(f"{name}: {count}")
    for line in page.lines:
        late = " OVERDUE" if line.overdue else ""
        console.print(
            f"#{line.id} due {line.due_date:%Y-%m-%d}{late} {line.reason.value}: {line.name}"
            f" ({line.pathway_reference}) owner {line.owner or '-'}"
        )
    console.print(f"{page.total} task(s), {page.overdue} overdue.")


@app.command()
def csv(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (replaced if it exists).")],
    reason: ReasonOption = None,
    state: StateOption = None,
    overdue: OverdueOption = False,
    as_json: JsonOption = False,
) -> None:
    """Write the tasks as CSV (audited like the page)."""
    settings = load_settings()
    with unit_of_work() as session:
        page = list_tasks(
            session,
            filters=_filters(reason, state, None, overdue),
            actor=_actor(),
            today=dt.datetime.now(settings.zone).date(),
            limit=None,
        )
        out.write_text(tasks_csv(page.lines), encoding="utf-8")
    if as_json:
        emit_json({"out": str(out), "rows": len(page.lines)})
    else:
        console.print(f"Wrote {len(page.lines)} task(s) to {out}.")


@app.command()
def letters(
    out: Annotated[Path, typer.Option("--out", help="PDF file for the batch (replaced).")],
    as_json: JsonOption = False,
) -> None:
    """Prepare removal letters that are due, then print every letter waiting to be sent."""
    settings = load_settings()
    with unit_of_work() as session:
        removals = prepare_removal_letters(session)
        batch = letters_to_print(session, actor=_actor())
        out.write_bytes(
            letters_pdf(
                batch,
                organisation_name=settings.organisation_name,
                callback_number=settings.callback_number,
            )
        )
        kinds: dict[str, int] = {}
        for letter in batch:
            kinds[letter.kind.value] = kinds.get(letter.kind.value, 0) + 1
    if as_json:
        emit_json({"out": str(out), "letters": len(batch), "by_kind": kinds, "removals": removals})
    else:
        console.print(f"Wrote {len(batch)} letter(s) to {out} ({removals} new removal(s)).")


@app.command()
def sent(
    letter_id: Annotated[int, typer.Argument(help="The letter's number.")],
    as_json: JsonOption = False,
) -> None:
    """Record that a letter was posted; its task is done."""
    load_settings()
    try:
        with unit_of_work() as session:
            letter = mark_letter_sent(session, letter_id=letter_id, actor=_actor())
            sent_at = letter.sent_at
    except DomainError as exc:
        errors.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    if as_json:
        emit_json({"id": letter_id, "sent_at": sent_at})
    else:
        console.print(f"Letter {letter_id} marked sent.")
