"""``waitlist flow``: lint, simulate and approve call scripts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from app.cli.common import console, emit_json, errors, load_settings
from app.db import utcnow
from app.errors import DomainError
from app.flows.approval import approve_script
from app.flows.conversation import Heard, Reply
from app.flows.evaluation import Tally, evaluate
from app.flows.lint import lint_paths
from app.flows.loading import FlowError, find_script, load_registry
from app.flows.simulation import parse_answer, sample_facts, simulate

app = typer.Typer(help="Call scripts: lint, simulate, approve, evaluate.", no_args_is_help=True)


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
            errors.print(f"[red]error[/red] {problem}", highlight=False)
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
        script = find_script(settings.flows_path, flow_id)
        record = approve_script(script, by=by, at=utcnow(), flows_path=settings.flows_path)
    except DomainError as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
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
        errors.print("[red]--channel must be voice or sms[/red]")
        raise typer.Exit(2)
    chosen: Literal["voice", "sms"] = "voice" if channel == "voice" else "sms"
    settings = load_settings()
    try:
        script = find_script(settings.flows_path, flow_id)
    except (FlowError, DomainError) as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    facts = sample_facts(
        organisation_name=settings.organisation_name, callback_number=settings.callback_number
    )
    supply: list[Heard] | None = None
    if answers is not None:
        supply = [parse_answer(item, channel=chosen) for item in answers.split(",")]
    elif not sys.stdin.isatty():
        errors.print("[red]Give --answers, or run in a terminal to answer interactively[/red]")
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
        errors.print(f"[red]{exc}[/red]", highlight=False)
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


def _figures(name: str, tally: Tally) -> str:
    asked = tally.read_back + tally.asked_again
    share = asked / tally.cases if tally.cases else 0.0
    return (
        f"{name}: {tally.cases} cases, {tally.share_right:.1%} right, {share:.1%} read back or "
        f"asked again, {tally.risky} risky"
    )


@app.command("evaluate")
def evaluate_command(
    flow_id: str | None = typer.Argument(None, help="The script's id (default: every script)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Run the labelled corpus through the engine; exit 1 on any risky misunderstanding."""
    settings = load_settings()
    try:
        if flow_id is None:
            scripts = load_registry(settings.flows_path).all()
        else:
            scripts = [find_script(settings.flows_path, flow_id)]
        evaluations = [evaluate(script, settings.flows_path) for script in scripts]
    except (FlowError, DomainError) as exc:
        errors.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc
    risky = sum(evaluation.tally().risky for evaluation in evaluations)
    if as_json:
        emit_json({"ok": not risky, "scripts": [e.as_dict() for e in evaluations]})
    else:
        out = typer.echo
        for evaluation in evaluations:
            out(f"== {evaluation.flow_id} ({evaluation.language})")
            out(_figures("all", evaluation.tally()))
            out(_figures("held out", evaluation.tally(part="held_out")))
            for channel in ("voice", "sms"):
                out(_figures(channel, evaluation.tally(channel=channel)))
            for question, figures in evaluation.as_dict()["by_question"].items():
                out(_figures(f"question {question}", evaluation.tally(question=question)))
                for intent, taken in figures["confusion"].items():
                    cells = ", ".join(f"{label} {count}" for label, count in taken.items())
                    out(f"    {intent:>18} -> {cells}")
            # Failing examples of the tuning part only: the held-out part stays unseen.
            for result in evaluation.results:
                if result.case.part == "tuning" and (result.risky or not result.right):
                    mark = f"RISKY ({result.risky})" if result.risky else "wrong"
                    out(
                        f"  {mark}: {result.case.question} {result.case.channel} "
                        f"{result.case.text!r}: meant {result.case.intent}, taken as "
                        f"{result.taken}"
                    )
    if risky:
        raise typer.Exit(1)
