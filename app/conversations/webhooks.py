"""One function per Twilio webhook: store the raw event first, then apply it (idempotently)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.attempts import advance
from app.conversations import calls, dialogue, sms
from app.conversations.context import ConversationContext
from app.conversations.events import SOURCE, attempt_by_token, store_event
from app.db import utcnow
from app.flows import Heard, render_sms, voice_prompt
from app.models import AttemptStatus, ContactAttempt
from app.notices import apply_receipt, notice_by_token
from app.telephony.events import (
    CallAnswered,
    CallProgress,
    DeliveryReceipt,
    GatherInput,
    InboundText,
    MachineDetection,
)
from app.telephony.twiml import empty_response, message_response, voice_response, voice_twiml

# The provider's callback exactly as it came, stored with each event (the typed event is what
# is acted on).
AllParams = Mapping[str, Sequence[str]]

# Built once and run as Core: an ORM flush of the one changed attribute cost several times the
# UPDATE itself on every voice turn.
_WRITE_CONVERSATION = update(ContactAttempt).where(ContactAttempt.id == bindparam("attempt_id"))


def _store_then_apply(
    session: Session,
    *,
    token: str,
    kind: str,
    key: str,
    raw: AllParams,
    apply: Callable[[ContactAttempt], object],
    source: str = SOURCE,
    otherwise: Callable[[], bool] | None = None,
) -> None:
    """Store the event once under ``key``; apply it only the first time, and only to a known
    attempt (an unknown token is recorded and changes nothing). ``otherwise`` may claim a
    token that is no attempt's (a notice's); True if it did."""
    attempt = attempt_by_token(session, token)
    if attempt is None:
        if otherwise is not None and otherwise():
            return
        store_event(session, kind=f"{kind}-unknown", external_key=key, payload=raw, source=source)
        return
    if store_event(
        session,
        kind=kind,
        external_key=key,
        payload=raw,
        contact_attempt_id=attempt.id,
        source=source,
    ):
        apply(attempt)


def on_call_status(session: Session, *, token: str, event: CallProgress, raw: AllParams) -> None:
    """A call-progress callback: stored under (CallSid, SequenceNumber), applied if new."""
    _store_then_apply(
        session,
        token=token,
        kind="call-status",
        key=f"call-status:{event.call_sid}:{event.sequence}",
        raw=raw,
        apply=lambda attempt: calls.apply_call_status(session, attempt=attempt, event=event),
    )


def on_amd(session: Session, *, token: str, event: MachineDetection, raw: AllParams) -> None:
    """Asynchronous answering-machine detection: a machine ends the attempt as voicemail."""
    _store_then_apply(
        session,
        token=token,
        kind="amd",
        key=f"amd:{event.call_sid}",
        raw=raw,
        apply=lambda attempt: calls.apply_amd(session, attempt=attempt, event=event),
    )


def on_sms_status(
    session: Session,
    *,
    token: str,
    event: DeliveryReceipt,
    raw: AllParams,
    source: str = SOURCE,
) -> None:
    """A delivery receipt, stored under (message id, status): a text of a conversation's, or a
    notice's (the pre-call text, a reminder), whose token is its own."""
    _store_then_apply(
        session,
        token=token,
        kind="sms-status",
        key=f"sms-status:{event.message_sid}:{event.status_word}",
        raw=raw,
        apply=lambda attempt: sms.apply_sms_status(session, attempt=attempt, event=event),
        source=source,
        otherwise=lambda: _notice_receipt(session, token, event=event, raw=raw, source=source),
    )


def _notice_receipt(
    session: Session, token: str, *, event: DeliveryReceipt, raw: AllParams, source: str
) -> bool:
    """A notice's delivery receipt, stored once and recorded on it; False: no notice's token."""
    notice = notice_by_token(session, token)
    if notice is None:
        return False
    key = f"notice-status:{event.message_sid}:{event.status_word}"
    if store_event(session, kind="notice-status", external_key=key, payload=raw, source=source):
        apply_receipt(
            session,
            notice=notice,
            state=event.state,
            sid=event.message_sid,
            error_code=event.error_code or event.status_word,
        )
    return True


def _say(
    session: Session,
    turn: dialogue.Turn,
    *,
    attempt: ContactAttempt,
    token: str,
    context: ConversationContext,
    number: int,
) -> str:
    """A voice turn as TwiML; what the script says is kept, so a retry gets exactly the same."""
    if isinstance(turn, dialogue.MachineOnly):
        return voice_response(turn.lines)
    if isinstance(turn, dialogue.Replay):
        twiml = (attempt.conversation or {}).get("twiml")
        return str(twiml) if twiml else voice_response([])
    step = turn.reply.question.step if turn.reply.question else "end"
    url = context.gather_url(token, step=step, number=number)
    twiml = voice_twiml(voice_prompt(turn.reply, turn.script, action_url=url))
    conversation = {**(attempt.conversation or {}), "twiml": twiml}
    session.connection().execute(
        _WRITE_CONVERSATION, {"attempt_id": attempt.id, "conversation": conversation}
    )
    # The object now holds what the row holds, with no change left for the commit to flush
    # (which would otherwise write the turn's state again, without the TwiML).
    set_committed_value(attempt, "conversation", conversation)
    return twiml


def _heard(gathered: GatherInput) -> Heard:
    """What the caller gave as the engine's input: keys, speech (maybe unrated), or none."""
    if gathered.digits:
        return Heard(kind="dtmf", text=gathered.digits)
    if gathered.speech:
        return Heard(kind="speech", text=gathered.speech, confidence=gathered.confidence)
    return Heard(kind="none")


