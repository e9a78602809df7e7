"""Durable drafts: a conversation that ends in a database write is known to the database.

The draft itself stays in Redis; the database holds only its id and when it began, so a
draft Redis lost is told as such, and the row the draft creates carries the id under a
unique key, so confirming twice finds the first row instead of making a second.
"""
from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete

from ..models import FlowDraft


def new_draft_id() -> str:
    """A fresh id for a draft."""
    return uuid.uuid4().hex


def begin(ctx, flow_name: str, data: dict) -> None:
    """Gives the flow's data a draft id and notes in this transaction that the draft is under way."""
    data.setdefault("draft_id", new_draft_id())
    ctx.session.merge(FlowDraft(channel=ctx.inbound.channel, user=ctx.inbound.user, flow=flow_name,
                                draft_id=data["draft_id"], started_at=ctx.now))


def end(ctx) -> None:
    """The person's conversation ended (finished, cancelled, refused): no draft is under way."""
    ctx.session.execute(delete(FlowDraft).where(FlowDraft.channel == ctx.inbound.channel,
                                                FlowDraft.user == ctx.inbound.user))


def lost(ctx, ttl_s: float) -> str | None:
    """The flow whose draft was under way though Redis no longer has it (begun within its TTL).

    Reading it also forgets it: the person hears of the loss once.
    """
    row = ctx.session.get(FlowDraft, (ctx.inbound.channel, ctx.inbound.user))
    if row is None:
        return None
    ctx.session.delete(row)
    return row.flow if row.started_at >= ctx.now - timedelta(seconds=ttl_s) else None
