"""approvals as their own record; a leave names its approval and the supervisor who granted it

Revision ID: 0004
Revises: 0005
Create Date: 2026-11-29 01:20:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0004'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stay_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('request', sa.JSON(), nullable=True),
    sa.Column('requested_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_method', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('document_no', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_by_action', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_stay_id'), ['stay_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_approval_state'), ['state'], unique=False)
    # a leave was approved by whoever the request named; from now on by the granted approval's supervisor
    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.alter_column('approver_id', new_column_name='approved_by')
        batch_op.add_column(sa.Column('approval_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('leave', schema=None) as batch_op:
        batch_op.drop_column('approval_id')
        batch_op.alter_column('approved_by', new_column_name='approver_id')
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_state'))
        batch_op.drop_index(batch_op.f('ix_approval_stay_id'))
        batch_op.drop_index(batch_op.f('ix_approval_kind'))
    op.drop_table('approval')
