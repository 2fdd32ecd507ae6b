"""The offline provider: it plays Twilio, driving our own webhooks over HTTP with signed requests.

``place_call``/``send_sms`` answer at once with a Twilio-shaped SID; a thread pool then plays
the contact (status callbacks, the voice URL, gathers answered by a synthetic patient, AMD,
SMS delivery receipts and replies) against ``public_base_url``, signed exactly as Twilio signs.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import logging
import random
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import httpx

from app.telephony.events import (
    CALL_EVENTS,
    FINAL_CALL_STATUSES,
    statuses_for,
    twilio_state,
)
from app.telephony.personas import (
    Directory,
    Intent,
    SimulatedPerson,
    answer_for,
    choose_intent,
)
from app.telephony.provider import (
    CallRequest,
    ChannelName,
    Placed,
    ProviderContact,
    SmsRequest,
)
from app.telephony.signature import SIGNATURE_HEADER, compute_signature

log = logging.getLogger(__name__)

STOP_REPLIES = ("STOP", "Stop", "UNSUBSCRIBE", "stop")
MAX_TURNS = 12
# Seconds an idle connection to our webhooks is kept for reuse (below the server's timeout).
KEEPALIVE_SECONDS = 2.0


class _CallAbandonedError(Exception):
    """A simulated call ran past its time limit; it stops, as a dropped call would."""


def new_sid(prefix: str) -> str:
    """A Twilio-shaped id: two letters and 32 hex characters."""
    return prefix + secrets.token_hex(16)


@dataclass
class _Contact:
    channel: ChannelName
    to: str
    status: str
    created_at: dt.datetime


@dataclass
class _Call:
    """The state of one simulated call while it is being played."""

    sid: str
    token: str
    request: CallRequest
    rng: random.Random
    sequence: itertools.count[int] = field(default_factory=itertools.count)
    held: list[dict[str, str]] = field(default_factory=list)
    seconds: int = 0
    deadline: float = float("inf")  # time.monotonic() after which nothing more is posted


class SimulatorProvider:
    """A peer of TwilioProvider that needs no network beyond our own web app."""

    name = "simulator"

    def __init__(
        self,
        *,
        public_base_url: str,
        auth_token: str,
        directory: Directory,
        from_number: str = "+441134960000",
        sms_number: str = "+447700900001",
        duplicate_rate: float = 0.05,
        reorder_rate: float = 0.05,
        step_delay_seconds: float = 0.0,
        seed: int | None = None,
        workers: int = 8,
        http_timeout_seconds: float = 15.0,
        max_call_seconds: float | None = None,
        call_events: tuple[str, ...] = CALL_EVENTS,
    ) -> None:
        self._base = public_base_url.rstrip("/")
        self._token = auth_token
        self._directory = directory
        self._from = from_number
        self._sms_number = sms_number
        self._duplicate_rate = duplicate_rate
        self._reorder_rate = reorder_rate
        # As Twilio: only the statuses of the events asked for are posted (the production
        # request's by default; the fault suites ask for all, to have more to reorder).
        self._statuses = statuses_for(call_events)
        self._delay = step_delay_seconds
        self._seed = seed
        self._account_sid = "AC" + "0" * 32
        # Idle connections are dropped well before the server's keep-alive timeout (uvicorn's is
        # 5 s, httpx's default expiry too): reusing one the server is closing at that moment
        # fails the request with a connection reset, a race of the harness, not of the app.
        self._http = httpx.Client(
            timeout=http_timeout_seconds, limits=httpx.Limits(keepalive_expiry=KEEPALIVE_SECONDS)
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="simulator")
        self._lock = threading.Lock()
        self._in_flight: set[Future[None]] = set()
        self._contacts: dict[str, _Contact] = {}
        # Every post of a call may wait the step delay; a call makes at most this many posts.
        posts = 2 * MAX_TURNS + 8
        self._max_call_seconds = (
            max_call_seconds if max_call_seconds is not None else 300.0 + posts * self._delay
        )
        self._http_timeout_seconds = http_timeout_seconds

    @property
    def longest_call(self) -> dt.timedelta:
        """No simulated call lasts longer: its thread lives in this process and stops by then.

        So an attempt quiet for longer was played by a process that died (a SIGKILLed worker),
        and no webhook will ever come: the worker may settle it long before Twilio's 2 hours.
        """
        return dt.timedelta(seconds=self._max_call_seconds + self._http_timeout_seconds)

    # -- the Provider protocol -------------------------------------------------------------

    def place_call(self, request: CallRequest) -> Placed:
        """Accept the call and play it in the background."""
        sid = new_sid("CA")
        self._remember(sid, "voice", request.to, "queued")
        self._submit(self._play_call, sid, request)
        return Placed(sid=sid)

    def send_sms(self, request: SmsRequest) -> Placed:
        """Accept the text and play its delivery (and perhaps a reply) in the background."""
        sid = new_sid("SM")
        self._remember(sid, "sms", request.to, "queued")
        self._submit(self._play_sms, sid, request)
        return Placed(sid=sid)

    def find_contact(
        self, *, channel: ChannelName, to: str, since: dt.datetime, sid: str | None = None
    ) -> ProviderContact | None:
        """What the simulator placed to ``to`` since ``since`` (newest first)."""
        with self._lock:
            found = [
                (key, c)
                for key, c in self._contacts.items()
                if (sid is None or key == sid)
                and c.channel == channel
                and c.to == to
                and c.created_at >= since
            ]
        if not found:
            return None
        key, contact = max(found, key=lambda item: item[1].created_at)
        return ProviderContact(
            sid=key, state=twilio_state(contact.status), created_at=contact.created_at
        )

    # -- running -----------------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every simulated contact has finished; False if some still run."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = set(self._in_flight)
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(pending, timeout=remaining)

    def close(self) -> None:
        """Stop accepting work, finish what runs, and release the HTTP client."""
        self._pool.shutdown(wait=True)
        self._http.close()

    def _submit(self, function: object, sid: str, request: object) -> None:
        future: Future[None] = self._pool.submit(self._guarded, function, sid, request)
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _guarded(self, function: object, sid: str, request: object) -> None:
        try:
            assert callable(function)
            function(sid, request)
        except Exception:
            log.exception("simulated contact failed")

    def _remember(self, sid: str, channel: ChannelName, to: str, status: str) -> None:
        with self._lock:
            contact = self._contacts.get(sid)
            if contact is None:
                self._contacts[sid] = _Contact(channel, to, status, dt.datetime.now(dt.UTC))
            else:
                contact.status = status

    def _rng(self, sid: str) -> random.Random:
        # Simulated behaviour, not security: a seeded generator makes runs reproducible.
        return random.Random(f"{self._seed}:{sid}" if self._seed is not None else None)  # noqa: S311

    def _post(self, url: str, params: dict[str, str]) -> httpx.Response:
        if self._delay:
            time.sleep(self._delay)
        signature = compute_signature(self._token, url, params)
        return self._http.post(url, data=params, headers={SIGNATURE_HEADER: signature})

    # -- calls -------------------------------------------------------------------------------

    def _post_for(self, call: _Call, url: str, params: dict[str, str]) -> httpx.Response:
        if time.monotonic() > call.deadline:
            raise _CallAbandonedError(call.sid)
        return self._post(url, params)

    def _call_params(self, call: _Call) -> dict[str, str]:
        return {
            "AccountSid": self._account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": "in-progress",
            "Direction": "outbound-api",
            "From": self._from,
            "To": call.request.to,
            "Called": call.request.to,
            "Caller": self._from,
            "FromCountry": "GB",
            "ToCountry": "GB",
        }

    def _status(self, call: _Call, status: str, **extra: str) -> None:
        self._remember(call.sid, "voice", call.request.to, status)
        if status not in self._statuses:
            return  # an event nobody asked for: Twilio posts nothing
        params = self._call_params(call) | {
            "CallStatus": status,
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(next(call.sequence)),
            "Timestamp": email.utils.formatdate(usegmt=True),
            **extra,
        }
        url = f"{self._base}/webhooks/twilio/status/{call.token}"
        final = status in FINAL_CALL_STATUSES
        if not final and call.rng.random() < self._reorder_rate:
            call.held.append(params)  # delivered late, after a later event
            return
        self._post_for(call, url, params)
        for late in call.held:
            self._post_for(call, url, late)
        call.held.clear()
        if call.rng.random() < self._duplicate_rate:
            self._post_for(call, url, params)

    def _play_call(self, sid: str, request: CallRequest) -> None:
        deadline = time.monotonic() + self._max_call_seconds
        call = _Call(
            sid=sid, token=request.token, request=request, rng=self._rng(sid), deadline=deadline
        )
        try:
            self._play(call)
        except _CallAbandonedError:
            self._remember(sid, "voice", request.to, "failed")
            log.warning("simulated call ran past %s s; dropped", self._max_call_seconds)

    def _play(self, call: _Call) -> None:
        request = call.request
        person = self._directory(request.to)
        persona = person.persona if person else None
        self._status(call, "initiated")
        roll = call.rng.random()
        if person is None or persona is None or roll < persona.unreachable_rate:
            self._status(call, "failed", SipResponseCode="404", CallDuration="0")
            return
        self._status(call, "ringing")
        if roll < persona.unreachable_rate + persona.busy_rate:
            self._status(call, "busy", SipResponseCode="486", CallDuration="0")
            return
        answered = call.rng.random() < persona.answer_rate
        machine = not answered and call.rng.random() < persona.voicemail_rate
        if not answered and not machine:
            self._status(call, "no-answer", SipResponseCode="487", CallDuration="0")
            return
        self._status(call, "in-progress")
        self._converse(call, person, machine=machine)
        self._status(
            call,
            "completed",
            CallDuration=str(max(call.seconds, 1)),
            Duration=str(max(1, (call.seconds + 59) // 60)),
            SipResponseCode="200",
        )

    def _amd(self, call: _Call, answered_by: str) -> None:
        self._post_for(
            call,
            f"{self._base}/webhooks/twilio/amd/{call.token}",
            {
                "AccountSid": self._account_sid,
                "CallSid": call.sid,
                "AnsweredBy": answered_by,
                "MachineDetectionDuration": "4200" if answered_by.startswith("machine") else "2300",
            },
        )

    def _converse(self, call: _Call, person: SimulatedPerson, *, machine: bool) -> None:
        """Fetch the voice URL, then answer each Gather until the TwiML stops asking."""
        persona = person.persona
        intent = choose_intent(persona, call.rng)
        hang_up_at = call.rng.randint(1, 4) if call.rng.random() < persona.hang_up_rate else None
        params = self._call_params(call)
        twiml = self._post_for(
            call, f"{self._base}/webhooks/twilio/voice/{call.token}", params
        ).text
        self._amd(call, "machine_end_beep" if machine else "human")
        for turn in range(1, MAX_TURNS + 1):
            gather = _first_gather(twiml)
            call.seconds += 6
            if gather is None:
                redirect = _redirect_url(twiml)
                if redirect is None:
                    return
                twiml = self._post_for(call, redirect, params).text
                continue
            if hang_up_at is not None and turn >= hang_up_at:
                return
            action, prompt = gather
            heard = {} if machine else self._heard(call, person, intent, prompt)
            twiml = self._post_for(call, action, params | heard).text

    def _heard(
        self, call: _Call, person: SimulatedPerson, intent: Intent, prompt: str
    ) -> dict[str, str]:
        """What Twilio reports for one Gather: Digits, SpeechResult (+Confidence), or nothing."""
        if call.rng.random() < person.persona.silence_rate:
            return {}
        digits, words = answer_for(prompt, person, intent)
        if (intent.speech or intent.spoken_only) and len(digits) == 1:
            heard = {"SpeechResult": words.capitalize() + "."}
            if call.rng.random() >= person.persona.speech_without_confidence_rate:
                heard["Confidence"] = f"{call.rng.uniform(0.55, 0.98):.4f}"
            return heard
        return {"Digits": digits, "FinishedOnKey": "", "msg": "Gather End"}

    # -- SMS ---------------------------------------------------------------------------------

    def _play_sms(self, sid: str, request: SmsRequest) -> None:
        rng = self._rng(sid)
        person = self._directory(request.to)
        status_url = f"{self._base}/webhooks/twilio/sms-status/{request.token}"
        base = {
            "AccountSid": self._account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "SmsSid": sid,
            "From": self._sms_number,
            "To": request.to,
        }
        self._post(status_url, base | {"MessageStatus": "sent", "SmsStatus": "sent"})
        if person is None:
            self._remember(sid, "sms", request.to, "undelivered")
            self._post(
                status_url,
                base
                | {"MessageStatus": "undelivered", "SmsStatus": "undelivered"}
                | {"ErrorCode": "30003"},
            )
            return
        self._remember(sid, "sms", request.to, "delivered")
        delivered = base | {"MessageStatus": "delivered", "SmsStatus": "delivered"}
        self._post(status_url, delivered | {"RawDlrDoneDate": time.strftime("%y%m%d%H%M")})
        if rng.random() < self._duplicate_rate:
            self._post(status_url, delivered)
        if request.kind != "opening":
            # A notice (the pre-call text, a reminder) is read, not answered: only the opening
            # of a conversation asks anything the simulated person could reply to.
            return
        if rng.random() >= person.persona.sms_reply_rate:
            return
        intent = choose_intent(person.persona, rng)
        text = request.body
        for _turn in range(MAX_TURNS):
            if rng.random() < person.persona.stop_rate:
                self._inbound(request.to, rng.choice(STOP_REPLIES))
                return
            digits, words = answer_for(text, person, intent)
            reply = words if (intent.speech or intent.spoken_only) and len(digits) == 1 else digits
            text = _message_text(self._inbound(request.to, reply))
            if not text or ("?" not in text and "reply" not in text.lower()):
                return

    def _inbound(self, sender: str, body: str) -> str:
        sid = new_sid("SM")
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self._account_sid,
            "MessagingServiceSid": "MG" + "0" * 32,
            "From": sender,
            "To": self._sms_number,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
            "SmsStatus": "received",
            "ApiVersion": "2010-04-01",
            "FromCountry": "GB",
            "ToCountry": "GB",
        }
        if body.strip().upper() in ("STOP", "UNSUBSCRIBE", "START", "HELP"):
            keyword = body.strip().upper()
            params["OptOutType"] = "STOP" if keyword == "UNSUBSCRIBE" else keyword
        return self._post(f"{self._base}/webhooks/twilio/sms", params).text


def _parse(twiml: str) -> ET.Element | None:
    try:
        # Our own app's TwiML, fetched over loopback: trusted input.
        return ET.fromstring(twiml)  # noqa: S314
    except ET.ParseError:
        return None


def _first_gather(twiml: str) -> tuple[str, str] | None:
    """The action URL and spoken prompt of the TwiML's Gather, if it asks anything."""
    root = _parse(twiml)
    gather = None if root is None else root.find("Gather")
    if gather is None:
        return None
    prompt = " ".join(say.text or "" for say in gather.iter("Say"))
    return gather.get("action", ""), prompt


def _redirect_url(twiml: str) -> str | None:
    root = _parse(twiml)
    redirect = None if root is None else root.find("Redirect")
    return None if redirect is None else (redirect.text or "").strip() or None


def _message_text(twiml: str) -> str:
    root = _parse(twiml)
    if root is None:
        return ""
    return " ".join(
        (message.findtext("Body") or message.text or "").strip() for message in root.iter("Message")
    ).strip()
