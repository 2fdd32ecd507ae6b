"""Sign-in settings are checked at start, with a message that says what to set."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import Settings
from tests.support import oidc_provider
from tests.support.settings import make_settings


def test_an_issuer_without_its_client_is_refused_naming_what_is_missing() -> None:
    with pytest.raises(ValidationError) as refused:
        make_settings("sqlite://", oidc_issuer="https://login.example.com/tenant/v2.0")
    message = str(refused.value)
    assert "WAITLIST_OIDC_CLIENT_ID is required" in message
    assert "WAITLIST_OIDC_CLIENT_SECRET is required" in message


def test_production_needs_an_https_issuer_and_the_openid_scope() -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(
            environment="production",
            secret_key="k" * 40,
            oidc_issuer="http://login.example.com",
            oidc_client_id="client",
            oidc_client_secret="secret",
            oidc_scopes="profile email",
        )
    assert "must be https:// in production" in str(refused.value)
    assert "must include openid" in str(refused.value)


def test_password_sign_in_cannot_be_switched_off_without_a_provider() -> None:
    with pytest.raises(ValidationError, match="PASSWORD_SIGN_IN=false needs"):
        make_settings("sqlite://", password_sign_in=False)


def test_the_redirect_uri_defaults_to_the_public_callback() -> None:
    settings = make_settings(
        "sqlite://",
        oidc_issuer="https://login.example.com",
        oidc_client_id="client",
        oidc_client_secret="secret",
    )
    assert settings.oidc_enabled
    assert settings.oidc_callback_url == "https://waitlist.example.nhs.uk/sign-in/oidc/callback"


def test_admins_need_totp_everywhere_but_the_development_demo() -> None:
    assert Settings(environment="development").admins_need_totp is False
    assert Settings(environment="test", secret_key="k" * 40).admins_need_totp is True


def test_a_missing_test_provider_fails_loudly_under_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(oidc_provider, "OIDC_DIR", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="npm ci"):
        oidc_provider.node_or_skip()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="npm ci"):
        oidc_provider.node_or_skip()
