"""The ``waitlist`` command line; each area of the service adds its commands here."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from app.cli import (
    campaign,
    cohort,
    db,
    demo,
    export,
    flow,
    report,
    review,
    schedule,
    serve,
    user,
    worklist,
)
from app.cli.common import errors

cli = typer.Typer(
    name="waitlist",
    help="Validate elective waiting lists by contacting patients with an approved script.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
cli.add_typer(db.app, name="db")
cli.add_typer(review.app, name="review")
cli.add_typer(export.app, name="export")
cli.add_typer(user.app, name="user")
cli.add_typer(flow.app, name="flow")
cli.command()(serve.serve)
cohort.register(cli)
cli.command()(report.report)
cli.add_typer(campaign.app, name="campaign")
cli.add_typer(schedule.app, name="schedule")
cli.add_typer(worklist.app, name="worklist")
cli.command()(campaign.worker)
cli.command()(demo.demo)


def main() -> None:
    """Console entry point: a database without its tables is one line of advice, not a trace."""
    try:
        cli()
    except (OperationalError, ProgrammingError) as exc:
        if not _missing_table(exc):
            raise
        errors.print(
            "[red]The database has no tables yet[/red]: run `waitlist db upgrade` first.",
            highlight=False,
        )
        raise SystemExit(2) from exc


def _missing_table(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
