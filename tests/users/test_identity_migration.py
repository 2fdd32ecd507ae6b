"""The migration adding identity-provider sign-in and TOTP keeps existing accounts as they were."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import make_engine
from app.schema import downgrade, upgrade
from tests.conftest import MIGRATIONS
from tests.support.databases import fresh_database

BEFORE = "5a7e2c91d0f4"  # the revision this one follows
THIS = "5a1c0e3d9f21"


def test_existing_users_keep_their_roles_as_local_ones_and_sessions_were_password_ones(
    tmp_path: Path,
) -> None:
    with fresh_database(tmp_path) as url:
        upgrade(url, MIGRATIONS, BEFORE)
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(
                text(
                    'INSERT INTO "user" (username, full_name, role, password_hash, '
                    "is_service_account, is_active, failed_logins, created_at) VALUES "
                    "('alice', 'Alice Adeyemi', 'clinician', 'hash', false, true, 0, "
                    "CURRENT_TIMESTAMP)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO user_session (token_hash, user_id, csrf_token, created_at, "
                    "last_seen_at) SELECT 'h', id, 'c', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP "
                    'FROM "user"'
                )
            )
        engine.dispose()

        upgrade(url, MIGRATIONS, THIS)

        engine = make_engine(url)
        with engine.connect() as connection:
            user = connection.execute(
                text('SELECT role, role_from_claims, oidc_subject, totp_secret FROM "user"')
            ).one()
            method = connection.execute(text("SELECT method FROM user_session")).scalar_one()
        assert tuple(user) == ("clinician", False, None, None)
        assert method == "password"
        # A person with no role cannot be taken back to a schema where everyone has one.
        with engine.begin() as connection:
            connection.execute(text('UPDATE "user" SET role = NULL'))
        engine.dispose()
        with pytest.raises(RuntimeError, match="no role"):
            downgrade(url, MIGRATIONS, BEFORE)
