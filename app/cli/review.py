"""``waitlist review``: the outcome export back to the PAS."""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import console, emit_json, load_settings, unit_of_work
from app.review.export import export_outcomes

app = typer.Typer(help="Clinical review: export decisions to the PAS.", no_args_is_help=True)


def _parse_since(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            "use YYYY-MM-DD or an ISO 8601 time", param_hint="--since"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=load_settings().zone)
    return parsed.astimezone(dt.UTC)


@app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write (replaced if it exists).")],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Re-export every decision made since this date or time (default: not yet "
            "exported).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
) -> None:
    """Write the outcome CSV (cohort-csv.md) and mark its decisions exported."""
    load_settings()
    since_at = _parse_since(since)
    partial = out.with_name(out.name + ".partial")
    try:
        with unit_of_work() as session:
            with partial.open("w", encoding="utf-8", newline="") as handle:
                report = export_outcomes(
                    session, out=handle, actor=f"cli:{getpass.getuser()}", since=since_at
                )
            partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    if as_json:
        emit_json({"out": str(out), **report.as_dict()})
    else:
        console.print(f"Wrote {report.rows} decisions to {out}.")
