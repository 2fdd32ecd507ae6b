"""The attempt's life has one home (``app/attempts.py``): its sets agree with its transitions,
and no other module spells a set of attempt states of its own."""

from __future__ import annotations

import re
from pathlib import Path

from app import attempts
from app.models import AttemptStatus as A

ROOT = Path(__file__).resolve().parent.parent
# Two or more attempt states side by side: a tuple, set or list spelled out in code.
SPELLED_SET = re.compile(
    r"[(\[{,]\s*(?:\bA|AttemptStatus)\.[A-Z_]+\s*,\s*(?:\bA|AttemptStatus)\.[A-Z_]+"
)


def test_every_state_has_its_transitions_and_every_target_is_a_state() -> None:
    assert set(attempts.TRANSITIONS) == set(A)
    assert all(onward <= set(A) for onward in attempts.TRANSITIONS.values())


def test_the_terminal_states_are_those_with_nowhere_to_go() -> None:
    assert {
        A.COMPLETED,
        A.NO_ANSWER,
        A.BUSY,
        A.FAILED,
        A.VOICEMAIL,
        A.CANCELLED,
    } == attempts.TERMINAL


def test_the_named_sets_agree_with_the_transitions() -> None:
    terminal = attempts.TERMINAL
    assert not (attempts.QUEUED | attempts.IN_FLIGHT) & terminal
    assert attempts.UNSETTLED | terminal == set(A)
    assert terminal >= attempts.UNANSWERED and A.COMPLETED not in attempts.UNANSWERED
    assert attempts.OPEN <= attempts.IN_FLIGHT and A.IN_DOUBT not in attempts.OPEN
    assert terminal >= attempts.PROVIDER_FINAL and A.CANCELLED not in attempts.PROVIDER_FINAL
    assert attempts.NOT_YET_REPLIED <= attempts.OPEN
    assert attempts.AT_PROVIDER <= attempts.OPEN
    # Every state can reach an end, and nothing leaves an end.
    for state in set(A) - terminal:
        assert attempts.TRANSITIONS[state] & terminal, state
    # Nothing moves back to an earlier step but a release or a retry to ``planned``.
    for state, onward in attempts.TRANSITIONS.items():
        if A.PLANNED in onward:
            assert state in {A.CLAIMED, A.PLACING, A.IN_DOUBT}, state


def test_a_webhook_moves_an_attempt_forward_only_from_an_open_state() -> None:
    assert attempts.predecessors(A.PLACED) == (A.PLACING,)
    assert attempts.predecessors(A.IN_PROGRESS) == (A.PLACING, A.PLACED)
    assert set(attempts.predecessors(A.COMPLETED)) == attempts.OPEN
    assert attempts.predecessors(A.FAILED, among=attempts.NOT_YET_REPLIED) == (A.PLACING, A.PLACED)


def test_a_call_canceled_at_the_provider_is_followed_up() -> None:
    from app.telephony.events import ContactState

    assert attempts.ATTEMPT_STATUS[ContactState.CANCELED] in attempts.UNANSWERED


def test_no_other_module_spells_a_set_of_attempt_states() -> None:
    spelled = [
        f"{path.relative_to(ROOT)}:{source[: match.start()].count(chr(10)) + 1}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path != ROOT / "app" / "attempts.py"
        for source in [path.read_text(encoding="utf-8")]
        for match in SPELLED_SET.finditer(source)
    ]
    assert spelled == []
