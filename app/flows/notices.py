"""The notices of a script (``notices:``): their checks and their words.

A notice may be read by anyone holding the phone, before anyone has proved who they are, so it
may use only ``organisation_name`` and ``callback_number``: no name, no date of birth, no
specialty, not even the safety net (it talks of symptoms). It must say who is writing and the
number to call, and fit the script's SMS budget.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import yaml

from app.flows.parsing import Problem
from app.flows.schema import FlowFile
from app.flows.sms import SAMPLE_FACTS, count_segments
from app.flows.templates import render, template_problem, variables_in

NoticeKindName = Literal["pre_call", "reminder"]
NOTICE_KINDS: tuple[NoticeKindName, ...] = ("pre_call", "reminder")
NOTICE_VARIABLES = frozenset({"organisation_name", "callback_number"})


def notice_template(flow: FlowFile, kind: str) -> str | None:
    """The script's template for a kind of notice, or None when it has none."""
    value = getattr(flow.notices, kind, None)
    return value if isinstance(value, str) else None


def render_notice(
    flow: FlowFile, kind: str, *, organisation_name: str, callback_number: str
) -> str | None:
    """A notice's text from the script, with the public facts only; None if it has none."""
    source = notice_template(flow, kind)
    if source is None:
        return None
    return render(
        source, {"organisation_name": organisation_name, "callback_number": callback_number}
    )


@lru_cache(maxsize=64)
def notice_kinds(content: str) -> frozenset[str]:
    """The kinds of notice a stored script text gives (planning reads only this much of it)."""
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError:
        return frozenset()
    notices = data.get("notices") if isinstance(data, dict) else None
    if not isinstance(notices, dict):
        return frozenset()
    return frozenset(kind for kind in NOTICE_KINDS if isinstance(notices.get(kind), str))


def notice_problems(flow: FlowFile, *, name: str) -> list[Problem]:
    """Every problem with the script's notices: variables, who and how to call, the budget."""
    problems: list[Problem] = []
    for kind in NOTICE_KINDS:
        source = notice_template(flow, kind)
        if source is None:
            continue
        where = f"notices.{kind}"

        def problem(message: str, fix: str, where: str = where) -> None:
            problems.append(Problem(name, None, f"{where}: {message}", fix))

        reason = template_problem(source, NOTICE_VARIABLES)
        if reason:
            problem(
                f"{reason} (a notice is read by whoever holds the phone)",
                "use only organisation_name and callback_number: no name, date of birth, "
                "specialty or safety net",
            )
            continue
        used = variables_in(source)
        for variable, what in (
            ("organisation_name", "say who is sending it"),
            ("callback_number", "give the number to call"),
        ):
            if variable not in used:
                problem(f"does not {what}", f"use {{{{ {variable} }}}} in the text")
        text = render_notice(
            flow,
            kind,
            organisation_name=SAMPLE_FACTS.organisation_name,
            callback_number=SAMPLE_FACTS.callback_number,
        )
        assert text is not None
        segments = count_segments(text)
        if segments.parts > flow.sms.max_segments:
            problem(
                f"needs {segments.parts} {segments.encoding} segments ({segments.units} "
                f"characters), over the budget of {flow.sms.max_segments}",
                "shorten the text, or raise sms.max_segments",
            )
    return problems
