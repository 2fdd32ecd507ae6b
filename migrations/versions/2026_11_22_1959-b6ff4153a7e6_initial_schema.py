"""initial schema

Revision ID: b6ff4153a7e6
Revises:
Create Date: 2026-11-22 19:59:35.621572
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "b6ff4153a7e6"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "call_script",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("approved_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_script")),
        sa.UniqueConstraint(
            "flow_id",
            "version",
            "content_hash",
            name=op.f("uq_call_script_flow_id_version_content_hash"),
        ),
    )
    op.create_table(
        "cohort",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("name", name=op.f("uq_cohort_name")),
    )
    op.create_table(
        "patient",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("given_name", sa.String(length=100), nullable=False),
        sa.Column("family_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("date_of_death", sa.Date(), nullable=True),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("imd_decile", sa.SmallInteger(), nullable=True),
        sa.Column("ethnic_category", sa.String(length=2), nullable=True),
        sa.Column("preferred_language", sa.String(length=8), nullable=False),
        sa.Column("interpreter_required", sa.Boolean(), nullable=False),
        sa.Column("mobile_phone", sa.String(length=16), nullable=True),
        sa.Column("landline_phone", sa.String(length=16), nullable=True),
        sa.Column("opted_out_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patient_nhs_number")),
    )
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_patient_landline_phone"), ["landline_phone"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_patient_mobile_phone"), ["mobile_phone"], unique=False)

    op.create_table(
        "user",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=24), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("is_service_account", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("last_login_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_api_token_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "campaign",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column(
            "cohort_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "call_script_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("starts_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("calling_windows", sa.JSON(), nullable=False),
        sa.Column("attempt_policy", sa.JSON(), nullable=False),
        sa.Column("calls_per_second", sa.Float(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("started_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_script_id"],
            ["call_script.id"],
            name=op.f("fk_campaign_call_script_id_call_script"),
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_campaign_cohort_id_cohort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_cohort_id"), ["cohort_id"], unique=False)

    op.create_table(
        "import_job",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "cohort_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("encoding", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("unknown_columns", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("started_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_import_job_cohort_id_cohort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_job")),
    )
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_job_cohort_id"), ["cohort_id"], unique=False)

    op.create_table(
        "user_session",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "import_row_error",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "import_job_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("column", sa.String(length=64), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_job_id"],
            ["import_job.id"],
            name=op.f("fk_import_row_error_import_job_id_import_job"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_row_error")),
    )
    with op.batch_alter_table("import_row_error", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_row_error_import_job_id"), ["import_job_id"], unique=False
        )

    op.create_table(
        "pathway",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("provider_code", sa.String(length=12), nullable=False),
        sa.Column("pathway_id", sa.String(length=64), nullable=False),
        sa.Column(
            "patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "cohort_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "last_import_job_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("local_patient_id", sa.String(length=32), nullable=True),
        sa.Column("specialty_code", sa.String(length=3), nullable=False),
        sa.Column("specialty_name", sa.String(length=100), nullable=True),
        sa.Column("clock_start_date", sa.Date(), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=True),
        sa.Column("waiting_list_type", sa.String(length=4), nullable=True),
        sa.Column("planned_procedure", sa.String(length=200), nullable=True),
        sa.Column("consultant_code", sa.String(length=16), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=True),
        sa.Column("last_validated_date", sa.Date(), nullable=True),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("diagnosis_codes", sa.JSON(), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("outcome_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_pathway_cohort_id_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["last_import_job_id"],
            ["import_job.id"],
            name=op.f("fk_pathway_last_import_job_id_import_job"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_pathway_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway")),
        sa.UniqueConstraint(
            "provider_code", "pathway_id", name=op.f("uq_pathway_provider_code_pathway_id")
        ),
    )
    with op.batch_alter_table("pathway", schema=None) as batch_op:
        batch_op.create_index("ix_pathway_cohort_status", ["cohort_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_pathway_patient_id"), ["patient_id"], unique=False)

    op.create_table(
        "audit_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column(
            "actor_user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_user_id"], ["user.id"], name=op.f("fk_audit_event_actor_user_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_audit_event_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_actor_user_id"), ["actor_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_event_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_event_pathway_id"), ["pathway_id"], unique=False)

    op.create_table(
        "contact_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "patient_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("attempt_number", sa.SmallInteger(), nullable=False),
        sa.Column("channel", sa.String(length=24), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("due_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("to_number", sa.String(length=16), nullable=True),
        sa.Column("claimed_by", sa.String(length=100), nullable=True),
        sa.Column("lease_expires_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("provider_sid", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("conversation", sa.JSON(), nullable=False),
        sa.Column("placed_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("created_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_contact_attempt_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_contact_attempt_pathway_id_pathway")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_contact_attempt_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempt")),
        sa.UniqueConstraint("provider_sid", name=op.f("uq_contact_attempt_provider_sid")),
        sa.UniqueConstraint("token", name=op.f("uq_contact_attempt_token")),
    )
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contact_attempt_campaign_pathway",
            ["campaign_id", "pathway_id", "attempt_number"],
            unique=True,
        )
        batch_op.create_index("ix_contact_attempt_due", ["status", "due_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contact_attempt_pathway_id"), ["pathway_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contact_attempt_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "exclusion",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rule_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("rule_set_hash", sa.String(length=64), nullable=False),
        sa.Column("evaluated_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_exclusion_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exclusion")),
        sa.UniqueConstraint("pathway_id", "rule_id", name=op.f("uq_exclusion_pathway_id_rule_id")),
    )
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exclusion_pathway_id"), ["pathway_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exclusion_rule_id"), ["rule_id"], unique=False)

    op.create_table(
        "answer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "contact_attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.Text(), nullable=False),
        sa.Column("input_kind", sa.String(length=8), nullable=False),
        sa.Column("raw_input", sa.Text(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("interpretation", sa.String(length=64), nullable=True),
        sa.Column("recorded", sa.JSON(), nullable=False),
        sa.Column("flow_id", sa.String(length=64), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("flow_hash", sa.String(length=64), nullable=False),
        sa.Column("answered_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_answer_contact_attempt_id_contact_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_answer_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer")),
        sa.UniqueConstraint(
            "contact_attempt_id",
            "step",
            "turn",
            name=op.f("uq_answer_contact_attempt_id_step_turn"),
        ),
    )
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_answer_pathway_id"), ["pathway_id"], unique=False)

    op.create_table(
        "pathway_outcome",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "contact_attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("outcome", sa.String(length=24), nullable=False),
        sa.Column("recorded", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("recorded_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_pathway_outcome_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["contact_attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_pathway_outcome_contact_attempt_id_contact_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_pathway_outcome_pathway_id_pathway")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pathway_outcome")),
    )
    with op.batch_alter_table("pathway_outcome", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pathway_outcome_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pathway_outcome_pathway_id"), ["pathway_id"], unique=False
        )

    op.create_table(
        "webhook_event",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("external_key", sa.String(length=200), nullable=False),
        sa.Column(
            "contact_attempt_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_attempt_id"],
            ["contact_attempt.id"],
            name=op.f("fk_webhook_event_contact_attempt_id_contact_attempt"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_event")),
        sa.UniqueConstraint(
            "source", "external_key", name=op.f("uq_webhook_event_source_external_key")
        ),
    )
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_webhook_event_contact_attempt_id"), ["contact_attempt_id"], unique=False
        )

    op.create_table(
        "review_item",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "pathway_outcome_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("reason", sa.String(length=24), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger(), nullable=False),
        sa.Column("specialty_code", sa.String(length=3), nullable=False),
        sa.Column("provider_code", sa.String(length=12), nullable=False),
        sa.Column("clock_start_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("opened_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("due_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "decided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_review_item_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_review_item_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_review_item_pathway_id_pathway")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_outcome_id"],
            ["pathway_outcome.id"],
            name=op.f("fk_review_item_pathway_outcome_id_pathway_outcome"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_item")),
    )
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_item_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_review_item_pathway_id"), ["pathway_id"], unique=False)
        batch_op.create_index(
            "ix_review_item_queue",
            ["status", "rank", "priority_rank", "clock_start_date", "id"],
            unique=False,
        )

    op.create_table(
        "clinical_decision",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "review_item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "pathway_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("decision", sa.String(length=24), nullable=False),
        sa.Column("rtt_status_code", sa.String(length=2), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "decided_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("decided_at", app.db.AwareDateTime(timezone=True), nullable=False),
        sa.Column("undone_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.Column(
            "undone_by_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("exported_at", app.db.AwareDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user.id"], name=op.f("fk_clinical_decision_decided_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["pathway_id"], ["pathway.id"], name=op.f("fk_clinical_decision_pathway_id_pathway")
        ),
        sa.ForeignKeyConstraint(
            ["review_item_id"],
            ["review_item.id"],
            name=op.f("fk_clinical_decision_review_item_id_review_item"),
        ),
        sa.ForeignKeyConstraint(
            ["undone_by_id"], ["user.id"], name=op.f("fk_clinical_decision_undone_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinical_decision")),
    )
    with op.batch_alter_table("clinical_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_clinical_decision_pathway_id"), ["pathway_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_clinical_decision_review_item_id"), ["review_item_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("clinical_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clinical_decision_review_item_id"))
        batch_op.drop_index(batch_op.f("ix_clinical_decision_pathway_id"))

    op.drop_table("clinical_decision")
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_queue")
        batch_op.drop_index(batch_op.f("ix_review_item_pathway_id"))
        batch_op.drop_index(batch_op.f("ix_review_item_campaign_id"))

    op.drop_table("review_item")
    with op.batch_alter_table("webhook_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_event_contact_attempt_id"))

    op.drop_table("webhook_event")
    with op.batch_alter_table("pathway_outcome", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_outcome_pathway_id"))
        batch_op.drop_index(batch_op.f("ix_pathway_outcome_campaign_id"))

    op.drop_table("pathway_outcome")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_pathway_id"))

    op.drop_table("answer")
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exclusion_rule_id"))
        batch_op.drop_index(batch_op.f("ix_exclusion_pathway_id"))

    op.drop_table("exclusion")
    with op.batch_alter_table("contact_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_attempt_patient_id"))
        batch_op.drop_index(batch_op.f("ix_contact_attempt_pathway_id"))
        batch_op.drop_index("ix_contact_attempt_due")
        batch_op.drop_index("ix_contact_attempt_campaign_pathway")

    op.drop_table("contact_attempt")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_pathway_id"))
        batch_op.drop_index(batch_op.f("ix_audit_event_at"))
        batch_op.drop_index(batch_op.f("ix_audit_event_actor_user_id"))

    op.drop_table("audit_event")
    with op.batch_alter_table("pathway", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pathway_patient_id"))
        batch_op.drop_index("ix_pathway_cohort_status")

    op.drop_table("pathway")
    with op.batch_alter_table("import_row_error", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_row_error_import_job_id"))

    op.drop_table("import_row_error")
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_session_user_id"))

    op.drop_table("user_session")
    with op.batch_alter_table("import_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_job_cohort_id"))

    op.drop_table("import_job")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_cohort_id"))

    op.drop_table("campaign")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("user")
    with op.batch_alter_table("patient", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_patient_mobile_phone"))
        batch_op.drop_index(batch_op.f("ix_patient_landline_phone"))

    op.drop_table("patient")
    op.drop_table("cohort")
    op.drop_table("call_script")
