"""``waitlist demo``: the whole job on the embedded default, then the web app to look at it."""

from __future__ import annotations

import threading
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from app.cli.common import console, emit_json, errors, load_settings
from app.demo import DemoResult, run_demo
from app.errors import DomainError
from app.logging import configure_logging


def demo(
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Keep the web app running afterwards.")
    ] = True,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    rows: Annotated[int, typer.Option(min=50, max=50_000, help="Synthetic patients.")] = 1500,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic cohort.")] = 7,
    host: Annotated[str, typer.Option(help="Interface for the web app.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the web app (0: any free port).")] = 8000,
) -> None:
    """Import a synthetic cohort, run a simulated campaign over real webhooks, open the app."""
    settings = load_settings()
    configure_logging(level="WARNING", json_lines=settings.log_format == "json")
    bar = None
    if not json and errors.is_terminal:
        bar = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=errors,
        )
    stages: dict[str, TaskID] = {}

    def advance(stage: str, done: int, total: int) -> None:
        assert bar is not None
        if stage not in stages:
            stages[stage] = bar.add_task(stage, total=total or None)
        bar.update(stages[stage], completed=done, total=total or None)

    def finished(result: DemoResult) -> None:
        if bar is not None:
            bar.stop()
        if json:
            emit_json(result.as_dict())
        else:
            print_summary(result)
        if serve:
            print_sign_in(result)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                console.print("Stopping.")

    try:
        if bar is not None:
            bar.start()
        run_demo(
            settings,
            rows=rows,
            seed=seed,
            host=host,
            port=port or None,
            progress=advance if bar is not None else None,
            while_serving=finished,
        )
    except DomainError as exc:
        errors.print(f"[red]Demo refused[/red]: {exc}")
        raise typer.Exit(2) from exc
    finally:
        if bar is not None:
            bar.stop()


def print_summary(result: DemoResult) -> None:
    """The outcome of the run as a few readable tables."""
    console.print(
        f"\nCampaign {result.campaign_id} ({result.cohort}) finished in {result.seconds:.0f} s"
        + ("" if result.settled else " [yellow](some contacts were still in flight)[/yellow]")
    )
    for title, counts in (
        ("Import", result.imported),
        ("Excluded by rule", result.excluded),
        ("Contact attempts", result.attempts),
        ("Pathway outcomes", result.outcomes),
        ("Open review items", result.review_queue),
        ("Routed to", result.routed),
        ("Open worklist tasks", result.worklist),
        ("Notices (kind:state)", result.notices),
    ):
        table = Table(title=title, show_header=False, title_justify="left")
        for key, value in counts.items():
            table.add_row(key, str(value))
        console.print(table)
    if result.schedule:
        due = result.schedule["due"]
        console.print(
            f"Schedule {result.schedule['id']} keeps validating: {due['overdue']} overdue, "
            f"{due['due_next_week']} fall due next week (see /dashboard and /schedules)"
        )


def print_sign_in(result: DemoResult) -> None:
    """Where to look, and the demo sign-ins (fresh random passwords each run)."""
    console.print(f"\nThe web app is running at [bold]{result.base_url}[/bold]")
    for username, password in result.sign_in.items():
        console.print(f"  sign in as [bold]{username}[/bold] with password {password}")
    console.print(f"  review queue:    {result.base_url}/review")
    console.print(f"  campaign report: {result.base_url}/reports/campaigns/{result.campaign_id}")
    console.print("Press Ctrl+C to stop.")
