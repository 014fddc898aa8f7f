"""Processor steps of requests: webhook deliveries and manual tasks, and delivery attempts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the processor task tables."""
    op.create_table(
        "processor_tasks",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("request_id", Id, nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("idempotency_key", sa.String(length=300), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name=op.f("fk_processor_tasks_request_id_requests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_tasks")),
        sa.UniqueConstraint("public_id", name=op.f("uq_processor_tasks_public_id")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_processor_tasks_idempotency_key")),
        sa.UniqueConstraint(
            "request_id", "recipient", name=op.f("uq_processor_tasks_request_id_recipient")
        ),
    )
    op.create_index("ix_processor_tasks_status", "processor_tasks", ["status"], unique=False)
    op.create_table(
        "processor_attempts",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("task_id", Id, nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["processor_tasks.id"],
            name=op.f("fk_processor_attempts_task_id_processor_tasks"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_processor_attempts")),
    )
    op.create_index(
        "ix_processor_attempts_task_id", "processor_attempts", ["task_id"], unique=False
    )


def downgrade() -> None:
    """Drop the processor task tables."""
    op.drop_index("ix_processor_attempts_task_id", table_name="processor_attempts")
    op.drop_table("processor_attempts")
    op.drop_index("ix_processor_tasks_status", table_name="processor_tasks")
    op.drop_table("processor_tasks")
