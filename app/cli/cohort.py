"""``waitlist import`` and ``waitlist synth``: taking in a cohort, and making a synthetic one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.orm import Session

from app.cli.common import (
    console,
    emit_json,
    errors,
    load_settings,
    require_schema,
    unit_of_work,
)
from app.cohort.service import ImportReport, import_cohort, list_cohorts
from app.cohort.synth import synthesise
from app.eligibility.rules import RuleSet, load_rules
from app.errors import DomainError


def load_rule_set(path: Path) -> RuleSet:
    """The exclusion rules, or the file, rule and problem and exit code 2."""
    try:
        return load_rules(path)
    except DomainError as exc:
        errors.print(f"[red]Invalid exclusion rules[/red]: {exc}")
        raise typer.Exit(2) from exc


def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Cohort CSV file.")],
    name: Annotated[
        str | None, typer.Option(help="Cohort name (default: the file name's stem).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Import a cohort CSV: counts, exclusions per rule and every rejected row."""
    settings = load_settings()
    rules = load_rule_set(settings.exclusions_path)
    require_schema()
    show_progress = not json and errors.is_terminal
    try:
        with unit_of_work() as session:
            if show_progress:
                with Progress(
                    TextColumn("Importing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=errors,
                ) as bar:
                    task = bar.add_task("import", total=None)

                    def advance(done: int, expected: int) -> None:
                        bar.update(task, completed=done, total=expected)

                    report = _run(
                        session, file, name, settings.default_provider_code, rules, advance
                    )
            else:
                report = _run(session, file, name, settings.default_provider_code, rules, None)
    except DomainError as exc:
        if json:
            emit_json({"status": "failed", "error": str(exc)})
        errors.print(f"[red]File refused[/red]: {exc}")
        raise typer.Exit(1) from exc
    if json:
        emit_json(report.as_dict())
    else:
        _print_summary(report)


def _run(
    session: Session,
    file: Path,
    name: str | None,
    provider: str,
    rules: RuleSet,
    progress: Callable[[int, int], None] | None,
) -> ImportReport:
    return import_cohort(
        session,
        cohort_name=name or file.stem,
        path=file,
        default_provider_code=provider,
        rules=rules,
        progress=progress,
    )


def _print_summary(report: ImportReport) -> None:
    counts = ", ".join(f"{key} {value}" for key, value in report.counts.items())
    console.print(f"Import {report.import_job_id} into {report.cohort!r}: {counts}.")
    if report.unknown_columns:
        console.print(f"Ignored unknown columns: {', '.join(report.unknown_columns)}")
    for rule_id, count in report.excluded.items():
        if count:
            console.print(f"  excluded by {rule_id}: {count}")
    for error in report.errors:
        console.print(f"  line {error['line']}, {error['column']}: {error['message']}")
    if report.counts["rejected"] > len(report.errors):
        console.print(f"  ... {report.counts['rejected'] - len(report.errors)} more rejected rows")


def synth(
    rows: Annotated[int, typer.Option(min=1, help="Number of data rows.")],
    out: Annotated[Path, typer.Option(dir_okay=False, help="CSV file to write.")],
    seed: Annotated[int, typer.Option(help="Same seed and date, same file.")] = 1,
    bad_rows: Annotated[int, typer.Option(min=0, help="Rows with one deliberate defect each.")] = 0,
    as_of: Annotated[
        str | None, typer.Option(help="Reference date YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Write a realistic synthetic cohort (nobody in it exists; every phone is fictional)."""
    reference = dt.date.fromisoformat(as_of) if as_of else dt.datetime.now(dt.UTC).date()
    synthesise(out, rows=rows, seed=seed, bad_rows=bad_rows, as_of=reference)
    console.print(f"Wrote {rows} rows to {out}.")


cohort_app = typer.Typer(
    help="Cohorts: list them with their ids (campaign create --cohort takes one).",
    no_args_is_help=True,
)


@cohort_app.command("list")
def list_command(
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Every imported cohort, newest first: id, name and open pathways."""
    require_schema()
    with unit_of_work() as session:
        cohorts = list_cohorts(session)
    if json:
        emit_json([{"id": c.id, "name": c.name, "open_pathways": c.open_pathways} for c in cohorts])
        return
    if not cohorts:
        console.print("No cohorts yet: import one with `waitlist import FILE`.")
        return
    table = Table(show_edge=False, box=None)
    table.add_column("ID", justify="right")
    table.add_column("Name")
    table.add_column("Open pathways", justify="right")
    for c in cohorts:
        table.add_row(str(c.id), c.name, f"{c.open_pathways:,}")
    console.print(table)


def register(cli: typer.Typer) -> None:
    """Add the cohort commands to the top-level CLI."""
    cli.command("import")(import_file)
    cli.command()(synth)
    cli.add_typer(cohort_app, name="cohort")
