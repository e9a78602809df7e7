"""Members work tickets in WeCom; residents hear each step and rate; the admin API reads it all."""

import pytest
from sqlalchemy import select

from bot import texts
from bot.aftercare import close_unrated
from bot.models import Ticket, TicketEvent
from tests.conftest import texts_to

TEXT = "小区3号楼的路灯坏了一个多星期，晚上出门很不方便，联系电话13812345678"
AUTH = {"Authorization": "Bearer test-admin-token"}


def ticket(bot, no):
    with bot.db.session() as session:
        return session.scalar(select(Ticket).where(Ticket.no == no))


def kinds(bot, no):
    with bot.db.session() as session:
        t = session.scalar(select(Ticket).where(Ticket.no == no))
        return [e.kind for e in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == t.id)
                                                .order_by(TicketEvent.id))]


def tap(member, key):
    return member.event("template_card_event", key, TaskId="task-1", CardType="button_interaction",
                        ResponseCode="rc")


def test_the_whole_cycle_through_both_webhooks(bot, people, fake, clock, deliver):
    no = people.file_ticket("o-alice", TEXT)
    alice, zhang = people.resident("o-alice"), people.member("pm01")
    deliver()
    assert fake.sent("wecom", "pm01")[0]["json"]["msgtype"] == "template_card"
    clock.advance(hours=1)
    assert tap(zhang, f"accept:{no}") == texts.W_ACCEPTED.format(no=no, reply_due="11月22日 10:00")
    assert ticket(bot, no).first_response_at == clock.now()
    clock.advance(hours=2)
    assert zhang.says(f"回复 {no} 已联系电工，明天上午更换灯泡") == \
        texts.W_REPLIED_ECHO.format(no=no, text="已联系电工，明天上午更换灯泡")
    deliver()
    heard = texts_to(fake, "wechat", "o-alice")
    assert heard[0].startswith(f"您的留言 {no} 已由党员张*接单")
    assert heard[1] == texts.R_REPLY.format(no=no, text="已联系电工，明天上午更换灯泡", member="党员张*")
    assert ticket(bot, no).first_reply_at == clock.now()
    assert tap(zhang, f"resolve:{no}") == texts.W_ASK_SUMMARY.format(no=no)
    assert zhang.says("灯泡已更换，恢复照明").startswith(texts.W_RESOLVED.format(no=no))
    deliver()
    assert texts_to(fake, "wechat", "o-alice")[-1].startswith(f"您的留言 {no} 已办结：灯泡已更换")
    assert alice.says("不满意").startswith(texts.RATE_REOPENED.format(no=no))
    t = ticket(bot, no)
    assert (t.status, t.assignee_id, t.rating) == ("reopened", "pm01", "unsatisfied")
    deliver()
    assert any("不满意" in m for m in texts_to(fake, "wecom", "sec01"))
    assert alice.says("灯又坏了，根本没修好") == texts.RATE_COMMENT_SAVED
    assert zhang.says(f"办结 {no} 更换了整套灯具").startswith(texts.W_RESOLVED.format(no=no))
    assert alice.says("评价") == texts.RATE_ASK.format(no=no)
    assert alice.says("满意") == texts.RATE_THANKS + "\n\n" + texts.RATE_ASK_COMMENT
    alice.says("跳过")
    t = ticket(bot, no)
    assert (t.status, t.rating) == ("closed", "satisfied") and t.closed_at == clock.now()
    assert kinds(bot, no) == ["created", "assigned", "accepted", "replied", "resolved", "rated",
                              "reopened", "rating_comment", "resolved", "rated", "closed"]


def test_the_first_rating_counts(bot, people):
    no = people.file_ticket("o-bob", TEXT)
    people.member("pm01").says(f"办结 {no} 已处理")
    bob = people.resident("o-bob")
    assert bob.says("5").startswith(texts.RATE_THANKS)
    bob.says("跳过")
    assert bob.says("不满意") == texts.RESIDENT_HINT  # no ticket waits for a rating now
    assert ticket(bot, no).status == "closed" and ticket(bot, no).rating == "satisfied"
    assert bob.says("评价") == texts.RATE_NOTHING


