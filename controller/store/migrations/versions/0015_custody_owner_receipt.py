"""case property returned to its owner: who received it (name, identity document type and number, how it was read)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-29 04:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('custody_movement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_name', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('owner_id_type', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('owner_id_number', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(sa.Column('owner_id_source', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('custody_movement', schema=None) as batch_op:
        batch_op.drop_column('owner_id_source')
        batch_op.drop_column('owner_id_number')
        batch_op.drop_column('owner_id_type')
        batch_op.drop_column('owner_name')
