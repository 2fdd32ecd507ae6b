"""Watch every statement and assignment the tests run: an attempt's status written by the
service's code anywhere but through ``app/attempts.py`` is a defect (the attempt's life has one
home).

``tests/conftest.py`` installs the watch for the whole run and fails a test in which the service
wrote the status another way; tests themselves may set up any state they need.
``tests/test_attempts.py`` also checks the source, for paths no test takes.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Engine, Update, event
from sqlalchemy.orm.base import NEVER_SET, NO_VALUE

import app.attempts
from app.models import ContactAttempt

_HOME = str(Path(app.attempts.__file__).resolve())
_APP = str(Path(app.attempts.__file__).resolve().parent) + "/"
_TABLE = ContactAttempt.__tablename__
# Where each write of the status came from that did not pass through ``app/attempts.py``.
strays: list[str] = []


def _stray_caller() -> str | None:
    """The innermost frame of the service's code if it wrote the status on its own: None when
    ``app/attempts.py`` is on the stack, or when the write is a test's own setting up."""
    frame: FrameType | None = sys._getframe(2)
    innermost = None
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename == _HOME:
            return None
        if innermost is None and filename.startswith(_APP):
            innermost = f"{filename}:{frame.f_lineno}"
        if innermost is None and "/tests/" in filename:
            return None
        frame = frame.f_back
    return innermost


def _sets_status(statement: Update, parameters: Sequence[Mapping[str, Any]]) -> bool:
    # The ORM hands over an annotated copy of the table: compare by name.
    if getattr(statement.table, "name", None) != _TABLE:
        return False
    named = {getattr(key, "key", key) for key in (statement._values or {})}
    return "status" in named or any("status" in row for row in parameters)


def _from_a_flush() -> bool:
    """A flush writes what was assigned to loaded objects, which ``_assigned`` has seen."""
    frame: FrameType | None = sys._getframe(3)
    while frame is not None:
        if frame.f_code.co_name == "_emit_update_statements":
            return True
        frame = frame.f_back
    return False


def _executed(
    connection: Any,
    statement: Any,
    multiparams: Sequence[Mapping[str, Any]],
    params: Mapping[str, Any],
    execution_options: Any,
) -> None:
    if not isinstance(statement, Update):
        return
    rows = [row for row in [*multiparams, params] if isinstance(row, Mapping)]
    if _sets_status(statement, rows) and not _from_a_flush():
        stray = _stray_caller()
        if stray is not None:
            strays.append(stray)


def _assigned(target: ContactAttempt, value: Any, old: Any, initiator: Any) -> None:
    if old in (NO_VALUE, NEVER_SET):  # a new attempt's first state
        return
    stray = _stray_caller()
    if stray is not None:
        strays.append(stray)


def install() -> None:
    """Watch every engine of this process and every attempt's ``status`` (idempotent)."""
    if not event.contains(Engine, "before_execute", _executed):
        event.listen(Engine, "before_execute", _executed)
        event.listen(ContactAttempt.status, "set", _assigned)
