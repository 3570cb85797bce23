"""seal ledger, CA state, the seal's 防伪编码 and emblem in the database

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('offices') as batch:
        batch.add_column(sa.Column('seal_security_code', sa.String(length=16), nullable=True))
        batch.add_column(sa.Column('seal_emblem', sa.JSON(), nullable=True))
    op.create_table('seal_certificates',
    sa.Column('serial', sa.String(length=64), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('office_id', sa.String(length=32), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('key_store', sa.String(length=64), nullable=False),
    sa.Column('not_before', sa.String(length=40), nullable=False),
    sa.Column('not_after', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('revoked_at', sa.String(length=40), nullable=True),
    sa.Column('reason', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('serial'),
    sa.UniqueConstraint('seq')
    )
    op.create_index(op.f('ix_seal_certificates_office_id'), 'seal_certificates', ['office_id'], unique=False)
    op.create_table('pki_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('pki_state')
    op.drop_index(op.f('ix_seal_certificates_office_id'), table_name='seal_certificates')
    op.drop_table('seal_certificates')
    with op.batch_alter_table('offices') as batch:
        batch.drop_column('seal_emblem')
        batch.drop_column('seal_security_code')
