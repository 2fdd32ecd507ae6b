"""The real provider: Twilio's REST API through the ``twilio`` library."""

from __future__ import annotations

import datetime as dt
from typing import Any

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from app.telephony.events import CALL_EVENTS, twilio_state
from app.telephony.numbers import is_fictional
from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    ProviderError,
    ProviderTimeoutError,
    SmsRequest,
)

# Twilio error codes that no retry can fix (the number or the patient's choice is the problem).
PERMANENT_CODES: dict[int, str] = {
    21211: "invalid 'To' number",
    21214: "'To' number cannot be reached",
    21217: "phone number does not appear to be valid",
    21610: "recipient has unsubscribed (replied STOP)",
    21614: "'To' number is not a mobile number",
}
# Codes that say "later": rate limited or queue full.
RETRYABLE_CODES: dict[int, str] = {20429: "too many requests", 20003: "authentication failed"}


def map_error(exc: TwilioRestException) -> ProviderError:
    """Our ProviderError for a Twilio REST error: permanent when no retry can help."""
    code = exc.code
    if code in PERMANENT_CODES:
        return ProviderError(PERMANENT_CODES[code], permanent=True, code=str(code))
    if code in RETRYABLE_CODES or exc.status == 429 or exc.status >= 500:
        label = RETRYABLE_CODES.get(code or 0, f"Twilio answered HTTP {exc.status}")
        return ProviderError(label, permanent=False, code=str(code or exc.status))
    # Any other 4xx is a request Twilio will keep refusing: retrying the same request is pointless.
    return ProviderError(
        f"Twilio refused the request (HTTP {exc.status})",
        permanent=True,
        code=str(code or exc.status),
    )


class TwilioProvider:
    """Places calls and texts with Twilio; callbacks carry the attempt's token in their URLs."""

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_base_url: str,
        messaging_service_sid: str | None = None,
        request_timeout_seconds: float = 10.0,
        client: Any = None,
    ) -> None:
        self._client = client or Client(
            account_sid,
            auth_token,
            http_client=TwilioHttpClient(timeout=request_timeout_seconds),
        )
        self._from = from_number
        self._messaging_service_sid = messaging_service_sid
        self._base = public_base_url.rstrip("/")

    def _url(self, kind: str, token: str) -> str:
        return f"{self._base}/webhooks/twilio/{kind}/{token}"

    @staticmethod
    def _refuse_fictional(to: str) -> None:
        if is_fictional(to):
            raise ProviderError(
                "refusing to contact a fictional (drama-range) number through Twilio",
                permanent=True,
                code="fictional-number",
            )

    def place_call(self, request: CallRequest) -> Placed:
        """Ring the patient; status for every event and answering-machine detection arrive later."""
        self._refuse_fictional(request.to)
        try:
            call = self._client.calls.create(
                to=request.to,
                from_=self._from,
                url=self._url("voice", request.token),
                method="POST",
                status_callback=self._url("status", request.token),
                status_callback_event=list(CALL_EVENTS),
                status_callback_method="POST",
                machine_detection="DetectMessageEnd",
                async_amd="true",
                async_amd_status_callback=self._url("amd", request.token),
                async_amd_status_callback_method="POST",
                timeout=request.ring_timeout_seconds,
                time_limit=request.time_limit_seconds,
            )
        except TwilioRestException as exc:
            raise map_error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderTimeoutError(f"no answer from Twilio: {type(exc).__name__}") from exc
        return Placed(sid=str(call.sid))

    def send_sms(self, request: SmsRequest) -> Placed:
        """Send a text from the Messaging Service (two-way) or the configured number."""
        self._refuse_fictional(request.to)
        sender: dict[str, str] = (
            {"messaging_service_sid": self._messaging_service_sid}
            if self._messaging_service_sid
            else {"from_": self._from}
        )
        try:
            message = self._client.messages.create(
                to=request.to,
                body=request.body,
                status_callback=self._url("sms-status", request.token),
                **sender,
            )
        except TwilioRestException as exc:
            raise map_error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderTimeoutError(f"no answer from Twilio: {type(exc).__name__}") from exc
        return Placed(sid=str(message.sid))

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """What Twilio knows of the newest contact to ``to`` since ``since``, for reconciling."""
        try:
            if channel == "voice":
                records = (
                    [self._client.calls(sid).fetch()]
                    if sid
                    else self._client.calls.list(to=to, start_time_after=since, limit=20)
                )
                created = [(r.sid, r.status, r.date_created) for r in records]
            else:
                records = (
                    [self._client.messages(sid).fetch()]
                    if sid
                    else self._client.messages.list(to=to, date_sent_after=since, limit=20)
                )
                created = [(r.sid, r.status, r.date_created) for r in records]
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise map_error(exc) from exc
        except requests.RequestException as exc:
            raise ProviderTimeoutError(f"no answer from Twilio: {type(exc).__name__}") from exc
        matches = [c for c in created if c[2] is None or c[2] >= since]
        if not matches:
            return None
        sid_, status, created_at = max(matches, key=lambda c: c[2] or since)
        return ProviderContact(
            sid=str(sid_), state=twilio_state(str(status)), created_at=created_at
        )
