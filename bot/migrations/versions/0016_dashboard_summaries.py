"""dashboard summaries (#14): daily rows per branch / grid / category, hour histograms, keywords,
members' days, the job's mark; indexes to find changed days, for the ledger's due order and members' events

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25 00:30:00
"""
from alembic import op
import sqlalchemy as sa
import bot.models

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def _counts(*names):
    return [sa.Column(n, sa.Integer(), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table('dash_daily',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('grid_id', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    *_counts('received', 'responded', 'replied', 'done', 'met', 'negative', 'neutral', 'positive', 'unscored',
             'rated', 'satisfied', 'resolved'),
    sa.PrimaryKeyConstraint('day', 'branch_id', 'grid_id', 'category')
    )
    op.create_table('dash_hours',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'branch_id', 'kind', 'bucket')
    )
    op.create_table('dash_words',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('grid_id', sa.String(length=64), nullable=False),
    sa.Column('keyword', sa.String(length=64), nullable=False),
    sa.Column('tickets', sa.Integer(), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.Column('latest', bot.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('day', 'branch_id', 'grid_id', 'keyword')
    )
    op.create_table('dash_members',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    *_counts('active', 'handled', 'good', 'rated', 'satisfied', 'points'),
    sa.PrimaryKeyConstraint('day', 'member_id')
    )
    op.create_table('dash_marks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('through', sa.Date(), nullable=False),
    sa.Column('checked_at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_updated', ['updated_at'], unique=False)
    # The 督办台账 in due order (bot.models.LEDGER_DUE over bot.models.LEDGER_STATUSES).
    running = "status IN ('assigned', 'new', 'reopened', 'replied', 'responded', 'transferred')"
    op.execute("CREATE INDEX ix_tickets_ledger ON tickets ((CASE WHEN (first_response_at IS NULL) "
               "THEN response_due_at ELSE reply_due_at END), id) WHERE " + running)
    op.create_index('ix_ticket_events_at', 'ticket_events', ['at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ticket_events_at', table_name='ticket_events')
    op.drop_index('ix_tickets_ledger', table_name='tickets')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_updated')
    for table in ('dash_marks', 'dash_members', 'dash_words', 'dash_hours', 'dash_daily'):
        op.drop_table(table)
