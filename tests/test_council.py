"""红色议事厅: a whole cycle through the webhooks — topics, the Friday candidates, selection, the
notice at least 3 days ahead, registrations, the resolution with follow-up tickets, the summary."""
import re
from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.models import CouncilMeeting, CouncilRegistration, CouncilTopic, Resident, Ticket
from bot.participation.council import resolution_rate, send_candidates, send_summaries
from bot.work import follow
from tests.conftest import cards_to, count, texts_to

LAMP = "东区3号楼门口的路灯坏了一个多星期，晚上出门很不方便"
PARKING = "小区停车位太少，晚上停车很难，希望规划一下"


def test_a_whole_council_cycle(bot, people, fake, clock, deliver, client):
    zhang, li, sec = people.member("pm01"), people.member("pm02"), people.member("sec01")
    lamp = people.file_ticket("o-alice", LAMP)
    people.file_ticket("o-frank", PARKING)
    bob = people.resident("o-bob")
    bob.subscribes("grid-g1")
    with bot.db.session() as session:   # bob follows alice's ticket (关注, tested with the lifecycle)
        follow(session, session.scalar(select(Ticket).where(Ticket.no == lamp)),
               session.scalar(select(Resident).where(Resident.openid == "o-bob")), clock.now())
    dave, erin, zoe = people.resident("o-dave"), people.resident("o-erin"), people.resident("o-zoe")
    for person in (dave, erin):
        person.subscribes("grid-g2")
    zoe.subscribes("grid-g3")
    assert dave.says("议事会通知 开") == texts.COUNCIL_SUB_ON
    erin.says("议事会通知 开")
    assert erin.says("议事会通知 关") == texts.COUNCIL_SUB_OFF
    assert zoe.says("议事会通知 开") == texts.COUNCIL_SUB_ON     # another branch's grid

    # Topics: a ticket and a hot keyword; twice is refused.
    said = zhang.says(f"议题 {lamp}")
    t1 = int(re.search(r"#(\d+)", said).group(1))   # ids are the database's (sequences go on in PostgreSQL)
    assert said == texts.COUNCIL_TOPIC_DONE.format(
        id=t1, what=texts.COUNCIL_TOPIC_TICKET.format(no=lamp, category="民生服务"))
    assert li.says(f"议题 {lamp}") == texts.COUNCIL_TOPIC_TWICE.format(id=t1)
    said = li.says("议题 停车")
    t2 = int(re.search(r"#(\d+)", said).group(1))
    assert said == texts.COUNCIL_TOPIC_DONE.format(
        id=t2, what=texts.COUNCIL_TOPIC_KEYWORD.format(keyword="停车"))
    assert li.says("议题 停车") == texts.COUNCIL_TOPIC_TWICE.format(id=t2)
    assert people.member("pm03").says(f"议题 {lamp}") == texts.W_OUT_OF_SCOPE.format(no=lamp)
    assert count(bot, CouncilTopic) == 2

    # Friday 10:00: the convener gets the candidates once, the most-followed first.
    assert send_candidates(bot) == 1 and send_candidates(bot) == 0
    deliver()
    listing = texts_to(fake, "wecom", "sec01")[-1]
    assert listing.startswith("本周红色议事厅候选议题")
    assert listing.index(f"#{t1} ") < listing.index(f"#{t2} ") and "（2 人关注）" in listing

    # Selection: a member cannot; an unknown id changes nothing.
    assert zhang.says(f"选题 {t1} {t2}") == texts.W_SECRETARY_ONLY.format(action="选题")
    assert sec.says(f"选题 {t1} 999999") == texts.COUNCIL_SELECT_UNKNOWN.format(ids="#999999")
    assert sec.says("召开 社区党群服务中心") == texts.COUNCIL_CALL_NOTHING
    assert sec.says(f"选题 {t1} {t2}") == texts.COUNCIL_SELECTED.format(ids=f"#{t1}、#{t2}")

    # Thursday 26th: the last Saturday (28th) is too soon; the past too; the earliest is named.
    clock.advance(days=6)
    too_soon = texts.COUNCIL_CALL_TOO_SOON.format(days=3, earliest="11月30日")
    assert sec.says("召开 11-28 社区党群服务中心") == too_soon
    assert sec.says("召开 11-20 社区党群服务中心") == too_soon
    assert sec.says("召开 13-40 社区党群服务中心") == texts.COUNCIL_CALL_BAD_DATE.format(raw="13-40")
    assert count(bot, CouncilMeeting) == 0
    # No date: the last Saturday of next month (December 26th).
    called = sec.says("召开 社区党群服务中心")
    m = int(re.search(r"#(\d+)", called).group(1))
    assert called == texts.COUNCIL_CALLED.format(id=m, when="12月26日 09:30", place="社区党群服务中心",
                                                 topics="留言 " + lamp + "（民生服务）、热点“停车”", n=4)
    deliver()
    notice = texts.COUNCIL_NOTICE.format(when="12月26日 09:30", place="社区党群服务中心",
                                         topics="留言 " + lamp + "（民生服务）、热点“停车”")
    for openid in ("o-alice", "o-bob", "o-frank", "o-dave"):
        assert notice in texts_to(fake, "wechat", openid), openid
    for openid in ("o-erin", "o-zoe"):
        assert notice not in texts_to(fake, "wechat", openid), openid

    # Registrations.
    alice = people.resident("o-alice")
    assert alice.says("参加") == texts.COUNCIL_JOINED.format(when="12月26日 09:30")
    assert alice.says("参加") == texts.COUNCIL_JOINED_ALREADY.format(when="12月26日 09:30")
    assert dave.says("参加") == texts.COUNCIL_JOINED.format(when="12月26日 09:30")
    assert zoe.says("参加") == texts.COUNCIL_NOTHING_TO_JOIN
    assert count(bot, CouncilRegistration) == 2

    # The resolution with follow-up items; a bad line or an unknown meeting changes nothing.
    clock.advance(days=30)
    assert sec.says("决议 999999 增设路灯") == texts.COUNCIL_UNKNOWN_MEETING.format(id=999999)
    bad = f"决议 {m} 增设路灯两盏\n跟进 不存在 7 更换路灯"
    assert sec.says(bad) == texts.COUNCIL_BAD_FOLLOWUP.format(line="跟进 不存在 7 更换路灯")
    with bot.db.session() as session:
        assert session.scalar(select(CouncilMeeting.resolution)) is None
    before = count(bot, Ticket)
    said = sec.says(f"决议 {m} 东区增设路灯两盏；规划夜间临时停车区\n"
                    "跟进 张三 7 更换东区3号楼路灯\n跟进 李四 10 施划夜间临时停车位")
    assert said.startswith(f"已记录议事会 #{m} 的决议并公示；跟进事项 2 件已派给党员")
    assert count(bot, Ticket) == before + 2
    assert sec.says(f"决议 {m} 再来一次\n跟进 张三 7 再换一次") == texts.COUNCIL_ALREADY_RESOLVED.format(id=m)
    assert count(bot, Ticket) == before + 2
    with bot.db.session() as session:
        followups = session.scalars(select(Ticket).where(Ticket.text.like(f"【议事会 #{m} 跟进】%"))
                                    .order_by(Ticket.id)).all()
        assert [(t.assignee_id, t.status) for t in followups] == [("pm01", "assigned"), ("pm02", "assigned")]
        assert followups[0].reply_due_at == clock.now() + timedelta(days=7)
        first, second = followups[0].no, followups[1].no
    deliver()
    assert any(first in c["main_title"]["title"] for c in cards_to(fake, "pm01"))
    result = texts.COUNCIL_RESULT_RESIDENT.format(id=m, resolution="东区增设路灯两盏；规划夜间临时停车区")
    assert result in texts_to(fake, "wechat", "o-alice") and result in texts_to(fake, "wechat", "o-frank")
    assert "东区增设路灯两盏" in client.get("/public/b1").get_data(as_text=True)

    # Follow-ups done: the convener hears once, when both are.
    zhang.says(f"接单 {first}")
    zhang.says(f"办结 {first} 已更换路灯")
    assert send_summaries(bot) == 0
    li.says(f"办结 {second} 已施划停车位 20 个")
    with bot.db.session() as session:
        window = (clock.now() - timedelta(days=1), clock.now() + timedelta(days=1))
        assert resolution_rate(session, *window, "b1") == 100.0
        assert resolution_rate(session, *window, "b2") is None
    assert send_summaries(bot) == 1 and send_summaries(bot) == 0
    deliver()
    summary = texts_to(fake, "wecom", "sec01")[-1]
    assert summary.startswith(f"议事会 #{m} 的跟进事项已全部办结")
    assert f"{first} 张三：已更换路灯" in summary and f"{second} 李四：已施划停车位 20 个" in summary
