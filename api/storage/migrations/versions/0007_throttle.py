"""throttle_counts: the request throttle's counters, shared by every worker (sign-in lockout, public limits).

Revision ID: 0007_throttle
Revises: 0006_case_scans
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_throttle"
down_revision = "0006_case_scans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "throttle_counts",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )


def downgrade() -> None:
    op.drop_table("throttle_counts")
