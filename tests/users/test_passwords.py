from __future__ import annotations

import pytest

from app.errors import InvalidInputError
from app.users.passwords import check_strength, hash_password, verify_password


def test_a_password_is_stored_as_an_argon2id_hash_that_verifies() -> None:
    hashed = hash_password("a long enough passphrase")
    assert hashed.startswith("$argon2id$")
    assert "passphrase" not in hashed
    assert verify_password("a long enough passphrase", hashed)
    assert not verify_password("a long enough passphrasf", hashed)


def test_the_same_password_hashes_differently_each_time() -> None:
    assert hash_password("a long enough passphrase") != hash_password("a long enough passphrase")


def test_checking_against_no_hash_is_refused() -> None:
    assert not verify_password("anything at all here", None)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12 characters"),
        ("aaaaaaaaaaaaaaaa", "too few characters"),
        ("password123!", "too common"),
        ("1234567890123", "only digits"),
        ("my name is alice smith", "must not contain the username"),
        ("Adeyemi-rocks-2026", "must not contain the username or the person's name"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        check_strength(password, username="alice", full_name="Alice Adeyemi")


def test_a_passphrase_is_accepted() -> None:
    check_strength("correct horse battery staple", username="alice", full_name="Alice Adeyemi")
