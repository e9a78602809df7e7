"""one audit chain for events, points and admin changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:30:07.808949
"""
import sqlalchemy as sa
from alembic import op

import bot.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('admin_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=140), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('chain_seq', sa.Integer(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('chain_seq')
    )
    op.create_table('audit_anchors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('at', bot.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('day')
    )
    op.create_table('audit_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), server_default='', nullable=False))
        batch_op.create_unique_constraint('uq_points_entries_chain_seq', ['chain_seq'])

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_seq', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_ticket_events_chain_seq', ['chain_seq'])

    _rechain()


def _rechain() -> None:
    """Puts the records written before this revision into the one chain, in id order,
    naming residents by internal id instead of openid."""
    from types import SimpleNamespace

    from bot.audit import GENESIS, _fields, link_hash

    bind = op.get_bind()
    utc = bot.models.UTCDateTime()
    events = sa.table('ticket_events', sa.column('id', sa.Integer), sa.column('ticket_id', sa.Integer),
                      sa.column('at', utc), sa.column('kind', sa.String), sa.column('actor', sa.String),
                      sa.column('data', sa.JSON), sa.column('chain_seq', sa.Integer),
                      sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    points = sa.table('points_entries', sa.column('id', sa.Integer), sa.column('member_id', sa.String),
                      sa.column('points', sa.Integer), sa.column('reason', sa.String),
                      sa.column('ticket_id', sa.Integer), sa.column('appointment_id', sa.Integer),
                      sa.column('award_key', sa.String), sa.column('at', utc), sa.column('chain_seq', sa.Integer),
                      sa.column('prev_hash', sa.String), sa.column('hash', sa.String))
    residents = dict(bind.execute(sa.text('SELECT openid, id FROM residents')).all())
    seq, prev = 0, GENESIS
    for kind, table in (('ticket_event', events), ('points', points)):
        for row in bind.execute(sa.select(table).order_by(table.c.id)).mappings().all():
            values = dict(row)
            if kind == 'ticket_event' and values['actor'].startswith('resident:'):
                openid = values['actor'][len('resident:'):]
                if openid in residents:
                    values['actor'] = f"resident:{residents[openid]}"
            seq += 1
            digest = link_hash(kind, _fields(kind, SimpleNamespace(**values)), seq, prev)
            update = {'chain_seq': seq, 'prev_hash': prev, 'hash': digest}
            if kind == 'ticket_event':
                update['actor'] = values['actor']
            bind.execute(table.update().where(table.c.id == values['id']).values(**update))
            prev = digest
    head = sa.table('audit_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                    sa.column('hash', sa.String))
    bind.execute(head.insert().values(id=1, seq=seq, hash=prev))



def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.drop_constraint('uq_ticket_events_chain_seq', type_='unique')
        batch_op.drop_column('chain_seq')

    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.drop_constraint('uq_points_entries_chain_seq', type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('chain_seq')

    op.drop_table('audit_head')
    op.drop_table('audit_anchors')
    op.drop_table('admin_changes')
