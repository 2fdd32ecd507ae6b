"""Persona users made through the real service functions (alice decides, bob coordinates...).

alice: clinician; bob: coordinator; charlie: admin; dave: a clinician whose account is
deactivated (he can prove nothing but that deactivation works).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from sqlalchemy.orm import Session

from app.models import Role, User
from app.users import passwords
from app.users.service import create_user, deactivate_user

PERSONA_ROLES: dict[str, Role] = {
    "alice": Role.CLINICIAN,
    "bob": Role.COORDINATOR,
    "charlie": Role.ADMIN,
    "dave": Role.CLINICIAN,
}
FULL_NAMES = {
    "alice": "Alice Adeyemi",
    "bob": "Bob Brennan",
    "charlie": "Charlie Chowdhury",
    "dave": "Dave Davies",
}


_PASSWORD_WORDS = {"alice": "amber", "bob": "birch", "charlie": "cobalt", "dave": "dune"}


def password_for(username: str) -> str:
    """Each persona's password (strong enough for the real strength check)."""
    return f"correct horse battery staple {_PASSWORD_WORDS.get(username, 'quartz')}"


@dataclass(frozen=True)
class Personas:
    """The persona users by name, and their passwords."""

    users: dict[str, User]
    passwords: dict[str, str]

    def __getitem__(self, username: str) -> User:
        return self.users[username]


_hashes: dict[str, str] = {}


@contextmanager
def reused_persona_hashes() -> Iterator[None]:
    """Hash each persona's password once per test run (argon2 is slow on purpose)."""

    def hash_once(password: str) -> str:
        if password not in _hashes:
            _hashes[password] = passwords.hash_password(password)
        return _hashes[password]

    with mock.patch("app.users.service.hash_password", hash_once):
        yield


def make_personas(session: Session) -> Personas:
    """alice, bob, charlie and (deactivated) dave, flushed in ``session``."""
    users: dict[str, User] = {}
    with reused_persona_hashes():
        for username, role in PERSONA_ROLES.items():
            users[username] = create_user(
                session,
                username=username,
                full_name=FULL_NAMES[username],
                role=role,
                password=password_for(username),
            )
    deactivate_user(session, user=users["dave"])
    return Personas(users=users, passwords={name: password_for(name) for name in users})


def make_service_account(session: Session, *, username: str, role: Role) -> User:
    """A machine client's account (no password; it uses API tokens)."""
    return create_user(
        session, username=username, full_name=f"{username} job", role=role, service_account=True
    )
