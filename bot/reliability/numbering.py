"""Ticket numbers that never collide: the Redis counter, guarded by the number's unique key.

A counter that fell behind the database (Redis restored from an older snapshot, or
restarted empty while tickets were being written) is moved past the highest number the
database holds and the ticket tries again, inside a savepoint so nothing else is undone.
"""
from __future__ import annotations

import logging

from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import kv
from ..models import Ticket

log = logging.getLogger(__name__)
TRIES = 8
# Raises the counter to at least ARGV[1], never lowers it.
_RAISE = ("local v = tonumber(redis.call('get', KEYS[1]) or '0') "
          "if v < tonumber(ARGV[1]) then redis.call('set', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 1")


def _counter(day: str) -> str:
    return kv.key("ticket-no", day)


def _highest(session, day: str) -> int:
    highest = session.scalar(select(func.max(Ticket.no)).where(Ticket.no.like(f"{day}-%")))
    return int(highest.split("-")[1]) if highest else 0


def next_number(bot, session, day: str) -> str:
    """The next number of the day from the Redis counter (seeded from the database when missing)."""
    key = _counter(day)
    try:
        if not bot.redis.exists(key):
            bot.redis.set(key, _highest(session, day), nx=True, ex=3 * 86400)
        return f"{day}-{bot.redis.incr(key):04d}"
    except RedisError:
        # Redis is down or paused: the database's next number (the unique key still guards it).
        log.warning("ticket counter unavailable; numbering from the database", exc_info=True)
        return f"{day}-{_highest(session, day) + 1:04d}"


def catch_up(bot, session, day: str) -> None:
    """Moves the day's counter past every number the database holds."""
    try:
        bot.redis.eval(_RAISE, 1, _counter(day), _highest(session, day), 3 * 86400)
    except RedisError:
        log.warning("could not move the ticket counter on", exc_info=True)


def insert_numbered(bot, session, ticket: Ticket, day: str) -> None:
    """Numbers the ticket and inserts it; a number already taken is skipped, never reused."""
    for _ in range(TRIES):
        ticket.no = next_number(bot, session, day)
        if session.scalar(select(Ticket.id).where(Ticket.no == ticket.no)) is not None:
            log.warning("ticket number %s is taken: the counter fell behind; catching up", ticket.no)
            catch_up(bot, session, day)
            continue
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
            return
        except IntegrityError:
            # Another transaction took the number a moment ago (it committed while we waited).
            if session.scalar(select(Ticket.id).where(Ticket.no == ticket.no)) is None:
                raise
            log.warning("ticket number %s was taken concurrently; catching up", ticket.no)
            catch_up(bot, session, day)
    raise RuntimeError(f"no free ticket number for {day} after {TRIES} tries")
