"""dashboard indexes: covering indexes for the dashboard's period and overdue aggregates

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-24 22:15:00
"""
from alembic import op

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None

DASHBOARD = ['branch_id', 'created_at', 'status', 'category', 'grid_id', 'priority', 'first_response_at',
             'response_due_at', 'first_reply_at', 'reply_due_at', 'resolved_at', 'reopen_count', 'resident_id',
             'sentiment']
RUNNING = ['branch_id', 'status', 'first_response_at', 'response_due_at', 'first_reply_at', 'reply_due_at',
           'grid_id', 'assignee_id']


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_dashboard', DASHBOARD, unique=False)
        batch_op.create_index('ix_tickets_running', RUNNING, unique=False)
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_events_kind_at', ['kind', 'at', 'ticket_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_events_kind_at')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_running')
        batch_op.drop_index('ix_tickets_dashboard')
