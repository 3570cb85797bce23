"""serial_counters: the last 文号 serial each office gave each series (case papers, certificates), taken in a
transaction that locks its row, so two papers issued at once never share a number.

Revision ID: 0009_serials
Revises: 0008_seal_provider
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_serials"
down_revision = "0008_seal_provider"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serial_counters",
        sa.Column("office_id", sa.String(length=32), nullable=False),
        sa.Column("series", sa.String(length=64), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office_id", "series"),
    )


def downgrade() -> None:
    op.drop_table("serial_counters")
