"""The transactional inbox: a callback's identity claimed in the transaction of its effects.

The claim is made before the transaction's first write (#19): a callback that only reads
(most plain texts, most flow steps, whose state lives in Redis) opens no write transaction;
its row, with its answer, is one autocommitted statement after its reads. A callback that
writes claims its row before its first write, in the same transaction, as before (#17).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, event, select, text, update
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


# -- the claim made before the first write ----------------------------------------------------

CLAIM = "bot_inbox_claim"


# The claim's statement as text: the dialects' INSERT … ON CONFLICT constructs are compiled
# again on every execution (they have no cache key); this is compiled once (#19).
_CLAIM = text('INSERT INTO inbox (channel, "user", dedupe_id, reply, at) '
              'VALUES (:channel, :user, :dedupe_id, :reply, :at) ON CONFLICT DO NOTHING RETURNING channel'
              ).bindparams(bindparam("at", type_=InboxEntry.__table__.c.at.type),
                           bindparam("reply", type_=InboxEntry.__table__.c.reply.type))


def _insert(_dialect: str):
    return _CLAIM


class HandledBefore(Exception):
    """Raised at a transaction's first write when the callback was handled before."""

    def __init__(self, handled: Handled):
        super().__init__("handled before")
        self.handled = handled


class Claim:
    """The callback's inbox row: not yet claimed, claimed in this transaction, or handled before."""

    def __init__(self, inbound, now: datetime):
        self.identity = {"channel": inbound.channel, "user": inbound.user, "dedupe_id": inbound.dedupe_id}
        self.now = now
        self.claimed = False
        self.handled: Handled | None = None
        self._busy = False

    def ensure(self, session: Session) -> None:
        """Claims the row in the session's transaction unless done; raises HandledBefore if handled."""
        if self.handled is not None:
            raise HandledBefore(self.handled)
        if self.claimed or self._busy:
            return
        self._busy = True
        try:
            with session.no_autoflush:
                connection = session.connection()
                row = connection.execute(_insert(connection.dialect.name),
                                         {"at": self.now, "reply": None, **self.identity}).first()
                if row is None:
                    self.handled = Handled(connection.execute(select(InboxEntry.reply).filter_by(**self.identity))
                                           .scalar())
                    raise HandledBefore(self.handled)
                self.claimed = True
        finally:
            self._busy = False

    def store_reply(self, session: Session, reply: str | None) -> None:
        """Keeps the passive reply beside the claimed row (a retry gets the same answer)."""
        if reply is not None:
            session.connection().execute(update(InboxEntry.__table__).filter_by(**self.identity).values(reply=reply))

    def wrote(self, session: Session) -> bool:
        """Whether the transaction wrote anything (a write the hooks missed is claimed for here)."""
        if self.claimed:
            return True
        if session.in_transaction() and session.connection().info.get(_WRITES, 0):
            self.ensure(session)     # a write the hooks did not see: claimed late, still in its transaction
            return True
        return False

    def claim_alone(self, bot, reply: str | None, lock_wait_s: float | None = None) -> Handled | None:
        """The row of a callback that wrote nothing else, with its answer, in a statement of its own.

        Handled before: the stored answer is returned, else None. On PostgreSQL the commit does
        not wait for the disk (a crash forgets only that a callback without effects was handled;
        Redis dedupe still answers a retry). On SQLite the wait for the write lock comes out of
        the request's deadline (`lock_wait_s`), as in the transaction it replaces.
        """
        with bot.db.quick.begin() as connection:
            limited = bot.db.is_sqlite and lock_wait_s is not None and lock_wait_s < bot.db.lock_wait_s
            raw = connection.connection.dbapi_connection if limited else None
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={max(1, int(lock_wait_s * 1000))}")
            try:
                row = connection.execute(_insert(connection.dialect.name),
                                         {"at": self.now, "reply": reply, **self.identity}).first()
                if row is not None:
                    return None
                return Handled(connection.execute(select(InboxEntry.reply).filter_by(**self.identity)).scalar())
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA busy_timeout={int(bot.db.lock_wait_s * 1000)}")


def start_claim(session: Session, inbound, now: datetime) -> Claim:
    """Makes the session claim the callback's row before its first write."""
    claim = session.info[CLAIM] = Claim(inbound, now)
    return claim


def _before_flush(session, _context, _instances) -> None:
    claim = session.info.get(CLAIM)
    if claim is not None and (session.new or session.dirty or session.deleted):
        claim.ensure(session)


def _before_execute(state) -> None:
    claim = state.session.info.get(CLAIM)
    if claim is not None and (state.is_insert or state.is_update or state.is_delete):
        claim.ensure(state.session)


def claim_before_writes(sessions) -> None:
    """Hooks the claim into a session factory's flushes and write statements."""
    event.listen(sessions, "before_flush", _before_flush)
    event.listen(sessions, "do_orm_execute", _before_execute)


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
