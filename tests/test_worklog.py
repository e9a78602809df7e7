"""工作日志: members log offline work with points once per entry, a daily cap, a photo or place;
it counts in appraisal participation; the monthly minimum is checked once on the 25th."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.appraisal import appraise
from bot.digest import render_digest
from bot.models import Branch, PointsEntry, WorkLog
from bot.participation.jobs import check_monthly_minimum
from bot.participation.worklog import log_count


def texts_to(fake, user):
    return [c["json"]["text"]["content"] for c in fake.sent("wecom", user) if c["json"]["msgtype"] == "text"]


def rows(bot, model, **where):
    with bot.db.session() as session:
        return session.scalars(select(model).filter_by(**where).order_by(model.id)).all()


def test_entries_earn_points_once_take_a_photo_and_a_place_and_stop_at_the_cap(bot, people, clock):
    zhang = people.member("pm01")
    assert zhang.says("日志 走访 走访独居老人王大爷，帮忙联系了助餐点") == texts.LOG_SAVED.format(
        kind="走访", points=2, n=1, minutes=10)
    assert zhang.sends_photo("media-visit-1") == texts.LOG_PHOTO_SAVED.format(kind="走访")
    assert zhang.shares_location(30.2741, 120.1551) == texts.LOG_PLACE_SAVED.format(kind="走访")
    entry = rows(bot, WorkLog)[0]
    assert (entry.member_id, entry.kind, entry.photo_media_id, entry.lat) == ("pm01", "走访", "media-visit-1", 30.2741)
    assert zhang.says("日志 矛盾调解 调解3号楼两户漏水纠纷").startswith(texts.LOG_SAVED.format(
        kind="矛盾调解", points=3, n=2, minutes=10)[:12])
    for n in range(3):
        zhang.says(f"日志 政策宣传 宣传医保政策第{n}场")
    assert zhang.says("日志 民意收集 收集停车意见") == texts.LOG_CAP.format(cap=5)
    assert len(rows(bot, WorkLog, member_id="pm01")) == 5
    entries = rows(bot, PointsEntry, member_id="pm01")
    assert sorted(e.points for e in entries) == [2, 2, 2, 2, 3]
    assert len({e.award_key for e in entries}) == 5
    assert "工作日志：走访" in zhang.says("积分")
    clock.advance(days=1)
    assert zhang.says("日志 民意收集 收集停车意见").startswith("已记工作日志（民意收集）")
    with bot.db.session() as session:
        window = (clock.now() - timedelta(days=7), clock.now() + timedelta(seconds=1))
        assert log_count(session, *window, "b1") == 6 and log_count(session, *window, "b2") == 0
        digest = render_digest(bot, session, session.get(Branch, "b1"), *window)
    assert texts.DIGEST_PARTICIPATION.format(logs=6, golden=0, cases=0, council=texts.DIGEST_NONE) in digest


@pytest.mark.parametrize("said, answer", [
    ("日志", texts.LOG_USAGE.format(kinds="民意收集、矛盾调解、政策宣传、走访")),
    ("日志 跳舞 广场舞", texts.LOG_USAGE.format(kinds="民意收集、矛盾调解、政策宣传、走访")),
    ("日志 走访", texts.LOG_EMPTY.format(kind="走访")),
    ("日志 走访   ", texts.LOG_EMPTY.format(kind="走访")),
])
def test_a_bad_entry_gets_one_line_and_nothing_is_saved(bot, people, said, answer):
    assert people.member("pm02").says(said) == answer
    assert rows(bot, WorkLog) == [] and rows(bot, PointsEntry) == []


def test_a_photo_without_an_entry_waiting_is_not_taken(bot, people):
    assert people.member("pm02").sends_photo("m-1") == texts.W_PHOTO_NO_TICKET.format(minutes=30)


def test_logged_days_count_in_appraisal_participation(settings, people_factory):
    settings["worklog"] = {"kinds": {"走访": 0}}   # no points: only the log itself can count
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    with bot.db.session() as session:
        before = {s["userid"]: s for s in appraise(bot, session, "2026-11")["members"]}
    assert before["pm02"]["active_days"] == 0
    people.member("pm02").says("日志 走访 入户走访 12 户")
    with bot.db.session() as session:
        after = {s["userid"]: s for s in appraise(bot, session, "2026-11")["members"]}
        assert session.scalar(select(func.count()).select_from(PointsEntry)) == 0
    assert after["pm02"]["active_days"] == 1 and after["pm02"]["participation"] > 0


def test_the_monthly_minimum_reminds_once_on_the_25th(settings, people_factory, clock, fake):
    settings["members"] = {"monthly_min_handled": 1}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    no = people.file_ticket("o-alice", "小区3号楼的路灯坏了一个多星期，晚上出门很不方便")
    people.member("pm01").says(f"办结 {no} 已更换灯泡")
    assert check_monthly_minimum(bot) == 0          # the 20th: not yet
    clock.advance(days=5)                           # the 25th, 10:00 in Shanghai
    assert check_monthly_minimum(bot) == 4          # pm02, pm03 reminded; sec01, sec02 get their lists
    assert check_monthly_minimum(bot) == 0
    from bot.outbox import OutboxWorker
    OutboxWorker(bot).run_once()
    assert texts_to(fake, "pm02") == [texts.MONTHLY_MIN_MEMBER.format(n=0, min=1)]
    assert texts.MONTHLY_MIN_MEMBER.format(n=1, min=1) not in texts_to(fake, "pm01")
    assert not any(m.startswith("温馨提醒") for m in texts_to(fake, "pm01"))
    assert texts_to(fake, "sec01")[-1] == texts.MONTHLY_MIN_SECRETARY.format(
        min=1, lines=texts.MONTHLY_MIN_LINE.format(name="李四", n=0))
