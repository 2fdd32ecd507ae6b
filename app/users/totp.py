"""TOTP second factor (RFC 6238, through pyotp) for local password accounts; required for admins.

Local password accounts are the break-glass way in when the identity provider is down, so an
admin's one needs more than a password. The secret is stored encrypted (Fernet, with a key
derived from SECRET_KEY), shown once at enrolment, confirmed by the first code, and each code
works once. A lost authenticator is reset by another admin (or the operator's CLI).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
from dataclasses import dataclass

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from app import audit
from app.db import changed, utcnow
from app.errors import ConflictError, InvalidInputError
from app.models import Role, User
from app.users.service import end_all_sessions

STEP_SECONDS = 30


@dataclass(frozen=True)
class Enrolment:
    """A new secret, shown once: as text and as an ``otpauth://`` URI (and its QR code)."""

    secret: str
    uri: str

    def qr_svg(self) -> str:
        """The URI as an inline SVG QR code for an authenticator app to scan."""
        svg: str = segno.make(self.uri, error="m").svg_inline(scale=5, border=2)
        return svg

    def qr_text(self) -> str:
        """The URI as a QR code drawn in text, for a terminal."""
        out = io.StringIO()
        segno.make(self.uri, error="m").terminal(out=out, compact=True, border=2)
        return out.getvalue()


def second_factor_required(user: User, *, required_for_admins: bool) -> bool:
    """Whether a password alone cannot finish this person's sign-in.

    An enrolment never confirmed does not count for a non-admin (who may have closed the page
    before saving the secret); an admin's pending one is confirmed by their first sign-in code.
    """
    return user.totp_confirmed_at is not None or (required_for_admins and user.role == Role.ADMIN)


def begin_enrolment(
    session: Session,
    *,
    user: User,
    secret_key: str,
    issuer_name: str,
    actor: User | str,
    secret: str | None = None,
) -> Enrolment:
    """A new secret for ``user``, pending until the first code confirms it.

    ``secret`` imports one the person's authenticator already holds (a move from another
    system); otherwise a random one is made.
    """
    if user.is_service_account or user.password_hash is None:
        raise InvalidInputError(
            "Only local password accounts use this second factor; people who sign in with the "
            "identity provider use the provider's own."
        )
    if user.totp_confirmed_at is not None:
        raise ConflictError(
            f"{user.username} already has a second factor; another admin must reset it first."
        )
    value = secret or pyotp.random_base32()
    user.totp_secret = _fernet(secret_key).encrypt(value.encode()).decode()
    user.totp_confirmed_at = None
    user.totp_last_step = None
    audit.record(
        session, actor=actor, action="totp_enrolment_started", entity_type="user", entity_id=user.id
    )
    uri = pyotp.TOTP(value).provisioning_uri(name=user.username, issuer_name=issuer_name)
    return Enrolment(secret=value, uri=uri)


def verify_code(
    session: Session, *, user: User, code: str, secret_key: str, now: dt.datetime | None = None
) -> bool:
    """Whether ``code`` is this person's for now (a step either side) and not used before.

    The first right code confirms a pending enrolment. The step is claimed with a guarded
    update, so two replicas cannot both accept one code.
    """
    now = now or utcnow()
    secret = _secret_of(user, secret_key)
    code = code.replace(" ", "").strip()
    if secret is None or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret)
    current = int(now.timestamp()) // STEP_SECONDS
    step = next(
        (
            candidate
            for candidate in (current - 1, current, current + 1)
            if hmac.compare_digest(totp.at(candidate * STEP_SECONDS), code)
        ),
        None,
    )
    if step is None:
        return False
    claimed = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if changed(claimed) != 1:
        return False
    user.totp_last_step = step
    if user.totp_confirmed_at is None:
        user.totp_confirmed_at = now
        audit.record(
            session, actor=user, action="totp_enrolled", entity_type="user", entity_id=user.id
        )
    return True


def reset_second_factor(session: Session, *, user: User, actor: User | str) -> None:
    """Remove a person's TOTP (a lost phone); only another admin or the operator may."""
    if isinstance(actor, User) and (actor.id == user.id or actor.role != Role.ADMIN):
        raise InvalidInputError("Another admin must reset a second factor.")
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    end_all_sessions(session, user=user)
    audit.record(session, actor=actor, action="totp_reset", entity_type="user", entity_id=user.id)


def _secret_of(user: User, secret_key: str) -> str | None:
    if user.totp_secret is None:
        return None
    try:
        return _fernet(secret_key).decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:
        # SECRET_KEY changed since enrolment: the code cannot be checked; reset to re-enrol.
        return None


def _fernet(secret_key: str) -> Fernet:
    digest = hashlib.sha256(b"waitlist-totp-secret:" + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
