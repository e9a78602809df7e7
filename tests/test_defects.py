"""The defects found by replaying real payloads and starting the bot as an operator would (#16)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import texts
from bot.models import OutboxMessage, Resident
from bot.outbox import enqueue
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
