"""Sign-in codes of the privacy center and the console, shared by every server process.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the sign-in code tables."""
    op.create_table(
        "sign_in_codes",
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address_hash", name=op.f("pk_sign_in_codes")),
    )
    op.create_table(
        "sign_in_issues",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_issues")),
    )
    op.create_index(
        "ix_sign_in_issues_key_hash_at", "sign_in_issues", ["key_hash", "at"], unique=False
    )


def downgrade() -> None:
    """Drop the sign-in code tables."""
    op.drop_index("ix_sign_in_issues_key_hash_at", table_name="sign_in_issues")
    op.drop_table("sign_in_issues")
    op.drop_table("sign_in_codes")
