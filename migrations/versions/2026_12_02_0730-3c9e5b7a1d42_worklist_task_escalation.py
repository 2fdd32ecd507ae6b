"""worklist task escalation: safety-critical tasks rank first, overdue ones are escalated once

Issue 15: a promised follow-up that nobody does must not sit quietly (hazard H16). Each task
records whether it is safety-critical (a reported death, a clinician's call back, an unclear
answer, or a call back asked for by a patient whose condition is worse) and when it was first
escalated as overdue. Existing tasks are marked safety-critical by their reason (the red flag of
an older call back is not looked up again).

Revision ID: 3c9e5b7a1d42
Revises: 25e04b014a17
Create Date: 2026-12-02 07:30:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "3c9e5b7a1d42"
down_revision: str | None = "25e04b014a17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SAFETY_CRITICAL_REASONS = ("reported_deceased", "clinician_call_back", "unclear")


def upgrade() -> None:
    with op.batch_alter_table("worklist_task", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("safety_critical", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("escalated_at", app.db.AwareDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_worklist_task_escalation", ["state", "escalated_at", "due_date"], unique=False
        )
    task = sa.table("worklist_task", sa.column("reason", sa.String), sa.column("safety_critical"))
    op.execute(
        task.update()
        .where(task.c.reason.in_(SAFETY_CRITICAL_REASONS))
        .values(safety_critical=sa.true())
    )


def downgrade() -> None:
    with op.batch_alter_table("worklist_task", schema=None) as batch_op:
        batch_op.drop_index("ix_worklist_task_escalation")
        batch_op.drop_column("escalated_at")
        batch_op.drop_column("safety_critical")
