"""personal data erasure mark

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 21:32:26.475808
"""
import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personal_erased_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_closed_at'), ['closed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_closed_at'))
        batch_op.drop_column('personal_erased_at')

