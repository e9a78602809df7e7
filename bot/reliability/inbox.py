"""The transactional inbox: a callback's identity claimed in the transaction of its effects."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..models import InboxEntry


class Handled:
    """A callback the database already has: its effects happened; `reply` is what it answered."""

    def __init__(self, reply: str | None):
        self.reply = reply


def claim(session: Session, inbound, now: datetime) -> InboxEntry | Handled:
    """Claims the callback for this transaction, or says it was handled before.

    The unique key decides: on PostgreSQL a concurrent claim waits for the first
    transaction and then finds its row; a rolled-back first claim leaves the key free.
    """
    identity = {"channel": inbound.channel, "user": inbound.user, "dedupe_id": inbound.dedupe_id}
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    # One statement: RETURNING gives the new row as an object, nothing when the key exists.
    entry = session.scalar(insert(InboxEntry).values(at=now, reply=None, **identity)
                           .on_conflict_do_nothing().returning(InboxEntry))
    if entry is not None:
        return entry
    return Handled(session.scalar(select(InboxEntry.reply).filter_by(**identity)))


# -- a callback that changed nothing else need not wait for the disk (PostgreSQL) -------------

_WRITES = "bot_writes_besides_inbox"
_counted: set = set()


def _count_writes(conn, _cursor, statement, _params, _context, _many) -> None:
    head = statement.lstrip()[:40].upper()
    if head.startswith(("INSERT", "UPDATE", "DELETE")) and " INBOX " not in f" {head} ".replace("(", " "):
        conn.info[_WRITES] = conn.info.get(_WRITES, 0) + 1


def _reset_writes(conn) -> None:
    conn.info[_WRITES] = 0


def count_writes(engine) -> None:
    """Counts, per transaction, the statements that write anything but the inbox."""
    if id(engine) in _counted:
        return
    event.listen(engine, "before_cursor_execute", _count_writes)
    event.listen(engine, "begin", _reset_writes)
    _counted.add(id(engine))


def relax_if_nothing_else(session: Session) -> None:
    """Commits without waiting for the WAL flush when the inbox row is the only write.

    Such a callback had no database effect: a PostgreSQL crash in the next moment only
    forgets that it was handled, and Redis dedupe still answers a retry. Any other write
    keeps the full durability of the commit.
    """
    if session.bind.dialect.name != "postgresql":
        return
    session.flush()
    connection = session.connection()
    if connection.info.get(_WRITES, 1) == 0:
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def answer_of(bot, inbound) -> Handled | None:
    """The stored answer of a callback the database has handled, or None (not yet, or unreachable)."""
    try:
        with bot.db.session() as session:
            row = session.scalar(select(InboxEntry).where(
                InboxEntry.channel == inbound.channel, InboxEntry.user == inbound.user,
                InboxEntry.dedupe_id == inbound.dedupe_id))
            return Handled(row.reply) if row is not None else None
    except SQLAlchemyError:
        return None


def prune_inbox(bot, keep_days: float | None = None) -> int:
    """Forgets handled callbacks older than reliability.inbox_keep_days (no platform retries that late)."""
    days = float(keep_days if keep_days is not None else bot.cfg["reliability"]["inbox_keep_days"])
    with bot.db.session() as session:
        result = session.execute(delete(InboxEntry).where(
            InboxEntry.at < bot.clock.now() - timedelta(days=days)))
    return result.rowcount or 0
