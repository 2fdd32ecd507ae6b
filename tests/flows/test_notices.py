"""A script's notices: the words of the pre-call text and the reminder, and what lint refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.flows import load_registry, render_notice
from app.flows.lint import lint_flow
from app.flows.notices import notice_kinds
from app.flows.parsing import parse_flow
from app.flows.schema import FlowFile, Notices
from app.flows.sms import count_segments

CALL_FLOWS = Path(__file__).resolve().parents[2] / "call_flows"
GOOD = "{{ organisation_name }} will phone you soon from {{ callback_number }}. No need to reply."


def shipped(flow_id: str = "standard-validation") -> FlowFile:
    flow, _, _, problems = parse_flow(CALL_FLOWS / f"{flow_id}.yaml")
    assert flow is not None and problems == []
    return flow


def problems_with(**notices: str) -> list[str]:
    flow = shipped().model_copy(update={"notices": Notices(**notices)})
    return [p.message for p in lint_flow(flow, name="test.yaml") if "notices." in p.message]


@pytest.mark.parametrize("flow_id", ["standard-validation", "standard-validation-cy"])
def test_the_shipped_scripts_have_both_notices_and_they_fit_one_or_two_texts(flow_id: str) -> None:
    script = load_registry(CALL_FLOWS).get(flow_id)
    assert script.approved
    for kind in ("pre_call", "reminder"):
        text = render_notice(
            script.flow,
            kind,
            organisation_name="Example Teaching Hospitals NHS Foundation Trust",
            callback_number="0113 496 0000",
        )
        assert text is not None and "0113 496 0000" in text and "Example Teaching" in text
        segments = count_segments(text)
        assert segments.encoding == "GSM-7" and segments.parts <= script.flow.sms.max_segments
    assert notice_kinds(script.content) == {"pre_call", "reminder"}


def test_a_good_notice_passes() -> None:
    assert problems_with(pre_call=GOOD, reminder=GOOD) == []


@pytest.mark.parametrize(
    "variable", ["given_name", "specialty_name", "safety_net", "date_of_birth", "called_for"]
)
def test_a_notice_that_would_tell_the_phone_anything_about_the_patient_is_refused(
    variable: str,
) -> None:
    [message] = problems_with(pre_call=GOOD + f" {{{{ {variable} }}}}")
    assert "notices.pre_call" in message and variable in message


def test_a_notice_must_say_who_is_writing_and_the_number_to_call() -> None:
    messages = problems_with(reminder="Please reply to our text about your waiting list.")
    assert any("say who is sending" in m for m in messages)
    assert any("give the number to call" in m for m in messages)
    [message] = problems_with(reminder="{{ organisation_name }}: please reply to our text.")
    assert "number to call" in message


def test_a_notice_over_the_scripts_sms_budget_is_refused() -> None:
    [message] = problems_with(pre_call=GOOD + " Thank you." * 40)
    assert "over the budget of 2" in message


def test_a_script_without_notices_has_none() -> None:
    flow = shipped().model_copy(update={"notices": Notices()})
    assert render_notice(flow, "pre_call", organisation_name="x", callback_number="y") is None
    assert notice_kinds("id: waiting-list-check\nnotices: {}") == frozenset()
    assert notice_kinds(": not yaml [") == frozenset()
