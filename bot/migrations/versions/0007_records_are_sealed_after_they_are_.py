"""records are sealed after they are written

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-21 22:10:28.005192
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('admin_changes', schema=None) as batch_op:
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)

    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True,
               existing_server_default=sa.text("('')"))
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True,
               existing_server_default=sa.text("('')"))

    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)



def downgrade() -> None:
    with op.batch_alter_table('ticket_events', schema=None) as batch_op:
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)

    with op.batch_alter_table('points_entries', schema=None) as batch_op:
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False,
               existing_server_default=sa.text("('')"))
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False,
               existing_server_default=sa.text("('')"))

    with op.batch_alter_table('admin_changes', schema=None) as batch_op:
        batch_op.alter_column('hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
        batch_op.alter_column('prev_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)

