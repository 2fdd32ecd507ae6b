"""``waitlist export``: the service's records in the formats other systems read."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import console, emit_json, load_settings, unit_of_work
from app.fhir import build_bundle

app = typer.Typer(help="Export records for other systems (FHIR R4).", no_args_is_help=True)


@app.command()
def fhir(
    out: Annotated[Path, typer.Option("--out", help="JSON file to write (replaced if it exists).")],
    campaign: Annotated[
        int | None, typer.Option("--campaign", help="Only this campaign (default: all).")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON summary on stdout.")
    ] = False,
) -> None:
    """A FHIR R4 Bundle: Questionnaires, QuestionnaireResponses and Tasks (audited)."""
    load_settings()
    partial = out.with_name(out.name + ".partial")
    try:
        with unit_of_work() as session:
            export = build_bundle(session, actor=f"cli:{getpass.getuser()}", campaign_id=campaign)
            partial.write_text(json.dumps(export.bundle, indent=1), encoding="utf-8")
            partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    summary = {
        "out": str(out),
        "questionnaires": export.questionnaires,
        "responses": export.responses,
        "tasks": export.tasks,
    }
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"Wrote {export.responses} conversations and {export.tasks} decisions to {out}."
        )
