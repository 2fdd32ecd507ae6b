"""The one place configuration is read: environment variables prefixed ``WAITLIST_``.

The defaults give the embedded setup (a SQLite file in the working directory and the telephony
simulator), so a newcomer needs no accounts and no network. Outside development, placeholder
secrets and incomplete provider settings are refused at start with a message that says what to set.
"""

from __future__ import annotations

import hashlib
import hmac
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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
    home: Path = Field(default_factory=_default_home)
    call_flows_dir: Path | None = None
    exclusions_dir: Path | None = None

    telephony_provider: Literal["simulator", "twilio"] = "simulator"
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
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
