"""ticket keywords and report indexes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21 21:57:36.750898
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keywords', sa.JSON(), nullable=True))
        batch_op.create_index('ix_tickets_branch_created', ['branch_id', 'created_at'], unique=False)
        batch_op.create_index('ix_tickets_branch_status', ['branch_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_branch_status')
        batch_op.drop_index('ix_tickets_branch_created')
        batch_op.drop_column('keywords')

