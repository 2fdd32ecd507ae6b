"""Password hashing (argon2id through pwdlib) and the rules a new password must meet."""

from __future__ import annotations

from pwdlib import PasswordHash

from app.errors import InvalidInputError

MIN_LENGTH = 12
MAX_LENGTH = 256

_hasher = PasswordHash.recommended()
# Verified against when the username is unknown, so an unknown user costs as much as a known one.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone-dummy")

_COMMON = frozenset(
    {
        "password",
        "password1",
        "password123",
        "passw0rd",
        "qwerty",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "administrator",
        "changeme",
        "123456",
        "12345678",
        "123456789",
        "1234567890",
        "nhs",
        "hospital",
    }
)


def hash_password(password: str) -> str:
    """An argon2id hash with the library's recommended parameters."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Whether ``password`` matches; takes the same time when there is no hash to check."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return _hasher.verify(password, password_hash)


def check_strength(password: str, *, username: str, full_name: str = "") -> None:
    """Refuse a weak password with a message that says what to change."""
    if len(password) < MIN_LENGTH:
        raise InvalidInputError(f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise InvalidInputError(f"The password must be at most {MAX_LENGTH} characters long.")
    lowered = password.lower()
    if len(set(lowered)) < 5:
        raise InvalidInputError("The password repeats too few characters; use a passphrase.")
    if lowered.isdigit():
        raise InvalidInputError("A password of only digits is too easy to guess; use a passphrase.")
    stripped = lowered.rstrip("0123456789!?.")
    if lowered in _COMMON or stripped in _COMMON:
        raise InvalidInputError("The password is too common; choose a passphrase of your own.")
    names = [username.lower(), *full_name.lower().split()]
    if any(len(name) >= 3 and name in lowered for name in names):
        raise InvalidInputError("The password must not contain the username or the person's name.")
