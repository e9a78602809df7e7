"""#19 webhook speed: what the fast path leaves out, and that its caches never decide.

No timing here (bench/webhook_bench.py measures): these count the database statements and
Redis round trips of a message, and show that a lost or stale cache gives the right answer.
"""
import pytest
import redis.connection
from sqlalchemy import event, func, insert, select

from bot import caching, texts
from bot.models import InboxEntry, Resident, Ticket

TEXT = "小区3号楼门口的路灯坏了一个多星期，晚上出门很不方便"
PLAIN = "请问活动室几点开门"


@pytest.fixture
def counted(bot, monkeypatch):
    """Counts SQL statements and Redis round trips (commands sent, a pipeline being one)."""
    counts = {"sql": [], "redis": 0}

    def on_sql(_conn, _cursor, statement, *_args):
        counts["sql"].append(statement.split()[0].upper())

    real_send = redis.connection.AbstractConnection.send_packed_command

    def send(self, command, check_health=True):
        counts["redis"] += 1
        return real_send(self, command, check_health)

    event.listen(bot.db.engine, "before_cursor_execute", on_sql)
    quick = bot.db.quick
    if quick is not bot.db.engine:
        event.listen(quick, "before_cursor_execute", on_sql)
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", send)

    def reset():
        counts["sql"].clear()
        counts["redis"] = 0
        return counts
    yield reset
    event.remove(bot.db.engine, "before_cursor_execute", on_sql)
    if quick is not bot.db.engine:
        event.remove(quick, "before_cursor_execute", on_sql)


def test_a_known_residents_plain_text_is_one_statement_and_two_redis_round_trips(people, counted):
    ann = people.resident("o-fast")
    for _ in range(3):                   # known, and the facts read once are cached
        assert ann.says(PLAIN) == texts.RESIDENT_HINT
    counts = counted()
    assert ann.says(PLAIN) == texts.RESIDENT_HINT
    assert counts["sql"] == ["INSERT"]   # the inbox row, with its answer
    assert counts["redis"] == 2


def test_a_flow_step_writing_nothing_opens_no_write_transaction(people, counted):
    ann = people.resident("o-step")
    ann.subscribes("grid-g1")
    assert ann.says("留言") == texts.LM_ASK_TEXT
    counts = counted()
    ann.says(TEXT)                       # the description waits in Redis
    assert counts["sql"].count("INSERT") == 1 and "UPDATE" not in counts["sql"]
    assert counts["redis"] == 2


def test_a_lost_cache_is_read_again_from_the_database(bot, people):
    ann = people.resident("o-lost-cache")
    for _ in range(3):
        assert ann.says(PLAIN) == texts.RESIDENT_HINT
    bot.redis.delete(caching.key("o-lost-cache"), caching.GEN)    # a Redis restart, a flush
    assert ann.says(PLAIN) == texts.RESIDENT_HINT
    assert ann.says("查询") != texts.RESIDENT_HINT
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Resident)
                              .where(Resident.openid == "o-lost-cache")) == 1


def test_a_members_question_reaches_a_resident_whose_facts_were_cached(bot, people):
    no = people.file_ticket("o-asked", TEXT)
    ann = people.resident("o-asked")
    for _ in range(2):                   # cached: no ticket waits for this resident
        assert ann.says(PLAIN) == texts.RESIDENT_HINT
    assert caching.read({caching.key("o-asked"): bot.redis.get(caching.key("o-asked")),
                         caching.GEN: bot.redis.get(caching.GEN)}, "o-asked").get("waiting") is False
    zhang = people.member("pm01")
    assert zhang.says(f"询问 {no} 请问是哪一栋楼的路灯？") == texts.W_ASKED.format(no=no)
    # The member's transaction moved the generation: the cached "nothing waits" is not believed.
    assert ann.says("是5号楼东侧那盏") == texts.R_SUPPLEMENT_THANKS.format(no=no)


def test_rows_written_outside_the_webhook_make_cached_facts_stale(bot, people):
    ann = people.resident("o-seeded")
    for _ in range(2):
        assert ann.says(PLAIN) == texts.RESIDENT_HINT
    before = bot.redis.get(caching.GEN)
    with bot.db.session() as session:    # a script, the scheduler, a test: not the resident's message
        resident = session.scalar(select(Resident).where(Resident.openid == "o-seeded"))
        session.execute(insert(Ticket).values(no="20261120-9001", resident_id=resident.id, text=TEXT,
                                               status="waiting", category="城乡建设",
                                               created_at=resident.created_at, updated_at=resident.created_at))
    assert bot.redis.get(caching.GEN) != before
    assert caching.read({caching.key("o-seeded"): bot.redis.get(caching.key("o-seeded")),
                         caching.GEN: bot.redis.get(caching.GEN)}, "o-seeded") == {}


def test_a_draft_lost_from_redis_is_still_told_after_cached_facts(bot, people):
    ann = people.resident("o-draft")
    ann.subscribes("grid-g1")
    for _ in range(2):                   # cached: no draft under way
        assert ann.says(PLAIN) == texts.RESIDENT_HINT
    ann.says("留言")                       # a draft begins: the resident's write drops the cached facts
    ann.says(TEXT)
    for key in bot.redis.scan_iter("bot:flow:*"):
        bot.redis.delete(key)            # Redis lost the conversation
    assert ann.says("跳过") == texts.DRAFT_LOST["leave_message"]


def test_a_retry_after_redis_forgot_a_read_only_answer_gets_the_stored_one(bot, people):
    ann = people.resident("o-retry")
    ann.says(PLAIN)
    query, body = ann.deliver({"MsgType": "text", "Content": "你好"})
    first = ann.resend(query, body)
    for key in bot.redis.scan_iter("bot:seen:*"):
        bot.redis.delete(key)
    assert ann.resend(query, body) == first
    with bot.db.session() as session:
        assert session.scalar(select(InboxEntry.reply).where(InboxEntry.user == "o-retry",
                                                             InboxEntry.dedupe_id.like("m:%"))
                              .order_by(InboxEntry.at.desc()).limit(1)) is not None


def test_my_queue_is_counted_sorted_and_cut_in_the_database(bot, people, clock):
    from datetime import timedelta

    now = clock.now()
    rows = [{"no": f"20261120-{n:04d}", "text": f"第{n}件事", "status": "assigned", "category": "城乡建设",
             "assignee_id": "pm01", "created_at": now, "updated_at": now,
             "response_due_at": now + timedelta(hours=(n * 7) % 25 - 3)} for n in range(1, 26)]
    rows.append({**rows[0], "no": "20261120-0099", "status": "resolved",
                 "response_due_at": now - timedelta(days=3)})          # not open: not listed
    with bot.db.session() as session:
        session.execute(insert(Ticket), rows)
    answer = people.member("pm01").says("我的工单")
    lines = answer.split("\n")
    assert lines[0] == texts.W_QUEUE_HEADER.format(n=25)
    listed = [line for line in lines if "｜" in line]
    assert len(listed) == 20
    expected = sorted(rows[:25], key=lambda r: (r["response_due_at"], r["no"]))[:20]
    assert [line.split("｜")[0][-13:] for line in listed] == [r["no"] for r in expected]
    assert listed[0].startswith("【超期】") and "0099" not in answer
