"""Property tests: whatever a patient says, a conversation ends in a declared outcome, within
the script's bounded number of turns, and says nothing about their care before verification."""

from __future__ import annotations

import json

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
from app.flows.understanding import (
    RED_FLAG_SKIPPABLE,
    _key_from_words,
    _negated,
    _occurrences,
    _phrase,
    mentioned,
    one_slip,
)
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
        stored = json.loads(json.dumps(reply.state))  # as the caller keeps it between turns
        reply = continue_conversation(script, stored, data.draw(strategy), PATIENT, channel=channel)
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


# Words from three letters, so that slips ("worse", "wrose", "worsen") and near misses abound.
WORD = st.text(alphabet="abw", min_size=1, max_size=7)


@settings(max_examples=500, deadline=None)
@given(clause=st.lists(WORD, max_size=8), phrase=st.lists(WORD, min_size=1, max_size=3))
def test_finding_a_phrase_passes_over_only_positions_that_could_never_match(
    clause: list[str], phrase: list[str]
) -> None:
    """The first-letter shortcut finds exactly what comparing every position would find."""
    every_position = [
        (start, start + len(phrase))
        for start in range(len(clause) - len(phrase) + 1)
        if all(one_slip(said, word) for said, word in zip(clause[start:], phrase, strict=False))
    ]
    assert _occurrences(clause, phrase) == every_position


SAID = st.one_of(
    st.sampled_from(["not", "no", "any", "much", "a", "lot", "been", "worse", "wrose", "worsen",
                     "pain", "pian", "bleeding", "two", "2", "dim", "gwaeth"]),
    WORD,
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    parts=st.lists(st.lists(SAID, min_size=1, max_size=6), max_size=3),
    words=st.lists(st.lists(SAID, min_size=1, max_size=3).map(" ".join), min_size=1, max_size=6),
)
def test_a_trigger_is_mentioned_exactly_when_one_of_its_phrases_stands_un_negated(
    parts: list[list[str]], words: list[str]
) -> None:
    """Checking only the phrases that start as a word of the answer starts changes no verdict."""
    anywhere = any(
        not _negated(clause, start, RED_FLAG_SKIPPABLE, stop=stop)
        for clause in parts
        if _key_from_words(clause) is None
        for word in words
        for start, stop in _occurrences(clause, _phrase(word, True))
    )
    assert mentioned(parts, words, english=True) is anywhere
