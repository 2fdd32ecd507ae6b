"""Worklist letters as PDF: one letter, or every letter waiting to be sent (audited)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from app.errors import NotFoundError
from app.web.auth import StaffUser
from app.web.deps import SessionDep, SettingsDep
from app.web.ids import RowId
from app.worklist.printing import letters_pdf, letters_to_print

router = APIRouter()


def _today(settings: SettingsDep) -> dt.date:
    return dt.datetime.now(settings.zone).date()


def _pdf(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.get("/worklist/letters.pdf")
def letters_batch(session: SessionDep, settings: SettingsDep, user: StaffUser) -> Response:
    """Every letter waiting to be sent, one page each, in one PDF to print (audited)."""
    letters = letters_to_print(session, actor=user)
    body = letters_pdf(
        letters,
        organisation_name=settings.organisation_name,
        callback_number=settings.callback_number,
    )
    return _pdf(body, f"letters-{_today(settings).isoformat()}.pdf")


@router.get("/worklist/letters/{letter_id}.pdf")
def letter_pdf(
    session: SessionDep, settings: SettingsDep, user: StaffUser, letter_id: RowId
) -> Response:
    """One letter as PDF (audited)."""
    try:
        letters = letters_to_print(session, actor=user, letter_id=letter_id)
    except NotFoundError as exc:
        raise HTTPException(status_code=404) from exc
    body = letters_pdf(
        letters,
        organisation_name=settings.organisation_name,
        callback_number=settings.callback_number,
    )
    return _pdf(body, f"letter-{letter_id}.pdf")
