"""Webhook forms are read exactly as Starlette's own parser reads them, only faster."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from app.web.webhooks.signature import URLENCODED, _params

FIELD = st.text(alphabet=st.characters(codec="utf-8"), min_size=0, max_size=12)


def _request(body: bytes, content_type: str = URLENCODED) -> Request:
    sent = False

    async def receive() -> dict[str, object]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(b"content-type", content_type.encode())],
    }
    return Request(scope, receive)


def _starlette(body: bytes, content_type: str = URLENCODED) -> dict[str, list[str]]:
    async def read() -> dict[str, list[str]]:
        form = await _request(body, content_type).form()
        return {name: [str(v) for v in form.getlist(name)] for name in form.keys()}  # noqa: SIM118

    return asyncio.run(read())


def _ours(body: bytes, content_type: str = URLENCODED) -> dict[str, list[str]]:
    return asyncio.run(_params(_request(body, content_type)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(FIELD.filter(bool), FIELD), min_size=0, max_size=8))
def test_it_reads_any_urlencoded_form_as_starlette_does(pairs: list[tuple[str, str]]) -> None:
    body = urlencode(pairs).encode()

    assert _ours(body) == _starlette(body)


def test_it_keeps_repeated_names_empty_values_plus_signs_and_non_ascii_speech() -> None:
    body = b"Digits=&SpeechResult=Caf%C3%A9+au+lait.&A=1&A=2&Plus=%2B44"

    assert (
        _ours(body)
        == _starlette(body)
        == {
            "Digits": [""],
            "SpeechResult": ["Café au lait."],
            "A": ["1", "2"],
            "Plus": ["+44"],
        }
    )


def test_it_reads_a_charset_parameter_and_other_content_types_through_starlette() -> None:
    body = b"CallSid=CA1&CallStatus=ringing"
    assert _ours(body, URLENCODED + "; charset=utf-8") == {
        "CallSid": ["CA1"],
        "CallStatus": ["ringing"],
    }
    multipart = b'--xyz\r\nContent-Disposition: form-data; name="CallSid"\r\n\r\nCA1\r\n--xyz--\r\n'
    kind = "multipart/form-data; boundary=xyz"
    assert _ours(multipart, kind) == _starlette(multipart, kind) == {"CallSid": ["CA1"]}
