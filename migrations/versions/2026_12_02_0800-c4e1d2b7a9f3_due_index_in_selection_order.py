"""the due-date index in the daily selection's order: (cohort, status, next due date, id)

The daily selection orders by next due date then id and stops at the daily limit. With the id
in the index the database reads the due rows in that order and stops at the limit; without it,
PostgreSQL read every pathway due on the last day taken (a whole day's worth) and sorted it.

Revision ID: c4e1d2b7a9f3
Revises: 1162c52cfc6c
Create Date: 2026-12-02 08:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "c4e1d2b7a9f3"
down_revision: str | None = "1162c52cfc6c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pathway", schema=None) as batch_op:
        batch_op.drop_index("ix_pathway_next_due")
        batch_op.create_index(
            "ix_pathway_next_due", ["cohort_id", "status", "next_due_date", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("pathway", schema=None) as batch_op:
        batch_op.drop_index("ix_pathway_next_due")
        batch_op.create_index(
            "ix_pathway_next_due", ["cohort_id", "status", "next_due_date"], unique=False
        )
