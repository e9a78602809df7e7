"""Time-driven duties with an injected clock: SLA reminders and escalations, the holiday
calendar, weekly digests, monthly stars, compliance alerts — each sent once."""
import threading
from datetime import datetime, timedelta, timezone
from statistics import median

import pytest
from sqlalchemy import select

from bot import create_app, texts
from bot.compliance import branch_measures, check_calendar, monitor_compliance
from bot.digest import announce_stars, send_weekly_digests, week_figures
from bot.models import OutboxMessage, Ticket, TicketEvent
from bot.points import award
from bot.sla import sweep_sla
from bot.workcalendar import WorkCalendar

TEXT = "小区3号楼的路灯坏了一个多星期，晚上出门很不方便"
SHANGHAI = timezone(timedelta(hours=8))


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def outbox_texts(bot, to=None, kind="text"):
    with bot.db.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                               .order_by(OutboxMessage.id)).all()
    return [(r.recipient, r.body["content"]) for r in rows if to is None or r.recipient == to]


def sla_notices(bot):
    return [(to, body.split("】")[0] + "】") for to, body in outbox_texts(bot)
            if body.startswith(("【提醒】", "【超期督办】"))]


def ticket(bot, no):
    with bot.db.session() as session:
        return session.scalar(select(Ticket).where(Ticket.no == no))


# -- SLA -------------------------------------------------------------------------------

def test_one_reminder_at_75_percent_one_escalation_at_breach_none_at_night(bot, people, clock):
    no = people.file_ticket("o-a", TEXT)                       # Fri 10:00; response due Sat 10:00
    clock.set(local(2026, 11, 21, 3, 59))
    assert sweep_sla(bot) == 0
    clock.set(local(2026, 11, 21, 4, 30))                      # 75 %, but 04:30 is quiet
    assert sweep_sla(bot) == 0
    clock.set(local(2026, 11, 21, 7, 0))                       # quiet hours over
    assert sweep_sla(bot) == 1
    assert sweep_sla(bot) == 0
    clock.set(local(2026, 11, 21, 10, 0))                      # breach
    assert sweep_sla(bot) == 1
    assert sla_notices(bot) == [("pm01", "【提醒】"), ("sec01", "【超期督办】")]
    clock.set(local(2026, 11, 21, 11, 0))
    people.member("pm01").says(f"接单 {no}")
    clock.set(local(2026, 11, 21, 22, 30))                     # reply 75 % (36 h) at 22:00: quiet
    assert sweep_sla(bot) == 0
    clock.set(local(2026, 11, 22, 7, 0))
    assert sweep_sla(bot) == 1
    clock.set(local(2026, 11, 22, 8, 0))
    people.member("pm01").says(f"回复 {no} 已安排电工")
    clock.set(local(2026, 11, 22, 12, 0))                      # past the reply due time, answered
    assert sweep_sla(bot) == 0
    assert sla_notices(bot)[-1] == ("pm01", "【提醒】")


def test_waiting_for_the_resident_stops_the_clock(bot, people, clock, deliver, fake):
    no = people.file_ticket("o-w", TEXT)                       # response due Sat 10:00
    clock.set(local(2026, 11, 20, 12, 0))
    zhang = people.member("pm01")
    assert zhang.says(f"询问 {no} 请问是哪一栋楼的路灯？") == texts.W_ASKED.format(no=no)
    assert ticket(bot, no).status == "waiting"
    assert "等待您补充信息" in people.resident("o-w").says("查询")
    clock.set(local(2026, 11, 21, 12, 0))                      # past every reminder and the breach
    assert sweep_sla(bot) == 0
    assert people.member("sec01").says("督办") == texts.W_OVERDUE_EMPTY
    assert people.resident("o-w").says("是5号楼东侧那盏") == texts.R_SUPPLEMENT_THANKS.format(no=no)
    t = ticket(bot, no)
    assert t.status == "assigned" and t.response_due_at == local(2026, 11, 22, 10, 0)   # moved by 24 h waited
    deliver()
    assert any(c["json"]["text"]["content"].startswith(f"【居民补充】工单 {no}：是5号楼东侧那盏")  # asker sees it
               for c in fake.sent("wecom", "pm01") if c["json"]["msgtype"] == "text")
    clock.set(local(2026, 11, 22, 10, 0))
    assert sweep_sla(bot) == 2                                 # the moved reminder and breach
    assert people.member("pm01").says(f"询问 {no}") == texts.W_EMPTY_QUESTION.format(no=no)


def test_an_urgent_ticket_is_chased_at_night(bot, people, clock):
    clock.set(local(2026, 11, 20, 23, 0))
    people.file_ticket("o-b", "楼道燃气味很重，紧急！")          # urgent: response due 03:00
    clock.set(local(2026, 11, 21, 2, 0))
    assert sweep_sla(bot) == 1
    clock.set(local(2026, 11, 21, 3, 0))
    assert sweep_sla(bot) == 1
    assert sla_notices(bot) == [("pm01", "【提醒】"), ("sec01", "【超期督办】")]


