"""The labelled corpus, run through the real engine: nothing risky, and the held-out figure holds.

This is the control for the misheard-answer hazard in docs/clinical-safety.md.
"""

from __future__ import annotations

import pytest

from app.flows import ScriptRegistry
from app.flows.corpus import part_of
from app.flows.evaluation import Evaluation, evaluate
from tests.flows.conftest import SHIPPED

FLOWS = ["standard-validation", "standard-validation-cy"]
# The share right on the held-out part, as reached when this test was written (docs/call-flows.md
# states the figures); a change that lowers it must say why.
# Welsh fell from 1.00 to 0.939 when its corpus grew past 500 replies a question: the new held-out
# replies at mutual aid are asked again (safe), and were deliberately not tuned on.
HELD_OUT_RIGHT = {"standard-validation": 0.98, "standard-validation-cy": 0.93}


@pytest.fixture(scope="module")
def evaluations(shipped: ScriptRegistry) -> dict[str, Evaluation]:
    return {flow_id: evaluate(shipped.get(flow_id), SHIPPED) for flow_id in FLOWS}


@pytest.mark.parametrize("flow_id", FLOWS)
def test_no_reply_in_the_corpus_is_understood_dangerously(
    evaluations: dict[str, Evaluation], flow_id: str
) -> None:
    risky = evaluations[flow_id].as_dict()["risky_cases"]
    assert risky == []


@pytest.mark.parametrize("flow_id", FLOWS)
def test_the_held_out_part_is_understood_at_the_stated_rate(
    evaluations: dict[str, Evaluation], flow_id: str
) -> None:
    held_out = evaluations[flow_id].tally(part="held_out")
    assert held_out.cases >= 150
    assert held_out.share_right >= HELD_OUT_RIGHT[flow_id]


@pytest.mark.parametrize("flow_id", FLOWS)
def test_every_question_has_hundreds_of_replies_by_voice_and_sms(
    evaluations: dict[str, Evaluation], flow_id: str
) -> None:
    evaluation = evaluations[flow_id]
    questions = {result.case.question for result in evaluation.results}
    assert questions == {"identity", "still_needed", "condition", "mutual_aid"}
    for question in questions:
        for channel in ("voice", "sms"):
            assert evaluation.tally(question=question, channel=channel).cases >= 100


@pytest.mark.parametrize("flow_id", FLOWS)
def test_every_question_has_at_least_500_replies(
    evaluations: dict[str, Evaluation], flow_id: str
) -> None:
    evaluation = evaluations[flow_id]
    for question in {result.case.question for result in evaluation.results}:
        assert evaluation.tally(question=question).cases >= 500, question


def test_a_reply_and_all_its_variants_stay_in_one_part(
    evaluations: dict[str, Evaluation],
) -> None:
    for evaluation in evaluations.values():
        for result in evaluation.results:
            assert result.case.part == part_of(result.case.written)
    parts = {r.case.part for e in evaluations.values() for r in e.results}
    assert parts == {"tuning", "held_out"}
