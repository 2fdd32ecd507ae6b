from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.db import make_engine, make_session_factory, session_scope
from app.users.tokens import resolve_api_token
from tests.support.databases import fresh_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        assert waitlist("db", "upgrade", url=url).returncode == 0
        yield url


def waitlist(*args: str, url: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the real command line as an operator would (stdin is not a terminal)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WAITLIST_")}
    environment.update({"PYTHONPATH": str(ROOT), "WAITLIST_DATABASE_URL": url})
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_operator_creates_a_clinician_and_lists_accounts(database: str) -> None:
    created = waitlist(
        "user", "create", "--username", "Alice", "--full-name", "Alice Adeyemi",
        "--role", "clinician", "--password-stdin", "--json",
        url=database, stdin="correct horse battery staple\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["username"] == "alice"
    listed = waitlist("user", "list", "--json", url=database)
    (user,) = json.loads(listed.stdout)["users"]
    assert user["username"] == "alice"
    assert user["role"] == "clinician"
    assert user["active"] is True
    assert "password" not in listed.stdout


def test_a_weak_password_is_refused_with_the_reason(database: str) -> None:
    result = waitlist(
        "user", "create", "--username", "bob", "--full-name", "Bob Brennan",
        "--role", "coordinator", "--password-stdin",
        url=database, stdin="password1\n",
    )  # fmt: skip
    assert result.returncode == 1
    assert "at least 12 characters" in result.stderr
    assert json.loads(waitlist("user", "list", "--json", url=database).stdout)["users"] == []


def test_without_a_terminal_the_password_must_come_from_stdin(database: str) -> None:
    result = waitlist(
        "user", "create", "--username", "bob", "--full-name", "Bob Brennan",
        "--role", "coordinator", url=database,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--password-stdin" in result.stderr


def test_a_service_account_token_is_shown_once_and_works(database: str) -> None:
    created = waitlist(
        "user", "create", "--username", "pas", "--full-name", "PAS nightly",
        "--role", "coordinator", "--service-account", url=database,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    issued = waitlist("user", "token", "--username", "pas", "--name", "PAS extract", url=database)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert token.startswith("wl_")
    assert "not be shown again" in issued.stderr
    engine = make_engine(database)
    with session_scope(make_session_factory(engine)) as session:
        user = resolve_api_token(session, value=token)
        assert user is not None and user.username == "pas"
    engine.dispose()
    assert token not in waitlist("user", "list", "--json", url=database).stdout


def test_people_are_not_given_tokens(database: str) -> None:
    waitlist(
        "user", "create", "--username", "alice", "--full-name", "Alice Adeyemi",
        "--role", "clinician", "--password-stdin",
        url=database, stdin="correct horse battery staple\n",
    )  # fmt: skip
    result = waitlist("user", "token", "--username", "alice", "--name", "laptop", url=database)
    assert result.returncode == 1
    assert "service accounts" in result.stderr


def test_an_operator_deactivates_an_account_and_revokes_a_token(database: str) -> None:
    waitlist(
        "user", "create", "--username", "pas", "--full-name", "PAS nightly",
        "--role", "coordinator", "--service-account", url=database,
    )  # fmt: skip
    issued = json.loads(
        waitlist("user", "token", "--username", "pas", "--name", "x", "--json", url=database).stdout
    )
    revoked = waitlist("user", "revoke-token", "--id", str(issued["id"]), url=database)
    assert revoked.returncode == 0, revoked.stderr
    again = waitlist("user", "revoke-token", "--id", str(issued["id"]), url=database)
    assert again.returncode == 1
    assert waitlist("user", "deactivate", "--username", "pas", url=database).returncode == 0
    (user,) = json.loads(waitlist("user", "list", "--json", url=database).stdout)["users"]
    assert user["active"] is False


def _create_admin(database: str) -> None:
    created = waitlist(
        "user", "create", "--username", "carol", "--full-name", "Carol Chen",
        "--role", "admin", "--password-stdin",
        url=database, stdin="correct horse battery staple\n",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr


def test_an_operator_enrols_an_admins_authenticator_once_and_resets_it(database: str) -> None:
    _create_admin(database)

    enrolled = waitlist("user", "totp-enrol", "--username", "carol", "--json", url=database)

    assert enrolled.returncode == 0, enrolled.stderr
    shown = json.loads(enrolled.stdout)
    assert shown["otpauth_uri"].startswith("otpauth://totp/")
    assert f"secret={shown['secret']}" in shown["otpauth_uri"]
    as_text = waitlist("user", "totp-enrol", "--username", "carol", url=database)
    assert as_text.returncode == 0  # not yet confirmed: a new secret replaces the unused one
    assert "otpauth://totp/" in as_text.stdout and "\u2588" in as_text.stdout  # a QR code
    assert "not be shown again" in as_text.stderr

    reset = waitlist("user", "totp-reset", "--username", "carol", url=database)
    assert reset.returncode == 0, reset.stderr
    listed = json.loads(waitlist("user", "list", "--json", url=database).stdout)
    (carol,) = listed["users"]
    assert carol["second_factor"] is False
    assert carol["signs_in_with"] == "local account"


def test_an_operator_gives_and_takes_away_a_role(database: str) -> None:
    _create_admin(database)
    assert (
        waitlist(
            "user", "role", "--username", "carol", "--role", "clinician", url=database
        ).returncode
        == 0
    )
    listed = json.loads(waitlist("user", "list", "--json", url=database).stdout)
    assert listed["users"][0]["role"] == "clinician"
    assert (
        waitlist("user", "role", "--username", "carol", "--role", "none", url=database).returncode
        == 0
    )
    listed = json.loads(waitlist("user", "list", "--json", url=database).stdout)
    assert listed["users"][0]["role"] == "none"
    refused = waitlist("user", "role", "--username", "carol", "--role", "superuser", url=database)
    assert refused.returncode == 2
    assert "clinician, coordinator, admin or none" in refused.stderr
