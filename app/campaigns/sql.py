"""A typed row count for guarded UPDATEs (how we know a transition happened)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def changed(
    session: Session, statement: Executable, parameters: dict[str, Any] | None = None
) -> int:
    """Execute an UPDATE and return how many rows it changed.

    It runs on the session's connection, as Core: these guarded UPDATEs never touch loaded
    objects, and skipping the ORM's bulk-update machinery halves their cost in the dispatcher.
    """
    return cast(CursorResult[Any], session.connection().execute(statement, parameters)).rowcount
