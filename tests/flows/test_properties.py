"""Property tests: whatever a patient says, a conversation ends in a declared outcome, within
the script's bounded number of turns, and says nothing about their care before verification."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.flows import (
    Heard,
    LoadedScript,
    ScriptRegistry,
    continue_conversation,
    load_registry,
    load_script,
    start_conversation,
)
from app.flows.conversation import Channel
from app.flows.graph import turn_bound
from app.flows.schema import AskStep, EndStep
from tests.flows.conftest import MINIMAL, PATIENT, SHIPPED

REGISTRY: ScriptRegistry = load_registry(SHIPPED)
SCRIPTS: list[LoadedScript] = [*REGISTRY.all(), load_script(MINIMAL)]
SECRETS = (PATIENT.given_name, PATIENT.specialty_name)


def _vocabulary(script: LoadedScript) -> list[str]:
    words = ["not", "no", "don't", "really", "please", "erm", "14 March 1956", "March"]
    for step in script.flow.steps.values():
        if isinstance(step, AskStep):
            for option in step.options:
                words.extend(option.words)
    return words


def heard_for(script: LoadedScript) -> st.SearchStrategy[Heard]:
    """Any input a caller could give: keys, speech with any confidence, texts, silence."""
    vocabulary = _vocabulary(script)
    digits = st.sampled_from(["1", "2", "3", "9", "0", "14031956", "01011970", "1956", "*"])
    said = st.lists(st.sampled_from(vocabulary), min_size=0, max_size=4).map(" ".join)
    free = st.one_of(said, st.text(max_size=30))
    confidence = st.one_of(st.none(), st.floats(min_value=0, max_value=1))
    return st.one_of(
        st.just(Heard("none")),
        digits.map(lambda text: Heard("dtmf", text)),
        st.builds(lambda text, c: Heard("speech", text, c), free, confidence),
        free.map(lambda text: Heard("sms", text)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    index=st.integers(0, len(SCRIPTS) - 1),
    channel=st.sampled_from(["voice", "sms"]),
)
def test_every_input_sequence_ends_in_a_declared_outcome_within_the_bound(
    data: st.DataObject, index: int, channel: Channel
) -> None:
    script = SCRIPTS[index]
    declared = {step.end for step in script.flow.steps.values() if isinstance(step, EndStep)}
    bound = turn_bound(script.flow)
    strategy = heard_for(script)
    reply = start_conversation(script, PATIENT, channel=channel)
    verified = False
    turns = 0
    while True:
        # Answers in a reply come before its messages: verification may unlock this reply.
        verified = verified or any(a.interpretation == "verified" for a in reply.answers)
        if not verified:
            for message in reply.messages:
                assert not any(secret in message for secret in SECRETS), message
        if reply.question is None:
            break
        assert turns < bound, f"no end after {bound} inputs"
        reply = continue_conversation(
            script, reply.state, data.draw(strategy), PATIENT, channel=channel
        )
        turns += 1
        assert [a.turn for a in reply.answers] == [turns] * len(reply.answers)
    assert reply.outcome in declared


@settings(max_examples=60, deadline=None)
@given(heard=st.lists(heard_for(SCRIPTS[0]), max_size=12))
def test_the_same_inputs_always_give_the_same_conversation(heard: list[Heard]) -> None:
    script = SCRIPTS[0]

    def run() -> list[object]:
        reply = start_conversation(script, PATIENT, channel="voice")
        seen: list[object] = [reply]
        for item in heard:
            if reply.question is None:
                break
            reply = continue_conversation(script, reply.state, item, PATIENT, channel="voice")
            seen.append(reply)
        return seen

    assert run() == run()
