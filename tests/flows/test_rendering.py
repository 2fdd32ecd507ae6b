"""TwiML and SMS rendering, checked by parsing the XML back: the script's reply becomes a plain
voice prompt (``app.flows.voice_prompt``), which the telephony door writes as TwiML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.flows import (
    Heard,
    LoadedScript,
    Reply,
    continue_conversation,
    render_sms,
    start_conversation,
    voice_prompt,
)
from app.telephony.twiml import voice_twiml
from tests.flows.conftest import PATIENT


def render_voice(reply: Reply, script: LoadedScript, *, action_url: str) -> str:
    """The TwiML a webhook sends for ``reply``."""
    return voice_twiml(voice_prompt(reply, script, action_url=action_url))


def parse(twiml: str) -> ET.Element:
    """Our own TwiML parsed back (trusted: it never comes from outside)."""
    return ET.fromstring(twiml)  # noqa: S314


ACTION = "https://waitlist.example.nhs.uk/webhooks/twilio/voice/tok123/answer"


def test_a_question_is_a_gather_with_only_says_inside(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    root = parse(render_voice(reply, english, action_url=ACTION))
    assert root.tag == "Response"
    (gather,) = list(root)
    assert gather.tag == "Gather"
    assert gather.attrib == {
        "input": "dtmf speech",
        "numDigits": "8",
        "language": "en-GB",
        "actionOnEmptyResult": "true",
        "action": ACTION,
        "method": "POST",
        "speechTimeout": "auto",
    }
    says = list(gather)
    assert [say.tag for say in says] == ["Say", "Say"]
    for say in says:
        assert say.attrib == {"voice": "Polly.Amy-Neural", "language": "en-GB"}
    assert [say.text for say in says] == reply.messages


def test_a_choice_question_takes_one_digit(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    reply = continue_conversation(
        english, reply.state, Heard("dtmf", "14031956"), PATIENT, channel="voice"
    )
    gather = parse(render_voice(reply, english, action_url=ACTION)).find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    assert gather.attrib["hints"].startswith("yes, still need, i do, still waiting, not yet, ")


def test_a_confirmation_hints_at_yes_and_no(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    for heard in (Heard("dtmf", "14031956"), Heard("speech", "no", 0.2)):
        reply = continue_conversation(english, reply.state, heard, PATIENT, channel="voice")
    gather = parse(render_voice(reply, english, action_url=ACTION)).find("Gather")
    assert gather is not None
    assert (
        gather.attrib["hints"]
        == "yes, correct, right, that's right, no, wrong, not right, that's wrong"
    )


def test_the_end_says_goodbye_and_hangs_up(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    for keys in ("14031956", "2"):
        reply = continue_conversation(
            english, reply.state, Heard("dtmf", keys), PATIENT, channel="voice"
        )
    root = parse(render_voice(reply, english, action_url=ACTION))
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert root.find("Gather") is None


def test_the_welsh_script_speaks_welsh_with_a_welsh_voice(welsh: LoadedScript) -> None:
    reply = start_conversation(welsh, PATIENT, channel="voice")
    gather = parse(render_voice(reply, welsh, action_url=ACTION)).find("Gather")
    assert gather is not None and gather.attrib["language"] == "cy-GB"
    for say in gather:
        assert say.attrib == {"voice": "Polly.Gwyneth", "language": "cy-GB"}
    assert "siŵr" in render_voice(reply, welsh, action_url=ACTION)


@pytest.mark.parametrize("url", ["/webhooks/answer", "webhooks/answer", ""])
def test_a_relative_action_url_is_refused(english: LoadedScript, url: str) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    with pytest.raises(ValueError, match="absolute"):
        render_voice(reply, english, action_url=url)


def test_text_is_escaped_in_twiml(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    risky = type(reply)(
        messages=["Fish & <chips>"],
        question=None,
        state=reply.state,
        answers=[],
        outcome="stay",
    )
    root = parse(render_voice(risky, english, action_url=ACTION))
    say = root.find("Say")
    assert say is not None and say.text == "Fish & <chips>"


def test_an_sms_joins_the_messages_with_the_reply_instructions_last(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="sms")
    reply = continue_conversation(
        english, reply.state, Heard("sms", "14031956"), PATIENT, channel="sms"
    )
    text = render_sms(reply, english)
    assert text == reply.messages[0]
    assert text.endswith("Reply 1 for yes, 2 for no, or 3 if you would like us to phone you.")
    opening = render_sms(start_conversation(english, PATIENT, channel="sms"), english)
    assert opening.count("\n\n") == 1
