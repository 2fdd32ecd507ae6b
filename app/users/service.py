"""Creating, finding and changing user accounts."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import audit
from app.db import utcnow
from app.errors import ConflictError, InvalidInputError, NotFoundError
from app.models import Role, User, UserSession
from app.users.passwords import check_strength, hash_password

USERNAME_MAX = 100


def normalise_username(username: str) -> str:
    """Usernames are compared case-insensitively and without surrounding spaces."""
    return username.strip().lower()[:USERNAME_MAX]


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    role: Role,
    password: str | None = None,
    service_account: bool = False,
    actor: User | str = "system",
) -> User:
    """Add a person (with a password) or a service account (without; it uses API tokens)."""
    name = normalise_username(username)
    if not name or len(username.strip()) > USERNAME_MAX or any(c.isspace() for c in name):
        raise InvalidInputError("A username is 1 to 100 characters with no spaces.")
    if not full_name.strip():
        raise InvalidInputError("A full name is required.")
    if service_account and password is not None:
        raise InvalidInputError("A service account has no password; issue it an API token.")
    if not service_account and password is None:
        raise InvalidInputError("A person needs a password.")
    if password is not None:
        check_strength(password, username=name, full_name=full_name)
    if session.scalar(select(User.id).where(User.username == name)) is not None:
        raise ConflictError(f"A user named {name!r} already exists.")
    user = User(
        username=name,
        full_name=full_name.strip(),
        role=role,
        password_hash=None if password is None else hash_password(password),
        is_service_account=service_account,
        is_active=True,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user_created",
        entity_type="user",
        entity_id=user.id,
        detail={"username": name, "role": role.value, "service_account": service_account},
    )
    return user


def get_user(session: Session, *, username: str) -> User:
    """The user with this username, or NotFoundError."""
    user = session.scalar(select(User).where(User.username == normalise_username(username)))
    if user is None:
        raise NotFoundError(f"No user named {normalise_username(username)!r}.")
    return user


def get_user_by_id(session: Session, *, user_id: int) -> User:
    """The user with this id, or NotFoundError."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError(f"No user with id {user_id}.")
    return user


def list_users(session: Session) -> list[User]:
    """Every account, people and service accounts, by username."""
    return list(session.scalars(select(User).order_by(User.username)))


def set_password(
    session: Session, *, user: User, password: str, actor: User | str = "system"
) -> None:
    """Change a person's password and end every session they have open."""
    if user.is_service_account:
        raise InvalidInputError("A service account has no password; issue it an API token.")
    check_strength(password, username=user.username, full_name=user.full_name)
    user.password_hash = hash_password(password)
    end_all_sessions(session, user=user)
    audit.record(
        session, actor=actor, action="password_changed", entity_type="user", entity_id=user.id
    )


def deactivate_user(session: Session, *, user: User, actor: User | str = "system") -> None:
    """Stop an account from signing in or using tokens; its open sessions end at once."""
    user.is_active = False
    end_all_sessions(session, user=user)
    audit.record(
        session, actor=actor, action="user_deactivated", entity_type="user", entity_id=user.id
    )


def end_all_sessions(session: Session, *, user: User) -> None:
    """End every open session of ``user``."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), id_token=None)
    )


def assign_role(
    session: Session, *, user: User, role: Role | None, actor: User | str = "system"
) -> None:
    """Give a person a role locally (or take it away); it stands until the provider's claims
    name a mapped role, which then decide."""
    if isinstance(actor, User) and actor.id == user.id:
        raise InvalidInputError("Nobody may change their own role; ask another admin.")
    before = user.role
    user.role, user.role_from_claims = role, False
    if role is None:
        end_all_sessions(session, user=user)
    audit.record(
        session,
        actor=actor,
        action="role_changed",
        entity_type="user",
        entity_id=user.id,
        detail={
            "from": before.value if before else None,
            "to": role.value if role else None,
            "source": "local",
        },
    )