def on_voice(
    session: Session,
    *,
    token: str,
    event: CallAnswered,
    raw: AllParams,
    context: ConversationContext,
) -> str:
    """The call was answered: greet at once and ask the first question (TwiML).

    A retried request gets the same TwiML again; a machine gets only the voicemail message.
    """
    attempt = attempt_by_token(session, token)
    call_sid = event.call_sid
    key = f"voice:{call_sid}"
    if attempt is None:
        store_event(session, kind="voice-unknown", external_key=key, payload=raw)
        return empty_response()
    new = store_event(
        session, kind="voice", external_key=key, payload=raw, contact_attempt_id=attempt.id
    )
    if not new:
        # A duplicate may have waited on the first request's insert (PostgreSQL): read the
        # attempt as that request left it, so the same TwiML is sent again.
        session.refresh(attempt)
    calls.record_sid(session, attempt=attempt, sid=call_sid)
    advance(session, attempt_id=attempt.id, to=AttemptStatus.IN_PROGRESS, answered_at=utcnow())
    turn = dialogue.take_turn(session, attempt=attempt, context=context, channel="voice", fresh=new)
    return _say(session, turn, attempt=attempt, token=token, context=context, number=0)


def on_gather(
    session: Session,
    *,
    token: str,
    step: str,
    number: int,
    event: GatherInput,
    raw: AllParams,
    context: ConversationContext,
) -> str:
    """An answer to the question ``step`` (turn ``number``): store it once, say what comes next."""
    attempt = attempt_by_token(session, token)
    key = f"gather:{event.call_sid}:{step}:{number}"
    if attempt is None:
        store_event(session, kind="gather-unknown", external_key=key, payload=raw)
        return empty_response()
    new = store_event(
        session, kind="gather", external_key=key, payload=raw, contact_attempt_id=attempt.id
    )
    if not new:
        # A duplicate: Twilio's retry, or a concurrent copy that waited on the first request's
        # insert (PostgreSQL). Read the attempt as the first request left it, and repeat its TwiML.
        session.refresh(attempt)
    turn = dialogue.take_turn(
        session,
        attempt=attempt,
        context=context,
        channel="voice",
        heard=_heard(event),
        fresh=new,
        at=(step, number),
    )
    return _say(session, turn, attempt=attempt, token=token, context=context, number=number + 1)


@dataclass(frozen=True)
class TextReplies:
    """What the service answers an inbound text with: nothing, fixed courtesy words, or the
    script's next words in the patient's conversation (``attempt_token``, at ``turn``)."""

    messages: tuple[str, ...] = ()
    kind: str = "courtesy"
    attempt_token: str | None = None
    turn: int | None = None


def _courtesy(message: str) -> TextReplies:
    return TextReplies(messages=(message,))


def answer_text(
    session: Session,
    *,
    text: InboundText,
    raw: AllParams,
    context: ConversationContext,
    source: str = SOURCE,
) -> TextReplies:
    """A text from anyone: STOP/START, an answer to an open conversation, or a polite reply.

    Whichever provider the text came through (Twilio answers in its webhook's response, Notify
    by a text sent afterwards), it is stored once under its id and changes nothing the second time.
    """
    courtesy = sms.Courtesy(context.organisation_name, context.callback_number)
    patients = sms.patients_with_number(session, text.sender)
    key = f"sms:{text.message_sid}"
    open_attempt = sms.open_sms_attempt(session, patients=patients)
    if not store_event(
        session,
        kind="sms" if patients else "sms-unknown",
        external_key=key,
        payload=raw,
        contact_attempt_id=open_attempt.id if open_attempt else None,
        source=source,
    ):
        return TextReplies()
    if not patients:
        return _courtesy(courtesy.unknown_sender())
    word = sms.keyword(text)
    provider_confirms = text.opt_out is not None
    if word == "STOP":
        sms.opt_out(session, patients=patients)
        return TextReplies() if provider_confirms else _courtesy(courtesy.opted_out())
    if word == "START" or (
        text.opt_out == "start" and any(p.opted_out_at is not None for p in patients)
    ):
        sms.opt_in(session, patients=patients)
        return TextReplies() if provider_confirms else _courtesy(courtesy.opted_in())
    if all(p.opted_out_at is not None for p in patients):
        # No automated message after an opt-out, not even a courtesy one; the text is stored.
        return TextReplies()
    if open_attempt is None:
        return _courtesy(courtesy.unknown_sender())
    turn = dialogue.take_turn(
        session,
        attempt=open_attempt,
        context=context,
        channel="sms",
        heard=Heard(kind="sms", text=text.body),
    )
    if isinstance(turn, dialogue.Spoken):
        return TextReplies(
            messages=(render_sms(turn.reply, turn.script),),
            kind="reply",
            attempt_token=open_attempt.token,
            turn=int((open_attempt.conversation or {}).get("turn", 0)),
        )
    return (
        TextReplies(messages=tuple(turn.lines))
        if isinstance(turn, dialogue.MachineOnly)
        else (TextReplies())
    )


def on_inbound_sms(
    session: Session, *, text: InboundText, raw: AllParams, context: ConversationContext
) -> str:
    """A text through Twilio: the answer goes back as the webhook's TwiML."""
    replies = answer_text(session, text=text, raw=raw, context=context)
    return message_response(list(replies.messages)) if replies.messages else empty_response()
