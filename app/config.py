"""The one place configuration is read: environment variables prefixed ``WAITLIST_``.

The defaults give the embedded setup (a SQLite file in the working directory and the telephony
simulator), so a newcomer needs no accounts and no network. Outside development, placeholder
secrets and incomplete provider settings are refused at start with a message that says what to set.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
_NOTIFY_KEY = re.compile(r".+-" + _UUID.pattern + "-" + _UUID.pattern, re.IGNORECASE)
# The kinds of text the service sends (docs/notify.md), each through its own Notify template.
NOTIFY_MESSAGE_KINDS = ("opening", "reply", "courtesy", "pre_call", "reminder")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})  # a Notify stand-in in tests
SOURCE_ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
# The hospital's time zone unless ``WAITLIST_TIMEZONE`` says otherwise (and the zone of a
# campaign stored before campaigns recorded their own).
DEFAULT_TIMEZONE = "Europe/London"


# An installed wheel carries the top-level migrations/, call_flows/ and exclusions/ here
# (pyproject.toml's force-include); a source checkout or editable install has none, and uses the
# tree itself.
PACKAGED_DATA = Path(__file__).resolve().parent / "_shipped"


def shipped_root() -> Path:
    """Where the migrations, scripts and rules that ship with this version are."""
    return PACKAGED_DATA if PACKAGED_DATA.is_dir() else SOURCE_ROOT


def _default_home() -> Path:
    """Where ``call_flows/`` and ``exclusions/`` live unless ``WAITLIST_HOME`` says otherwise."""
    return shipped_root()


class Settings(BaseSettings):
    """Validated settings; read once per process through :func:`get_settings`."""

    model_config = SettingsConfigDict(env_prefix="WAITLIST_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///waitlist.db"
    # PostgreSQL connections each process keeps open (web worker, dispatcher, CLI); it may open
    # DATABASE_MAX_OVERFLOW more at a busy moment, closed again as they are returned. A pool
    # smaller than the requests a web worker serves at once opens a new backend for most of them
    # (app.db.engine_for, docs/operations.md).
    database_pool_size: int = Field(default=20, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    home: Path = Field(default_factory=_default_home)
    call_flows_dir: Path | None = None
    exclusions_dir: Path | None = None

    telephony_provider: Literal["simulator", "twilio"] = "simulator"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    # Texts through GOV.UK Notify / NHS Notify (docs/notify.md). ``sms_provider`` is the choice
    # of a campaign that makes none; ``telephony`` sends texts the way calls go.
    sms_provider: Literal["telephony", "notify"] = "telephony"
    notify_api_key: SecretStr | None = None
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    # Template id per kind of text ("opening", "reply", "courtesy"), or one under "default".
    notify_templates: dict[str, str] = Field(default_factory=dict)
    notify_sms_sender_id: str | None = None
    # The bearer token Notify sends with its callbacks (set on Notify's callbacks page).
    notify_callback_token: SecretStr | None = None
    notify_messages_per_minute: int = Field(default=3000, gt=0, le=100_000)
    calls_per_second: float = Field(default=1.0, gt=0, le=100)
    # The simulator signs its webhooks like Twilio; without this it derives a token from SECRET_KEY.
    simulator_auth_token: SecretStr | None = None
    simulator_duplicate_rate: float = Field(default=0.05, ge=0, le=1)
    simulator_reorder_rate: float = Field(default=0.05, ge=0, le=1)
    simulator_speed: float = Field(default=0.0, ge=0, le=10)
    simulator_seed: int | None = None

    secret_key: SecretStr = SecretStr(PLACEHOLDER_SECRET)
    # Bearer token for /metrics (Prometheus); unset, the endpoint answers 404.
    metrics_token: SecretStr | None = None
    timezone: str = DEFAULT_TIMEZONE
    organisation_name: str = "Example Teaching Hospitals NHS Foundation Trust"
    callback_number: str = "0113 496 0000"
    default_provider_code: str = "RXX"

    # Unit prices for the reports' cost estimates (the provider's tariff, in `cost_currency`).
    cost_currency: str = "GBP"
    cost_per_call_minute: Decimal = Field(default=Decimal("0.04"), ge=0)
    cost_per_call_attempt: Decimal = Field(default=Decimal("0.00"), ge=0)
    cost_per_sms_segment: Decimal = Field(default=Decimal("0.04"), ge=0)

    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_max_hours: int = Field(default=12, ge=1, le=7 * 24)
    login_max_failures: int = Field(default=5, ge=1, le=100)
    login_max_failures_per_address: int = Field(default=50, ge=1, le=10_000)
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)

    # Staff sign-in with the trust's identity provider (OpenID Connect: NHS CIS2, Entra ID);
    # docs/sign-in.md. Unset issuer: local password accounts only.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid profile email"
    # Where the provider sends the browser back; registered with the provider as it is here.
    oidc_redirect_url: str | None = None
    oidc_provider_name: str = "your organisation's account"
    oidc_token_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic"  # noqa: S105 - a method's name, not a secret
    )
    # Roles from a claim: its name, the key read from each entry when it holds objects (CIS2's
    # nhsid_nrbac_roles), and a JSON map of claim values to roles; the first entry that matches
    # wins. A person whose claims map to no role keeps a role an admin gave them locally, or has
    # no access until one does.
    oidc_role_claim: str = "roles"
    oidc_role_claim_key: str | None = None
    # With CIS2, the trust's ODS codes: roles held at other organisations map to nothing.
    oidc_role_org_codes: list[str] = Field(default_factory=list)
    oidc_role_mapping: dict[str, Literal["clinician", "coordinator", "admin"]] = Field(
        default_factory=dict
    )
    # Read the userinfo endpoint too (CIS2 gives its role claims there, not in the ID token).
    oidc_userinfo: bool = True
    # The authentication assurance levels accepted (the ID token's ``acr``), asked for in the
    # request's ``acr_values`` too; empty accepts any. CIS2: the level that means a smartcard
    # (or an equivalent authenticator) where the trust requires one.
    oidc_acr_values: list[str] = Field(default_factory=list)
    oidc_clock_skew_seconds: int = Field(default=120, ge=0, le=600)
    oidc_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    # Local password accounts are break-glass beside the identity provider; admins need TOTP
    # (unset: everywhere but the offline development demo; never off in production).
    password_sign_in: bool = True
    totp_required_for_admins: bool | None = None

    review_undo_days: int = Field(default=14, ge=0, le=90)
    review_page_size: int = Field(default=50, ge=1, le=500)

    log_format: Literal["plain", "json"] = "plain"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/London"
            ) from exc
        return value

    @field_validator("public_base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https:// (it is the URL Twilio signs)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        problems: list[str] = []
        secret = self.secret_key.get_secret_value()
        if self.environment != "development" and (secret == PLACEHOLDER_SECRET or len(secret) < 32):
            problems.append("WAITLIST_SECRET_KEY must be set to a random value of 32+ characters")
        if self.telephony_provider == "twilio":
            for name in ("twilio_account_sid", "twilio_auth_token", "twilio_from_number"):
                if not getattr(self, name):
                    problems.append(f"WAITLIST_{name.upper()} is required with the twilio provider")
            if not self.public_base_url.startswith("https://"):
                problems.append(
                    "WAITLIST_PUBLIC_BASE_URL must be https:// with the twilio provider"
                )
        problems.extend(self._notify_problems())
        problems.extend(self._oidc_problems())
        if self.environment == "production" and self.totp_required_for_admins is False:
            problems.append("WAITLIST_TOTP_REQUIRED_FOR_ADMINS must stay true in production")
        simulator_token = self.simulator_auth_token
        if (
            self.environment == "production"
            and simulator_token is not None
            and simulator_token.get_secret_value() in (PLACEHOLDER_SECRET, "", "12345")
        ):
            problems.append("WAITLIST_SIMULATOR_AUTH_TOKEN must not be a placeholder in production")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _notify_problems(self) -> list[str]:
        """What stops Notify from working as configured, in words an operator can act on."""
        if self.notify_api_key is None:
            if self.sms_provider == "notify":
                return ["WAITLIST_NOTIFY_API_KEY is required when WAITLIST_SMS_PROVIDER=notify"]
            return []
        problems = []
        if not _NOTIFY_KEY.fullmatch(self.notify_api_key.get_secret_value()):
            problems.append(
                "WAITLIST_NOTIFY_API_KEY must be the whole key Notify showed you "
                "(key name, service id and secret: NAME-UUID-UUID)"
            )
        kinds = set(self.notify_templates)
        if "default" not in kinds and not set(NOTIFY_MESSAGE_KINDS) <= kinds:
            problems.append(
                "WAITLIST_NOTIFY_TEMPLATES must give a template id for 'default' or for each of "
                + ", ".join(NOTIFY_MESSAGE_KINDS)
            )
        if any(not _UUID.fullmatch(value) for value in self.notify_templates.values()):
            problems.append("WAITLIST_NOTIFY_TEMPLATES values must be Notify template ids (UUIDs)")
        host = urlsplit(self.notify_base_url).hostname or ""
        if not self.notify_base_url.startswith("https://") and host not in _LOOPBACK:
            problems.append("WAITLIST_NOTIFY_BASE_URL must be https:// (the API key travels on it)")
        token = self.notify_callback_token
        if token is None or len(token.get_secret_value()) < 10:
            problems.append(
                "WAITLIST_NOTIFY_CALLBACK_TOKEN must be set (10+ characters): it is the bearer "
                "token Notify's callbacks carry"
            )
        return problems

    @property
    def sms_providers(self) -> tuple[str, ...]:
        """The SMS providers a campaign may choose in this deployment."""
        return ("telephony", "notify") if self.notify_api_key is not None else ("telephony",)

    def _oidc_problems(self) -> list[str]:
        if not (self.oidc_issuer or self.oidc_client_id or self.oidc_client_secret):
            if not self.password_sign_in:
                return [
                    "WAITLIST_PASSWORD_SIGN_IN=false needs WAITLIST_OIDC_ISSUER to sign in at all"
                ]
            return []
        problems = [
            f"WAITLIST_{name.upper()} is required for sign-in with an identity provider"
            for name in ("oidc_issuer", "oidc_client_id", "oidc_client_secret")
            if not getattr(self, name)
        ]
        issuer = self.oidc_issuer or ""
        if issuer and not issuer.startswith(("https://", "http://")):
            problems.append("WAITLIST_OIDC_ISSUER must be the provider's https:// issuer URL")
        elif self.environment == "production" and issuer and not issuer.startswith("https://"):
            problems.append("WAITLIST_OIDC_ISSUER must be https:// in production")
        if "openid" not in self.oidc_scopes.split():
            problems.append("WAITLIST_OIDC_SCOPES must include openid")
        return problems

    @property
    def admins_need_totp(self) -> bool:
        """Whether an admin's password sign-in also needs a TOTP code."""
        if self.totp_required_for_admins is None:
            return self.environment != "development"
        return self.totp_required_for_admins

    @property
    def oidc_enabled(self) -> bool:
        """Whether staff can sign in with the trust's identity provider."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def oidc_callback_url(self) -> str:
        """The redirect URI registered with the identity provider."""
        return self.oidc_redirect_url or self.public_base_url + "/sign-in/oidc/callback"

    @property
    def webhook_auth_token(self) -> str:
        """The secret webhooks are signed with: Twilio's auth token, or the simulator's."""
        if self.telephony_provider == "twilio" and self.twilio_auth_token is not None:
            return self.twilio_auth_token.get_secret_value()
        if self.simulator_auth_token is not None:
            return self.simulator_auth_token.get_secret_value()
        key = self.secret_key.get_secret_value().encode()
        return hmac.new(key, b"simulator-webhook-signing", hashlib.sha256).hexdigest()

    @property
    def zone(self) -> ZoneInfo:
        """The hospital's local time zone (calling hours are judged in it)."""
        return ZoneInfo(self.timezone)

    @property
    def flows_path(self) -> Path:
        """Directory of the call scripts and their approvals."""
        return self.call_flows_dir or self.home / "call_flows"

    @property
    def exclusions_path(self) -> Path:
        """Directory of the exclusion rule files."""
        return self.exclusions_dir or self.home / "exclusions"

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry ``Secure`` (and the ``__Host-`` prefix) when the service is on https."""
        return self.public_base_url.startswith("https://")

    @property
    def migrations_path(self) -> Path:
        """Directory of the Alembic environment: always this version's own, wherever ``home``
        points (a trust's home holds its scripts and rules, not the schema)."""
        return shipped_root() / "migrations"


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once from the environment."""
    return Settings()
