"""The replies issue 13 found misunderstood, each through the engine with the shipped scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.flows import Heard, LoadedScript, Reply, continue_conversation, start_conversation
from app.flows.conversation import Channel
from app.flows.dates import from_text
from app.flows.lint import lint_paths
from tests.flows.conftest import MINIMAL, PATIENT

KEYED_BIRTHDAY = Heard("dtmf", "14031956")


def say(script: LoadedScript, *heard: Heard, channel: str = "voice") -> Reply:
    kind: Channel = "voice" if channel == "voice" else "sms"
    reply = start_conversation(script, PATIENT, channel=kind)
    for item in heard:
        reply = continue_conversation(script, reply.state, item, PATIENT, channel=kind)
    return reply


def spoken(text: str) -> Heard:
    return Heard("speech", text, 0.9)


@pytest.mark.parametrize(
    "text", ["no, it's got worse", "no its got worse", "yes and I'm in agony", "I can't walk"]
)
def test_worsening_said_to_the_first_question_escalates(english: LoadedScript, text: str) -> None:
    reply = say(english, KEYED_BIRTHDAY, spoken(text))
    assert reply.outcome == "worsened"
    assert reply.recorded == {"condition": "worse", "red_flag": True}


@pytest.mark.parametrize(
    "text",
    ["not much worse", "not a lot worse", "the same but more painful", "yes", "yes it has",
     "I'm in agony", "I can't walk any more", "the pain is unbearable"],
)  # fmt: skip
def test_any_worsening_is_worse(english: LoadedScript, text: str) -> None:
    reply = say(english, KEYED_BIRTHDAY, Heard("dtmf", "1"), spoken(text))
    assert reply.outcome == "worsened"


@pytest.mark.parametrize("text", ["not worse", "no worse", "no", "not any worse"])
def test_no_worse_is_the_same(english: LoadedScript, text: str) -> None:
    reply = say(english, KEYED_BIRTHDAY, Heard("dtmf", "1"), spoken(text))
    assert reply.recorded["condition"] == "same"


@pytest.mark.parametrize("text", ["no not yet", "no one has seen me yet"])
def test_still_waiting_is_still_needed(english: LoadedScript, text: str) -> None:
    reply = say(english, KEYED_BIRTHDAY, spoken(text))
    assert reply.recorded == {"still_needed": True}


@pytest.mark.parametrize(
    "text", ["I do not need it", "take me off the list", "I've had the operation", "no"]
)
def test_a_leave_in_words_is_read_back_before_it_counts(english: LoadedScript, text: str) -> None:
    reply = say(english, KEYED_BIRTHDAY, spoken(text))
    assert reply.outcome is None and reply.state["pending"] == {"key": "2"}
    assert say(english, KEYED_BIRTHDAY, spoken(text), Heard("dtmf", "1")).outcome == "leave"
    assert say(english, KEYED_BIRTHDAY, spoken(text), Heard("dtmf", "2")).outcome is None


def test_a_keyed_leave_stays_direct(english: LoadedScript) -> None:
    assert say(english, KEYED_BIRTHDAY, Heard("dtmf", "2")).outcome == "leave"
    assert say(english, Heard("sms", "14031956"), Heard("sms", "2"), channel="sms").outcome == (
        "leave"
    )


@pytest.mark.parametrize("text", ["speak to a person", "can someone ring me"])
def test_asking_for_a_person_asks_for_a_call_back(english: LoadedScript, text: str) -> None:
    assert say(english, KEYED_BIRTHDAY, spoken(text)).outcome == "callback_requested"


@pytest.mark.parametrize("before", [[], [KEYED_BIRTHDAY]])
def test_a_reported_death_goes_to_staff_with_kind_words(
    english: LoadedScript, before: list[Heard]
) -> None:
    reply = say(english, *before, spoken("he died last month"))
    assert reply.outcome == "reported_deceased"
    assert reply.recorded == {"reported_deceased": True}
    assert "sorry for your loss" in " ".join(reply.messages)


@pytest.mark.parametrize(
    "text", ["Stop.", "STOP!", "please stop texting me", "stop calling me", "don't ring me again"]
)
def test_every_form_of_stop_opts_out_and_is_never_an_answer(
    english: LoadedScript, text: str
) -> None:
    for before in ([], [Heard("sms", "14031956")]):
        reply = say(english, *before, Heard("sms", text), channel="sms")
        assert reply.outcome == "opted_out"
        assert reply.recorded == {}
        assert "not call or text you again" in " ".join(reply.messages)


def test_the_pain_that_will_not_stop_is_not_an_opt_out(english: LoadedScript) -> None:
    reply = say(english, KEYED_BIRTHDAY, Heard("dtmf", "1"), spoken("the pain won't stop"))
    assert reply.outcome != "opted_out"


def test_welsh_y_is_not_yes(welsh: LoadedScript) -> None:
    reply = say(welsh, KEYED_BIRTHDAY, Heard("sms", "y"), channel="voice")
    assert reply.question is not None and reply.question.step == "still_needed"
    assert reply.answers[-1].interpretation == "unrecognised"


@pytest.mark.parametrize(("text", "condition"), [("ydy", "worse"), ("nac ydy", "same")])
def test_welsh_ydy_and_nac_ydy_answer_has_it_got_worse(
    welsh: LoadedScript, text: str, condition: str
) -> None:
    reply = say(welsh, KEYED_BIRTHDAY, Heard("dtmf", "1"), spoken(text))
    assert reply.recorded["condition"] == condition


@pytest.mark.parametrize(
    "text",
    ["May seventeenth 1961", "17 5 61", "the seventeenth of May sixty-one",
     "one seven oh five six one", "May 17th 1961", "Sorry for the late reply. 17/5/61"],
)  # fmt: skip
def test_dates_of_birth_as_people_say_them(text: str) -> None:
    import datetime as dt

    assert from_text(text, year_only=False, century_of=1961) == dt.date(1961, 5, 17)


@pytest.mark.parametrize("text", ["5 17 61", "17 5 61", "17/5/61 or 18/5/61"])
def test_month_first_or_an_unanchored_two_digit_year_is_refused(text: str) -> None:
    century = None if text == "17 5 61" else 1961
    assert from_text(text, year_only=False, century_of=century) is None


def test_the_linter_wants_yes_and_no_for_a_yes_no_question(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8").replace("words: [worse, yes]", "words: [worse]")
    path.write_text(text, encoding="utf-8")
    messages = [problem.message for problem in lint_paths([path])[1]]
    assert any("asks a yes/no question but no option takes 'yes'" in m for m in messages)


def test_the_linter_wants_red_flags_where_worsening_is_recorded(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8")
    start = text.index("understanding:")
    path.write_text(text[:start] + text[text.index("start:") :], encoding="utf-8")
    messages = [problem.message for problem in lint_paths([path])[1]]
    assert "the script records worsening but lists no red flags" in messages


def test_red_flags_must_lead_to_a_worsened_end(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "record: {condition: worse}, next: worsened}", "next: staying}"
    )
    path.write_text(text, encoding="utf-8")
    messages = [problem.message for problem in lint_paths([path])[1]]
    assert any("understanding.red_flags leads to 'staying'" in m for m in messages)


def test_a_texted_leave_is_read_back_as_a_question_to_reply_to(english: LoadedScript) -> None:
    reply = say(english, Heard("sms", "14031956"), Heard("sms", "no thanks"), channel="sms")
    assert reply.messages == [
        "You replied: no thanks. Is that right? Reply 1 for yes, or 2 to answer again."
    ]
    confirmed = say(
        english,
        Heard("sms", "14031956"),
        Heard("sms", "no thanks"),
        Heard("sms", "1"),
        channel="sms",
    )
    assert confirmed.outcome == "leave"


@pytest.mark.parametrize(
    "text", ["I just want to die", "I can't go on like this", "i've thought about ending my life"]
)
def test_distress_reaches_a_clinician_first_with_where_to_get_help_now(
    english: LoadedScript, text: str
) -> None:
    for channel in ("voice", "sms"):
        heard = spoken(text) if channel == "voice" else Heard("sms", text)
        birthday = KEYED_BIRTHDAY if channel == "voice" else Heard("sms", "14031956")
        reply = say(english, birthday, heard, channel=channel)
        assert reply.outcome == "worsened"
        assert reply.recorded == {"distress": True, "red_flag": True}
        said = " ".join(reply.messages)
        assert "mental health" in said and "999" in said


def test_distress_is_not_heard_at_the_identity_check(english: LoadedScript) -> None:
    # Before identity is known nothing clinical is taken: the question is asked again.
    reply = say(english, spoken("I want to die"))
    assert reply.outcome is None


def test_welsh_distress_reaches_a_clinician_first(welsh: LoadedScript) -> None:
    reply = say(welsh, KEYED_BIRTHDAY, spoken("dw i eisiau marw"))
    assert reply.outcome == "worsened"
    assert reply.recorded == {"distress": True, "red_flag": True}


@pytest.mark.parametrize(
    ("text", "relationship"),
    [
        ("yes she still needs it, I'm her daughter", "daughter"),
        ("this is his wife speaking, yes he still needs it", "wife"),
        ("I'm the carer, yes still needed", "carer"),
    ],
)
def test_someone_answering_for_the_patient_is_recorded_with_their_relationship(
    english: LoadedScript, text: str, relationship: str
) -> None:
    reply = say(english, KEYED_BIRTHDAY, spoken(text))
    assert reply.state["recorded"]["answered_by"] == relationship


def test_a_denied_relationship_is_not_recorded(english: LoadedScript) -> None:
    reply = say(english, KEYED_BIRTHDAY, spoken("I'm not his wife, yes he still needs it"))
    assert "answered_by" not in reply.state["recorded"]


def test_a_welsh_carer_is_recorded(welsh: LoadedScript) -> None:
    reply = say(welsh, KEYED_BIRTHDAY, spoken("ydy mae hi dal angen e, ei merch sy'n siarad"))
    assert reply.state["recorded"]["answered_by"] == "merch"
