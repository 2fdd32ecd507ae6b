"""Counting SMS segments: GSM-7 when every character is in its alphabet, UCS-2 otherwise.

A single message holds 160 GSM-7 or 70 UCS-2 characters; a longer one is split into parts of 153
or 67 (the rest carries the joining header). The GSM-7 extension characters count twice. Welsh
letters such as ŵ and ŷ are not in GSM-7, so one of them makes the whole message UCS-2.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from jinja2 import TemplateError

from app.flows.graph import edges
from app.flows.parsing import Problem
from app.flows.schema import AskStep, FlowFile, SayStep, VerifyStep
from app.flows.templates import PatientFacts, context, phrase, render, variables_in
from app.flows.wording import step_texts

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Values used to measure texts: long-ish but realistic, so the budget holds in practice.
SAMPLE_FACTS = PatientFacts(
    given_name="Christopher",
    date_of_birth=dt.date(1956, 3, 14),
    specialty_name="Trauma and Orthopaedics",
    organisation_name="Example Teaching Hospitals NHS Foundation Trust",
    callback_number="0113 496 0000",
)


@dataclass(frozen=True)
class Segments:
    """How a text will be sent: its encoding, length in that encoding's units, and parts."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    parts: int


def count_segments(text: str) -> Segments:
    """The encoding and number of parts a text message needs."""
    if all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text):
        units = sum(2 if char in GSM7_EXTENSION else 1 for char in text)
        parts = 1 if units <= 160 else math.ceil(units / 153)
        return Segments("GSM-7", units, parts)
    units = len(text.encode("utf-16-le")) // 2
    parts = 1 if units <= 70 else math.ceil(units / 67)
    return Segments("UCS-2", units, parts)


def _variables(source: str) -> frozenset[str]:
    try:
        return variables_in(source)
    except TemplateError:
        return frozenset()


def _sms_chains(flow: FlowFile) -> Iterator[tuple[str, list[str]]]:
    """Each text that can be sent as one SMS: (the step it ends at, its templates in order)."""
    entries = {flow.start}
    for edge in edges(flow):
        if isinstance(flow.steps[edge.source], (AskStep, VerifyStep)) or edge.bounded:
            entries.add(edge.target)
    for entry in sorted(entries):
        texts: list[str] = []
        node = entry
        seen: set[str] = set()
        while isinstance(flow.steps[node], SayStep) and node not in seen:
            seen.add(node)
            say = flow.steps[node]
            assert isinstance(say, SayStep)
            texts.extend(step_texts(flow, say, "sms"))
            node = say.next
        texts.extend(step_texts(flow, flow.steps[node], "sms"))
        yield node, texts
    for name, step in flow.steps.items():
        if isinstance(step, (AskStep, VerifyStep)):
            prefixes = ["not_understood", "no_input"]
            if isinstance(step, VerifyStep):
                prefixes.append("dob_not_matched")
            for prefix in prefixes:
                try:
                    yield name, [str(phrase(flow, prefix)), *step_texts(flow, step, "sms")]
                except KeyError:
                    continue


def sms_problems(flow: FlowFile, *, name: str) -> list[Problem]:
    """The SMS checks: no specialty in a text, every text within the segment budget."""
    problems: list[Problem] = []
    if "sms" not in flow.channels:
        return problems
    for step_name, step in flow.steps.items():
        for text in step_texts(flow, step, "sms"):
            if "specialty_name" in _variables(text):
                problems.append(
                    Problem(
                        name,
                        step_name,
                        "sms text names the specialty (texts stay on shared phones)",
                        "give the step an sms: text that does not use specialty_name",
                    )
                )
    values = context(flow, SAMPLE_FACTS, verified=True)
    reported: set[str] = set()
    for step_name, texts in _sms_chains(flow):
        try:
            message = "\n\n".join(render(text, values) for text in texts)
        except TemplateError:
            continue  # reported by the template checks
        segments = count_segments(message)
        if segments.parts > flow.sms.max_segments and step_name not in reported:
            reported.add(step_name)
            problems.append(
                Problem(
                    name,
                    step_name,
                    f"an SMS reaching this step needs {segments.parts} {segments.encoding} "
                    f"segments ({segments.units} characters), over the budget of "
                    f"{flow.sms.max_segments}",
                    "shorten the sms texts on the way here, or raise sms.max_segments",
                )
            )
    return problems
