from __future__ import annotations

import logging

import pytest

from app.logging import RedactingFilter, redact, request_id_var


@pytest.mark.parametrize(
    "text",
    [
        "999 000 0018",
        "9990000018",
        "999-000-0018",
        "07700 900123",
        "+44 7700 900123",
        "(0161) 496 0000",
    ],
)
def test_identifier_shapes_are_masked(text: str) -> None:
    assert redact(f"patient {text} answered") == "patient [redacted] answered"


def test_ids_and_durations_are_left_alone() -> None:
    line = "POST /webhooks/twilio/status 200 3.2ms attempt=123456 pathway=42"
    assert redact(line) == line


def test_the_filter_adds_the_request_id_and_redacts() -> None:
    token = request_id_var.set("req-1")
    try:
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("07700 900123",), None)
        assert RedactingFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert record.request_id == "req-1"  # type: ignore[attr-defined]
    assert record.getMessage() == "to [redacted]"
