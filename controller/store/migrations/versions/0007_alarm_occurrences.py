"""alarm occurrences: one open alarm per device condition with a counter

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-29 01:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.add_column(sa.Column('occurrences', sa.Integer(), nullable=False, server_default='1'))


def downgrade() -> None:
    with op.batch_alter_table('alarm', schema=None) as batch_op:
        batch_op.drop_column('occurrences')
