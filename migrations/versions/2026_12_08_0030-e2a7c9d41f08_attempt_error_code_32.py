"""contact_attempt.error_code widened from 16 to 32 characters

The dispatcher records why it cancelled an attempt as the name of the block that stopped it, and
two of those names are longer than 16: ``answered_this_round`` (the patient answered another
contact of the round while this one was queued) and ``reported_deceased``. PostgreSQL refused the
write, so the attempt stayed claimed until its lease ran out, was claimed again and failed again:
never contacted (safe), but never ended, and its campaign never completed. SQLite does not check
lengths, so only PostgreSQL met it. Widening a varchar is a change of the catalogue alone on
PostgreSQL: no table rewrite. SQLite rebuilds the table (batch mode), as for other changes.

Revision ID: e2a7c9d41f08
Revises: 5b8e1f4c7a20
Create Date: 2026-12-08 00:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e2a7c9d41f08"
down_revision: str | None = "5b8e1f4c7a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.alter_column(
            "error_code", existing_type=sa.String(16), type_=sa.String(32), existing_nullable=True
        )


def downgrade() -> None:
    # Codes longer than 16 are cut, as the other error codes already are where they are written.
    attempt = sa.table("contact_attempt", sa.column("error_code", sa.String))
    op.execute(
        attempt.update()
        .where(sa.func.length(attempt.c.error_code) > 16)
        .values(error_code=sa.func.substr(attempt.c.error_code, 1, 16))
    )
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.alter_column(
            "error_code", existing_type=sa.String(32), type_=sa.String(16), existing_nullable=True
        )
