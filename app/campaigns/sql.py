"""A typed row count for guarded UPDATEs (how we know a transition happened)."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable
from sqlalchemy.orm import Session


def changed(session: Session, statement: Executable) -> int:
    """Execute an UPDATE and return how many rows it changed."""
    return cast(CursorResult[Any], session.execute(statement)).rowcount
