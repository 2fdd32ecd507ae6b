"""People the identity provider vouches for: matched by subject, given roles from claims.

A person is matched by the provider's ``(issuer, subject)`` only, never by username or email
(both can be reused or changed at the provider, and matching on them would hand one person's
account to another). Roles come from one claim through a configured mapping; when the claims map
to no role, a role an admin assigned locally stands, and otherwise the person has no access.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import DomainError
from app.models import Role, User
from app.users.oidc import Identity
from app.users.service import USERNAME_MAX, normalise_username


@dataclass(frozen=True)
class RoleMapping:
    """Which claim holds the roles, how to read it, and what each value means here."""

    claim: str = "roles"
    key: str | None = None
    mapping: Mapping[str, Role] | None = None
    # For entries that are objects (CIS2's nhsid_nrbac_roles): only those held at one of these
    # organisations count, so a role a person holds at another trust gives nothing here.
    org_key: str = "org_code"
    org_codes: frozenset[str] | None = None

    def role_for(self, claims: Mapping[str, Any]) -> Role | None:
        """The role the claims give (the first mapping entry they contain), or None."""
        if not self.mapping:
            return None
        values = set(self._values(claims.get(self.claim)))
        return next((role for value, role in self.mapping.items() if value in values), None)

    def _values(self, raw: Any) -> list[str]:
        entries = raw if isinstance(raw, list) else [raw]
        values: list[str] = []
        for entry in entries:
            if isinstance(entry, dict):
                if self.org_codes is not None and entry.get(self.org_key) not in self.org_codes:
                    continue
                entry = entry.get(self.key) if self.key else None
            if isinstance(entry, str):
                values.append(entry)
        return values


NO_ROLE = "You have signed in, but have not been given access to this service yet."
DEACTIVATED = "This account has been deactivated."


class NoAccessError(DomainError):
    """The provider vouched for this person, but they may not use the service (``reason``)."""

    def __init__(self, user: User, *, reason: str, message: str) -> None:
        super().__init__(message)
        self.user = user
        self.reason = reason


def sign_in_identity(
    session: Session, *, identity: Identity, roles: RoleMapping, client_address: str = ""
) -> User:
    """The active user behind ``identity`` (created on first sight), with a role; or refuse.

    Refusals (no role, a deactivated account) are audited and raise; the caller starts the
    session for the user returned.
    """
    user = session.scalar(
        select(User).where(
            User.oidc_issuer == identity.issuer, User.oidc_subject == identity.subject
        )
    )
    if user is None:
        user = _first_seen(session, identity=identity)
    mapped = roles.role_for(identity.claims)
    if mapped is not None:
        if user.role != mapped or not user.role_from_claims:
            _record_role_change(session, user=user, role=mapped, source="claims")
        user.role, user.role_from_claims = mapped, True
    elif user.role_from_claims:
        # The provider no longer gives the role it gave before: the access goes with it.
        _record_role_change(session, user=user, role=None, source="claims")
        user.role, user.role_from_claims = None, False
    address = client_address[:64]
    if not user.is_active or user.is_service_account:
        _refuse(session, user=user, reason="deactivated", address=address)
        raise NoAccessError(user, reason="deactivated", message=DEACTIVATED)
    if user.role is None:
        _refuse(session, user=user, reason="no_role", address=address)
        raise NoAccessError(user, reason="no_role", message=NO_ROLE)
    user.last_login_at = utcnow()
    return user


def _first_seen(session: Session, *, identity: Identity) -> User:
    claims = identity.claims
    user = User(
        username=_free_username(session, _username_from(claims)),
        full_name=_full_name_from(claims),
        role=None,
        role_from_claims=False,
        oidc_issuer=identity.issuer,
        oidc_subject=identity.subject,
        password_hash=None,
        is_service_account=False,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor="identity provider",
        action="user_created",
        entity_type="user",
        entity_id=user.id,
        detail={"username": user.username, "signed_in_with": "oidc"},
    )
    return user


def _record_role_change(session: Session, *, user: User, role: Role | None, source: str) -> None:
    audit.record(
        session,
        actor="identity provider",
        action="role_changed",
        entity_type="user",
        entity_id=user.id,
        detail={
            "from": user.role.value if user.role else None,
            "to": role.value if role else None,
            "source": source,
        },
    )


def _refuse(session: Session, *, user: User, reason: str, address: str) -> None:
    audit.record(
        session,
        actor=user,
        action="sign_in_refused",
        entity_type="user",
        entity_id=user.id,
        detail={"reason": reason, "signed_in_with": "oidc", "client_address": address},
    )


_NOT_USERNAME = re.compile(r"[^a-z0-9._@-]+")


def _username_from(claims: Mapping[str, Any]) -> str:
    for name in ("preferred_username", "email", "upn", "name"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            cleaned = _NOT_USERNAME.sub(".", normalise_username(value)).strip(".")
            if cleaned:
                return cleaned[: USERNAME_MAX - 4]
    return "staff"


def _free_username(session: Session, wanted: str) -> str:
    # A local account may already hold the name: never take it over, add a number instead.
    taken = set(session.scalars(select(User.username).where(User.username.like(f"{wanted}%"))))
    if wanted not in taken:
        return wanted
    return next(f"{wanted}-{n}" for n in range(2, 10_000) if f"{wanted}-{n}" not in taken)


def _full_name_from(claims: Mapping[str, Any]) -> str:
    name = claims.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    parts = [claims.get("given_name"), claims.get("family_name")]
    joined = " ".join(part.strip() for part in parts if isinstance(part, str) and part.strip())
    return joined[:200] or "Unnamed person"
