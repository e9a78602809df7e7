"""sla notices and scheduled sends

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 21:21:42.517381
"""
import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scheduled_sends',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=128), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('kind', 'scope', 'period', name='uq_scheduled_send')
    )
    op.create_table('sla_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'stage', 'level', 'round', name='uq_sla_notice')
    )
    with op.batch_alter_table('sla_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sla_notices_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('response_remind_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reply_remind_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reopen_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reopened_at', bot.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_reply_remind_at'), ['reply_remind_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_response_remind_at'), ['response_remind_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_response_remind_at'))
        batch_op.drop_index(batch_op.f('ix_tickets_reply_remind_at'))
        batch_op.drop_column('reopened_at')
        batch_op.drop_column('reopen_count')
        batch_op.drop_column('reply_remind_at')
        batch_op.drop_column('response_remind_at')

    with op.batch_alter_table('sla_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sla_notices_ticket_id'))

    op.drop_table('sla_notices')
    op.drop_table('scheduled_sends')
