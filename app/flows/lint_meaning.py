"""Lint checks on what answers mean: script-level triggers, and yes/no questions taking yes/no."""

from __future__ import annotations

import re
from collections.abc import Callable

from app.flows.schema import AskStep, EndStep, FlowFile
from app.flows.templates import phrase
from app.flows.understanding import tokens

# What each script-level trigger must lead to: an end with one of these outcomes.
_TRIGGER_ENDS = {
    "opt_out": ("opted_out",),
    "deceased": ("reported_deceased",),
    # Distress ("I can't go on") reaches a clinician as fast as a worsening does.
    "distress": ("worsened",),
    "red_flags": ("worsened",),
    "person": ("callback_requested",),
}
# The first words of a question that the answer yes or no makes sense for.
_YES_NO_OPENERS = frozenset(
    {"do", "does", "did", "has", "have", "is", "are", "would", "will", "can", "could",
     "ydych", "ydy", "ydw", "oes", "fyddech", "wyt", "allech", "hoffech"}
)  # fmt: skip


def _asks_yes_or_no(text: str) -> bool:
    """Whether a question's text contains a question that yes or no answers."""
    for sentence in re.split(r"(?<=[.?!])\s+", text):
        words = re.findall(r"[\w']+", sentence.lower())
        if sentence.strip().endswith("?") and _YES_NO_OPENERS & set(words[:2]):
            return True
    return False


def _takes(step: AskStep, words: list[str]) -> bool:
    wanted = {" ".join(tokens(word)) for word in words}
    return any(" ".join(tokens(word)) in wanted for option in step.options for word in option.words)


def check_understanding(flow: FlowFile, problem: Callable[[str | None, str, str], None]) -> None:
    """Script-level words lead where they must; yes/no questions take yes and no."""
    for kind, outcomes in _TRIGGER_ENDS.items():
        trigger = getattr(flow.understanding, kind)
        if trigger is None or trigger.next not in flow.steps:
            continue
        target = flow.steps[trigger.next]
        if not isinstance(target, EndStep) or target.end not in outcomes:
            problem(
                None,
                f"understanding.{kind} leads to {trigger.next!r}, which is not an end with "
                f"outcome {' or '.join(outcomes)}",
                f"lead it to an end step with end: {outcomes[0]}",
            )
    has_worsened = any(
        isinstance(step, EndStep) and step.end == "worsened" for step in flow.steps.values()
    )
    if has_worsened and flow.understanding.red_flags is None:
        problem(
            None,
            "the script records worsening but lists no red flags",
            "add understanding.red_flags (worsening words such as 'worse', 'more pain', "
            "'agony'), leading to the worsened end",
        )
    try:
        yes_words, no_words = list(phrase(flow, "yes_words")), list(phrase(flow, "no_words"))
    except KeyError:
        return
    for step_name, step in flow.steps.items():
        if not isinstance(step, AskStep) or not _asks_yes_or_no(step.ask):
            continue
        for answer, words in (("yes", yes_words), ("no", no_words)):
            if not _takes(step, words):
                problem(
                    step_name,
                    f"asks a yes/no question but no option takes {answer!r} "
                    f"({', '.join(words[:3])})",
                    f"add the {answer} words to the option they mean, or rephrase the question",
                )
