"""appointment slots

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:26:50.940659
"""
import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_end', bot.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('place', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('marked_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_appointments_slot_start'), ['slot_start'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_slot_start'))
        batch_op.drop_column('marked_at')
        batch_op.drop_column('place')
        batch_op.drop_column('slot_end')

