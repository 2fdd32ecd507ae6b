"""The ``waitlist`` command line; each area of the service adds its commands here."""

from __future__ import annotations

import typer

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
    """Console entry point."""
    cli()
