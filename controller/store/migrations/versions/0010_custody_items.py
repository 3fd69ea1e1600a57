"""custody items: case property (涉案财物) and case files (卷宗) with their handovers; health records

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-29 01:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0010'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('custody_item',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('case_no', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stay_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('amount', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('photo_ids', sa.JSON(), nullable=True),
    sa.Column('seal_no', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holder_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('due_back_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transfer_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('registered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('registered_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('custody_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_custody_item_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_item_case_no'), ['case_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_item_stay_id'), ['stay_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_custody_item_status'), ['status'], unique=False)

    op.create_table('custody_movement',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('item_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('giver_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('receiver_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('giver_auth', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('receiver_auth', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('location_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expected_return_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('item_id', 'seq', name='uq_custody_movement_seq'),
    )
    with op.batch_alter_table('custody_movement', schema=None) as batch_op:
        batch_op.create_index('ix_custody_movement_item', ['item_id', 'seq'], unique=False)

    op.create_table('health_record',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stay_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('staff_ids', sa.JSON(), nullable=True),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('health_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_health_record_stay_id'), ['stay_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_health_record_kind'), ['kind'], unique=False)


def downgrade() -> None:
    op.drop_table('health_record')
    op.drop_table('custody_movement')
    op.drop_table('custody_item')
