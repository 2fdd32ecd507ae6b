"""the time of each pathway's newest definitive answer, kept on the pathway

The dashboard asks, for every open pathway, when it was last validated. It used to aggregate
every stay, leave and worsened outcome ever recorded (a hash of 470,000 pathways built in each
parallel worker at a million pathways, about a second); ``record_outcome`` now keeps the
answer's time on the pathway row, and this upgrade fills it from the outcomes already there.

Revision ID: 5b8e1f4c7a20
Revises: 7d3f0a9c2e51
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "5b8e1f4c7a20"
down_revision: str | None = "7d3f0a9c2e51"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The definitive answers as the code names them (app.models.DEFINITIVE_OUTCOMES), spelled here
# because a migration must keep meaning what it meant when it was written.
DEFINITIVE = ("stay", "leave", "worsened")


def upgrade() -> None:
    op.add_column(
        "pathway", sa.Column("last_answer_at", app.db.AwareDateTime(timezone=True), nullable=True)
    )
    answers = ", ".join(f"'{outcome}'" for outcome in DEFINITIVE)
    # A correlated subquery rather than UPDATE ... FROM: the same statement on both databases.
    op.execute(
        "UPDATE pathway SET last_answer_at = ("  # noqa: S608 (constants only)
        " SELECT max(o.recorded_at) FROM pathway_outcome o"
        f" WHERE o.pathway_id = pathway.id AND o.outcome IN ({answers}))"
        " WHERE id IN (SELECT pathway_id FROM pathway_outcome"
        f" WHERE outcome IN ({answers}))"
    )


def downgrade() -> None:
    with op.batch_alter_table("pathway") as batch:
        batch.drop_column("last_answer_at")
