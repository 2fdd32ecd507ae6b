"""campaign SMS provider

Which provider a campaign's texts go through: ``telephony`` (the way its calls go, Twilio or the
simulator) or ``notify`` (GOV.UK Notify / NHS Notify). Existing campaigns keep texting the way
they always did.

Revision ID: 5a7e2c91d0f4
Revises: b044c54d70b3
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5a7e2c91d0f4"
down_revision: str | None = "b044c54d70b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "sms_provider", sa.String(length=16), nullable=False, server_default="telephony"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("sms_provider")
