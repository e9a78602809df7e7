"""#12 through the real webhooks, several people at once: whoever accepts owns the ticket, credit
goes to whoever resolved it, the asker hears the answer, followers hear every step, secretaries
merge and close, and a member's resolution photos reach the resident."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import texts
from bot.appraisal import appraise
from bot.figures import ticket_figures
from bot.models import PointsEntry, Ticket, TicketEvent, TicketFollower
from bot.sla import sweep_sla

TEXT = "小区3号楼的路灯坏了一个多星期，晚上出门很不方便"


def ticket(bot, no):
    with bot.db.session() as session:
        return session.scalar(select(Ticket).where(Ticket.no == no))


def events(bot, no):
    with bot.db.session() as session:
        t = session.scalar(select(Ticket).where(Ticket.no == no))
        return [(e.kind, e.actor, e.data) for e in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))]


def heard(fake, platform, user):
    return [c["json"]["text"]["content"] for c in fake.sent(platform, user) if c["json"]["msgtype"] == "text"]


def points_of(bot, userid):
    with bot.db.session() as session:
        return sorted((e.reason, e.points) for e in session.scalars(
            select(PointsEntry).where(PointsEntry.member_id == userid)))


def follow(people, openid, no, text=TEXT):
    """A neighbour in the same grid writes the same thing and chooses 关注."""
    person = people.resident(openid)
    person.subscribes("grid-g1")
    for said in ("留言", text, "跳过"):
        person.says(said)
    assert no in person.says("不变")
    assert person.says("关注") == texts.LM_FOLLOWED.format(no=no)
    return person


def test_the_backup_who_accepts_owns_the_ticket_and_earns_its_credit(bot, people, fake, clock, deliver):
    no = people.file_ticket("o-alice", TEXT)
    alice, zhang, li = people.resident("o-alice"), people.member("pm01"), people.member("pm02")
    neighbour = follow(people, "o-nb", no)
    with bot.db.session() as session:
        assert session.scalars(select(TicketFollower.resident_id)).all() != []
    deliver()
    fake.reset()

    # 李四, the grid's backup, takes it: he is the assignee now and 张三 is told in one line.
    assert li.says(f"接单 {no}").startswith(f"已接单 {no}")
    t = ticket(bot, no)
    assert (t.assignee_id, t.status) == ("pm02", "responded")
    assert events(bot, no)[-1] == ("accepted", "member:pm02", {"previous": "pm01"})
    deliver()
    assert heard(fake, "wecom", "pm01") == [texts.W_TAKEN_OVER.format(no=no, member="李四")]
    assert heard(fake, "wechat", "o-alice")[-1].startswith(f"您的留言 {no} 已由党员李*接单")
    assert heard(fake, "wechat", "o-nb") == [texts.R_FOLLOW_ACCEPTED.format(no=no, member="李*")]
    assert "办理人：李*" in alice.says("查询")
    mine = neighbour.says("查询")
    assert texts.MY_FOLLOWED_HEADER.format(n=1) in mine and no in mine and "办理人：李*" in mine
    assert no in li.says("我的工单") and zhang.says("我的工单") == texts.W_QUEUE_EMPTY

    # The SLA chases the member who holds the ticket, not the absent one.
    due = t.reply_due_at + timedelta(hours=1)
    clock.set(due if 8 <= due.astimezone(bot.tz).hour < 21 else due + timedelta(hours=12))
    assert sweep_sla(bot) == 2
    deliver()
    assert any(m.startswith(f"【提醒】工单 {no}") for m in heard(fake, "wecom", "pm02"))
    assert not any(no in m for m in heard(fake, "wecom", "pm01")[1:])

    assert li.says(f"回复 {no} 已联系电工") == texts.W_REPLIED_ECHO.format(no=no, text="已联系电工")
    assert li.says(f"办结 {no} 灯泡已更换").startswith(texts.W_RESOLVED.format(no=no))
    deliver()
    assert heard(fake, "wechat", "o-nb")[1:] == [
        texts.R_FOLLOW_REPLIED.format(no=no, text="已联系电工"),
        texts.R_FOLLOW_RESOLVED.format(no=no, summary="灯泡已更换")]

    # The neighbour's rating is kept apart; the reporter's is the one that counts.
    assert neighbour.says(f"评价 {no}") == texts.RATE_ASK.format(no=no)
    assert neighbour.says("基本满意").startswith(texts.RATE_FOLLOWER_THANKS)
    neighbour.says("跳过")
    assert ticket(bot, no).status == "resolved"
    assert neighbour.says(f"评价 {no}") == texts.RATE_FOLLOWER_ALREADY.format(no=no)
    assert alice.says("满意").startswith(texts.RATE_THANKS)
    alice.says("跳过")
    t = ticket(bot, no)
    assert (t.status, t.rating, t.assignee_id) == ("closed", "satisfied", "pm02")
    with bot.db.session() as session:
        assert session.scalars(select(TicketFollower.rating)).all() == ["basic"]
        month = appraise(bot, session, "2026-11")
        figures = ticket_figures(session, [Ticket.no == no], clock.now())
    assert (figures.rated, figures.satisfied) == (1, 1)       # the follower's rating is not counted
    assert points_of(bot, "pm02") == [(f"办结工单 {no}", 8), (f"工单 {no} 获居民满意", 5)]
    assert points_of(bot, "pm01") == []
    scores = {m["userid"]: m for m in month["members"]}
    assert (scores["pm02"]["resolved"], scores["pm02"]["ratings"], scores["pm02"]["satisfaction"]) == (1, 1, 100.0)
    assert (scores["pm01"]["resolved"], scores["pm01"]["ratings"], scores["pm01"]["satisfaction"]) == (0, 0, None)


def test_the_secretary_who_accepts_owns_it_and_the_grid_member_is_told(bot, people, fake, deliver):
    no = people.file_ticket("o-bob", TEXT)
    deliver()
    fake.reset()
    assert people.member("sec01").says(f"接单 {no}").startswith(f"已接单 {no}")
    assert ticket(bot, no).assignee_id == "sec01"
    assert people.member("pm01").says(f"接单 {no}") == texts.W_CLOSED.format(
        no=no, action="接单", status=texts.STATUS_NAMES["responded"])
    deliver()
    assert heard(fake, "wecom", "pm01") == [texts.W_TAKEN_OVER.format(no=no, member="王书记")]
    assert people.member("sec01").says("我的工单").count(no) == 1


def test_the_answer_goes_to_the_member_who_asked(bot, people, fake, clock, deliver):
    no = people.file_ticket("o-carol", TEXT)
    carol, li = people.resident("o-carol"), people.member("pm02")
    deliver()
    fake.reset()
    # The backup asks without taking the ticket: the answer is his, masked (he does not hold it).
    assert li.says(f"询问 {no} 是哪一栋？") == texts.W_ASKED.format(no=no)
    assert carol.says("是3单元的电梯旁边") == texts.R_SUPPLEMENT_THANKS.format(no=no)
    deliver()
    assert heard(fake, "wecom", "pm02") == [texts.W_SUPPLEMENTED.format(no=no, text="是*单元的电梯旁边")]
    assert heard(fake, "wecom", "pm01") == []
    # Once he holds it he sees the place in full, and a real wait is told as such.
    li.says(f"接单 {no}")
    li.says(f"询问 {no} 几楼？")
    clock.advance(hours=2)
    carol.says("5楼，门牌502室")
    deliver()
    assert heard(fake, "wecom", "pm02")[-1] == (texts.W_SUPPLEMENTED.format(no=no, text="5楼，门牌502室") + "\n"
                                               + texts.W_EXTENDED_H.format(hours=2.0))


def test_unsatisfied_alerts_the_secretary_and_tells_the_assignee_in_his_own_words(bot, people, fake, deliver):
    no = people.file_ticket("o-dan", TEXT)
    follow(people, "o-nb2", no)
    people.member("pm01").says(f"办结 {no} 已修好")
    deliver()
    fake.reset()
    assert people.resident("o-dan").says("不满意").startswith(texts.RATE_REOPENED.format(no=no))
    deliver()
    assert heard(fake, "wecom", "sec01") == [texts.SECRETARY_ALERT_UNSATISFIED.format(no=no, assignee="张三")]
    assert heard(fake, "wecom", "pm01") == [texts.W_UNSATISFIED_ASSIGNEE.format(no=no)]
    assert heard(fake, "wechat", "o-nb2") == [texts.R_FOLLOW_REOPENED.format(no=no)]
    assert (ticket(bot, no).status, ticket(bot, no).rating) == ("reopened", "unsatisfied")


def test_a_secretary_merges_a_duplicate_and_closes_what_cannot_be_fixed(bot, people, fake, deliver):
    first = people.file_ticket("o-erin", TEXT)
    second = people.file_ticket("o-fay", "西区二网格的垃圾桶满了没人清理，味道很大", scene="grid-g2")
    secretary, zhang = people.member("sec01"), people.member("pm01")
    assert zhang.says(f"合并 {second} {first}") == texts.W_SECRETARY_ONLY.format(action="合并")
    assert secretary.says(f"合并 {second} {second}") == texts.W_MERGE_SELF.format(no=second)
    assert secretary.says(f"合并 {second}") == texts.W_MERGE_USAGE
    assert ticket(bot, second).status == "assigned"            # nothing changed
    assert ("refused", "member:pm01", {"action": "合并"}) in events(bot, second)   # and it is audited
    assert secretary.says(f"合并 {second} {second[-4:]}") == texts.W_MERGE_SELF.format(no=second)  # short alike
    # Both numbers may be typed the short way, as members do.
    assert secretary.says(f"合并 {second[-4:]} {first[-4:]}") == texts.W_MERGED.format(no=second, into=first)
    merged, into = ticket(bot, second), ticket(bot, first)
    assert (merged.status, merged.duplicate_of) == ("merged", into.id)
    with bot.db.session() as session:
        assert session.scalars(select(TicketFollower.via).where(TicketFollower.ticket_id == into.id)).all() == ["merge"]
    deliver()
    assert heard(fake, "wechat", "o-fay")[-1] == texts.R_MERGED.format(no=second, into=first)
    zhang.says(f"接单 {first}")
    deliver()
    assert heard(fake, "wechat", "o-fay")[-1] == texts.R_FOLLOW_ACCEPTED.format(no=first, member="张*")

    assert secretary.says(f"关闭 {first}") == texts.W_CLOSE_USAGE
    assert zhang.says(f"关闭 {first} 不归社区管") == texts.W_SECRETARY_ONLY.format(action="关闭")
    assert secretary.says(f"关闭 {first} 属于市政道路，已转12345热线") == texts.W_CLOSED_UNRESOLVED.format(no=first)
    assert ticket(bot, first).status == "closed-unresolved"
    deliver()
    assert heard(fake, "wechat", "o-erin")[-1] == texts.R_CLOSED_UNRESOLVED.format(
        no=first, reason="属于市政道路，已转12345热线")
    assert heard(fake, "wechat", "o-fay")[-1] == texts.R_FOLLOW_CLOSED.format(
        no=first, reason="属于市政道路，已转12345热线")
    third = people.file_ticket("o-gus", "东门的路灯也不亮了，晚上很黑")
    assert secretary.says(f"合并 {third} {first}") == texts.W_MERGE_TARGET_DONE.format(
        into=first, status=texts.STATUS_NAMES["closed-unresolved"])
    assert ticket(bot, third).status == "assigned"


def test_resolution_photos_reach_the_resident_as_images(bot, people, fake, deliver):
    no = people.file_ticket("o-hal", TEXT)
    zhang = people.member("pm01")
    assert zhang.sends_photo("wecom-media-0") == texts.W_PHOTO_NO_TICKET.format(minutes=30)
    assert people.member("pm02").sends_photo("x") == texts.W_PHOTO_NO_TICKET.format(minutes=30)
    zhang.says(f"办结 {no} 灯泡已更换")
    assert zhang.sends_photo("wecom-media-1") == texts.W_PHOTO_FORWARDED.format(no=no)
    deliver()
    calls = [(c["platform"], c["endpoint"]) for c in fake.calls if c["ok"]]
    assert ("wecom", "media/get") in calls and ("wechat", "media/upload") in calls
    uploaded = next(c["json"]["media_id"] for c in fake.calls if c["endpoint"] == "media/upload")
    images = [c["json"] for c in fake.sent("wechat", "o-hal") if c["json"]["msgtype"] == "image"]
    assert images == [{"touser": "o-hal", "msgtype": "image", "image": {"media_id": uploaded}}]
    assert heard(fake, "wechat", "o-hal")[-1].startswith(f"您的留言 {no} 已办结")
    assert ("resolution_photo", "member:pm01", {"media_id": "wecom-media-1"}) in events(bot, no)


def test_a_failed_upload_is_retried_by_the_outbox(bot, people, fake, deliver):
    no = people.file_ticket("o-ivy", TEXT)
    zhang = people.member("pm01")
    zhang.says(f"办结 {no} 已修好")
    zhang.sends_photo("wecom-media-2")
    fake.fail("media/upload", errcode=-1, times=1)
    deliver()
    assert not [c for c in fake.sent("wechat", "o-ivy") if c["json"]["msgtype"] == "image"]
    with bot.db.session() as session:
        from bot.models import OutboxMessage
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "image"))
        assert (row.status, row.last_errcode) == ("pending", -1)
