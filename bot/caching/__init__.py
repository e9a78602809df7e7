"""Caches in Redis of database facts a resident's every message needs (#19); the database decides.

A known resident's plain text needs three facts that almost never change: that the resident
is known and was seen lately (the 48-hour window is counted in minutes), whether a durable
draft is under way, and whether a ticket waits for their answer. They are kept per resident
under `who:<openid>` with a short TTL, read with the person's lock in the webhook's first
Redis round trip. Only a callback that wrote nothing to the database stores them (then the
database holds what it read); a callback of the resident that writes anything drops the entry.
Writes by anyone else (a member's 询问, the scheduler, the CLI, a test's own rows) to
residents, tickets or drafts move a generation number (`who-gen`), before and after their
commit, and every entry of an older generation is ignored. A lost entry (a Redis restart, a
flush) is read again from the database; what a failed invalidation can leave behind lives at
most TTL_S.
"""
from __future__ import annotations

import json
import logging
import re

from sqlalchemy import event

from .. import kv

log = logging.getLogger(__name__)

GEN = kv.key("who-gen")
TTL_S = 60
FACTS = "who_facts"        # Context.prefetched key: the valid cached facts ({} when none)
LEARNED = "who_learned"    # facts read from the database in this callback
_TOUCHED = "who_touched"   # connection.info: this transaction wrote residents / tickets / drafts
OWN = "who_own"            # session / connection info: a resident's own callback (openid)
_TABLES = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(residents|tickets|flow_drafts)\b", re.I)


def key(openid: str) -> str:
    """Where a resident's cached facts live."""
    return kv.key("who", openid)


def read(prefetched: dict, openid: str) -> dict:
    """The cached facts, if their generation is the current one; {} otherwise."""
    raw = prefetched.get(key(openid))
    if not raw:
        return {}
    try:
        facts = json.loads(raw)
    except ValueError:
        return {}
    if not isinstance(facts, dict) or facts.pop("gen", None) != (prefetched.get(GEN) or ""):
        return {}
    return facts


def facts(ctx) -> dict:
    """The resident's cached facts for this message ({} when none or stale)."""
    if FACTS not in ctx.prefetched:
        ctx.prefetched[FACTS] = read(ctx.prefetched, ctx.inbound.user) if ctx.inbound.channel == "wechat" else {}
    return ctx.prefetched[FACTS]


def learn(ctx, **found) -> None:
    """Notes facts read from the database in this message (stored if the message writes nothing)."""
    if ctx.inbound.channel == "wechat":
        ctx.prefetched.setdefault(LEARNED, {}).update(found)


def after(ctx, pipe, wrote: bool) -> None:
    """Queues the entry's update: dropped when the resident's message wrote, else what is known now."""
    if ctx.inbound.channel != "wechat":
        return
    if wrote:
        pipe.delete(key(ctx.inbound.user))
        return
    learned = ctx.prefetched.get(LEARNED)
    if not learned:
        return
    known = {**facts(ctx), **learned}
    if "in" not in known:          # an unknown resident is not cached
        return
    known["gen"] = ctx.prefetched.get(GEN) or ""
    pipe.set(key(ctx.inbound.user), json.dumps(known), ex=TTL_S)


# -- the generation: moved by every write to these tables that is not the resident's own --------

def _note_write(conn, _cursor, statement, _params, _context, _many) -> None:
    if _TABLES.match(statement):
        conn.info[_TOUCHED] = True


def _reset(conn) -> None:
    for name in (_TOUCHED, OWN, "who_session"):
        conn.info.pop(name, None)


def _after_begin(session, _transaction, connection) -> None:
    connection.info["who_session"] = session.info    # where the commit tells the session to move it again
    if session.info.get(OWN):
        connection.info[OWN] = session.info[OWN]


def invalidates(database, redis) -> None:
    """Makes the database's writes to residents, tickets and drafts move the generation."""
    def bump(where: str) -> None:
        try:
            redis.incr(GEN)
        except Exception:  # entries then live at most TTL_S
            log.warning("could not move %s %s the commit", GEN, where, exc_info=True)

    def before_commit(conn) -> None:
        if conn.info.get(_TOUCHED) and not conn.info.get(OWN):
            bump("before")
            if conn.info.get("who_session") is not None:
                conn.info["who_session"]["who_bump"] = True

    def after_commit(session) -> None:
        if session.info.pop("who_bump", False):
            bump("after")

    event.listen(database.engine, "before_cursor_execute", _note_write)
    event.listen(database.engine, "begin", _reset)
    event.listen(database.engine, "commit", before_commit)
    event.listen(database.sessions, "after_begin", _after_begin)
    event.listen(database.sessions, "after_commit", after_commit)
