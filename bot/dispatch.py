"""Dispatch: who wrote, then the active flow, a flow's entry, or the handler for the kind."""
from __future__ import annotations

import logging
from datetime import timedelta

import handlers

from . import caching
from .context import Context
from .models import Resident
from .outbox import PARKED, release_parked
from .replies import Reply

log = logging.getLogger(__name__)
# The 48-hour window is counted in hours: a write per message would only cost throughput.
INBOUND_PRECISION = timedelta(minutes=5)


def note_sender(ctx: Context) -> None:
    """Records a resident's message: known from now on, and inside the 48-hour window again.

    Only what WeChat counts as the resident's own action (a message, a follow, a scan, a
    click) does this: releasing parked replies on a delivery report would fail with 45015
    again and queue another notice, whose report would release them again, forever.
    """
    if ctx.inbound.channel != "wechat" or not ctx.inbound.opens_window:
        return
    parked = ctx.prefetched[PARKED] if PARKED in ctx.prefetched else ctx.redis.sismember(PARKED, ctx.inbound.user)
    seen = caching.facts(ctx).get("in")
    if not parked and isinstance(seen, (int, float)) and \
            ctx.now.timestamp() - seen <= INBOUND_PRECISION.total_seconds():
        return     # known, and seen lately (#19: no query)
    resident = ctx.resident()
    if resident is None:
        resident = Resident(openid=ctx.inbound.user, created_at=ctx.now, subscribed=True, last_inbound_at=ctx.now)
        ctx.session.add(resident)
        ctx.session.flush()
        ctx.remember_resident(resident)   # the new row, without reading it back
    if resident.last_inbound_at is None or ctx.now - resident.last_inbound_at > INBOUND_PRECISION:
        resident.last_inbound_at = ctx.now
    caching.learn(ctx, **{"in": resident.last_inbound_at.timestamp()})
    if parked:
        # Messages parked by 45015 / 45047 can go out now that the resident has written.
        release_parked(ctx.session, "wechat", ctx.inbound.user, ctx.now)
        ctx.after_commit.append(lambda: ctx.redis.srem(PARKED, ctx.inbound.user))


def dispatch(ctx: Context) -> list[Reply]:
    """Finds who answers this message and returns their replies.

    An event the platform sends on its own (delivery reports, LOCATION reports, contact and
    approval changes…) is recorded in the log and the metrics and answers nothing.
    """
    if not ctx.inbound.by_person:
        log.info("%s system event %r recorded and ignored", ctx.inbound.channel, ctx.inbound.event)
        return []
    note_sender(ctx)
    replies = ctx.bot.engine.handle(ctx)
    if replies is None:
        replies = handlers.find(ctx.inbound.channel, ctx.inbound.kind)(ctx)
    return list(replies or [])
