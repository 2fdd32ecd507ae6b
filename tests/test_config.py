from __future__ import annotations

import pytest
from pydantic import SecretStr, ValidationError

from app.config import Settings
from tests.support.settings import TEST_SECRET


def test_the_defaults_give_the_embedded_setup() -> None:
    settings = Settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.telephony_provider == "simulator"
    assert settings.zone.key == "Europe/London"
    assert (settings.flows_path / "approvals.yaml").parent.name == "call_flows"


def test_it_refuses_the_placeholder_secret_outside_development() -> None:
    with pytest.raises(ValidationError, match="WAITLIST_SECRET_KEY"):
        Settings(environment="production")


def test_it_accepts_a_real_secret_in_production() -> None:
    settings = Settings(environment="production", secret_key=SecretStr(TEST_SECRET))
    assert settings.environment == "production"


def test_twilio_needs_credentials_and_https() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(telephony_provider="twilio", public_base_url="http://example.org")
    message = str(caught.value)
    assert "WAITLIST_TWILIO_AUTH_TOKEN" in message
    assert "https://" in message


def test_it_refuses_an_unknown_time_zone() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(timezone="Europe/Atlantis")


def test_the_public_base_url_loses_its_trailing_slash() -> None:
    assert Settings(public_base_url="https://x.example/").public_base_url == "https://x.example"
