"""The shipped scripts, run end to end, reach each of their outcomes on both channels."""

from __future__ import annotations

import pytest

from app.flows import LoadedScript, Reply, ScriptRegistry
from app.flows.conversation import Channel, Heard
from app.flows.simulation import parse_answer, simulate
from tests.flows.conftest import PATIENT

KEYED = {
    "stay": "14031956,1,2,1",
    "leave": "14031956,2",
    "worsened": "14031956,1,1",
    "unverified": "01011970,02021971",
    "unclear": "14031956,-,-,-",
    "callback_requested": "14031956,3",
}
SAID = {
    "standard-validation": {
        "stay": "fourteenth of March 1956,Yes please,not any worse,yep",
        "leave": "14th March 1956,No thanks I had it done,yes",
        "worsened": "14 March 1956,yes,it's got much worse",
        "callback_requested": "14/03/1956,can you call me back",
        "unclear": "14031956,erm,pardon,what",
    },
    "standard-validation-cy": {
        "stay": "14 Mawrth 1956,ydw,dim newid,byddwn",
        "leave": "14031956,nac ydw,ie",
        "worsened": "14031956,ydw,wedi gwaethygu",
        "callback_requested": "14031956,ffoniwch fi",
        "unclear": "14031956,beth,sori,pardwn",
    },
}


def run(script: LoadedScript, answers: str, channel: Channel) -> tuple[str | None, list[str]]:
    heard = [parse_answer(item, channel=channel) for item in answers.split(",")]
    transcript = simulate(script, PATIENT, channel=channel, answers=heard)
    return transcript.outcome, [text for speaker, text in transcript.lines if speaker == "service"]


@pytest.mark.parametrize("flow_id", ["standard-validation", "standard-validation-cy"])
@pytest.mark.parametrize("channel", ["voice", "sms"])
@pytest.mark.parametrize("outcome", sorted(KEYED))
def test_keyed_answers_reach_each_outcome(
    shipped: ScriptRegistry, flow_id: str, channel: Channel, outcome: str
) -> None:
    reached, _ = run(shipped.get(flow_id), KEYED[outcome], channel)
    assert reached == outcome


@pytest.mark.parametrize(
    ("flow_id", "outcome"), [(f, o) for f, paths in SAID.items() for o in sorted(paths)]
)
@pytest.mark.parametrize("channel", ["voice", "sms"])
def test_words_said_or_texted_reach_each_outcome(
    shipped: ScriptRegistry, flow_id: str, outcome: str, channel: Channel
) -> None:
    reached, _ = run(shipped.get(flow_id), SAID[flow_id][outcome], channel)
    assert reached == outcome


def test_the_mutual_aid_answer_is_recorded_as_willing_to_travel(english: LoadedScript) -> None:
    heard = [parse_answer(item, channel="voice") for item in KEYED["stay"].split(",")]
    transcript = simulate(english, PATIENT, channel="voice", answers=heard)
    assert transcript.recorded == {
        "still_needed": True,
        "condition": "same",
        "willing_to_travel": True,
    }


@pytest.mark.parametrize("flow_id", ["standard-validation", "standard-validation-cy"])
def test_the_worsened_ending_gives_the_safety_net(shipped: ScriptRegistry, flow_id: str) -> None:
    _, said = run(shipped.get(flow_id), KEYED["worsened"], "voice")
    assert "111" in said[-1] and "999" in said[-1]


def test_a_conversation_stops_when_the_answers_run_out(english: LoadedScript) -> None:
    transcript = simulate(english, PATIENT, channel="voice", answers=[Heard("dtmf", "14031956")])
    assert transcript.outcome is None
    assert transcript.lines[-1][1].startswith("Thank you, Quenby.")


def test_the_simulate_notation() -> None:
    assert parse_answer("-", channel="voice") == Heard("none")
    assert parse_answer("", channel="sms") == Heard("none")
    assert parse_answer("123", channel="voice") == Heard("dtmf", "123")
    assert parse_answer("yes", channel="voice") == Heard("speech", "yes", 0.95)
    assert parse_answer("say:yes", channel="voice") == Heard("speech", "yes", None)
    assert parse_answer("say@0.3:yes", channel="voice") == Heard("speech", "yes", 0.3)
    assert parse_answer("1", channel="sms") == Heard("sms", "1")


def test_answers_can_come_from_a_function_as_in_the_interactive_mode(
    english: LoadedScript,
) -> None:
    asked: list[str] = []
    answers = iter(["14031956", "2"])

    def patient(reply: Reply) -> Heard | None:
        assert reply.question is not None
        asked.append(reply.question.step)
        return parse_answer(next(answers), channel="voice")

    transcript = simulate(english, PATIENT, channel="voice", answers=patient)
    assert asked == ["identity", "still_needed"]
    assert transcript.outcome == "leave"
