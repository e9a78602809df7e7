"""The SQL store: engine, sessions, and migrations applied at start-up."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
_QUICK: dict = {}            # database URL -> the process's quick engine (see Database.quick)
_QUICK_LOCK = threading.Lock()


def insert_ignore(session: Session, model, **values) -> bool:
    """Inserts a row unless its unique key exists; True when this call inserted it.

    The database decides, so two processes racing for the same row cannot both win.
    """
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    # RETURNING says exactly whether this statement inserted (rowcount is -1 on psycopg).
    key = model.__table__.primary_key.columns.values()[0]
    result = session.execute(insert(model).values(**values).on_conflict_do_nothing().returning(key))
    return result.first() is not None


def database_url(cfg: dict) -> str:
    """Returns the configured URL, or a SQLite file in data_dir when none is set."""
    url = cfg["database"]["url"]
    if url:
        return url
    os.makedirs(cfg["data_dir"], exist_ok=True)
    return "sqlite:///" + os.path.join(cfg["data_dir"], "bot.db")


def _sqlite_pragmas(lock_wait_ms: int):
    def apply(dbapi_conn, _record):
        # WAL lets the web, worker and scheduler threads read while one writes;
        # busy_timeout makes a writer wait instead of failing with "database is locked".
        # synchronous=NORMAL: in WAL mode a commit no longer waits for the disk (#19: the
        # fsync was most of a write's cost); the database stays consistent after a power
        # loss, which can only forget the last commits, as PostgreSQL's relaxed commit does.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(lock_wait_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return apply


def _lock_wait_hook(is_sqlite: bool, default_s: float):
    """Sets a session's shorter lock wait when its transaction begins (a webhook request's deadline)."""
    default = int(default_s * 1000)

    def apply(session: Session, _transaction, connection) -> None:
        wait_ms = session.info.get("lock_wait_ms")
        if wait_ms is None:
            return
        if not is_sqlite:
            connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")   # this transaction only
            return
        raw = connection.connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout={wait_ms}")

        def restore():
            try:
                raw.execute(f"PRAGMA busy_timeout={default}")
            except Exception:  # the connection is gone; a new one gets the default
                pass
        session.info["restore_lock_wait"] = restore
    return apply


class Database:
    """The engine and a session factory for one configured database."""

    def __init__(self, url: str, lock_wait_s: float = 15):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.lock_wait_s = float(lock_wait_s)
        # hide_parameters: a failing statement's error (and so the log) never shows the values.
        kwargs = {"future": True, "hide_parameters": True}
        wait_ms = int(lock_wait_s * 1000)
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": lock_wait_s, "check_same_thread": False}
        else:
            # A lock held elsewhere fails the statement instead of hanging the webhook.
            # No pre-ping per checkout (#19: one round trip on every request): connections
            # are recycled instead, and a connection found dead fails its statement as an
            # outage (the callback is kept for replay) and empties the pool.
            kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800,
                          connect_args={"options": f"-c lock_timeout={wait_ms}"})
        self._kwargs = kwargs
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(wait_ms))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # A shorter lock wait is set when the session first begins, not before: a callback that
        # reads nothing from the database does not open a transaction for it (#19).
        # A function of the settings, not a bound method: a Database must not be kept alive by a cycle
        # (its pool would hold connections until the cyclic collector runs).
        event.listen(self.sessions, "after_begin", _lock_wait_hook(self.is_sqlite, self.lock_wait_s))
        from .reliability.inbox import claim_before_writes

        claim_before_writes(self.sessions)

    @cached_property
    def quick(self):
        """An engine for single statements that commit by themselves (a callback's lone inbox row).

        On PostgreSQL: autocommit, and commits that do not wait for the disk, on one small pool per
        process and database URL (however many Database objects a process makes); on SQLite the
        engine itself (a local commit costs little).
        """
        if self.is_sqlite:
            return self.engine
        with _QUICK_LOCK:
            quick = _QUICK.get(self.url)
            if quick is None:
                wait_ms = int(self.lock_wait_s * 1000)
                kwargs = {**self._kwargs, "pool_size": 4, "max_overflow": 4, "isolation_level": "AUTOCOMMIT",
                          "connect_args": {"options": f"-c lock_timeout={wait_ms} -c synchronous_commit=off"}}
                quick = _QUICK[self.url] = create_engine(self.url, **kwargs)
        # Whoever empties the main pool (a restore, a test's teardown) empties this one too.
        event.listen(self.engine, "engine_disposed", lambda _engine: quick.dispose())
        return quick

    @contextmanager
    def session(self, lock_wait_s: float | None = None):
        """Yields a session that commits on success and rolls back on any error.

        `lock_wait_s` shortens how long its statements wait for a lock held elsewhere
        (a webhook request's deadline, #17); past it they fail as an outage would.
        """
        session: Session = self.sessions()
        if lock_wait_s is not None and lock_wait_s < self.lock_wait_s:
            session.info["lock_wait_ms"] = max(1, int(lock_wait_s * 1000))
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            restore = session.info.pop("restore_lock_wait", None)
            if restore is not None:
                restore()
            session.close()

    def alembic_config(self) -> AlembicConfig:
        """Returns an Alembic configuration bound to this database."""
        acfg = AlembicConfig()
        acfg.set_main_option("script_location", str(MIGRATIONS))
        acfg.attributes["engine"] = self.engine
        return acfg

    def migrate(self) -> None:
        """Applies every pending migration."""
        command.upgrade(self.alembic_config(), "head")

    def revisions(self) -> tuple[set[str], set[str]]:
        """The schema revisions the database is at, and the ones this code needs."""
        heads = set(ScriptDirectory.from_config(self.alembic_config()).get_heads())
        with self.engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
        return current, heads
