"""Outbound delivery: the outbox against a fake platform that answers with real error codes."""
import threading

from sqlalchemy import func, select

from bot import texts
from bot.models import OutboxAttempt, OutboxMessage
from bot.outbox import OutboxWorker, enqueue
from bot.replies import to_member, to_resident


def queue(bot, *replies):
    with bot.db.session() as session:
        enqueue(session, replies, bot.clock.now())


def statuses(bot):
    with bot.db.session() as session:
        return [m.status for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


def attempts(bot):
    with bot.db.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxAttempt))


def test_messages_reach_both_platforms_once(bot, fake, deliver):
    queue(bot, to_resident("o-alice", "您的留言已受理"), to_member("pm01", "新工单"))
    assert deliver() == 2
    assert deliver() == 0
    mp = fake.sent("wechat", "o-alice")
    work = fake.sent("wecom", "pm01")
    assert [c["json"]["text"]["content"] for c in mp] == ["您的留言已受理"]
    assert work[0]["json"]["agentid"] == 1000002 and work[0]["json"]["enable_duplicate_check"] == 1
    assert statuses(bot) == ["sent", "sent"]


def test_expired_token_is_refetched_once_and_the_message_sent_once(bot, fake, deliver):
    queue(bot, to_member("pm01", "first"))
    deliver()
    fake.expire_tokens()          # the platform now answers 42001 to the cached token
    queue(bot, to_member("pm01", "second"))
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wecom")] == ["first", "second"]
    token_calls = [c for c in fake.calls if c["endpoint"] == "gettoken"]
    assert len(token_calls) == 2
    assert [c["errcode"] for c in fake.calls if c["endpoint"] == "message/send"] == [0, 42001, 0]


def test_42001_from_the_platform_then_success(bot, fake, deliver):
    fake.fail("message/custom/send", errcode=42001, times=1)
    queue(bot, to_resident("o-alice", "hello"))
    deliver()
    assert len(fake.sent("wechat", "o-alice")) == 1
    assert statuses(bot) == ["sent"]


def test_platform_down_for_a_minute_then_every_message_delivered_once(bot, fake, clock, deliver):
    fake.fail("*", http_status=503)
    queue(bot, to_resident("o-a", "one"), to_member("pm01", "two"), to_member("pm02", "three"))
    for _ in range(12):           # a minute of retries, the clock moving 5 s at a time
        deliver()
        clock.advance(seconds=5)
    assert fake.sent() == []
    assert statuses(bot) == ["pending"] * 3
    fake.clear_faults()
    clock.advance(minutes=15)     # past the longest backoff
    deliver()
    deliver()
    sent = sorted(c["json"]["text"]["content"] for c in fake.sent())
    assert sent == ["one", "three", "two"]
    assert statuses(bot) == ["sent"] * 3
    assert attempts(bot) > 3      # each failure was recorded


def test_outside_the_48_hour_window_the_message_waits_for_the_resident(bot, fake, people, deliver):
    fake.fail("message/custom/send", errcode=45015, times=1)
    queue(bot, to_resident("o-alice", "您的留言已办结"))
    deliver()
    assert statuses(bot) == ["parked"]
    deliver()
    assert fake.sent("wechat") == []
    people.resident("o-alice").says("你好")   # the resident writes: the window opens
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wechat", "o-alice")] == \
        [texts.R_PARKED_PREFACE + "您的留言已办结"]
    assert statuses(bot) == ["sent"]


def test_a_parked_message_is_not_released_by_someone_else(bot, fake, people, deliver):
    fake.fail("message/custom/send", errcode=45015, times=1)
    queue(bot, to_resident("o-alice", "for alice"))
    deliver()
    people.resident("o-bob").says("你好")
    deliver()
    assert statuses(bot) == ["parked"]


def test_a_dead_workers_lease_runs_out_and_the_message_goes_once(bot, fake, clock):
    queue(bot, to_member("pm01", "leased"))
    dead = OutboxWorker(bot)
    assert len(dead.claim()) == 1             # claimed, then the worker "dies"
    live = OutboxWorker(bot)
    assert live.run_once() == 0               # the lease still holds
    clock.advance(seconds=61)
    assert live.run_once() == 1
    assert [c["json"]["text"]["content"] for c in fake.sent("wecom")] == ["leased"]


def test_two_workers_at_once_send_each_message_once(bot, fake):
    queue(bot, *[to_member("pm01", f"m{i}") for i in range(30)])
    workers = [OutboxWorker(bot) for _ in range(3)]
    threads = [threading.Thread(target=w.run_once) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = sorted(c["json"]["text"]["content"] for c in fake.sent("wecom"))
    assert sent == sorted(f"m{i}" for i in range(30))


def test_a_permanent_error_stops_retrying(bot, fake, clock, deliver):
    fake.fail("message/send", errcode=81013, times=1)
    queue(bot, to_member("ghost", "nobody home"))
    deliver()
    clock.advance(hours=1)
    deliver()
    assert statuses(bot) == ["failed"]
    assert attempts(bot) == 1


def test_one_token_fetch_for_many_threads(bot, fake):
    client = bot.platform.clients["wecom"]
    tokens = []
    threads = [threading.Thread(target=lambda: tokens.append(client.access_token)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1
    assert len([c for c in fake.calls if c["endpoint"] == "gettoken"]) == 1


def test_media_download_uses_the_configured_base_url(bot, fake):
    data = bot.platform.clients["wechat"].download_media("MEDIA1")
    assert data.startswith(b"\x89PNG")
    assert [c["endpoint"] for c in fake.calls] == ["token", "media/get"]


def test_a_parked_message_triggers_the_configured_template_notice(bot, fake, deliver):
    bot.cfg["wechat"]["notice_template_id"] = "TPL-1"
    fake.fail("message/custom/send", errcode=45015, times=1)
    queue(bot, to_resident("o-alice", "您的留言已办结"))
    deliver()
    deliver()
    [notice] = [c for c in fake.sent("wechat", "o-alice") if c["endpoint"] == "message/template/send"]
    assert notice["json"]["template_id"] == "TPL-1"
    assert notice["json"]["data"]["thing1"]["value"] == "您的留言已办结"
    assert set(notice["json"]["data"]) == {"thing1", "time2"}   # no first / remark (not shown since 2023)


def test_the_parked_index_is_rebuilt_when_redis_lost_it(bot, fake, people, deliver):
    from bot.outbox import PARKED, index_parked

    fake.fail("message/custom/send", errcode=45015, times=1)
    queue(bot, to_resident("o-alice", "您的留言已办结"))
    deliver()
    bot.redis.delete(PARKED)                      # Redis restarted without its data
    assert index_parked(bot) == 1
    people.resident("o-alice").says("你好")
    deliver()
    assert statuses(bot) == ["sent"]


def test_a_wrong_app_secret_keeps_messages_waiting_with_the_reason(bot, fake, clock, deliver):
    bot.platform.clients["wecom"].secret = ""           # the platform answers 40001 to the token fetch
    queue(bot, to_member("pm01", "新工单"))
    deliver()
    with bot.db.session() as session:
        msg = session.scalar(select(OutboxMessage))
        assert (msg.status, msg.last_errcode) == ("pending", 40001)
    assert fake.sent() == []
    bot.platform.clients["wecom"].secret = "work-secret"  # the operator fixes the secret
    clock.advance(minutes=15)
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wecom")] == ["新工单"]
