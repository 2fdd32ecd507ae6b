"""Run a guarded UPDATE as Core and count what it changed (``app.db.changed`` reads the count)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable
from sqlalchemy.orm import Session

from app import db


def changed(
    session: Session, statement: Executable, parameters: dict[str, Any] | None = None
) -> int:
    """Execute an UPDATE and return how many rows it changed.

    It runs on the session's connection, as Core: these guarded UPDATEs never touch loaded
    objects, and skipping the ORM's bulk-update machinery halves their cost in the dispatcher.
    """
    return db.changed(session.connection().execute(statement, parameters))