def test_rating_someone_elses_ticket_is_refused(bot, people):
    no = people.file_ticket("o-carol", TEXT)
    people.member("pm01").says(f"办结 {no} 已处理")
    assert people.resident("o-dave").says(f"评价 {no}") == texts.RATE_NOT_YOURS.format(no=no)
    assert ticket(bot, no).status == "resolved"


def test_unrated_tickets_close_after_the_configured_days(bot, people, clock):
    no = people.file_ticket("o-erin", TEXT)
    people.member("pm01").says(f"办结 {no} 已处理")
    clock.advance(days=6)
    assert close_unrated(bot) == 0
    clock.advance(days=2)
    assert close_unrated(bot) == 1
    assert ticket(bot, no).status == "closed" and kinds(bot, no)[-1] == "closed_unrated"


@pytest.mark.parametrize("who, command, allowed", [
    ("pm03", "接单", False),     # another branch's member
    ("sec02", "接单", False),    # another branch's secretary
    ("pm02", "接单", True),      # the grid's backup member
    ("sec01", "接单", True),     # the branch's secretary
])
def test_scope_of_members_and_secretaries(bot, people, who, command, allowed):
    no = people.file_ticket("o-frank", TEXT)
    answer = people.member(who).says(f"{command} {no}")
    if allowed:
        assert answer.startswith(f"已接单 {no}")
        assert ticket(bot, no).status == "responded"
    else:
        assert answer == texts.W_OUT_OF_SCOPE.format(no=no)
        assert ticket(bot, no).status == "assigned" and kinds(bot, no)[-1] == "refused"


def test_only_secretaries_assign_and_see_the_overdue_list(bot, people, clock, deliver, fake):
    no = people.file_ticket("o-gina", TEXT)
    assert people.member("pm01").says(f"指派 {no} 李四") == texts.W_SECRETARY_ONLY.format(action="指派")
    assert people.member("pm01").says("督办") == texts.W_SECRETARY_ONLY.format(action="督办")
    secretary = people.member("sec01")
    assert secretary.says("督办") == texts.W_OVERDUE_EMPTY
    clock.advance(hours=25)
    listing = secretary.says("督办")
    assert no in listing and "张三" in listing and "超期1小时" in listing
    assert "13812345678" not in listing and "138****5678" in listing
    assert secretary.says(f"指派 {no} 李四") == texts.W_ASSIGNED.format(no=no, target="李四")
    deliver()
    assert ticket(bot, no).assignee_id == "pm02"
    assert fake.sent("wecom", "pm02")[0]["json"]["msgtype"] == "template_card"


def test_transfer_to_a_department_a_member_and_a_category(bot, people, fake, deliver):
    no = people.file_ticket("o-hank", TEXT)
    zhang = people.member("pm01")
    # A department without handlers refuses, naming the fix; nothing changes (#12).
    assert zhang.says(f"转派 {no} 社区服务中心") == texts.W_DEPT_NO_HANDLERS.format(name="社区服务中心", id="d1")
    assert (ticket(bot, no).department_id, ticket(bot, no).assignee_id) == ("d1", "pm01")
    # 综治办's handler (李四) takes it and gets the card.
    assert zhang.says(f"转派 {no} 综治办") == texts.W_DEPT_TRANSFERRED.format(no=no, department="综治办", member="李四")
    t = ticket(bot, no)
    assert (t.department_id, t.assignee_id, t.status) == ("d2", "pm02", "transferred")
    assert zhang.says(f"转派 {no} 环境卫生") == texts.W_TRANSFERRED.format(no=no, target="“环境卫生”类")
    assert (ticket(bot, no).category, ticket(bot, no).department_id) == ("环境卫生", "d1")
    li = people.member("pm02")
    assert tap(li, f"transfer:{no}") == texts.W_ASK_TARGET.format(no=no)
    assert li.says("张三") == texts.W_TRANSFERRED.format(no=no, target="党员张三")
    deliver()
    assert ticket(bot, no).assignee_id == "pm01"
    assert fake.sent("wecom", "pm02")[0]["json"]["msgtype"] == "template_card"
    heard = texts_to(fake, "wechat", "o-hank")
    assert heard[-3:] == [texts.R_TRANSFERRED.format(no=no, target="综治办"),
                          texts.R_TRANSFERRED.format(no=no, target="“环境卫生”类"),
                          texts.R_TRANSFERRED.format(no=no, target="党员张*")]
    assert kinds(bot, no)[-3:] == ["transferred", "recategorised", "transferred"]