def test_a_reopened_ticket_is_chased_again_and_a_resolved_one_is_not(bot, people, clock):
    no = people.file_ticket("o-c", TEXT)
    people.member("pm01").says(f"办结 {no} 已修好")
    clock.set(local(2026, 11, 23, 12, 0))                      # past every due time: resolved waits
    assert sweep_sla(bot) == 0
    people.resident("o-c").says("不满意")
    assert ticket(bot, no).reply_due_at == clock.now() + timedelta(hours=48)
    clock.set(local(2026, 11, 25, 12, 0))
    assert sweep_sla(bot) == 2                                 # the new reply window: remind + escalate
    assert sla_notices(bot) == [("pm01", "【提醒】"), ("sec01", "【超期督办】")]


def test_holidays_and_make_up_days_move_due_times(settings, clock, fake, people_factory):
    settings["sla"] = {"working_hours": ["09:00", "17:00"]}
    clock.set(local(2026, 9, 30, 16, 0))                       # Wed before National Day
    app, people = people_factory(settings)
    no = people.file_ticket("o-d", TEXT)
    t = ticket(app.extensions["bot"], no)
    # 1 h on 30 Sep, 1–7 Oct off, 8 h on 8 and 9 Oct, 7 h on Saturday 10 Oct (调休 workday).
    assert t.response_due_at == local(2026, 10, 10, 16, 0)
    urgent = people.file_ticket("o-e", "燃气泄漏，紧急！")
    assert ticket(app.extensions["bot"], urgent).response_due_at == clock.now() + timedelta(hours=4)


def test_a_year_nobody_knows_counts_weekends_and_is_told_once(settings, bot):
    cfg = dict(bot.cfg, calendar={"holidays": ["2027-02-08"], "workdays": []})
    calendar = WorkCalendar(cfg)
    assert calendar.is_workday(datetime(2027, 2, 8).date()) is False        # configured holiday
    assert calendar.is_workday(datetime(2028, 1, 3).date()) is True         # unknown year: Monday
    assert calendar.is_workday(datetime(2028, 1, 8).date()) is False        # unknown year: Saturday
    bot.clock.set(local(2026, 12, 1, 9, 0))                     # 2027 is 60 days away, unknown
    assert check_calendar(bot) == 1
    assert check_calendar(bot) == 0
    told = outbox_texts(bot)
    assert sorted(to for to, _ in told) == ["sec01", "sec02"]
    assert told[0][1] == texts.CALENDAR_UNKNOWN.format(year=2027)


# -- weekly digest -------------------------------------------------------------------------

def make_week(people, clock):
    """Last week's work in branch b1: four tickets, answered at different speeds."""
    clock.set(local(2026, 11, 9, 10, 0))                       # Monday of the week before
    nos = [people.file_ticket(f"o-w{i}", f"{i}号楼路灯坏了，晚上很黑，请尽快维修") for i in range(4)]
    zhang = people.member("pm01")
    clock.advance(hours=2)
    zhang.says(f"接单 {nos[0]}")
    clock.advance(hours=2)
    zhang.says(f"回复 {nos[0]} 已安排维修")
    zhang.says(f"办结 {nos[0]} 已修好")
    people.resident("o-w0").says("满意")
    clock.advance(hours=6)
    zhang.says(f"回复 {nos[1]} 明天维修")
    zhang.says(f"办结 {nos[1]} 已修好")
    people.resident("o-w1").says("不满意")
    clock.set(local(2026, 11, 12, 10, 0))                      # nos[2] overdue, nos[3] waits
    zhang.says(f"接单 {nos[2]}")
    return nos


