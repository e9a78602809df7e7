"""exactly once: the inbox, draft ids, durable drafts, in-doubt sends, photo retries (#17)

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-24 21:50:00
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user', sa.String(length=128), nullable=False),
    sa.Column('dedupe_id', sa.String(length=200), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'user', 'dedupe_id')
    )
    op.create_table('flow_drafts',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user', sa.String(length=128), nullable=False),
    sa.Column('flow', sa.String(length=64), nullable=False),
    sa.Column('draft_id', sa.String(length=64), nullable=False),
    sa.Column('started_at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'user')
    )
    # Plain ADD COLUMN and unique indexes: SQLite cannot recreate tables others refer to.
    op.add_column('tickets', sa.Column('draft_id', sa.String(length=64), nullable=True))
    op.add_column('tickets', sa.Column('photos_due_at', bot.models.UTCDateTime(), nullable=True))
    op.create_index('ix_tickets_draft_id', 'tickets', ['draft_id'], unique=True)
    op.create_index('ix_tickets_photos_due_at', 'tickets', ['photos_due_at'], unique=False)
    op.add_column('appointments', sa.Column('draft_id', sa.String(length=64), nullable=True))
    op.create_index('ix_appointments_draft_id', 'appointments', ['draft_id'], unique=True)
    op.add_column('outbox', sa.Column('in_doubt', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('in_doubt')
    op.drop_index('ix_appointments_draft_id', table_name='appointments')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('draft_id')
    op.drop_index('ix_tickets_photos_due_at', table_name='tickets')
    op.drop_index('ix_tickets_draft_id', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('photos_due_at')
        batch_op.drop_column('draft_id')
    op.drop_table('flow_drafts')
    op.drop_table('inbox')
