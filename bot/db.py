"""The SQL store: engine, sessions, and migrations applied at start-up."""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


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
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(lock_wait_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return apply


class Database:
    """The engine and a session factory for one configured database."""

    def __init__(self, url: str, lock_wait_s: float = 15):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.lock_wait_s = float(lock_wait_s)
        # hide_parameters: a failing statement's error (and so the log) never shows the values.
        kwargs = {"future": True, "pool_pre_ping": True, "hide_parameters": True}
        wait_ms = int(lock_wait_s * 1000)
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": lock_wait_s, "check_same_thread": False}
        else:
            # A lock held elsewhere fails the statement instead of hanging the webhook.
            kwargs.update(pool_size=5, max_overflow=10, connect_args={"options": f"-c lock_timeout={wait_ms}"})
        self.engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(wait_ms))
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self, lock_wait_s: float | None = None):
        """Yields a session that commits on success and rolls back on any error.

        `lock_wait_s` shortens how long its statements wait for a lock held elsewhere
        (a webhook request's deadline, #17); past it they fail as an outage would.
        """
        session: Session = self.sessions()
        restore = None
        try:
            if lock_wait_s is not None and lock_wait_s < self.lock_wait_s:
                restore = self._limit_lock_wait(session, lock_wait_s)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            if restore is not None:
                restore()
            session.close()

    def _limit_lock_wait(self, session: Session, seconds: float):
        wait_ms = max(1, int(seconds * 1000))
        if not self.is_sqlite:
            session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))   # this transaction only
            return None
        raw = session.connection().connection.dbapi_connection
        raw.execute(f"PRAGMA busy_timeout={wait_ms}")
        default = int(self.lock_wait_s * 1000)

        def restore():
            try:
                raw.execute(f"PRAGMA busy_timeout={default}")
            except Exception:  # the connection is gone; a new one gets the default
                pass
        return restore

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