def test_my_queue_is_ordered_by_due_time_with_overdue_first(bot, people, clock):
    first = people.file_ticket("o-i1", "建议在东门增加一个快递柜，方便大家取件")    # 72 h category
    clock.advance(hours=1)
    second = people.file_ticket("o-i2", TEXT)                                   # 24 h
    clock.advance(hours=1)
    third = people.file_ticket("o-i3", "楼道燃气味很重，紧急！")                   # urgent, 4 h
    clock.advance(hours=5)
    queue = people.member("pm01").says("我的工单")
    lines = [line for line in queue.splitlines() if line[:1] in "【2"]
    assert lines[0].startswith(f"【超期】{third}")
    assert [no for no in (second, first) if no in queue] == [second, first]
    assert queue.index(second) < queue.index(first)


def test_detail_shows_history_with_masked_numbers(bot, people):
    no = people.file_ticket("o-jack", TEXT)
    detail = people.member("pm01").says(f"工单 {no}")
    assert detail.startswith(f"工单 {no}｜已分派")
    assert "138****5678" in detail and "13812345678" not in detail
    assert "居民提交" in detail and "分派" in detail


@pytest.mark.parametrize("said, expected", [
    ("接单", texts.W_NEED_NO.format(example="接单 20261120-0001")),
    ("回复 20991231-0001 你好", texts.W_NO_SUCH.format(no="20991231-0001")),
    ("随便说点什么", texts.W_UNKNOWN_COMMAND),
])
def test_bad_member_commands_get_a_clear_answer(people, said, expected):
    assert people.member("pm01").says(said) == expected


def test_empty_reply_and_resolving_twice_change_nothing(bot, people):
    no = people.file_ticket("o-kate", TEXT)
    zhang = people.member("pm01")
    assert zhang.says(f"回复 {no}") == texts.W_EMPTY_REPLY.format(no=no)
    assert ticket(bot, no).first_reply_at is None
    zhang.says(f"办结 {no} 已处理")
    assert zhang.says(f"办结 {no} 再次办结") == texts.W_CLOSED.format(no=no, action="办结", status="已办结")
    assert kinds(bot, no).count("resolved") == 1


def test_a_button_on_a_stale_card_says_so(bot, people):
    no = people.file_ticket("o-leo", TEXT)
    zhang = people.member("pm01")
    zhang.says(f"办结 {no} 已处理")
    assert tap(zhang, f"accept:{no}") == texts.W_CARD_EXPIRED.format(no=no, status="已办结")
    assert tap(zhang, f"reply:{no}") == texts.W_CARD_EXPIRED.format(no=no, status="已办结")


def test_a_stranger_tapping_a_card_is_refused(people):
    no = people.file_ticket("o-mia", TEXT)
    assert tap(people.member("nobody"), f"accept:{no}") == texts.MEMBER_UNKNOWN


