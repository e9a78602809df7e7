"""Dispatch: who wrote, then the active flow, a flow's entry, or the handler for the kind."""
from __future__ import annotations

from sqlalchemy import select

import handlers

from .context import Context
from .models import Resident
from .outbox import release_parked
from .replies import Reply


def note_sender(ctx: Context) -> None:
    """Records a resident's message: known from now on, and inside the 48-hour window again."""
    if ctx.inbound.channel != "wechat":
        return
    resident = ctx.session.scalar(select(Resident).where(Resident.openid == ctx.inbound.user))
    if resident is None:
        resident = Resident(openid=ctx.inbound.user, created_at=ctx.now, subscribed=True)
        ctx.session.add(resident)
    if ctx.inbound.kind != "event.unsubscribe":
        resident.last_inbound_at = ctx.now
        # Messages parked by 45015 / 45047 can go out now that the resident has written.
        release_parked(ctx.session, "wechat", ctx.inbound.user, ctx.now)
    ctx.session.flush()


def dispatch(ctx: Context) -> list[Reply]:
    """Finds who answers this message and returns their replies."""
    note_sender(ctx)
    replies = ctx.bot.engine.handle(ctx)
    if replies is None:
        replies = handlers.find(ctx.inbound.channel, ctx.inbound.kind)(ctx)
    return list(replies or [])
