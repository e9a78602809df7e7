"""one ticket lifecycle: department handlers, ticket followers, ratings stored as codes

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 22:00:00

Ticket events are sealed in the audit chain, so their old rating words stay as written;
readers accept both (bot.lifecycle.rating_code). Only tickets.rating is converted.
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

WORDS_TO_CODES = (("满意", "satisfied"), ("基本满意", "basic"), ("不满意", "unsatisfied"))


def upgrade() -> None:
    with op.batch_alter_table('departments') as batch:
        batch.add_column(sa.Column('handlers', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('duty_id', sa.String(length=64), nullable=True))
    op.create_table('ticket_followers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('via', sa.String(length=16), nullable=False),
    sa.Column('created_at', bot.models.UTCDateTime(), nullable=False),
    sa.Column('rating', sa.String(length=16), nullable=True),
    sa.Column('rated_at', bot.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id', 'resident_id', name='uq_ticket_follower')
    )
    op.create_index(op.f('ix_ticket_followers_ticket_id'), 'ticket_followers', ['ticket_id'], unique=False)
    op.create_index(op.f('ix_ticket_followers_resident_id'), 'ticket_followers', ['resident_id'], unique=False)
    tickets = sa.table('tickets', sa.column('rating', sa.String))
    for word, code in WORDS_TO_CODES:
        op.execute(tickets.update().where(tickets.c.rating == word).values(rating=code))


def downgrade() -> None:
    tickets = sa.table('tickets', sa.column('rating', sa.String))
    for word, code in WORDS_TO_CODES:
        op.execute(tickets.update().where(tickets.c.rating == code).values(rating=word))
    op.drop_index(op.f('ix_ticket_followers_resident_id'), table_name='ticket_followers')
    op.drop_index(op.f('ix_ticket_followers_ticket_id'), table_name='ticket_followers')
    op.drop_table('ticket_followers')
    with op.batch_alter_table('departments') as batch:
        batch.drop_column('duty_id')
        batch.drop_column('handlers')
