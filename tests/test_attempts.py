"""The attempt's life has one home (``app/attempts.py``): its sets agree with its transitions,
and no other module spells a set of attempt states of its own."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app import attempts
from app.models import AttemptStatus as A
from app.models import ContactAttempt
from tests.support import attempt_writes

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


# What writes an attempt's status, read from the source (tests/support/attempt_writes.py also
# watches every statement the suite runs, for writes no pattern here would see).
_STATE = ("A", "AttemptStatus")
_RAW_UPDATE = re.compile(r"\bupdate\s+contact_attempt\b", re.IGNORECASE)


def _is_state(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in _STATE
    )


def _updates_attempts(node: ast.expr) -> bool:
    """``node`` is a chain (``.where(...).values(...)``) built on ``update(ContactAttempt)``."""
    while isinstance(node, ast.Call | ast.Attribute):
        if isinstance(node, ast.Call):
            target = node.args[0] if node.args else None
            if (
                isinstance(node.func, ast.Name)
                and node.func.id == "update"
                and target is not None
                and "ContactAttempt" in ast.unparse(target)
            ):
                return True
            node = node.func
        else:
            node = node.value
    return False


def _writes_status(node: ast.AST, *, loads_attempts: bool) -> bool:
    """One node that writes an attempt's status (``loads_attempts``: the module has attempts)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr != "values":
            return False
        keys = {k.arg for k in node.keywords} | {
            key.value
            for arg in node.args
            if isinstance(arg, ast.Dict)
            for key in arg.keys
            if isinstance(key, ast.Constant)
        }
        return "status" in keys and _updates_attempts(node.func.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        named = [arg.value for arg in node.args[1:2] if isinstance(arg, ast.Constant)]
        return loads_attempts and node.func.id == "setattr" and named == ["status"]
    if isinstance(node, ast.keyword):
        return node.arg == "status" and _is_state(node.value)
    if isinstance(node, ast.Dict):
        return any(
            isinstance(key, ast.Constant) and key.value == "status" and _is_state(value)
            for key, value in zip(node.keys, node.values, strict=True)
        )
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Attribute) and t.attr == "status" for t in targets) and (
            loads_attempts or _is_state(node.value)
        )
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and _RAW_UPDATE.search(node.value) is not None
    )


def status_writes(source: str) -> list[int]:
    """The lines of ``source`` that write an attempt's status other than through ``advance``:
    an UPDATE of ``ContactAttempt`` that sets it, a state keyed ``status`` in a dict or a call,
    a status assigned in a module that loads attempts, or raw SQL updating the table."""
    loads_attempts = "ContactAttempt" in source
    return sorted(
        {
            getattr(node, "lineno", 0) or getattr(getattr(node, "value", None), "lineno", 0)
            for node in ast.walk(ast.parse(source))
            if _writes_status(node, loads_attempts=loads_attempts)
        }
    )


def test_no_other_module_writes_an_attempts_status() -> None:
    written = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted((ROOT / "app").rglob("*.py"))
        if path != ROOT / "app" / "attempts.py"
        for line in status_writes(path.read_text(encoding="utf-8"))
    ]
    assert written == []


@pytest.mark.parametrize(
    "planted",
    [
        "session.execute(update(ContactAttempt).where(x).values(status=A.FAILED))",
        "update(ContactAttempt).values({'status': state, 'ended_at': now})",
        "attempt: ContactAttempt = load()\nattempt.status = AttemptStatus.FAILED",
        "values = {'status': A.PLANNED, 'claimed_by': None}",
        "session.execute(text('UPDATE contact_attempt SET status = :s'))",
        "setattr(ContactAttempt(), 'status', 'failed')",
    ],
)
def test_the_source_check_sees_a_status_written_directly(planted: str) -> None:
    assert status_writes(planted) != []


def test_the_source_check_lets_other_tables_and_other_columns_be(db_session: Session) -> None:
    assert status_writes("update(Campaign).values(status=CampaignStatus.RUNNING)") == []
    assert status_writes("update(ContactAttempt).values(provider_sid=sid)") == []
    assert status_writes("job.status = ImportStatus.SUCCEEDED") == []


@pytest.mark.parametrize(
    "planted",
    [
        "session.execute(update(ContactAttempt).where(ContactAttempt.id == 0)"
        ".values(status=A.FAILED))",
        "session.connection().execute(update(ContactAttempt).where(ContactAttempt.id == 0), "
        "{'status': A.FAILED})",
        "attempt.status = A.FAILED",
    ],
)
def test_a_status_written_behind_attempts_back_is_caught_as_it_runs(
    db_session: Session, planted: str
) -> None:
    attempt = ContactAttempt(status=A.PLANNED)
    # Run as if it were the service's own code: a test may set up any state it likes.
    code = compile(planted, str(ROOT / "app" / "planted.py"), "exec")
    exec(code, {**globals(), "update": update, "session": db_session, "attempt": attempt})  # noqa: S102

    caught, attempt_writes.strays[:] = list(attempt_writes.strays), []
    assert caught and "app/planted.py" in caught[0]


def test_a_test_may_set_up_any_state() -> None:
    attempt = ContactAttempt(status=A.PLANNED)
    attempt.status = A.FAILED

    assert attempt_writes.strays == []
