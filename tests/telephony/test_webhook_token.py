"""Which secret signs our webhooks, and that a placeholder is refused in production."""

from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from tests.support.settings import TEST_SECRET, make_settings


def test_the_simulator_derives_a_signing_token_from_the_secret_key() -> None:
    one = make_settings("sqlite://")
    other = make_settings("sqlite://", secret_key=SecretStr(TEST_SECRET + "-other"))

    assert one.webhook_auth_token == make_settings("sqlite://").webhook_auth_token
    assert one.webhook_auth_token != other.webhook_auth_token
    assert TEST_SECRET not in one.webhook_auth_token


def test_a_configured_simulator_token_is_used_as_is() -> None:
    settings = make_settings("sqlite://", simulator_auth_token=SecretStr("sim-token-0123456789"))

    assert settings.webhook_auth_token == "sim-token-0123456789"


def test_twilio_webhooks_are_checked_with_the_twilio_auth_token() -> None:
    settings = make_settings(
        "sqlite://",
        telephony_provider="twilio",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=SecretStr("twilio-auth-token"),
        twilio_from_number="+441234567890",
    )

    assert settings.webhook_auth_token == "twilio-auth-token"


def test_a_placeholder_simulator_token_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="SIMULATOR_AUTH_TOKEN"):
        make_settings(
            "sqlite://", environment="production", simulator_auth_token=SecretStr("12345")
        )
