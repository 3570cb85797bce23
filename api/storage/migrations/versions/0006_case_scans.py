"""case_scans: scans of pages signed by hand, kept with their case (the bytes in the blob store, addressed by
their SHA-256, like a document's versions).

Revision ID: 0006_case_scans
Revises: 0005_cases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_case_scans"
down_revision = "0005_cases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_scans",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("office_id", sa.String(length=32), nullable=False),
        sa.Column("uploaded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["document_id"], ["documents.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "sha256"),
    )
    op.create_index("ix_case_scans_case_id", "case_scans", ["case_id"])
    op.create_index("ix_case_scans_sha256", "case_scans", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_case_scans_sha256", table_name="case_scans")
    op.drop_index("ix_case_scans_case_id", table_name="case_scans")
    op.drop_table("case_scans")
