"""Prompt templates: a sandboxed Jinja2 environment with a fixed, small set of variables.

Variables fall in two groups. Public ones (who is calling, how to call back, the safety net) may be
said to anyone who answers. Patient ones (the name, what they are waiting for) may be said only
after the identity check has succeeded: before it, they are simply not in the context, so
``StrictUndefined`` turns any slip into an error instead of a disclosure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import SandboxedEnvironment

from app.flows.schema import FlowFile, Phrases

PUBLIC_VARIABLES = frozenset({"organisation_name", "callback_number", "safety_net"})
PATIENT_VARIABLES = frozenset({"given_name", "specialty_name"})
# Said only inside the confirmation phrase: what the caller was heard to say.
CONFIRM_VARIABLES = frozenset({"heard"})
# Said only on a phone shared by several patients, before the identity check: whom it is for.
SHARED_PHONE_VARIABLES = frozenset({"called_for"})
TEMPLATE_VARIABLES = PUBLIC_VARIABLES | PATIENT_VARIABLES

ENGLISH_PHRASES = Phrases(
    no_input="Sorry, I did not hear anything.",
    not_understood="Sorry, I did not understand that.",
    confirm="I heard: {{ heard }}. Press 1 if that is right, or 2 to answer again.",
    confirm_sms="You replied: {{ heard }}. Is that right? Reply 1 for yes, or 2 to answer again.",
    dob_prompt=(
        "To check we are speaking to the right person, please key in your date of birth "
        "as eight digits: two for the day, two for the month and four for the year."
    ),
    dob_prompt_sms=(
        "To check we are texting the right person, please reply with your date of birth "
        "as 8 digits, for example 14031956."
    ),
    yob_prompt=(
        "To check we are speaking to the right person, please key in the year you were born."
    ),
    yob_prompt_sms="To check we are texting the right person, please reply with your birth year.",
    dob_not_matched="That does not match our records.",
    use_keypad="Please use your telephone keypad for this.",
    shared_phone=(
        "This call is for {{ called_for }}. If {{ called_for }} is not with you, please ask "
        "them to call us on {{ callback_number }}."
    ),
    voicemail=(
        "Hello, this is an automated message from {{ organisation_name }}. "
        "Please call us back on {{ callback_number }}. Thank you."
    ),
    yes_words=["yes", "correct", "right", "that's right"],
    no_words=["no", "wrong", "not right", "that's wrong"],
)


@dataclass(frozen=True)
class PatientFacts:
    """What templates and the identity check may use about the patient."""

    given_name: str
    date_of_birth: dt.date
    specialty_name: str
    organisation_name: str
    callback_number: str
    # Set only when the number is shared by several patients: the greeting names who it is for.
    called_for: str | None = None


@lru_cache(maxsize=1)
def environment() -> SandboxedEnvironment:
    """The one sandbox every prompt is parsed and rendered in.

    Its globals (``range``, ``dict``, ``lipsum``...) are removed: prompts need only their variables,
    and an empty global namespace makes each render cheaper.
    """
    sandbox = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
    sandbox.globals.clear()
    return sandbox


def variables_in(source: str) -> frozenset[str]:
    """The variable names a template uses (raises ``TemplateSyntaxError`` when it cannot parse)."""
    return frozenset(meta.find_undeclared_variables(environment().parse(source)))


def template_problem(source: str, allowed: frozenset[str]) -> str | None:
    """Why a template cannot be rendered with ``allowed`` variables, or ``None`` when it can."""
    try:
        used = variables_in(source)
    except TemplateSyntaxError as exc:
        return f"template does not parse: {exc.message}"
    unknown = sorted(used - allowed)
    if unknown:
        return f"unknown variable(s) {', '.join(unknown)}"
    return None


def phrase(flow: FlowFile, name: str) -> Any:
    """A phrase from the script, or the English default for English scripts."""
    value = getattr(flow.phrases, name)
    if value is None and flow.language.startswith("en-"):
        value = getattr(ENGLISH_PHRASES, name)
    if value is None:
        raise KeyError(name)
    return value


def context(flow: FlowFile, facts: PatientFacts, *, verified: bool) -> dict[str, str]:
    """The variables a prompt may use now: patient ones only after verification."""
    public = {
        "organisation_name": facts.organisation_name,
        "callback_number": facts.callback_number,
    }
    values = {**public, "safety_net": render(flow.safety_net, public)}
    if verified:
        values["given_name"] = facts.given_name
        values["specialty_name"] = facts.specialty_name
    return values


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Template:
    return environment().from_string(source)


def render(source: str, values: dict[str, str]) -> str:
    """Render one prompt; whitespace is collapsed so folded YAML reads as one sentence."""
    text = _compiled(source).render(values) if "{" in source else source
    return " ".join(text.split())
