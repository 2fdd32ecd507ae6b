"""staff sign-in with an identity provider (OpenID Connect) and TOTP second factors

Users gain the issuer and subject the identity provider knows them by (unique together), where
their role came from, and an encrypted TOTP secret; a role may now be absent (a person the
provider vouches for whom no mapping or admin has given a role). Sessions record how they were
started and, for the provider, the ID token to end the provider's session with. Existing users
keep their roles, as locally assigned; existing sessions were password sessions.

Revision ID: 5a1c0e3d9f21
Revises: 5a7e2c91d0f4
Create Date: 2026-12-02 02:10:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "5a1c0e3d9f21"
down_revision: str | None = "5a7e2c91d0f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLE = sa.String(length=24)


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("role", existing_type=ROLE, nullable=True)
        batch_op.add_column(
            sa.Column("role_from_claims", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=500), nullable=True))
        batch_op.add_column(
            sa.Column("totp_confirmed_at", app.db.AwareDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_user_oidc_issuer_oidc_subject", ["oidc_issuer", "oidc_subject"]
        )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("method", sa.String(length=20), nullable=False, server_default="password")
        )
        batch_op.add_column(sa.Column("id_token", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_column("id_token")
        batch_op.drop_column("method")
    roleless = op.get_bind().execute(sa.text('SELECT count(*) FROM "user" WHERE role IS NULL'))
    if roleless.scalar_one():
        # No role may be invented for them (a guessed role is access nobody granted).
        raise RuntimeError("Some users have no role: give each one (waitlist user role) first.")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint("uq_user_oidc_issuer_oidc_subject", type_="unique")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_confirmed_at")
        batch_op.drop_column("totp_secret")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
        batch_op.drop_column("role_from_claims")
        batch_op.alter_column("role", existing_type=ROLE, nullable=False)
