"""Plain words for the labels the service stores, so no page shows a machine label to staff.

The flow engine records what it understood as short labels (``still_needed``,
``unconfirmed:worse``, ``no_input``); reports key their rows by rule ids (``under_18``) and
language codes (``cy``). Pages show these words instead, and fall back to a readable form of any
label added later rather than to the raw id.
"""

from __future__ import annotations

from typing import Any

from app.reports.equity import LANGUAGE_LABELS

# What an answer was taken to mean (the option labels of call_flows/*.yaml and the engine's own).
MEANINGS: dict[str, str] = {
    "still_needed": "Still needs the treatment",
    "not_needed": "No longer needs the treatment",
    "callback": "Wants someone to phone them",
    "worse": "Condition has got worse",
    "same": "Condition is about the same",
    "better": "Condition is better",
    "willing_to_travel": "Would travel to another hospital to be treated sooner",
    "not_willing_to_travel": "Would rather not travel to another hospital",
    "unsure": "Not sure",
    "someone_else": "Someone else answered",
    "wants_person": "Wants to speak to a person",
    "opt_out": "Asked not to be contacted again",
    "deceased": "Said the patient has died",
    "red_flags": "Described their condition getting worse (a red flag)",
    "person": "Asked to speak to a person",
    "rejected": "Said that was not what they meant",
    "no_input": "No answer",
    "unrecognised": "Not understood",
    "not_understood": "Not understood",
    "ambiguous": "Unclear: could mean more than one thing",
    "unreadable": "Date of birth not understood",
    "verified": "Date of birth confirmed",
    "not_matched": "Date of birth did not match the record",
    "confirmed": "Confirmed",
}
INPUT_KINDS: dict[str, str] = {
    "dtmf": "pressed",
    "speech": "said",
    "sms": "texted",
    "none": "no answer",
}
OUTCOMES: dict[str, str] = {
    "pending": "No outcome yet",
    "stay": "Still needs treatment",
    "leave": "Wants to leave the list",
    "worsened": "Condition worse",
    "unverified": "Identity not confirmed",
    "unclear": "Answer unclear",
    "unreachable": "Unreachable",
    "opted_out": "Asked not to be contacted",
    "excluded": "Not contacted (excluded)",
    "callback_requested": "Asked for a call back",
    "deceased": "Reported as deceased",
}
DECISIONS: dict[str, str] = {
    "remove": "Removed from the waiting list",
    "keep": "Kept on the waiting list",
    "expedite": "Expedited",
    "call_back": "Call the patient back",
}
CHANNELS: dict[str, str] = {"voice": "Phone call", "sms": "Text message"}
ATTEMPT_STATES: dict[str, str] = {
    "planned": "Planned",
    "claimed": "Being placed",
    "placing": "Being placed",
    "placed": "Ringing",
    "in_progress": "In progress",
    "completed": "Answered",
    "no_answer": "No answer",
    "busy": "Line busy",
    "failed": "Failed",
    "voicemail": "Voicemail (no message left)",
    "cancelled": "Cancelled",
    "in_doubt": "Being checked with the provider",
    "skipped": "Skipped",
}
LANGUAGES = LANGUAGE_LABELS | {"unknown": "Not recorded"}
EXCLUSION_RULES: dict[str, str] = {
    "under_18": "Under 18",
    "deceased": "Deceased",
    "dementia": "Dementia or cognitive impairment",
    "lacks_capacity": "May lack capacity to consent",
    "no_automated_contact": "Hospital says no automated contact",
    "no_phone": "No phone number",
    "opted_out": "Asked not to be contacted",
    "recently_contacted": "Contacted recently",
    "safeguarding": "Safeguarding concern",
}


def readable(label: str) -> str:
    """A label nobody has worded yet, made readable (``no_contact`` -> ``No contact``)."""
    text = label.replace("_", " ").replace(":", ": ").strip()
    return text[:1].upper() + text[1:] if text else ""


def _from(table: dict[str, str], value: Any) -> str:
    if value is None:
        return ""
    label = str(getattr(value, "value", value))
    return table.get(label) or readable(label)


def meaning(label: str | None) -> str:
    """What an answer was taken to mean, in words; a read-back awaiting "yes" says so."""
    if not label:
        return "Not understood"
    if label.startswith("unconfirmed:"):
        heard = _from(MEANINGS, label.removeprefix("unconfirmed:"))
        return f"Heard as “{heard}”: read back to the patient to confirm"
    return _from(OUTCOMES | MEANINGS, label)


def input_kind(kind: str | None) -> str:
    """How the patient answered: pressed a key, said, texted, or nothing."""
    return _from(INPUT_KINDS, kind)


def outcome(value: Any) -> str:
    """A pathway outcome in words."""
    return _from(OUTCOMES, value)


def decision(value: Any) -> str:
    """A clinical decision in words."""
    return _from(DECISIONS, value)


def channel(value: Any) -> str:
    """A contact channel in words."""
    return _from(CHANNELS, value)


def attempt_state(value: Any) -> str:
    """A contact attempt's state in words."""
    return _from(ATTEMPT_STATES, value)


def language(value: Any) -> str:
    """A language code (``cy``) in words (``Welsh``)."""
    if value is None:
        return LANGUAGES["unknown"]
    code = str(value).split("-")[0].lower()
    return LANGUAGES.get(code) or str(value)


def exclusion_rule(value: Any) -> str:
    """An exclusion rule id (``under_18``) in words."""
    return _from(EXCLUSION_RULES, value)


FILTERS = {
    "meaning": meaning,
    "input_kind": input_kind,
    "outcome_words": outcome,
    "decision_words": decision,
    "channel_words": channel,
    "attempt_words": attempt_state,
    "language_words": language,
    "rule_words": exclusion_rule,
    "readable": readable,
}
