"""How long one conversation turn takes (engine + TwiML), against rendering the TwiML alone.

    PYTHONPATH=. python scripts/bench_flows.py --conversations 2000

Runs whole conversations through the shipped English script by voice (date of birth keyed, a
spoken "Yes please", two keyed answers), rendering TwiML for every reply, as the answer webhook
does. The bare limit, measured in the same run, builds the same TwiML documents from the same
texts with the ``twilio`` library alone: the least work any answer webhook must do. Prints both
per turn, wall-clock and CPU time (the machine may be shared), the ratio, and how long loading and
linting the scripts takes (done once at start).

A second measure times understanding alone, where a spoken or texted answer costs most: each of
a set of everyday spoken answers matched against every question of every shipped script, with
every script-level trigger (opt-out, a death, distress, red flags, another person) checked as the
engine checks them. Its bare limit is splitting the same answers into clauses and words, which
any understanding must do first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

from twilio.twiml.voice_response import Gather, VoiceResponse

from app.flows import (
    Heard,
    PatientFacts,
    Reply,
    continue_conversation,
    load_registry,
    start_conversation,
    voice_prompt,
)
from app.flows.schema import AskStep, Option
from app.flows.understanding import clauses, mentioned, understand_text
from app.telephony.twiml import voice_twiml

FLOWS = Path(__file__).resolve().parents[1] / "call_flows"
ACTION = "https://waitlist.example.nhs.uk/webhooks/twilio/voice/token/answer"
FACTS = PatientFacts(
    given_name="Alex",
    date_of_birth=dt.date(1956, 3, 14),
    specialty_name="Trauma and Orthopaedics",
    organisation_name="Example Teaching Hospitals NHS Foundation Trust",
    callback_number="0113 496 0000",
)
ANSWERS = [
    Heard("dtmf", "14031956"),
    Heard("speech", "Yes please", 0.91),
    Heard("dtmf", "2"),
    Heard("dtmf", "1"),
]
SPOKEN = [
    "yes please I still need it",
    "no I don't need it any more, I had it done privately",
    "it's got a lot worse since last time",
    "this is his wife speaking, he is not well",
    "I'm not sure, can you call back later",
    "yeah still waiting thanks",
    "not any worse no",
]
TRIGGERS = ("opt_out", "deceased", "distress", "red_flags", "person")


def timed(work: Callable[[], int]) -> tuple[float, float, int]:
    """Wall-clock seconds, CPU seconds and the count of turns ``work`` reports."""
    wall, cpu = time.perf_counter(), time.process_time()
    turns = work()
    return time.perf_counter() - wall, time.process_time() - cpu, turns


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--conversations", type=int, default=2000)
    args = parser.parse_args()

    load_wall, load_cpu, _ = timed(lambda: len(load_registry(FLOWS).all()))
    script = load_registry(FLOWS).get("standard-validation")

    first = start_conversation(script, FACTS, channel="voice")
    replies: list[Reply] = [first]

    def engine() -> int:
        turns = 0
        for _ in range(args.conversations):
            reply = start_conversation(script, FACTS, channel="voice")
            voice_twiml(voice_prompt(reply, script, action_url=ACTION))
            turns += 1
            for heard in ANSWERS:
                reply = continue_conversation(script, reply.state, heard, FACTS, channel="voice")
                voice_twiml(voice_prompt(reply, script, action_url=ACTION))
                turns += 1
                if len(replies) < len(ANSWERS) + 1:
                    replies.append(reply)
            assert reply.outcome == "stay"
        return turns

    def bare() -> int:
        turns = 0
        shapes = [(r.messages, r.question.num_digits if r.question else None) for r in replies]
        for _ in range(args.conversations):
            for messages, digits in shapes:
                response = VoiceResponse()
                if digits is None:
                    for message in messages:
                        response.say(message, voice="Polly.Amy-Neural", language="en-GB")
                    response.hangup()
                else:
                    gather = Gather(
                        input="dtmf speech", num_digits=digits, language="en-GB",
                        action_on_empty_result=True, action=ACTION, method="POST",
                        speech_timeout="auto",
                    )  # fmt: skip
                    for message in messages:
                        gather.say(message, voice="Polly.Amy-Neural", language="en-GB")
                    response.append(gather)
                str(response)
                turns += 1
        return turns

    engine_wall, engine_cpu, engine_turns = timed(engine)
    bare_wall, bare_cpu, bare_turns = timed(bare)
    per = 1e6
    print(f"scripts loaded and linted: {load_wall * 1e3:.1f} ms wall, {load_cpu * 1e3:.1f} ms CPU")
    print(
        f"engine + TwiML: {engine_turns} turns (openings included), "
        f"{engine_wall / engine_turns * per:.0f} us/turn wall, "
        f"{engine_cpu / engine_turns * per:.0f} us/turn CPU"
    )
    print(
        f"TwiML alone:    {bare_turns} renders, {bare_wall / bare_turns * per:.0f} us/turn wall, "
        f"{bare_cpu / bare_turns * per:.0f} us/turn CPU"
    )
    wall_ratio = (engine_wall / engine_turns) / (bare_wall / bare_turns)
    cpu_ratio = (engine_cpu / engine_turns) / (bare_cpu / bare_turns)
    print(f"ratio (engine + TwiML / TwiML alone): {wall_ratio:.2f} wall, {cpu_ratio:.2f} CPU")
    understanding(args.conversations // 10)


def understanding(rounds: int) -> None:
    """CPU per spoken answer understood (options and triggers) beside splitting it into words."""
    questions: list[tuple[list[Option], list[list[str]]]] = []
    for script in load_registry(FLOWS).all():
        found = (getattr(script.flow.understanding, kind) for kind in TRIGGERS)
        trigger_words = [list(trigger.words) for trigger in found if trigger is not None]
        for step in script.flow.steps.values():
            if isinstance(step, AskStep):
                questions.append((list(step.options), trigger_words))

    def understood() -> int:
        answers = 0
        for _ in range(rounds):
            for options, trigger_words in questions:
                for said in SPOKEN:
                    understand_text(said, options, weak=("yes", "no"))
                    parts = clauses(said)  # once for all the triggers, as the engine does
                    for words in trigger_words:
                        mentioned(parts, words, english=True)
                    answers += 1
        return answers

    def split() -> int:
        answers = 0
        for _ in range(rounds):
            for _question in questions:
                for said in SPOKEN:
                    clauses(said)
                    answers += 1
        return answers

    _, cpu, answers = timed(understood)
    _, bare_cpu, bare_answers = timed(split)
    per_answer, bare_per_answer = cpu / answers * 1e6, bare_cpu / bare_answers * 1e6
    print(
        f"spoken answers understood: {answers} ({len(questions)} questions), "
        f"{per_answer:.0f} us CPU each; split into words alone {bare_per_answer:.1f} us; "
        f"ratio {per_answer / bare_per_answer:.1f}"
    )


if __name__ == "__main__":
    main()
