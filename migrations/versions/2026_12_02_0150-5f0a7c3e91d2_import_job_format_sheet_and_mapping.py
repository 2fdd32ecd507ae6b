"""import job format, sheet and column mapping

An import reports which of the file's columns went where (a trust's PAS report or a WLMDS
extract, not only our own column names) and, for a workbook, which sheet was read. Existing jobs
were all CSV files with our names: they get ``csv`` and an empty mapping.

Revision ID: 5f0a7c3e91d2
Revises: 5a1c0e3d9f21
Create Date: 2026-12-02 01:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5f0a7c3e91d2"
down_revision: str | None = "5a1c0e3d9f21"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("file_format", sa.String(length=8), nullable=False, server_default="csv")
        )
        batch_op.add_column(sa.Column("sheet", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("column_mapping", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("mapping_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_column("mapping_name")
        batch_op.drop_column("column_mapping")
        batch_op.drop_column("sheet")
        batch_op.drop_column("file_format")
