"""People and service accounts who use the service, their sessions and API tokens."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, BigIntPK, str_enum, utcnow


class Role(StrEnum):
    """What a user may do: clinicians decide, coordinators run campaigns, admins manage users."""

    CLINICIAN = "clinician"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class User(Base):
    """A person (or a service account, which has no password and signs in with a token).

    A person who signs in with the trust's identity provider is matched by ``(oidc_issuer,
    oidc_subject)``, never by name or email. ``role`` is None for someone whose claims map to no
    role and whom no admin has given one yet: they are known, but have no access.
    """

    __tablename__ = "user"
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role | None] = mapped_column(str_enum(Role))
    # Whether ``role`` came from the identity provider's claims (and so goes when they do).
    role_from_claims: Mapped[bool] = mapped_column(Boolean, default=False)
    oidc_issuer: Mapped[str | None] = mapped_column(String(500))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    # The TOTP secret, encrypted with a key derived from SECRET_KEY; confirmed by a first code.
    totp_secret: Mapped[str | None] = mapped_column(String(500))
    totp_confirmed_at: Mapped[dt.datetime | None] = mapped_column()
    # The last 30-second step a code was accepted for: a code works once (RFC 6238, 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_service_account: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column()
    last_login_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class UserSession(Base):
    """A signed-in browser; only a hash of the cookie value is stored."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    # How the person signed in ("password", "password+totp", "oidc"), and for "oidc" the ID
    # token, sent back as ``id_token_hint`` when signing out at the provider.
    method: Mapped[str] = mapped_column(String(20), default="password")
    id_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column()


class ApiToken(Base):
    """A bearer token for a machine client; hashed at rest."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()


class LoginAttempt(Base):
    """One sign-in attempt, kept so every web replica throttles guessing the same way.

    ``username`` is what was typed (normalised), whether or not such a user exists, so a lock
    says nothing about which accounts exist.
    """

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_client_address_at", "client_address", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(100))
    client_address: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
