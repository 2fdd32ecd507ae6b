"""worklist tasks and letters, and an attempt's own script

A task for every human follow-up (issue 15), the letters prepared for printing, and the script an
attempt uses when the patient's preferred language has one of its own. Pathways that already
ended where nobody worked (unverified, asked to be called back, unclear, unreachable, opted out)
get an open task each, due today, so upgrading leaves nobody in a dead end.

Revision ID: 25e04b014a17
Revises: 7aa35525922f
Create Date: 2026-12-02 01:40:10.939400
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "25e04b014a17"
down_revision: str | None = "7aa35525922f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "letter",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "non_responder",
                "removal_confirmation",
                "gp_discharge",
                name="letterkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "clinical_decision_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("addressee", sa.String(length=200), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("letter_date", sa.Date(), nullable=False),
        sa.Column("sent_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("sent_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinical_decision_id"],
            ["clinical_decision.id"],
            name=op.f("fk_letter_clinical_decision_id_clinical_decision"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_letter_pathway_id_pathway")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_letter_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_letter")),
        sa.UniqueConstraint(
            "clinical_decision_id", "kind", name=op.f("uq_letter_clinical_decision_id_kind")
        ),
    )
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_letter_pathway_id"), ["pathway_id"], unique=False)

    op.create_table(
        "worklist_task",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "reason",
            sa.Enum(
                "unverified",
                "callback_requested",
                "unclear",
                "unreachable",
                "opted_out",
                "language",
                "access",
                "reported_deceased",
                "clinician_call_back",
                "letter",
                name="taskreason",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("detail", sa.String(length=500), nullable=True),
        sa.Column("letter_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "state",
            sa.Enum("open", "done", "cancelled", name="taskstate", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_worklist_task_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letter.id"], name=op.f("fk_worklist_task_letter_id_letter")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_worklist_task_owner_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_worklist_task_pathway_id_pathway")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_worklist_task_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worklist_task")),
    )
    with op.batch_alter_table("worklist_task", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_worklist_task_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "ix_worklist_task_list", ["state", "reason", "due_date", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_worklist_task_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            "ix_worklist_task_pathway", ["pathway_id", "reason", "state"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_worklist_task_patient_id"), ["patient_id"], unique=False
        )

    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "call_script_id",
                sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_contact_attempt_call_script_id_call_script"),
            "call_script",
            ["call_script_id"],
            ["id"],
        )

    _tasks_for_existing_dead_ends()


# Outcomes that promised (or needed) a person before the worklist existed.
_DEAD_ENDS = ("unverified", "callback_requested", "unclear", "unreachable", "opted_out")


def _tasks_for_existing_dead_ends() -> None:
    bind = op.get_bind()
    pathway = sa.table(
        "pathway",
        sa.column("id", sa.BigInteger),
        sa.column("patient_id", sa.BigInteger),
        sa.column("status", sa.String),
        sa.column("outcome", sa.String),
    )
    task = sa.table(
        "worklist_task",
        sa.column("pathway_id", sa.BigInteger),
        sa.column("patient_id", sa.BigInteger),
        sa.column("reason", sa.String),
        sa.column("detail", sa.String),
        sa.column("state", sa.String),
        sa.column("due_date", sa.Date),
        sa.column("created_at", app.db.AwareDateTime(timezone=True)),
    )
    now = dt.datetime.now(dt.UTC)
    rows = bind.execute(
        sa.select(pathway.c.id, pathway.c.patient_id, pathway.c.outcome).where(
            pathway.c.status == "open", pathway.c.outcome.in_(_DEAD_ENDS)
        )
    ).all()
    if rows:
        op.bulk_insert(
            task,
            [
                {
                    "pathway_id": pathway_id,
                    "patient_id": patient_id,
                    "reason": outcome,
                    "detail": "outcome reached before the worklist existed",
                    "state": "open",
                    "due_date": now.date(),
                    "created_at": now,
                }
                for pathway_id, patient_id, outcome in rows
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_contact_attempt_call_script_id_call_script"), type_="foreignkey"
        )
        batch_op.drop_column("call_script_id")

    with op.batch_alter_table("worklist_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worklist_task_patient_id"))
        batch_op.drop_index("ix_worklist_task_pathway")
        batch_op.drop_index(batch_op.f("ix_worklist_task_owner_id"))
        batch_op.drop_index("ix_worklist_task_list")
        batch_op.drop_index(batch_op.f("ix_worklist_task_campaign_id"))

    op.drop_table("worklist_task")
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_letter_pathway_id"))

    op.drop_table("letter")
