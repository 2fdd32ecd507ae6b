"""campaigns rate budget and dispatch columns

Revision ID: 1008493ac616
Revises: fc4924fe24d2
Create Date: 2026-11-22 20:04:13.538834
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "1008493ac616"
down_revision: str | None = "fc4924fe24d2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_budget",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budget")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_set", sa.String(length=200), nullable=True))

    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("retry_count", sa.SmallInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("dispatched_at", app.db.AwareDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_column("dispatched_at")
        batch_op.drop_column("retry_count")

    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("rule_set")

    op.drop_table("rate_budget")
