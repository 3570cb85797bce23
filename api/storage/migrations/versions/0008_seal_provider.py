"""offices.seal_provider: where an office's seal comes from (MinSeal's own CA when NULL, an official seal, or a
remote signing service: signer/providers.py).

Revision ID: 0008_seal_provider
Revises: 0007_throttle
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_seal_provider"
down_revision = "0007_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.add_column(sa.Column("seal_provider", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("offices") as batch:
        batch.drop_column("seal_provider")
