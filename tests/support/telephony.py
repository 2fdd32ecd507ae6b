"""Signed Twilio requests and contact attempts for telephony tests."""

from __future__ import annotations

import datetime as dt
import itertools
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import utcnow
from app.models import (
    AttemptStatus,
    CallScript,
    Campaign,
    Channel,
    ContactAttempt,
    Pathway,
    Patient,
)
from app.telephony.signature import SIGNATURE_HEADER, compute_signature

_numbers = itertools.count(1)
ACCOUNT_SID = "AC" + "a" * 32


def call_sid() -> str:
    """A fresh Twilio-shaped call SID."""
    return "CA" + secrets.token_hex(16)


def call_params(sid: str, to: str = "+447700900123", **extra: str) -> dict[str, str]:
    """The parameters Twilio sends with every request about a call (twilio.md's example)."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": "in-progress",
        "Direction": "outbound-api",
        "From": "+441134960000",
        "To": to,
        "Called": to,
        "Caller": "+441134960000",
        "FromCountry": "GB",
        "ToCountry": "GB",
        **extra,
    }


def status_params(sid: str, status: str, sequence: int, **extra: str) -> dict[str, str]:
    """A call-progress callback."""
    return call_params(
        sid,
        CallStatus=status,
        SequenceNumber=str(sequence),
        CallbackSource="call-progress-events",
        Timestamp="Sun, 22 Nov 2026 10:00:00 +0000",
        **extra,
    )


async def post_signed(
    client: httpx.AsyncClient,
    settings: Settings,
    path: str,
    params: Mapping[str, str | Sequence[str]],
    *,
    signature: str | None = None,
) -> httpx.Response:
    """POST ``params`` to ``path`` signed as Twilio signs it for our public base URL."""
    url = settings.public_base_url + path
    sig = (
        signature
        if signature is not None
        else compute_signature(settings.webhook_auth_token, url, params)
    )
    return await client.post(path, data=dict(params), headers={SIGNATURE_HEADER: sig})


def make_call_script(session: Session, **fields: Any) -> CallScript:
    """A call script row (the content the campaign runs)."""
    script = CallScript(
        flow_id=fields.pop("flow_id", "standard-validation"),
        version=fields.pop("version", 1),
        content_hash=fields.pop("content_hash", secrets.token_hex(32)),
        title="Test script",
        language="en-GB",
        content=fields.pop("content", ""),
        **fields,
    )
    session.add(script)
    session.flush()
    return script


def make_attempt(
    session: Session,
    *,
    pathway: Pathway,
    status: AttemptStatus = AttemptStatus.PLACING,
    channel: Channel = Channel.VOICE,
    call_script: CallScript | None = None,
    **fields: Any,
) -> ContactAttempt:
    """A contact attempt for ``pathway`` in ``status``, with an unguessable token."""
    script = call_script or make_call_script(session)
    campaign = Campaign(
        name=f"campaign-{next(_numbers)}", cohort_id=pathway.cohort_id, call_script_id=script.id
    )
    session.add(campaign)
    session.flush()
    attempt = ContactAttempt(
        campaign_id=campaign.id,
        pathway_id=pathway.id,
        patient_id=pathway.patient_id,
        attempt_number=1,
        channel=channel,
        status=status,
        token=secrets.token_urlsafe(24),
        due_at=utcnow() - dt.timedelta(minutes=1),
        **fields,
    )
    session.add(attempt)
    session.flush()
    return attempt


def validation_script(session: Session, flow_id: str = "standard-validation") -> CallScript:
    """The ``call_script`` row for the shipped script, exactly as the app has loaded it."""
    from app.config import get_settings
    from app.flows import ensure_call_script, load_registry

    registry = load_registry(get_settings().flows_path)
    return ensure_call_script(session, registry.get(flow_id))


def make_reachable_pathway(
    session: Session,
    *,
    mobile_phone: str | None = None,
    landline_phone: str | None = None,
    **fields: Any,
) -> Pathway:
    """A pathway whose patient has exactly these (drama-range) numbers."""
    from tests.support.factories import make_pathway

    pathway = make_pathway(session, **fields)
    patient = session.get(Patient, pathway.patient_id)
    assert patient is not None
    patient.mobile_phone = mobile_phone
    patient.landline_phone = landline_phone
    session.flush()
    return pathway
