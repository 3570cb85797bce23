"""scale: batches and their items, one seal per box, a document replaced at most once; on PostgreSQL the
procrastinate job-queue schema (the queue lives in the same database, in its own tables).

Revision ID: 0004_scale
Revises: 0003_publication
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_scale"
down_revision = "0003_publication"
branch_labels = None
depends_on = None

_SEALING = "kind IN ('sealed', 'countersigned', 'approved')"


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("family", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.String(length=32), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_batches_office_id", "batches", ["office_id"])
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("document_id", sa.String(length=32), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", "number"),
    )
    op.create_index("ix_batch_items_batch_id", "batch_items", ["batch_id"])
    op.create_index("ix_batch_items_state", "batch_items", ["state"])
    op.create_index("uq_versions_one_seal_per_box", "document_versions", ["document_id", "office_id"], unique=True,
                    sqlite_where=sa.text(_SEALING), postgresql_where=sa.text(_SEALING))
    op.create_index("uq_documents_replaces_once", "documents", ["replaces_id"], unique=True,
                    sqlite_where=sa.text("replaces_id IS NOT NULL"),
                    postgresql_where=sa.text("replaces_id IS NOT NULL"))
    if op.get_bind().dialect.name == "postgresql":
        from procrastinate.schema import SchemaManager

        # straight to the driver: the schema's PL/pgSQL holds '%' that a parameter style would misread
        dbapi = op.get_bind().connection.dbapi_connection
        assert dbapi is not None
        cursor = dbapi.cursor()
        try:
            cursor.execute(SchemaManager.get_schema())
        finally:
            cursor.close()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, "
                           "procrastinate_jobs, procrastinate_workers CASCADE"))
        op.execute(sa.text("DROP TYPE IF EXISTS procrastinate_job_status, procrastinate_job_event_type, "
                           "procrastinate_job_to_defer_v1 CASCADE"))
    op.drop_index("uq_documents_replaces_once", table_name="documents")
    op.drop_index("uq_versions_one_seal_per_box", table_name="document_versions")
    op.drop_table("batch_items")
    op.drop_table("batches")
