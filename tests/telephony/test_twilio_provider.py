"""TwilioProvider: what it asks Twilio for, and how Twilio's errors become ours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from app.telephony.events import ContactState
from app.telephony.provider import CallRequest, ProviderError, ProviderTimeoutError, SmsRequest
from app.telephony.twilio import TwilioProvider

REAL_LOOKING = "+447911123456"  # never rung: the client below is a fake at the process boundary


class FakeResource:
    """Stands in for ``client.calls`` / ``client.messages``: records requests, or raises."""

    def __init__(self, prefix: str, error: BaseException | None = None) -> None:
        self.prefix = prefix
        self.error = error
        self.created: list[dict[str, Any]] = []
        self.listed: list[Any] = []

    def create(self, **kwargs: Any) -> Any:
        if self.error is not None:
            raise self.error
        self.created.append(kwargs)
        return type("Instance", (), {"sid": self.prefix + "f" * 32})()

    def list(self, **kwargs: Any) -> list[Any]:
        if self.error is not None:
            raise self.error
        return self.listed


class FakeClient:
    def __init__(self, error: BaseException | None = None) -> None:
        self.calls = FakeResource("CA", error)
        self.messages = FakeResource("SM", error)


def provider(client: FakeClient, **overrides: Any) -> TwilioProvider:
    values: dict[str, Any] = {
        "account_sid": "AC" + "0" * 32,
        "auth_token": "secret",
        "from_number": "+441234567890",
        "public_base_url": "https://waitlist.example.nhs.uk/",
        "client": client,
    }
    values.update(overrides)
    return TwilioProvider(**values)


def test_it_asks_for_every_call_event_and_async_amd_with_the_token_in_each_url() -> None:
    client = FakeClient()

    placed = provider(client).place_call(CallRequest(to=REAL_LOOKING, token="tok123"))

    assert placed.sid.startswith("CA")
    request = client.calls.created[0]
    assert request["url"] == "https://waitlist.example.nhs.uk/webhooks/twilio/voice/tok123"
    assert (
        request["status_callback"]
        == "https://waitlist.example.nhs.uk/webhooks/twilio/status/tok123"
    )
    assert request["status_callback_event"] == ["completed"]  # every final state; no more
    assert request["async_amd"] == "true"
    assert request["async_amd_status_callback"].endswith("/webhooks/twilio/amd/tok123")
    assert request["machine_detection"]


def test_it_sends_texts_from_the_messaging_service_with_a_status_callback() -> None:
    client = FakeClient()

    provider(client, messaging_service_sid="MG" + "1" * 32).send_sms(
        SmsRequest(to=REAL_LOOKING, token="tok9", body="Hello")
    )

    request = client.messages.created[0]
    assert request["messaging_service_sid"].startswith("MG")
    assert "from_" not in request
    assert request["status_callback"].endswith("/webhooks/twilio/sms-status/tok9")


@pytest.mark.parametrize("number", ["+447700900123", "+441134960999", "+442079460000"])
def test_it_refuses_to_ring_or_text_a_drama_range_number(number: str) -> None:
    client = FakeClient()

    with pytest.raises(ProviderError) as call_error:
        provider(client).place_call(CallRequest(to=number, token="t"))
    with pytest.raises(ProviderError) as sms_error:
        provider(client).send_sms(SmsRequest(to=number, token="t", body="x"))

    assert call_error.value.permanent and sms_error.value.permanent
    assert client.calls.created == [] and client.messages.created == []


@pytest.mark.parametrize(
    ("status", "code", "permanent"),
    [
        (400, 21211, True),  # invalid To
        (400, 21214, True),  # To unreachable
        (400, 21217, True),  # voice number invalid
        (400, 21610, True),  # unsubscribed (STOP)
        (400, 21614, True),  # not a mobile
        (429, 20429, False),  # rate limited: always safe to retry
        (500, None, False),
        (503, 20500, False),
    ],
)
def test_it_maps_twilio_errors_to_permanent_or_retryable(
    status: int, code: int | None, permanent: bool
) -> None:
    error = TwilioRestException(status, "https://api.twilio.com/x", "refused", code=code)

    def call(p: TwilioProvider) -> object:
        return p.place_call(CallRequest(to=REAL_LOOKING, token="t"))

    def text(p: TwilioProvider) -> object:
        return p.send_sms(SmsRequest(to=REAL_LOOKING, token="t", body="x"))

    for send in (call, text):
        with pytest.raises(ProviderError) as raised:
            send(provider(FakeClient(error)))
        assert raised.value.permanent is permanent
        assert raised.value.code == str(code or status)
        assert not isinstance(raised.value, ProviderTimeoutError)


@pytest.mark.parametrize(
    "error", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError()]
)
def test_a_timeout_leaves_the_contact_in_doubt(error: Exception) -> None:
    with pytest.raises(ProviderTimeoutError) as raised:
        provider(FakeClient(error)).place_call(CallRequest(to=REAL_LOOKING, token="t"))

    assert raised.value.permanent is False


def test_it_finds_the_newest_contact_for_reconciliation() -> None:
    client = FakeClient()
    since = dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC)
    record = type("Record", (), {})
    old, new = record(), record()
    old.sid, old.status, old.date_created = "CA1", "completed", since + dt.timedelta(minutes=1)
    new.sid, new.status, new.date_created = "CA2", "ringing", since + dt.timedelta(minutes=5)
    client.calls.listed = [old, new]

    found = provider(client).find_contact(channel="voice", to=REAL_LOOKING, since=since)

    assert found is not None and (found.sid, found.state) == ("CA2", ContactState.PLACED)
    client.calls.listed = []
    assert provider(client).find_contact(channel="voice", to=REAL_LOOKING, since=since) is None
