"""Answers to texts that came through GOV.UK Notify, sent once the callback is committed.

Twilio takes our answer in its webhook's response; Notify does not, so the answer is a text of
its own, sent after the received-text callback has been stored and committed (a duplicate
callback finds its key taken and sends nothing). An answer that cannot be sent is recorded, and
a conversation it leaves without an outcome goes to review as ``unclear`` with the reason: the
patient is waiting for a question that never came, and a person should ring them.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy.orm import Session, sessionmaker

from app.conversations.events import attempt_by_token, store_event
from app.conversations.webhooks import TextReplies
from app.db import utcnow
from app.models import Outcome, Pathway
from app.outcomes.service import record_outcome
from app.telephony.provider import Provider, SmsRequest

log = logging.getLogger(__name__)
SOURCE = "notify"
UNSENT_NOTE = "the service's next text could not be sent through Notify; please ring the patient"


def send_replies(
    *,
    provider: Provider,
    session_factory: sessionmaker[Session],
    to: str,
    replies: TextReplies,
) -> None:
    """Text the patient (or stranger) the service's answer through Notify."""
    for message in replies.messages:
        request = SmsRequest(
            to=to,
            token=replies.attempt_token or "",
            body=message,
            kind=replies.kind,
            via=SOURCE,
            turn=replies.turn,
        )
        try:
            provider.send_sms(request)
        except Exception as error:  # every failure is recorded; none is lost
            log.warning("an answer through Notify was not sent (%s)", type(error).__name__)
            with session_factory() as session:
                reply_not_sent(session, replies=replies, reason=str(error))
                session.commit()


def reply_not_sent(session: Session, *, replies: TextReplies, reason: str) -> None:
    """Record an answer that did not go; an undecided conversation goes to a person."""
    attempt = attempt_by_token(session, replies.attempt_token or "")
    store_event(
        session,
        kind="reply-unsent",
        external_key=f"reply-unsent:{secrets.token_hex(8)}",
        payload={"kind": replies.kind, "turn": str(replies.turn), "error": reason[:500]},
        contact_attempt_id=attempt.id if attempt else None,
        source=SOURCE,
    )
    if attempt is None:
        return  # a courtesy message to a stranger: nothing waits on it
    pathway = session.get(Pathway, attempt.pathway_id)
    if pathway is not None and pathway.outcome is Outcome.PENDING:
        record_outcome(
            session,
            pathway=pathway,
            outcome=Outcome.UNCLEAR,
            campaign_id=attempt.campaign_id,
            contact_attempt_id=attempt.id,
            note=UNSENT_NOTE,
            now=utcnow(),
        )