def test_a_reply_outside_the_48_hour_window_waits_for_the_resident(bot, people, fake, clock, deliver):
    no = people.file_ticket("o-nina", TEXT)
    deliver()
    clock.advance(hours=49)
    fake.fail("message/custom/send", errcode=45015, times=1)
    people.member("pm01").says(f"回复 {no} 已安排维修")
    deliver()
    assert texts_to(fake, "wechat", "o-nina") == []
    people.resident("o-nina").says("查询")
    deliver()
    assert texts_to(fake, "wechat", "o-nina") == [
        texts.R_PARKED_PREFACE + texts.R_REPLY.format(no=no, text="已安排维修", member="党员张*")]


# -- admin API ----------------------------------------------------------------------------

def test_api_needs_the_bearer_token(client):
    assert client.get("/api/v1/tickets").status_code == 401
    assert client.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_api_returns_what_the_database_holds(bot, people, client, clock):
    no1 = people.file_ticket("o-p1", TEXT)
    no2 = people.file_ticket("o-p2", "建议在东门增加一个快递柜", scene="grid-g3")
    clock.advance(hours=2)
    people.member("pm01").says(f"接单 {no1}")
    clock.advance(hours=2)
    people.member("pm01").says(f"办结 {no1} 已修好")
    people.resident("o-p1").says("满意")
    listing = client.get("/api/v1/tickets", headers=AUTH).get_json()
    assert [t["no"] for t in listing["items"]] == [no2, no1] and listing["total"] == 2
    assert listing["items"][1]["text"].endswith("138****5678")
    only = client.get("/api/v1/tickets?branch=b2", headers=AUTH).get_json()
    assert [t["no"] for t in only["items"]] == [no2]
    assert client.get("/api/v1/tickets?status=closed&resident=o-p1", headers=AUTH).get_json()["total"] == 1
    detail = client.get(f"/api/v1/tickets/{no1}", headers=AUTH).get_json()
    with bot.db.session() as session:
        t = session.scalar(select(Ticket).where(Ticket.no == no1))
        db_events = [(e.kind, e.hash) for e in session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id))]
    assert [(e["kind"], e["hash"]) for e in detail["events"]] == db_events
    assert detail["created_at"] == "2026-11-20T02:00:00Z"
    stats = client.get("/api/v1/stats", headers=AUTH).get_json()
    assert stats["by_status"] == {"closed": 1, "assigned": 1}
    assert stats["median_response_h"] == 2.0 and stats["median_reply_h"] == 4.0
    assert stats["sla_met_pct"] == 100.0 and stats["satisfaction_pct"] == 100.0
    members = {m["userid"]: m for m in client.get("/api/v1/members", headers=AUTH).get_json()["items"]}
    assert members["pm03"]["open_tickets"] == 1 and members["pm01"]["open_tickets"] == 0


@pytest.mark.parametrize("url, status", [
    ("/api/v1/tickets/20991231-0001", 404),
    ("/api/v1/tickets?status=lost", 400),
    ("/api/v1/tickets?since=yesterday", 400),
    ("/api/v1/tickets?per_page=0", 400),
    ("/api/v1/tickets?since=2026-11-21T00:00:00Z&until=2026-11-20T00:00:00Z", 400),
])
def test_api_bad_requests_say_why(client, url, status):
    res = client.get(url, headers=AUTH)
    assert res.status_code == status and res.get_json()["error"]


def test_api_overdue_list_matches_the_secretary_command(people, client, clock):
    no = people.file_ticket("o-q1", TEXT)
    people.file_ticket("o-q2", "建议在东门增加一个快递柜", scene="grid-g3")
    assert client.get("/api/v1/overdue", headers=AUTH).get_json()["items"] == []
    clock.advance(hours=25)
    items = client.get("/api/v1/overdue?branch=b1", headers=AUTH).get_json()["items"]
    assert [(i["no"], i["overdue_stage"], i["overdue_h"]) for i in items] == [(no, "response", 1.0)]
    assert len(client.get("/api/v1/overdue", headers=AUTH).get_json()["items"]) == 1  # b2's is due at 72 h
