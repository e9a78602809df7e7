"""ticket numbers come from redis

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-21 22:13:57.452950
"""
from alembic import op
import sqlalchemy as sa
import bot.models


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('counters')


def downgrade() -> None:
    op.create_table('counters',
    sa.Column('name', sa.VARCHAR(length=64), nullable=False),
    sa.Column('value', sa.INTEGER(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
