"""the room a kiosk is enrolled in: a welfare check from a room without a wristband reader comes from its kiosk

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 04:35:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('kiosk', schema=None) as batch_op:
        batch_op.drop_column('room_id')
