"""Thin routes: verify (dependency), read the form as a typed event, call one domain function,
commit, answer TwiML as application/xml.

Each route commits in its own thread, before it answers: the session's dependency then has
nothing left to do off the event loop, which saves a thread hop on every webhook (see
``app.web.deps.get_session``).

Exact paths with no trailing-slash variants: a redirect on an action URL would drop ``Digits``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.orm import Session

from app.conversations import webhooks
from app.conversations.context import ConversationContext
from app.telephony import events
from app.telephony.twiml import empty_response
from app.web.deps import SessionDep
from app.web.webhooks.signature import VerifiedForm

router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

XML = "application/xml"
TWIML: dict[int | str, dict[str, Any]] = {
    200: {"description": "TwiML", "content": {XML: {}}},
    403: {"description": "Missing or invalid X-Twilio-Signature; nothing was written"},
}


def _committed(session: Session, document: str) -> Response:
    """The TwiML answer, once what the webhook wrote is committed."""
    session.commit()
    return Response(content=document, media_type=XML)


def _context(request: Request) -> ConversationContext:
    context: ConversationContext = request.app.state.conversation_context
    return context


@router.post("/voice/{token}", response_class=Response, responses=TWIML)
def voice(token: str, form: VerifiedForm, session: SessionDep, request: Request) -> Response:
    """The call was answered: speak at once (greeting, then the first question)."""
    return _committed(
        session,
        webhooks.on_voice(
            session,
            token=token,
            event=events.from_twilio_answered(form.first),
            raw=form.all,
            context=_context(request),
        ),
    )


@router.post("/voice/{token}/gather", response_class=Response, responses=TWIML)
def gather(
    token: str,
    form: VerifiedForm,
    session: SessionDep,
    request: Request,
    step: str = "",
    n: int = 0,
) -> Response:
    """An answer to a question (keys, speech or nothing): the next TwiML."""
    return _committed(
        session,
        webhooks.on_gather(
            session,
            token=token,
            step=step,
            number=n,
            event=events.from_twilio_gather(form.first),
            raw=form.all,
            context=_context(request),
        ),
    )


@router.post("/status/{token}", response_class=Response, responses=TWIML)
def call_status(token: str, form: VerifiedForm, session: SessionDep) -> Response:
    """Call progress (initiated, ringing, in-progress, completed, busy, no-answer, failed)."""
    event = events.from_twilio_call_status(form.first)
    webhooks.on_call_status(session, token=token, event=event, raw=form.all)
    return _committed(session, empty_response())


@router.post("/amd/{token}", response_class=Response, responses=TWIML)
def amd(token: str, form: VerifiedForm, session: SessionDep) -> Response:
    """Asynchronous answering-machine detection result."""
    webhooks.on_amd(session, token=token, event=events.from_twilio_amd(form.first), raw=form.all)
    return _committed(session, empty_response())


@router.post("/sms-status/{token}", response_class=Response, responses=TWIML)
def sms_status(token: str, form: VerifiedForm, session: SessionDep) -> Response:
    """A text's delivery receipt."""
    event = events.from_twilio_sms_status(form.first)
    webhooks.on_sms_status(session, token=token, event=event, raw=form.all)
    return _committed(session, empty_response())


@router.post("/sms", response_class=Response, responses=TWIML)
def inbound_sms(form: VerifiedForm, session: SessionDep, request: Request) -> Response:
    """A text from anyone: an answer, STOP/START, or a stranger (answered politely)."""
    return _committed(
        session,
        webhooks.on_inbound_sms(
            session,
            text=events.from_twilio_inbound(form.first),
            raw=form.all,
            context=_context(request),
        ),
    )
