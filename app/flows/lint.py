"""``waitlist flow lint``: every check a script must pass before it can be approved or run.

Each problem names the file, the step and the fix, in words a clinical author can act on.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from jinja2 import TemplateError

from app.flows.graph import can_end, must_hold, reachable, step_edges, unbounded_cycles
from app.flows.lint_meaning import check_understanding
from app.flows.notices import notice_problems
from app.flows.parsing import VOICES, Problem, parse_flow, script_files, voice_for
from app.flows.schema import TRIGGERS, AskStep, EndStep, FlowFile, Phrases, SayStep, Step
from app.flows.sms import sms_problems
from app.flows.templates import (
    CONFIRM_VARIABLES,
    PATIENT_VARIABLES,
    PUBLIC_VARIABLES,
    SHARED_PHONE_VARIABLES,
    TEMPLATE_VARIABLES,
    phrase,
    template_problem,
    variables_in,
)
from app.flows.understanding import overlapping_words
from app.flows.wording import step_texts

ENGINE_PHRASES = tuple(Phrases.model_fields)


def _all_templates(step: Step) -> Iterator[tuple[str, str]]:
    for field in ("say", "ask", "sms"):
        value = getattr(step, field, None)
        if isinstance(value, str):
            yield field, value


def _used(source: str) -> frozenset[str]:
    try:
        return variables_in(source)
    except TemplateError:
        return frozenset()


def _uses(source: str, names: frozenset[str]) -> bool:
    return bool(_used(source) & names)


def lint_flow(flow: FlowFile, *, name: str) -> list[Problem]:
    """Every problem with one parsed script."""
    problems: list[Problem] = []

    def problem(step: str | None, message: str, fix: str) -> None:
        problems.append(Problem(name, step, message, fix))

    _check_targets(flow, problem)
    if problems:
        return problems  # the graph checks below need every target to exist
    _check_graph(flow, problem)
    _check_templates(flow, problem)
    _check_questions(flow, problem)
    check_understanding(flow, problem)
    _check_courtesy(flow, problem)
    _check_safety(flow, problem)
    _check_voice(flow, problem)
    problems.extend(sms_problems(flow, name=name))
    problems.extend(notice_problems(flow, name=name))
    return problems


# How each check reports a problem: (step or None, what is wrong, how to fix it).
_Report = Callable[[str | None, str, str], None]


def _suggest(target: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(target, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_targets(flow: FlowFile, problem: _Report) -> None:
    if flow.start not in flow.steps:
        problem(
            None,
            f"start names {flow.start!r}, which is not a step",
            f"set start to an existing step{_suggest(flow.start, flow.steps)}",
        )
    for step_name, step in flow.steps.items():
        for edge in step_edges(step_name, step):
            if edge.target not in flow.steps:
                problem(
                    step_name,
                    f"{edge.label} leads to {edge.target!r}, which is not a step",
                    f"name an existing step{_suggest(edge.target, flow.steps)} or add it",
                )
    _trigger_targets(flow, problem)


def _trigger_targets(flow: FlowFile, problem: _Report) -> None:
    for kind in TRIGGERS:
        trigger = getattr(flow.understanding, kind)
        if trigger is not None and trigger.next not in flow.steps:
            problem(
                None,
                f"understanding.{kind} leads to {trigger.next!r}, which is not a step",
                f"name an existing step{_suggest(trigger.next, flow.steps)} or add it",
            )


def _check_graph(flow: FlowFile, problem: _Report) -> None:
    seen = reachable(flow)
    for step_name in flow.steps:
        if step_name not in seen:
            problem(
                step_name,
                "cannot be reached from start",
                "lead to it from another step, or delete it",
            )
    ending = can_end(flow)
    for step_name in sorted(seen - ending):
        problem(
            step_name,
            "has no path to an end step (the conversation could never finish)",
            "give it a way to an end step (e.g. on_no_answer: unclear)",
        )
    reported: set[frozenset[str]] = set()
    for cycle in unbounded_cycles(flow):
        if frozenset(cycle) in reported:
            continue
        reported.add(frozenset(cycle))
        loop = " -> ".join([*cycle, cycle[0]])
        problem(
            cycle[0],
            f"is in a loop with no bound ({loop})",
            "give one step of the loop max_visits and on_max_visits (where to go instead)",
        )


def _check_templates(flow: FlowFile, problem: _Report) -> None:
    for step_name, step in flow.steps.items():
        for field, source in _all_templates(step):
            reason = template_problem(source, TEMPLATE_VARIABLES)
            if reason:
                problem(
                    step_name,
                    f"{field}: {reason}",
                    f"use only these variables: {', '.join(sorted(TEMPLATE_VARIABLES))}",
                )
    reason = template_problem(flow.safety_net, PUBLIC_VARIABLES - {"safety_net"})
    if reason:
        problem(
            None,
            f"safety_net: {reason}",
            "the safety net may use only organisation_name and callback_number",
        )
    english = flow.language.startswith("en-")
    missing = [field for field in ENGINE_PHRASES if getattr(flow.phrases, field) is None]
    if missing and not english:
        problem(
            None,
            f"phrases missing: {', '.join(missing)}",
            f"write each in {flow.language} under phrases: (English defaults apply only to "
            "en- scripts; see docs/call-flows.md)",
        )
    for field in ENGINE_PHRASES:
        value = getattr(flow.phrases, field)
        if value is None or isinstance(value, list):
            continue
        allowed = PUBLIC_VARIABLES | (
            CONFIRM_VARIABLES if field in ("confirm", "confirm_sms") else frozenset()
        )
        if field == "shared_phone":
            allowed |= SHARED_PHONE_VARIABLES
        reason = template_problem(value, allowed)
        if reason:
            problem(
                None,
                f"phrases.{field}: {reason} (it can be said before identity is checked)",
                f"use only {', '.join(sorted(allowed))}",
            )
    verified = must_hold(flow, gives=lambda _: False, through=lambda edge: edge.verified)
    for step_name, holds in verified.items():
        if holds:
            continue
        step = flow.steps[step_name]
        for channel in flow.channels:
            used = sorted(
                {
                    name
                    for text in step_texts(flow, step, channel)
                    for name in _used(text) & PATIENT_VARIABLES
                }
            )
            if used:
                problem(
                    step_name,
                    f"says patient details ({', '.join(used)}) "
                    f"on {channel} before identity is verified on every path",
                    "move this after a verify step's on_success, or remove the detail",
                )
                break


def _check_questions(flow: FlowFile, problem: _Report) -> None:
    for step_name, step in flow.steps.items():
        if not isinstance(step, AskStep):
            continue
        keys = [option.key for option in step.options]
        for key in sorted({key for key in keys if keys.count(key) > 1}):
            problem(
                step_name,
                f"keypad key {key} is used by more than one option",
                "give each option its own key",
            )
        meanings = [option.meaning for option in step.options]
        for meaning in sorted({m for m in meanings if meanings.count(m) > 1}):
            problem(
                step_name,
                f"two options would be stored as {meaning!r}",
                "give each option its own label",
            )
        try:
            weak = [*phrase(flow, "yes_words"), *phrase(flow, "no_words")]
        except KeyError:
            weak = []
        english = flow.language.startswith("en-")
        for words, key, other in overlapping_words(step.options, weak=weak, english=english):
            problem(
                step_name,
                f"options {key} and {other} share words ({words})",
                "make each option's words distinct, or negate one (e.g. 'not worse')",
            )
        if "sms" in flow.channels:
            if not step.sms:
                problem(
                    step_name,
                    "has no sms text (the voice text tells people to press keys)",
                    "add sms: with reply instructions, e.g. 'Reply 1 for yes or 2 for no.'",
                )
            else:
                missing = [key for key in keys if key not in step.sms]
                if missing:
                    problem(
                        step_name,
                        f"sms text does not say to reply {', '.join(missing)}",
                        "say in the sms text which number to reply for each option",
                    )


def _opening(flow: FlowFile, channel: str) -> list[str]:
    """The templates of the first thing said: say steps from start to the first question or end."""
    texts: list[str] = []
    node = flow.start
    seen: set[str] = set()
    while node not in seen:
        seen.add(node)
        step = flow.steps[node]
        texts.extend(step_texts(flow, step, channel))
        if not isinstance(step, SayStep):
            break
        node = step.next
    return texts


def _check_courtesy(flow: FlowFile, problem: _Report) -> None:
    """Say who is calling at once; never end without a word."""
    for channel in flow.channels:
        if not any(
            _uses(text, frozenset({"organisation_name"})) for text in _opening(flow, channel)
        ):
            problem(
                flow.start,
                f"the first {channel} message does not say who is calling",
                "use {{ organisation_name }} in the opening words",
            )
    for name, step in flow.steps.items():
        if isinstance(step, EndStep) and not step.say:
            problem(
                name,
                "ends without closing words",
                "add say: (thank the patient; say what happens next or how to call back)",
            )


def _check_safety(flow: FlowFile, problem: _Report) -> None:
    if "111" not in flow.safety_net or "999" not in flow.safety_net:
        problem(
            None,
            "safety_net does not mention both NHS 111 and 999",
            "say when to contact NHS 111 and when to call 999",
        )
    worsened = [
        name
        for name in reachable(flow)
        if isinstance(flow.steps[name], EndStep) and flow.steps[name].end == "worsened"  # type: ignore[union-attr]
    ]
    for channel in flow.channels:

        def gives(name: str, channel: str = channel) -> bool:
            return any(
                _uses(text, frozenset({"safety_net"}))
                for text in step_texts(flow, flow.steps[name], channel)
            )

        holds = must_hold(flow, gives=gives)
        for name in sorted(worsened):
            if not (holds[name] or gives(name)):
                problem(
                    name,
                    f"a {channel} path reaches this worsened end without the safety net",
                    "add {{ safety_net }} to this end's say"
                    + (" and sms" if channel == "sms" else "")
                    + " text, or to a say step on every path to it",
                )


def _check_voice(flow: FlowFile, problem: _Report) -> None:
    if "voice" not in flow.channels:
        return
    voices = VOICES.get(flow.language, ())
    if not voices:
        problem(
            None,
            f"no known voice speaks {flow.language}",
            f"use a language with a voice ({', '.join(sorted(VOICES))}) or drop the voice channel",
        )
    elif voice_for(flow) not in voices:
        problem(
            None,
            f"voice {flow.voice} does not speak {flow.language}",
            f"use one of {', '.join(voices)}",
        )


def lint_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Lint files and directories of scripts: the files checked and every problem found."""
    files: list[Path] = []
    for path in paths:
        files.extend(script_files(path) if path.is_dir() else [path])
    problems: list[Problem] = []
    ids: dict[str, Path] = {}
    for file in files:
        flow, _, _, found = parse_flow(file)
        problems.extend(found)
        if flow is None:
            continue
        problems.extend(lint_flow(flow, name=str(file)))
        if flow.id in ids:
            problems.append(
                Problem(
                    str(file),
                    None,
                    f"uses the id {flow.id!r} already used by {ids[flow.id]}",
                    "give each script its own id",
                )
            )
        ids.setdefault(flow.id, file)
    return files, problems
