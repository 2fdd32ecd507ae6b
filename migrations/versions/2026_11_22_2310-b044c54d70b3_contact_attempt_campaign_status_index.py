"""contact attempt index by campaign and status

Housekeeping asks each running campaign "anything queued or in flight?" on every pass of every
worker; without this index PostgreSQL answered by scanning the campaign's attempts.

Revision ID: b044c54d70b3
Revises: 1008493ac616
Create Date: 2026-11-22 23:10:06.324272
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "b044c54d70b3"
down_revision: str | None = "1008493ac616"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_attempt_campaign_status", ["campaign_id", "status"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_attempt_campaign_status")
