"""``waitlist import`` and ``waitlist synth``: taking in a cohort, and making a synthetic one."""

from __future__ import annotations

import datetime as dt
import getpass
import sys
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
from app.cohort.mapping import ColumnMapping, load_mapping, suggest_mapping
from app.cohort.service import ImportReport, import_cohort, list_cohorts
from app.cohort.source import read_header
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
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="Cohort file: CSV, .xlsx, .xls or .ods."),
    ],
    name: Annotated[
        str | None, typer.Option(help="Cohort name (default: the file name's stem).")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            exists=True, dir_okay=False, help="Saved column mapping (YAML) for this source."
        ),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option(help="Workbook sheet to read (default: the first visible).")
    ] = None,
    suggest_mapping_: Annotated[
        bool,
        typer.Option(
            "--suggest-mapping",
            help="Import nothing: print a column mapping proposed from the file's header.",
        ),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """Import a cohort file (CSV or workbook): counts, exclusions, the mapping, rejected rows."""
    if suggest_mapping_:
        _suggest(file, sheet=sheet, json=json)
        return
    settings = load_settings()
    rules = load_rule_set(settings.exclusions_path)
    require_schema()
    show_progress = not json and errors.is_terminal
    try:
        saved = load_mapping(mapping) if mapping else None
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
                        session,
                        file,
                        name,
                        settings.default_provider_code,
                        rules,
                        advance,
                        saved,
                        sheet,
                    )
            else:
                report = _run(
                    session, file, name, settings.default_provider_code, rules, None, saved, sheet
                )
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
    mapping: ColumnMapping | None,
    sheet: str | None,
) -> ImportReport:
    return import_cohort(
        session,
        cohort_name=name or file.stem,
        path=file,
        default_provider_code=provider,
        rules=rules,
        actor=f"cli:{getpass.getuser()}",
        progress=progress,
        mapping=mapping,
        sheet=sheet,
    )


def _suggest(file: Path, *, sheet: str | None, json: bool) -> None:
    """Print a proposed mapping (YAML on stdout, ready to save) and what it could not place."""
    try:
        file_format, found_sheet, header = read_header(file, sheet=sheet)
    except DomainError as exc:
        if json:
            emit_json({"status": "failed", "error": str(exc)})
        errors.print(f"[red]File refused[/red]: {exc}")
        raise typer.Exit(1) from exc
    suggestion = suggest_mapping(header, name=file.stem)
    proposed = ColumnMapping(
        columns=suggestion.mapping.columns, name=suggestion.mapping.name, sheet=found_sheet
    )
    if json:
        emit_json(
            {
                "format": file_format,
                "sheet": found_sheet,
                "mapping": proposed.columns,
                "unmatched": suggestion.unmatched,
                "missing": suggestion.missing,
                "yaml": proposed.as_yaml(),
            }
        )
        return
    sys.stdout.write(proposed.as_yaml())
    if suggestion.unmatched:
        errors.print(f"Not mapped (ignored on import): {', '.join(suggestion.unmatched)}")
    if suggestion.missing:
        errors.print(
            f"[red]No column found for required[/red]: {', '.join(suggestion.missing)}; "
            "add them to the mapping before importing"
        )
    # Only the YAML goes to stdout, so "> source.yaml" saves the mapping and nothing else.
    errors.print("Check every line, save it (e.g. > source.yaml) and import with --mapping.")


def _print_summary(report: ImportReport) -> None:
    counts = ", ".join(f"{key} {value}" for key, value in report.counts.items())
    console.print(f"Import {report.import_job_id} into {report.cohort!r}: {counts}.")
    read = f"Read {report.file_format}" + (f" sheet {report.sheet!r}" if report.sheet else "")
    if report.mapping_name:
        read += f" with mapping {report.mapping_name!r}"
    console.print(
        read + "; columns: " + ", ".join(f"{k} -> {v}" for k, v in report.mapping.items())
    )
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
