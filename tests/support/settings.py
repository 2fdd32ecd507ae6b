"""Settings for tests: the real Settings class with test values."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from app.config import Settings

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings as a test deployment would have them."""
    values: dict[str, Any] = {
        "environment": "test",
        "database_url": database_url,
        "secret_key": SecretStr(TEST_SECRET),
        "public_base_url": "https://waitlist.example.nhs.uk",
        # The persona admin (charlie) signs in with a password alone; the second-factor tests
        # (tests/web/test_second_factor.py) turn the requirement back on.
        "totp_required_for_admins": False,
    }
    values.update(overrides)
    return Settings(**values)
