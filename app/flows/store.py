"""The ``call_script`` row for the exact content a campaign runs, so answers can cite it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.flows.loading import LoadedScript
from app.models.flow import CallScript


def ensure_call_script(session: Session, script: LoadedScript) -> CallScript:
    """The row for this script's id, version and content hash, inserted if new.

    An approval given after the row was first stored is copied onto it; an approval is never
    removed from a row (the content it names is what was approved, whatever the file says now).
    """
    row = session.scalars(
        select(CallScript).where(
            CallScript.flow_id == script.id,
            CallScript.version == script.version,
            CallScript.content_hash == script.content_hash,
        )
    ).one_or_none()
    if row is None:
        row = CallScript(
            flow_id=script.id,
            version=script.version,
            content_hash=script.content_hash,
            title=script.title,
            language=script.language,
            content=script.content,
        )
        session.add(row)
    if script.approval is not None and row.approved_by is None:
        row.approved_by = script.approval.by
        row.approved_at = script.approval.at
    session.flush()
    return row