def test_the_digest_figures_equal_the_database_and_go_out_once(bot, people, clock):
    make_week(people, clock)
    with bot.db.session() as session:
        award(session, "pm01", 15, "创新工作法", "innovation:test", local(2026, 11, 10, 12, 0))
    clock.set(local(2026, 11, 16, 8, 29))
    assert send_weekly_digests(bot) == 0                       # not yet
    clock.set(local(2026, 11, 16, 8, 31))
    assert send_weekly_digests(bot) == 2                       # b1, and b2 whose week was empty
    start, end = local(2026, 11, 9), local(2026, 11, 16)
    with bot.db.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.branch_id == "b1")).all()
        events = session.scalars(select(TicketEvent)).all()
        computed = week_figures(session, "b1", start, end)
    hours = lambda a, b: (b - a).total_seconds() / 3600
    week = [t for t in rows if start <= t.created_at < end]
    ratings = [e.data["rating"] for e in events if e.kind == "rated" and start <= e.at < end]
    judged = [t for t in week if t.first_reply_at or t.reply_due_at <= end]
    met = [t for t in judged if t.first_response_at and t.first_reply_at
           and t.first_response_at <= t.response_due_at and t.first_reply_at <= t.reply_due_at]
    expected = {
        "received": len(week),
        "resolved": len({e.ticket_id for e in events if e.kind == "resolved" and start <= e.at < end}),
        "median_response_h": round(median(hours(t.created_at, t.first_response_at)
                                          for t in week if t.first_response_at), 2),
        "median_reply_h": round(median(hours(t.created_at, t.first_reply_at) for t in week if t.first_reply_at), 2),
        "sla_met_pct": round(100 * len(met) / len(judged), 1),
        "satisfaction_pct": round(100 * sum(r in ("satisfied", "basic") for r in ratings) / len(ratings), 1),
    }
    assert computed == expected
    assert expected == {"received": 4, "resolved": 2, "median_response_h": 10.0, "median_reply_h": 7.0,
                        "sla_met_pct": 50.0, "satisfaction_pct": 50.0}
    digests = outbox_texts(bot, kind="markdown")
    assert [to for to, _ in digests] == ["sec01", "sec02"]
    body = digests[0][1]
    assert "收到留言：4件" in body and "办结：2件" in body and "群众满意率：50%" in body
    assert "首次响应中位数：10小时" in body and "按时办理率：50%" in body
    # 15 awarded above + 8 for each of two 民生服务 tickets resolved + 5 for the one rated 满意
    assert "超期 3 件" in body and "张三 36分" in body and "路灯" in body
    clock.advance(hours=3)
    assert send_weekly_digests(bot) == 0


def test_two_schedulers_at_once_send_each_digest_once(bot, settings, clock, people):
    make_week(people, clock)
    clock.set(local(2026, 11, 16, 9, 0))
    other = create_app(settings, clock=clock).extensions["bot"]
    results = []
    threads = [threading.Thread(target=lambda b=b: results.append(send_weekly_digests(b))) for b in (bot, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(to for to, _ in outbox_texts(bot, kind="markdown")) == ["sec01", "sec02"]


def test_a_scheduler_killed_mid_run_is_replaced_and_sends_once(bot, people, clock, monkeypatch):
    make_week(people, clock)
    clock.set(local(2026, 11, 16, 9, 0))
    import bot.digest as digest

    real = digest.render_digest
    calls = []

    def dies_on_the_second_branch(b, session, branch, start, end):
        calls.append(branch.id)
        if len(calls) == 2:
            raise SystemExit("killed")
        return real(b, session, branch, start, end)

    monkeypatch.setattr(digest, "render_digest", dies_on_the_second_branch)
    with pytest.raises(SystemExit):
        send_weekly_digests(bot)
    assert outbox_texts(bot, kind="markdown") == []            # nothing half-sent
    monkeypatch.setattr(digest, "render_digest", real)
    assert send_weekly_digests(bot) == 2
    assert send_weekly_digests(bot) == 0
    assert len(outbox_texts(bot, kind="markdown")) == 2


# -- stars and compliance -----------------------------------------------------------------------

def test_monthly_stars_name_the_top_tenth_once(bot, clock):
    with bot.db.session() as session:
        for n, (who, points) in enumerate((("pm01", 30), ("pm02", 12), ("sec01", 5), ("pm03", 9))):
            award(session, who, points, "办结", f"k{n}", local(2026, 11, 15, 12, 0))
    clock.set(local(2026, 12, 1, 8, 59))
    assert announce_stars(bot) == 0
    clock.set(local(2026, 12, 1, 9, 0))
    assert announce_stars(bot) == 2
    assert announce_stars(bot) == 0
    sent = outbox_texts(bot)
    b1 = [body for to, body in sent if to == "pm02"]
    assert b1 == [texts.STARS.format(month="2026年11月", branch="幸福里社区第一党支部", names="张三")]
    assert sorted(to for to, _ in sent) == ["pm01", "pm02", "pm03", "sec01", "sec02"]


def test_compliance_breaches_alert_the_secretary_with_actual_standard_and_gap(bot, people, clock):
    make_week(people, clock)                                  # one member of three acted; 50 % satisfied
    clock.set(local(2026, 11, 16, 9, 0))
    with bot.db.session() as session:
        measures = branch_measures(session, "b1", clock.now() - timedelta(days=30), clock.now())
    assert measures == {"response_h": 28.0, "satisfaction_pct": 50.0, "participation_pct": 33.3}
    assert monitor_compliance(bot) == 2
    assert monitor_compliance(bot) == 0                        # once a day
    alerts = [body for to, body in outbox_texts(bot, "sec01")]
    assert any("群众满意率为50%，标准为85%，差距35%" in a and "·高】" in a for a in alerts)
    assert any("党员参与率为33.3%，标准为70%，差距36.7%" in a for a in alerts)
    clock.advance(days=1)
    assert monitor_compliance(bot) == 2                        # the next day, again
