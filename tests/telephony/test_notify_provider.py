"""NotifyProvider through the real notifications-python-client, against a Notify on loopback."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from app.telephony.events import ContactState
from app.telephony.notify import NotifyProvider, map_error
from app.telephony.notify_events import e164, from_notify_inbound, from_notify_status
from app.telephony.provider import CallRequest, ProviderError, ProviderTimeoutError, SmsRequest
from tests.support.notify_server import API_KEY, SERVICE_ID, TEMPLATES, FakeNotify, fake_notify
from tests.support.server import free_port

TO = "+447700900123"  # drama range: fine for a Notify on loopback, refused for the real one


@pytest.fixture
def notify() -> Iterator[FakeNotify]:
    with fake_notify() as server:
        yield server


def provider(notify: FakeNotify, **overrides: object) -> NotifyProvider:
    values: dict[str, object] = {
        "api_key": API_KEY,
        "templates": TEMPLATES,
        "base_url": notify.base_url,
        "request_timeout_seconds": 5.0,
    }
    values.update(overrides)
    return NotifyProvider(**values)  # type: ignore[arg-type]


def test_a_text_goes_through_the_template_for_its_kind_referenced_by_the_attempt(
    notify: FakeNotify,
) -> None:
    placed = provider(notify).send_sms(
        SmsRequest(to=TO, token="tok-en_1", body="Reply 1 for yes", kind="reply", turn=2)
    )
    [sent] = notify.sent
    assert placed.sid == sent["id"]
    assert sent["phone_number"] == TO
    assert sent["template"]["id"] == TEMPLATES["reply"]
    assert sent["personalisation"] == {"message": "Reply 1 for yes"}
    assert sent["body"] == "Reply 1 for yes"
    assert sent["reference"] == "tok-en_1.2"
    assert notify.refused_tokens == 0


def test_a_kind_without_its_own_template_uses_the_default_one(notify: FakeNotify) -> None:
    templates = {"default": TEMPLATES["courtesy"]}
    provider(notify, templates=templates).send_sms(
        SmsRequest(to=TO, token="t", body="Hello", kind="reminder")
    )
    assert notify.sent[0]["template"]["id"] == TEMPLATES["courtesy"]


def test_a_kind_with_no_template_at_all_is_refused_before_any_request(notify: FakeNotify) -> None:
    with pytest.raises(ProviderError) as raised:
        provider(notify, templates={"opening": TEMPLATES["opening"]}).send_sms(
            SmsRequest(to=TO, token="t", body="Hello", kind="reply")
        )
    assert raised.value.permanent and raised.value.code == "notify-template"
    assert notify.sent == []


def test_a_key_with_the_wrong_secret_is_refused_by_notify_and_tried_again_later(
    notify: FakeNotify,
) -> None:
    wrong = API_KEY[:-4] + "0000"
    with pytest.raises(ProviderError) as raised:
        provider(notify, api_key=wrong).send_sms(SmsRequest(to=TO, token="t", body="Hello"))
    assert notify.refused_tokens == 1 and notify.sent == []
    assert not raised.value.permanent and raised.value.code == "notify-403"


@pytest.mark.parametrize(
    ("status", "name", "permanent"),
    [
        (400, "BadRequestError", True),
        (400, "ValidationError", True),
        (429, "RateLimitError", False),
        (429, "TooManyRequestsError", False),
        (500, "Exception", False),
        (503, "Exception", False),
    ],
)
def test_notify_errors_say_whether_a_retry_can_help(
    notify: FakeNotify, status: int, name: str, permanent: bool
) -> None:
    notify.failures.append((status, name, "refused"))
    with pytest.raises(ProviderError) as raised:
        provider(notify).send_sms(SmsRequest(to=TO, token="t", body="Hello"))
    error = raised.value
    assert not isinstance(error, ProviderTimeoutError)
    assert (error.permanent, error.code) == (permanent, f"notify-{status}")
    assert name in str(error)


def test_missing_personalisation_is_permanent_and_says_which_field(notify: FakeNotify) -> None:
    notify.templates[TEMPLATES["opening"]].content = "((message)) Call ((callback_number))"
    with pytest.raises(ProviderError) as raised:
        provider(notify).send_sms(SmsRequest(to=TO, token="t", body="Hello"))
    assert raised.value.permanent and "callback_number" in str(raised.value)


def test_no_answer_at_all_leaves_the_text_in_doubt() -> None:
    dead = NotifyProvider(
        api_key=API_KEY,
        templates=TEMPLATES,
        base_url=f"http://127.0.0.1:{free_port()}",
        request_timeout_seconds=1.0,
    )
    with pytest.raises(ProviderTimeoutError):
        dead.send_sms(SmsRequest(to=TO, token="t", body="Hello"))


def test_the_real_notify_never_gets_a_drama_range_number() -> None:
    real = NotifyProvider(api_key=API_KEY, templates=TEMPLATES)
    with pytest.raises(ProviderError) as raised:
        real.send_sms(SmsRequest(to=TO, token="t", body="Hello"))
    assert raised.value.permanent and raised.value.code == "fictional-number"


def test_notify_places_no_calls(notify: FakeNotify) -> None:
    with pytest.raises(ProviderError) as raised:
        provider(notify).place_call(CallRequest(to=TO, token="t"))
    assert raised.value.permanent


def test_reconciliation_reads_the_state_of_a_text_by_id_or_by_number(notify: FakeNotify) -> None:
    texts = provider(notify)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    placed = texts.send_sms(SmsRequest(to=TO, token="t", body="Hello"))
    notify.sent[0]["status"] = "permanent-failure"

    by_id = texts.find_contact(channel="sms", to=TO, since=since, sid=placed.sid)
    by_number = texts.find_contact(channel="sms", to=TO, since=since)

    assert by_id is not None and by_number is not None
    assert by_id.sid == by_number.sid == placed.sid
    assert by_id.state is ContactState.FAILED
    assert texts.find_contact(channel="sms", to="+447700900999", since=since) is None
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert texts.find_contact(channel="sms", to=TO, since=later) is None
    assert texts.find_contact(channel="sms", to=TO, since=since, sid=SERVICE_ID) is None
    assert texts.find_contact(channel="sms", to=TO, since=since, sid="SM" + "0" * 32) is None
    assert texts.find_contact(channel="voice", to=TO, since=since) is None


@pytest.mark.parametrize(
    ("word", "state", "code"),
    [
        ("created", ContactState.PLACED, None),
        ("sending", ContactState.PLACED, None),
        ("pending", ContactState.PLACED, None),
        ("sent", ContactState.PLACED, None),
        ("delivered", ContactState.PLACED, None),
        ("permanent-failure", ContactState.FAILED, "notify-permanent"),
        ("temporary-failure", ContactState.FAILED, "notify-temporary"),
        ("technical-failure", ContactState.FAILED, "notify-technical"),
        ("something-new", None, None),
    ],
)
def test_notify_status_words_become_our_states(
    word: str, state: ContactState | None, code: str | None
) -> None:
    token, receipt = from_notify_status({"id": "n-1", "reference": "abc.3", "status": word})
    assert token == "abc"
    assert (receipt.state, receipt.error_code, receipt.status_word) == (state, code, word)


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("447700900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("07700 900123", "+447700900123"),
        ("00447700900123", "+447700900123"),
        ("", ""),
    ],
)
def test_received_texts_come_with_the_senders_number_as_we_store_numbers(
    written: str, number: str
) -> None:
    assert e164(written) == number
    text = from_notify_inbound({"id": "r-1", "source_number": written, "message": "STOP"})
    assert (text.sender, text.body, text.opt_out) == (number, "STOP", None)


def test_an_unparseable_error_still_becomes_a_provider_error() -> None:
    from notifications_python_client.errors import APIError

    assert isinstance(map_error(APIError(None, "lost")), ProviderTimeoutError)
