"""offence category and SPP approval of a suspect under 16 (Criminal Law art. 17)

Revision ID: 0005
Revises: 0009
Create Date: 2026-11-29 01:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0005'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offence_category', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('spp_approval_no', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.drop_column('spp_approval_no')
        batch_op.drop_column('offence_category')
