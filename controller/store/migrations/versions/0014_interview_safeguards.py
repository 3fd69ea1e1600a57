"""a minor's appropriate adult on the stay (with the visitor tag issued), and how each safeguard was met at an
interview's start

Revision ID: 0014
Revises: 0012
Create Date: 2026-11-29 04:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appropriate_adult',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stay_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('relation', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('id_number', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('tag_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('appropriate_adult', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appropriate_adult_stay_id'), ['stay_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appropriate_adult_tag_id'), ['tag_id'], unique=False)
    op.create_table('interview_safeguards',
    sa.Column('interview_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('stay_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('interview_id')
    )
    with op.batch_alter_table('interview_safeguards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interview_safeguards_stay_id'), ['stay_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('interview_safeguards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interview_safeguards_stay_id'))
    op.drop_table('interview_safeguards')
    with op.batch_alter_table('appropriate_adult', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appropriate_adult_tag_id'))
        batch_op.drop_index(batch_op.f('ix_appropriate_adult_stay_id'))
    op.drop_table('appropriate_adult')
