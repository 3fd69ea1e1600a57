"""the duty roster: shift windows and the stays or cases a staff member works on them

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 04:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('duty_assignment',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('staff_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stay_ids', sa.JSON(), nullable=True),
    sa.Column('case_nos', sa.JSON(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assigned_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('assigned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('duty_assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_assignment_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('duty_assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_assignment_staff_id'))
    op.drop_table('duty_assignment')
