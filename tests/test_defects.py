"""The defects found by replaying real payloads and starting the bot as an operator would (#16)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import texts
from bot.models import OutboxMessage, Resident
from bot.outbox import OutboxWorker, enqueue
from bot.replies import to_resident


def queue(bot, *replies):
    with bot.db.session() as session:
        enqueue(session, replies, bot.clock.now())


def outbox(bot):
    with bot.db.session() as session:
        return [(m.kind, m.status) for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]


# -- 1. the template-notice loop ---------------------------------------------------------

def test_a_delivery_report_does_not_release_parked_replies_so_no_endless_loop(bot, fake, people, deliver):
    """WeChat answers 45015 to every reply and reports each template notice with
    TEMPLATESENDJOBFINISH: the report must not count as the resident writing."""
    bot.cfg["wechat"]["notice_template_id"] = "TPL-1"
    alice = people.resident("o-alice")
    alice.says("你好")
    fake.fail("message/custom/send", errcode=45015)      # outside the window, every time
    queue(bot, to_resident("o-alice", "您的留言已办结"))
    for _ in range(5):
        deliver()
        for notice in fake.sent("wechat", "o-alice"):
            if notice["endpoint"] == "message/template/send" and not notice.get("reported"):
                notice["reported"] = True
                assert alice.event("TEMPLATESENDJOBFINISH", Status="success", MsgID=notice["seq"]) is None
    tries = [c for c in fake.calls if c["endpoint"] == "message/custom/send"]
    notices = [c for c in fake.sent("wechat") if c["endpoint"] == "message/template/send"]
    assert (len(tries), len(notices)) == (1, 1)
    assert outbox(bot) == [("text", "parked"), ("template", "sent")]
    fake.clear_faults()
    alice.says("收到了吗")                                  # now the resident writes: released
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wechat", "o-alice")
            if c["endpoint"] == "message/custom/send"] == [texts.R_PARKED_PREFACE + "您的留言已办结"]


@pytest.mark.parametrize("event,extra", [
    ("TEMPLATESENDJOBFINISH", {"Status": "success"}),
    ("LOCATION", {"Latitude": "30.27", "Longitude": "120.15", "Precision": "50"}),
    ("VIEW", {"EventKey": "https://example.org/"}),
    ("MASSSENDJOBFINISH", {"Status": "send success", "TotalCount": "3"}),
    ("kf_create_session", {"KfAccount": "kf@x"}),
    ("user_get_card", {"CardId": "c1"}),
])
def test_a_platform_event_makes_no_resident_and_no_reply(bot, people, event, extra):
    assert people.resident("o-sys").event(event, **extra) is None
    with bot.db.session() as session:
        assert session.scalar(select(Resident).where(Resident.openid == "o-sys")) is None
    assert outbox(bot) == []


def test_a_platform_event_inside_a_flow_does_not_answer_for_the_resident(bot, people):
    alice = people.resident("o-alice")
    alice.says("留言")
    assert alice.event("LOCATION", Latitude="30.27", Longitude="120.15", Precision="50") is None
    assert outbox(bot) == []
    assert alice.says("取消") == texts.CANCELLED       # the flow was still waiting, untouched


# -- 3. padded and odd XML ---------------------------------------------------------------

def post_raw(client, person, xml):
    query, body = person.wire.build_callback(xml, person.now())
    return client.post(person.path, query_string=query, data=body)


def test_padded_values_as_in_tencents_card_examples_are_understood(client, people):
    alice = people.resident("o-alice")
    xml = ("<xml><ToUserName> <![CDATA[gh_bot]]> </ToUserName>"
           "<FromUserName> <![CDATA[o-alice]]> </FromUserName><CreateTime> 1790000000 </CreateTime>"
           "<MsgType> <![CDATA[text]]> </MsgType><Content> <![CDATA[帮助]]> </Content>"
           "<MsgId> 123456789 </MsgId></xml>")
    res = post_raw(client, alice, xml)
    assert res.status_code == 200
    assert alice.wire.open_reply(res.data)["Content"] == texts.RESIDENT_MENU


def test_padded_card_event_reaches_the_card_handler(client, people):
    pm01 = people.member("pm01")
    xml = ("<xml><ToUserName><![CDATA[ww0123456789abcdef]]></ToUserName>"
           "<FromUserName> <![CDATA[pm01]]> </FromUserName><CreateTime>1790000000</CreateTime>"
           "<MsgType> <![CDATA[event]]> </MsgType><Event> <![CDATA[template_card_event]]> </Event>"
           "<EventKey> <![CDATA[accept:20261120-9999]]> </EventKey><TaskId> <![CDATA[t1]]> </TaskId>"
           "<CardType> <![CDATA[button_interaction]]> </CardType><AgentID> 1000002 </AgentID></xml>")
    res = post_raw(client, pm01, xml)
    assert res.status_code == 200
    answer = pm01.wire.open_reply(res.data)["Content"]
    assert "20261120-9999" in answer and answer != texts.APOLOGY


@pytest.mark.parametrize("fields", [
    "<MsgType>text</MsgType><Content>一</Content><Content>二</Content>",
    "<MsgType>text</MsgType><Content><b>粗</b>体</Content>",
    "<MsgType>voice</MsgType><MediaId>m1</MediaId><Recognition><x>1</x></Recognition>",
    "<MsgType>text</MsgType><MsgType>event</MsgType><Content>hi</Content>",
])
def test_a_field_given_twice_or_with_children_is_a_400_not_an_apology(client, people, bot, fields):
    alice = people.resident("o-odd")
    xml = (f"<xml><ToUserName>gh_bot</ToUserName><FromUserName>o-odd</FromUserName>"
           f"<CreateTime>1790000000</CreateTime>{fields}<MsgId>42</MsgId></xml>")
    assert post_raw(client, alice, xml).status_code == 400
    with bot.db.session() as session:
        assert session.scalar(select(Resident)) is None


# -- 2. card task ids, attempt limit, age limit, permanent errors, pacing -------------------

def cards_to(fake, userid):
    return [c for c in fake.calls if c["endpoint"] == "message/send"
            and (c["json"] or {}).get("touser") == userid and (c["json"] or {}).get("msgtype") == "template_card"]


def test_a_transfer_and_a_transfer_back_in_one_second_give_two_cards_with_their_own_task_ids(
        people, fake, deliver):
    no = people.file_ticket("o-alice", "小区路灯坏了好几天，晚上很黑")
    deliver()
    pm01, pm02 = people.member("pm01"), people.member("pm02")
    assert no in pm01.says(f"转派 {no} 李四")
    assert no in pm02.says(f"转派 {no} 张三")        # the clock has not moved: the same second
    deliver()
    cards = cards_to(fake, "pm01")
    assert len(cards) == 2 and all(c["ok"] for c in cards)
    assert len({c["json"]["template_card"]["task_id"] for c in cards}) == 2
    assert [c for c in fake.calls if c["errcode"] == 42014] == []


def health(client):
    return client.get("/api/v1/health", headers={"Authorization": "Bearer test-admin-token"}).get_json()


def test_a_reused_task_id_is_failed_at_once_with_its_reason_and_shown_in_health(bot, fake, client, clock, deliver):
    card = {"card_type": "text_notice", "task_id": "t-1", "main_title": {"title": "x"}}
    from bot.replies import Reply
    queue(bot, Reply("wecom", "pm01", "template_card", card), Reply("wecom", "pm01", "template_card", card))
    deliver()
    clock.advance(hours=1)
    deliver()
    assert outbox(bot) == [("template_card", "sent"), ("template_card", "failed")]
    assert len([c for c in fake.calls if c["errcode"] == 42014]) == 1   # not retried
    failed = health(client)["outbox_failed"]
    assert failed["by_errcode"] == {"42014": 1}
    assert "42014" in failed["latest"][0]["reason"]


def test_an_error_that_never_clears_ends_failed_after_the_attempt_limit(bot, fake, clock, client, deliver):
    bot.cfg["outbox"]["max_attempts"] = 4
    fake.fail("message/send", errcode=-1)                # "system busy", for ever
    queue(bot, to_member_text("pm01", "新工单"))
    for _ in range(10):
        OutboxWorker(bot).run_once()
        clock.advance(minutes=20)
    with bot.db.session() as session:
        msg = session.scalar(select(OutboxMessage))
        assert (msg.status, msg.attempts, msg.last_errcode) == ("failed", 4, -1)
        assert "4 attempts" in msg.last_error
    assert len([c for c in fake.calls if c["endpoint"] == "message/send"]) == 4
    assert health(client)["outbox_failed"]["by_errcode"] == {"-1": 1}


def test_a_message_older_than_the_age_limit_is_failed_untried(bot, fake, clock, deliver):
    bot.cfg["outbox"]["max_age_h"] = 2
    fake.fail("*", http_status=503)
    queue(bot, to_member_text("pm01", "过期的提醒"))
    OutboxWorker(bot).run_once()
    fake.clear_faults()
    clock.advance(hours=3)
    OutboxWorker(bot).run_once()
    assert outbox(bot) == [("text", "failed")]
    assert fake.sent() == []


def test_forty_messages_to_one_member_go_out_thirty_a_minute(bot, fake, clock, deliver):
    queue(bot, *[to_member_text("sec01", f"m{i}") for i in range(40)])
    deliver()
    assert len(fake.sent("wecom", "sec01")) == 30
    deliver()
    assert len(fake.sent("wecom", "sec01")) == 30          # still the same minute
    clock.advance(minutes=1)
    deliver()
    assert sorted(c["json"]["text"]["content"] for c in fake.sent("wecom", "sec01")) == \
        sorted(f"m{i}" for i in range(40))
    assert set(s for _, s in outbox(bot)) == {"sent"}


def to_member_text(userid, content):
    from bot.replies import to_member
    return to_member(userid, content)


# -- 5. bursts to one person -------------------------------------------------------------

def test_forty_overdue_tickets_in_one_sweep_make_one_message_per_person(bot, people, clock, fake, deliver):
    from bot.sla import sweep_sla

    nos = [people.file_ticket(f"o-r{i}", f"第{i}号楼的路灯坏了好几天，晚上很黑") for i in range(40)]
    deliver()
    fake.reset()
    clock.advance(hours=25)                             # Sat 11:00: every response window breached
    assert sweep_sla(bot) == 80                          # 40 reminders (pm01) + 40 escalations (sec01)
    clock.advance(minutes=1)
    deliver()
    for member, head in (("sec01", "【超期督办】40件"), ("pm01", "【提醒】40件")):
        # (the last 10 of the 40 assignment cards to pm01 were held back a minute: paced)
        [message] = [m for m in fake.sent("wecom", member) if m["json"]["msgtype"] != "template_card"]
        content = message["json"]["markdown"]["content"]
        assert content.startswith(head)
        assert all(no in content for no in nos)
        assert len(content.encode()) <= 4096
    assert sweep_sla(bot) == 0


def test_a_single_overdue_ticket_still_gets_its_own_message(bot, people, clock, fake, deliver):
    from bot.sla import sweep_sla

    no = people.file_ticket("o-one", "小区路灯坏了好几天，晚上很黑")
    clock.advance(hours=25)
    assert sweep_sla(bot) == 2
    deliver()
    [message] = fake.sent("wecom", "sec01")
    assert message["json"]["text"]["content"].startswith("【超期督办】工单 " + no)


# -- 6. template notices -----------------------------------------------------------------

def test_a_notice_uses_the_configured_templates_fields_and_never_cuts_mid_word(bot, fake, deliver):
    bot.cfg["wechat"].update(notice_template_id="TPL-9",
                             notice_fields={"character_string2": "no", "thing3": "summary", "time5": "time"})
    fake.fail("message/custom/send", errcode=45015, times=1)
    long_reply = "工单 20261120-0007 已办结：物业已更换楼道灯泡，并检查了线路，请您确认是否满意。"
    queue(bot, to_resident("o-alice", long_reply))
    deliver()
    deliver()
    [notice] = [c for c in fake.sent("wechat", "o-alice") if c["endpoint"] == "message/template/send"]
    data = notice["json"]["data"]
    assert set(data) == {"character_string2", "thing3", "time5"}
    assert data["character_string2"]["value"] == "20261120-0007"
    assert data["thing3"]["value"] == "工单 20261120-0007…"   # whole words, ≤ 20 characters with the …
    assert data["time5"]["value"] == "2026-11-20 10:00"


@pytest.mark.parametrize("value,limit,expected", [
    ("您的留言已办结", 20, "您的留言已办结"),
    ("楼道灯已更换，线路也检查过了，请确认", 10, "楼道灯已更换…"),
    ("一个没有任何标点而且非常非常长的句子超过了限制", 20, texts.NOTICE_SHORT),
])
def test_shortening_keeps_whole_clauses_or_says_something_fixed(value, limit, expected):
    from bot.ops.notice import shorten
    assert shorten(value, limit, texts.NOTICE_SHORT) == expected


@pytest.mark.parametrize("fields,words", [
    ({"thing1": "weather"}, "weather"),
    ({"thing 1": "summary"}, "thing 1"),
    (["thing1"], "must be a mapping"),
])
def test_a_wrong_notice_field_mapping_stops_start_up_naming_the_key(settings, fields, words):
    from bot.config import load_config
    from bot.errors import ConfigError
    settings["wechat"].update(notice_template_id="TPL-1", notice_fields=fields)
    with pytest.raises(ConfigError, match="wechat.notice_fields") as err:
        load_config(settings)
    assert words in str(err.value)


def test_a_reply_parked_for_days_still_goes_out_when_the_resident_writes(bot, fake, people, clock, deliver):
    fake.fail("message/custom/send", errcode=45015, times=1)
    queue(bot, to_resident("o-alice", "您的留言已办结"))
    deliver()
    clock.advance(days=5)                      # longer than outbox.max_age_h
    people.resident("o-alice").says("你好")
    fake.fail("message/custom/send", errcode=-1, times=1)   # and the first try after that fails
    deliver()
    clock.advance(minutes=5)
    deliver()
    assert [c["json"]["text"]["content"] for c in fake.sent("wechat", "o-alice")] == \
        [texts.R_PARKED_PREFACE + "您的留言已办结"]


def test_the_weekly_digest_tells_the_secretary_which_members_missed_messages(bot, fake, clock, deliver):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from bot.digest import send_weekly_digests

    shanghai = ZoneInfo("Asia/Shanghai")
    clock.set(datetime(2026, 11, 10, 10, 0, tzinfo=shanghai))
    fake.fail("message/send", errcode=81013, times=2)          # pm01 is not in the app's visible range
    queue(bot, to_member_text("pm01", "新工单 1"), to_member_text("pm01", "新工单 2"), to_member_text("pm02", "ok"))
    deliver()
    clock.set(datetime(2026, 11, 16, 8, 31, tzinfo=shanghai))
    send_weekly_digests(bot)
    with bot.db.session() as session:
        digests = {m.recipient: m.body["content"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "markdown"))}
    assert "未送达消息**：2 条（张三）" in digests["sec01"]
    assert "未送达" not in digests["sec02"]
