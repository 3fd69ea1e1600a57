"""documents and reports: the subject's signature at intake, the kept daily reports

Revision ID: 0009
Revises: 0003
Create Date: 2026-11-29 01:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


revision = '0009'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.add_column(sa.Column('intake_signature_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    op.create_table('daily_report',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stats', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('day')
    )


def downgrade() -> None:
    op.drop_table('daily_report')
    with op.batch_alter_table('stay', schema=None) as batch_op:
        batch_op.drop_column('intake_signature_id')
