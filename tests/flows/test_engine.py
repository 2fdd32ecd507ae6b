"""The step engine: pure turns from (script, state, input) to what is said next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import ConflictError, InvalidInputError
from app.flows import (
    Heard,
    LoadedScript,
    Reply,
    continue_conversation,
    load_script,
    start_conversation,
    voicemail_message,
)
from tests.flows.conftest import MINIMAL, PATIENT

BIRTHDAY_KEYS = Heard("dtmf", "14031956")


def answer(script: LoadedScript, reply: Reply, *heard: Heard, channel: str = "voice") -> Reply:
    for item in heard:
        reply = continue_conversation(script, reply.state, item, PATIENT, channel=channel)  # type: ignore[arg-type]
    return reply


def test_it_speaks_at_once_and_asks_for_the_date_of_birth(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    assert reply.messages[0].startswith("Hello, this is an automated call from Example Teaching")
    assert reply.question is not None
    assert (reply.question.step, reply.question.input, reply.question.num_digits) == (
        "identity",
        "date_of_birth",
        8,
    )
    assert reply.answers == [] and reply.outcome is None


def test_nothing_about_the_patient_is_said_before_verification(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    wrong = answer(english, reply, Heard("dtmf", "01011970"))
    for said in [*reply.messages, *wrong.messages]:
        assert "Quenby" not in said and "Zygology" not in said
    verified = answer(english, wrong, BIRTHDAY_KEYS)
    assert "Quenby" in verified.messages[0] and "Zygology" in verified.messages[0]


def test_the_date_of_birth_is_never_stored_in_an_answer(english: LoadedScript) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    (recorded,) = reply.answers
    assert (recorded.step, recorded.interpretation, recorded.raw_input) == (
        "identity",
        "verified",
        None,
    )
    assert "14031956" not in json.dumps(reply.state)


def test_two_wrong_dates_of_birth_end_unverified(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    reply = answer(english, reply, Heard("dtmf", "01011970"))
    assert reply.messages[0] == "That does not match our records."
    reply = answer(english, reply, Heard("dtmf", "02021970"))
    assert reply.outcome == "unverified" and reply.question is None
    assert [a.interpretation for a in reply.answers] == ["not_matched"]


def test_a_date_it_cannot_read_from_speech_asks_for_the_keypad(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    reply = answer(english, reply, Heard("speech", "I'd rather not say", 0.9))
    assert reply.messages[0] == "Please use your telephone keypad for this."
    assert reply.question is not None and reply.question.step == "identity"
    assert reply.answers[0].interpretation == "unreadable"


def test_too_few_digits_are_asked_again_not_counted_as_a_wrong_date(
    english: LoadedScript,
) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    reply = answer(english, reply, Heard("dtmf", "1403"), Heard("dtmf", "1403"))
    assert reply.messages[0] == "Sorry, I did not understand that."
    assert reply.answers[0].interpretation == "unreadable"
    reply = answer(english, reply, BIRTHDAY_KEYS)
    assert reply.question is not None and reply.question.step == "still_needed"


def test_low_confidence_speech_is_confirmed_not_trusted(english: LoadedScript) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    reply = answer(english, reply, Heard("speech", "no", 0.31))
    assert reply.messages == ["I heard: no. Press 1 if that is right, or 2 to answer again."]
    assert reply.outcome is None
    assert reply.answers[0].interpretation == "unconfirmed:not_needed"
    assert reply.answers[0].recorded == {}
    confirmed = answer(english, reply, Heard("dtmf", "1"))
    assert confirmed.outcome == "leave"
    assert confirmed.answers[0].recorded == {"still_needed": False}


def test_rejected_confirmation_asks_the_question_again(english: LoadedScript) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    reply = answer(english, reply, Heard("speech", "no", 0.2), Heard("speech", "no that's wrong"))
    assert reply.question is not None and reply.question.step == "still_needed"
    assert reply.messages[0].startswith("Thank you, Quenby.")
    assert reply.answers[0].interpretation == "rejected"


def test_speech_without_a_confidence_is_confirmed_by_default(english: LoadedScript) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    reply = answer(english, reply, Heard("speech", "yes", None))
    assert reply.messages[0].startswith("I heard: yes.")


def test_clear_speech_is_taken_at_its_word(english: LoadedScript) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    reply = answer(english, reply, Heard("speech", "Yes please", 0.92))
    assert reply.question is not None and reply.question.step == "condition"


def test_unclear_answers_are_asked_again_within_bounds_then_end_unclear(
    english: LoadedScript,
) -> None:
    reply = answer(english, start_conversation(english, PATIENT, channel="voice"), BIRTHDAY_KEYS)
    reply = answer(english, reply, Heard("none"))
    assert reply.messages[0] == "Sorry, I did not hear anything."
    reply = answer(english, reply, Heard("dtmf", "7"))
    assert reply.messages[0] == "Sorry, I did not understand that."
    assert reply.question is not None
    reply = answer(english, reply, Heard("speech", "yes and no", 0.9))
    assert reply.outcome == "unclear"
    assert reply.answers[0].interpretation == "ambiguous"


def test_a_text_message_conversation_uses_the_sms_wording(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="sms")
    assert "reply with your date of birth" in reply.messages[-1]
    reply = answer(english, reply, Heard("sms", "14/03/1956"), channel="sms")
    assert "Reply 1 for yes" in reply.messages[0]
    assert "Zygology" not in reply.messages[0]


def test_the_state_round_trips_through_json_and_turns_are_deterministic(
    english: LoadedScript,
) -> None:
    first = start_conversation(english, PATIENT, channel="voice")
    stored = json.loads(json.dumps(first.state))
    one = continue_conversation(english, stored, BIRTHDAY_KEYS, PATIENT, channel="voice")
    two = continue_conversation(english, stored, BIRTHDAY_KEYS, PATIENT, channel="voice")
    assert one == two
    assert stored == json.loads(json.dumps(first.state))  # the input state is not changed


def test_an_ended_conversation_takes_no_more_input(english: LoadedScript) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    reply = answer(english, reply, BIRTHDAY_KEYS, Heard("dtmf", "2"))
    assert reply.outcome == "leave"
    with pytest.raises(ConflictError, match="already ended"):
        answer(english, reply, Heard("dtmf", "1"))


def test_a_conversation_cannot_continue_on_changed_script_content(
    english: LoadedScript, tmp_path: Path
) -> None:
    reply = start_conversation(english, PATIENT, channel="voice")
    changed = tmp_path / "standard-validation.yaml"
    changed.write_text(
        english.path.read_text(encoding="utf-8").replace("two minutes", "three minutes"),
        encoding="utf-8",
    )
    other = load_script(changed)
    with pytest.raises(ConflictError, match="another version"):
        continue_conversation(other, reply.state, BIRTHDAY_KEYS, PATIENT, channel="voice")


def test_a_channel_the_script_does_not_support_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "voice-only.yaml"
    text = MINIMAL.read_text(encoding="utf-8").replace("[voice, sms]", "[voice]")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not written for sms"):
        start_conversation(load_script(path), PATIENT, channel="sms")


def test_voicemail_says_who_called_and_the_number_but_nothing_clinical(
    english: LoadedScript, welsh: LoadedScript
) -> None:
    for script in (english, welsh):
        message = voicemail_message(script, PATIENT)
        assert "0113 496 0000" in message and "Example Teaching Hospitals" in message
        assert "Quenby" not in message and "Zygology" not in message


def test_a_bounded_loop_leaves_by_on_max_visits(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace(
        '      - {key: "2", words: [same, not worse, no], next: staying}\n',
        '      - {key: "2", words: [same, not worse, no], next: staying}\n'
        '      - {key: "9", words: [repeat], next: condition}\n'
        "    max_visits: 2\n    on_max_visits: unclear\n",
    )
    text = text.replace("2 for the same.", "2 for the same, 9 to repeat.")
    path = tmp_path / "loop.yaml"
    path.write_text(text, encoding="utf-8")
    script = load_script(path)
    reply = start_conversation(script, PATIENT, channel="voice")
    reply = answer(script, reply, BIRTHDAY_KEYS, Heard("dtmf", "9"))
    assert reply.question is not None and reply.question.step == "condition"
    reply = answer(script, reply, Heard("dtmf", "9"))
    assert reply.outcome == "unclear"
