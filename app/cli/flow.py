"""``waitlist flow``: lint, simulate and approve call scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from app.cli.common import console, emit_json, load_settings
from app.db import utcnow
from app.errors import DomainError
from app.flows.approval import approve_script
from app.flows.conversation import Heard, Reply
from app.flows.lint import lint_paths
from app.flows.loading import FlowError, load_registry
from app.flows.simulation import parse_answer, sample_facts, simulate

app = typer.Typer(help="Call scripts: lint, simulate, approve.", no_args_is_help=True)


@app.command()
def lint(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Script files or directories (default: all).")
    ] = None,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Check scripts for every problem listed in docs/call-flows.md; exit 1 on any."""
    targets = paths or [load_settings().flows_path]
    files, problems = lint_paths(targets)
    if as_json:
        emit_json(
            {
                "files": [str(file) for file in files],
                "ok": not problems,
                "problems": [
                    {"file": p.file, "step": p.step, "message": p.message, "fix": p.fix}
                    for p in problems
                ],
            }
        )
    else:
        for problem in problems:
            console.print(f"[red]error[/red] {problem}", highlight=False)
        state = "[green]ok[/green]" if not problems else f"{len(problems)} problem(s)"
        console.print(f"{len(files)} script file(s) checked: {state}", highlight=False)
    if problems or not files:
        raise typer.Exit(1)


@app.command()
def approve(
    flow_id: str = typer.Argument(..., help="The script's id."),
    by: str = typer.Option(
        ..., "--by", help="Approver's name and role, e.g. 'Dr A Example (CSO)'."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Record that NAME approved this script's exact current content."""
    settings = load_settings()
    try:
        script = load_registry(settings.flows_path).get(flow_id)
        record = approve_script(script, by=by, at=utcnow(), flows_path=settings.flows_path)
    except DomainError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    if as_json:
        emit_json(record.as_yaml())
    else:
        console.print(
            f"Approved {record.flow_id} version {record.version} (sha256 {record.sha256}) "
            f"by {record.approval.by}.",
            highlight=False,
        )


@app.command("simulate")
def simulate_command(
    flow_id: str = typer.Argument(..., help="The script's id."),
    channel: str = typer.Option("voice", help="voice or sms."),
    answers: str | None = typer.Option(
        None,
        help="Comma-separated answers: digits, words, say@0.3:words (speech with confidence), "
        "- (no input). The synthetic patient's date of birth is 14031956.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Run a conversation in the terminal and print the transcript and outcome."""
    if channel not in ("voice", "sms"):
        console.print("[red]--channel must be voice or sms[/red]")
        raise typer.Exit(2)
    chosen: Literal["voice", "sms"] = "voice" if channel == "voice" else "sms"
    settings = load_settings()
    try:
        script = load_registry(settings.flows_path).get(flow_id)
    except (FlowError, DomainError) as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    facts = sample_facts(
        organisation_name=settings.organisation_name, callback_number=settings.callback_number
    )
    supply: list[Heard] | None = None
    if answers is not None:
        supply = [parse_answer(item, channel=chosen) for item in answers.split(",")]
    elif not sys.stdin.isatty():
        console.print("[red]Give --answers, or run in a terminal to answer interactively[/red]")
        raise typer.Exit(2)

    def ask(reply: Reply) -> Heard | None:
        for message in reply.messages:
            console.print(f"[cyan]service[/cyan]: {message}", highlight=False)
        try:
            return parse_answer(typer.prompt("you", default="-"), channel=chosen)
        except (EOFError, typer.Abort):
            return None

    try:
        transcript = simulate(script, facts, channel=chosen, answers=supply or ask)
    except DomainError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    if as_json:
        emit_json(
            {
                "flow_id": transcript.flow_id,
                "version": transcript.version,
                "approved": transcript.approved,
                "channel": transcript.channel,
                "transcript": [{"speaker": s, "text": t} for s, t in transcript.lines],
                "answers": transcript.answers,
                "outcome": transcript.outcome,
                "recorded": transcript.recorded,
            }
        )
        return
    out = typer.echo
    if not script.approved:
        out("DRAFT: this script content is not approved; it may only be simulated.")
    lines = transcript.lines
    if supply is None:  # interactively, all but the closing words were shown as we went
        patient_turns = [i for i, (speaker, _) in enumerate(lines) if speaker == "patient"]
        lines = lines[patient_turns[-1] + 1 :] if patient_turns else lines
    for speaker, text in lines:
        out(f"{speaker:>7}: {text}")
    out(f"outcome: {transcript.outcome or 'not finished (more answers needed)'}")
    if transcript.recorded:
        out("recorded: " + ", ".join(f"{k}={v}" for k, v in sorted(transcript.recorded.items())))
