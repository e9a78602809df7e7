"""participation beyond tickets (#15): work logs, 代录 entries, publicity and cases, the council

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-24 22:24:44.225109
"""
from alembic import op
import sqlalchemy as sa
import bot.models

revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('council_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('convener_id', sa.String(length=64), nullable=False),
    sa.Column('starts_at', bot.models.UTCDateTime(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
    sa.Column('notice_sent_at', bot.models.UTCDateTime(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('resolved_at', bot.models.UTCDateTime(), nullable=True),
    sa.Column('summary_sent_at', bot.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('council_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_meetings_branch_id'), ['branch_id'], unique=False)

    op.create_table('council_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('keyword', sa.String(length=64), nullable=True),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('proposed_at', bot.models.UTCDateTime(), nullable=False),
    sa.Column('selected_at', bot.models.UTCDateTime(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('branch_id', 'keyword', name='uq_council_topic_keyword'),
    sa.UniqueConstraint('branch_id', 'ticket_id', name='uq_council_topic_ticket')
    )
    with op.batch_alter_table('council_topics', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_topics_branch_id'), ['branch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_council_topics_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('work_logs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('photo_media_id', sa.String(length=200), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_logs_at'), ['at'], unique=False)
        batch_op.create_index('ix_work_logs_member_day', ['member_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_work_logs_member_id'), ['member_id'], unique=False)

    op.create_table('council_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'resident_id', name='uq_council_registration')
    )
    with op.batch_alter_table('council_registrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_registrations_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('council_subscriptions',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('on', sa.Boolean(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.PrimaryKeyConstraint('resident_id')
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.String(length=64), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('added_by', sa.String(length=64), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_branch_id'), ['branch_id'], unique=False)

    op.create_table('council_followups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('council_followups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_followups_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('proxy_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('member_id', sa.String(length=64), nullable=False),
    sa.Column('bind_code', sa.String(length=12), nullable=True),
    sa.Column('bound_resident_id', sa.Integer(), nullable=True),
    sa.Column('bound_at', bot.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('proxy_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_entries_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_entries_phone'), ['phone'], unique=False)

    op.create_table('publicity',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=True),
    sa.Column('consent_at', bot.models.UTCDateTime(), nullable=True),
    sa.Column('hidden', sa.Boolean(), nullable=False),
    sa.Column('hidden_by', sa.String(length=64), nullable=True),
    sa.Column('golden_by', sa.String(length=64), nullable=True),
    sa.Column('golden_at', bot.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )


def downgrade() -> None:
    op.drop_table('publicity')
    with op.batch_alter_table('proxy_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_entries_phone'))
        batch_op.drop_index(batch_op.f('ix_proxy_entries_member_id'))

    op.drop_table('proxy_entries')
    with op.batch_alter_table('council_followups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_followups_meeting_id'))

    op.drop_table('council_followups')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_branch_id'))

    op.drop_table('cases')
    op.drop_table('council_subscriptions')
    with op.batch_alter_table('council_registrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_registrations_meeting_id'))

    op.drop_table('council_registrations')
    with op.batch_alter_table('work_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_logs_member_id'))
        batch_op.drop_index('ix_work_logs_member_day')
        batch_op.drop_index(batch_op.f('ix_work_logs_at'))

    op.drop_table('work_logs')
    with op.batch_alter_table('council_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_topics_meeting_id'))
        batch_op.drop_index(batch_op.f('ix_council_topics_branch_id'))

    op.drop_table('council_topics')
    with op.batch_alter_table('council_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_meetings_branch_id'))

    op.drop_table('council_meetings')
