"""GOV.UK Notify's callbacks: delivery receipts and received texts, bearer-token checked.

Notify sends JSON with ``Authorization: Bearer <the token set on its callbacks page>``. A missing
token gets 401, a wrong one 403, and neither writes anything; a body that is not a JSON object
gets 400. Notify's words are read by ``app.telephony.notify_events``, never here.
"""

from __future__ import annotations

import hmac
import json
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, HTTPException, Request, Response

from app.conversations import webhooks
from app.conversations.context import ConversationContext
from app.conversations.notify import SOURCE, send_replies
from app.telephony.notify_events import from_notify_inbound, from_notify_status
from app.web.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/webhooks/notify", tags=["webhooks"])

CALLBACK: dict[int | str, dict[str, Any]] = {
    204: {"description": "Stored (a duplicate changes nothing)"},
    400: {"description": "The body is not a JSON object; nothing was written"},
    401: {"description": "No bearer token; nothing was written"},
    403: {"description": "Wrong bearer token; nothing was written"},
}


async def verified_payload(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The callback's JSON, once its bearer token matches ``WAITLIST_NOTIFY_CALLBACK_TOKEN``."""
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise HTTPException(
            status_code=401,
            detail="a bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.notify_callback_token
    if expected is None or not hmac.compare_digest(
        presented.encode(), expected.get_secret_value().encode()
    ):
        raise HTTPException(status_code=403, detail="invalid bearer token")
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(status_code=400, detail="the body must be JSON") from exc
    if not isinstance(payload, dict):
        raise HTTPException(status_code=400, detail="the body must be a JSON object")
    return payload


VerifiedPayload = Annotated[dict[str, Any], Depends(verified_payload)]


def _raw(payload: dict[str, Any]) -> dict[str, str]:
    """The callback as it came, one string per field, for the stored event."""
    return {
        str(name): value if isinstance(value, str) else json.dumps(value)
        for name, value in payload.items()
    }


@router.post("/status", status_code=204, response_class=Response, responses=CALLBACK)
def delivery_status(payload: VerifiedPayload, session: SessionDep) -> Response:
    """A text's delivery receipt; its ``reference`` is the attempt's token."""
    token, receipt = from_notify_status(payload)
    webhooks.on_sms_status(session, token=token, event=receipt, raw=_raw(payload), source=SOURCE)
    session.commit()  # here, in the route's thread: see app.web.webhooks.routes
    return Response(status_code=204)


@router.post("/received-text", status_code=204, response_class=Response, responses=CALLBACK)
def received_text(
    payload: VerifiedPayload,
    session: SessionDep,
    request: Request,
    background: BackgroundTasks,
) -> Response:
    """A text to the service's Notify number: the same SMS conversation as through Twilio.

    The answer is sent through Notify after this request has committed.
    """
    text = from_notify_inbound(payload)
    context: ConversationContext = request.app.state.conversation_context
    replies = webhooks.answer_text(
        session, text=text, raw=_raw(payload), context=context, source=SOURCE
    )
    session.commit()  # here, in the route's thread: see app.web.webhooks.routes
    provider = request.app.state.notify
    if replies.messages and provider is not None:
        background.add_task(
            send_replies,
            provider=provider,
            session_factory=request.app.state.session_factory,
            to=text.sender,
            replies=replies,
        )
    return Response(status_code=204)
