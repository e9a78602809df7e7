"""Every flow in the registry, every state: 取消 / 返回 / 帮助, TTL expiry on the bot's clock, a
duplicate MsgId, two people at once, and the events that may arrive at any moment.

REACH says how a person gets to each state; a flow or state missing from it fails
`test_reach_covers_every_flow_and_state`, so a new flow cannot skip these tests.
"""
import json
import threading

import pytest
from sqlalchemy import select

import flows
from bot import texts
from bot.models import Resident

TEXT = "小区3号楼的路灯坏了一个多星期，晚上老人出门很不方便，请尽快修一下"


def files(who):
    return [(who, "subscribes", "grid-g1", None), (who, "says", "留言", None), (who, "says", TEXT, None),
            (who, "says", "跳过", None), (who, "says", "不变", None), (who, "says", "确认", "留言已提交")]


def _lm(who, depth):
    lines = [(who, "subscribes", "grid-g1", None), (who, "says", "留言", texts.LM_ASK_TEXT)]
    return lines + [(who, "says", said, None) for said in (TEXT, "跳过", "不变")[:depth]]


def _bk(who, depth):
    lines = [(who, "subscribes", "grid-g1", None), (who, "says", "预约", "请选择服务类型")]
    return lines + [(who, "says", said, None) for said in ("1", "1", "1", "想咨询养老补贴")[:depth]]


def _rate(who, depth):
    lines = [*files(who), ("pm01", "says", "办结 {no} 路灯已更换", "已办结"), (who, "says", "评价", "请评价")]
    return (lines + ([(who, "says", "满意", None)] if depth else [])
            + ([(who, "says", "跳过", "是否同意公示")] if depth > 1 else []))


def _action(who, button, words=None):
    owner = f"o-owner-{who}"
    lines = [*files(owner), (who, "taps", f"{button}:{{no}}", "工单")]
    return lines + ([(who, "says", words, "将发送给居民")] if words else [])


REACH = {
    ("leave_message", "await_text"): lambda who: _lm(who, 0),
    ("leave_message", "await_photos"): lambda who: _lm(who, 1),
    ("leave_message", "await_place"): lambda who: _lm(who, 2),
    ("leave_message", "await_confirm"): lambda who: _lm(who, 3),
    ("book_service", "await_type"): lambda who: _bk(who, 0),
    ("book_service", "await_day"): lambda who: _bk(who, 1),
    ("book_service", "await_slot"): lambda who: _bk(who, 2),
    ("book_service", "await_description"): lambda who: _bk(who, 3),
    ("book_service", "await_confirm"): lambda who: _bk(who, 4),
    ("rate", "await_score"): lambda who: _rate(who, 0),
    ("rate", "await_comment"): lambda who: _rate(who, 1),
    ("rate", "await_consent"): lambda who: _rate(who, 2),
    ("erase_data", "await_confirm"): lambda who: [(who, "subscribes", "grid-g1", None),
                                                  (who, "says", "删除我的数据", "确认删除")],
    ("ticket_action", "await_reply"): lambda who: _action(who, "reply"),
    ("ticket_action", "await_summary"): lambda who: _action(who, "resolve"),
    ("ticket_action", "await_target"): lambda who: _action(who, "transfer"),
    ("ticket_action", "await_send"): lambda who: _action(who, "reply", "明天上午派人来修"),
}
ALL_STATES = [(flow.name, state.value) for flow in flows.ALL for state in flow.states]
PEOPLE = {"wechat": ("o-p1", "o-p2"), "wecom": ("pm01", "sec01")}


def test_reach_covers_every_flow_and_state():
    assert sorted(REACH) == sorted(ALL_STATES)


def flow_of(name):
    return next(f for f in flows.ALL if f.name == name)


def state_of(bot, channel, who):
    app = "gh_bot" if channel == "wechat" else "1000002"
    raw = bot.redis.get(f"bot:flow:{channel}:{app}:{who}")
    return json.loads(raw) if raw else None


# #20: where 取消 / 算了 is itself an answer (the rating is kept; 公示 is refused), it is said as such.
CANCEL_ANSWERS = {("rate", "await_comment"): texts.RATE_SKIPPED, ("rate", "await_consent"): texts.CONSENT_NO}


def reach(bot, conversation, name, state, who):
    conversation.play(REACH[(name, state)](who))
    flow = flow_of(name)
    got = state_of(bot, flow.channel, who)
    assert got is not None and (got["flow"], got["state"]) == (name, state), got
    return flow, got


def person(people, channel, who):
    return people.resident(who) if channel == "wechat" else people.member(who)


@pytest.mark.parametrize("name, state", ALL_STATES)
def test_cancel_back_and_help_in_every_state(bot, conversation, people, name, state):
    flow, saved = reach(bot, conversation, name, state, PEOPLE[flow_of(name).channel][0])
    who = PEOPLE[flow.channel][0]
    me = person(people, flow.channel, who)
    helped = me.says("帮助")
    assert helped.startswith(flow.help) and len(helped) > len(flow.help)
    assert state_of(bot, flow.channel, who)["state"] == state
    back = me.says("返回")
    after = state_of(bot, flow.channel, who)
    if saved["history"]:
        assert after["state"] == saved["history"][-1]
    else:
        assert back.startswith(texts.NOTHING_TO_GO_BACK) and after["state"] == state
    assert me.says("取消") == CANCEL_ANSWERS.get((name, after["state"]), flow.cancelled)
    assert state_of(bot, flow.channel, who) is None
    if flow.channel == "wecom":
        assert "留言" not in flow.cancelled


@pytest.mark.parametrize("name, state", ALL_STATES)
def test_a_conversation_is_forgotten_after_its_ttl_on_the_bots_clock(bot, conversation, people, clock,
                                                                      name, state):
    flow, _ = reach(bot, conversation, name, state, PEOPLE[flow_of(name).channel][0])
    me = person(people, flow.channel, PEOPLE[flow.channel][0])
    clock.advance(seconds=(flow.ttl_s or bot.cfg["flows"]["ttl_s"]) - 5)
    assert me.says("帮助").startswith(flow.help)            # still there just before the TTL
    clock.advance(seconds=(flow.ttl_s or bot.cfg["flows"]["ttl_s"]) + 1)
    menu = texts.RESIDENT_MENU if flow.channel == "wechat" else texts.MEMBER_MENU
    assert me.says("帮助") == menu                           # forgotten: the menu, not the flow's help


@pytest.mark.parametrize("name, state", ALL_STATES)
def test_a_duplicate_msgid_is_handled_once(bot, conversation, people, name, state):
    flow, _ = reach(bot, conversation, name, state, PEOPLE[flow_of(name).channel][0])
    who = PEOPLE[flow.channel][0]
    me = person(people, flow.channel, who)
    query, body = me.deliver({"MsgType": "text", "Content": "返回"})
    first = me.resend(query, body)
    once = state_of(bot, flow.channel, who)
    again = me.resend(query, body)
    assert again == first and state_of(bot, flow.channel, who) == once


@pytest.mark.parametrize("name, state", ALL_STATES)
def test_two_people_in_the_same_state_do_not_touch_each_other(bot, conversation, people, name, state):
    flow = flow_of(name)
    one, two = PEOPLE[flow.channel]
    reach(bot, conversation, name, state, one)
    reach(bot, conversation, name, state, two)
    answers = {}

    def talk(who, said):
        answers[who] = person(people, flow.channel, who).says(said)
    threads = [threading.Thread(target=talk, args=(one, "取消")), threading.Thread(target=talk, args=(two, "帮助"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers[one] == CANCEL_ANSWERS.get((name, state), flow.cancelled) and answers[two].startswith(flow.help)
    assert state_of(bot, flow.channel, one) is None
    assert state_of(bot, flow.channel, two)["state"] == state


RESIDENT_STATES = [s for s in ALL_STATES if flow_of(s[0]).channel == "wechat"]
MEMBER_STATES = [s for s in ALL_STATES if flow_of(s[0]).channel == "wecom"]


def resident_row(bot, openid):
    with bot.db.session() as session:
        return session.scalar(select(Resident).where(Resident.openid == openid))


@pytest.mark.parametrize("name, state", RESIDENT_STATES)
def test_a_qr_scan_in_every_state_binds_the_grid_and_the_flow_goes_on(bot, conversation, people, name, state):
    flow, _ = reach(bot, conversation, name, state, "o-p1")
    ask = people.resident("o-p1").scans("grid-g2")
    assert "西区二网格" in ask and len(ask) > len(texts.BOUND_GRID)     # bound, and asked again
    assert resident_row(bot, "o-p1").grid_id == "g2"
    assert state_of(bot, "wechat", "o-p1")["state"] == state


@pytest.mark.parametrize("name, state", RESIDENT_STATES)
def test_unfollowing_in_every_state_ends_the_flow_silently(bot, conversation, people, name, state):
    reach(bot, conversation, name, state, "o-p1")
    assert people.resident("o-p1").event("unsubscribe") is None
    assert resident_row(bot, "o-p1").subscribed is False
    assert state_of(bot, "wechat", "o-p1") is None


@pytest.mark.parametrize("name, state", RESIDENT_STATES)
def test_a_location_in_every_state_is_answered_and_the_flow_kept(bot, conversation, people, name, state):
    reach(bot, conversation, name, state, "o-p1")
    answer = people.resident("o-p1").shares_location(30.2745, 120.1549, "幸福里3号楼")
    assert answer and texts.APOLOGY not in answer
    now = state_of(bot, "wechat", "o-p1")
    assert now is not None and now["flow"] == name
    if name == "leave_message":       # kept for the place step, or used there
        assert now["data"].get("shared") or now["data"].get("lat") == 30.2745


@pytest.mark.parametrize("name, state", MEMBER_STATES)
def test_opening_the_app_in_every_member_state_keeps_the_wait(bot, conversation, people, name, state):
    reach(bot, conversation, name, state, "pm01")
    conversation.clock.advance(seconds=1)
    assert people.member("pm01").event("enter_agent") is None
    assert state_of(bot, "wecom", "pm01")["state"] == state
    assert people.member("pm01").says("帮助").startswith(flow_of(name).help)


def test_the_ttl_is_counted_from_the_last_message(bot, conversation, people, clock):
    reach(bot, conversation, "leave_message", "await_text", "o-p1")
    me = people.resident("o-p1")
    for _ in range(3):
        clock.advance(seconds=bot.cfg["flows"]["ttl_s"] - 60)
        assert me.says("帮助").startswith(texts.LM_HELP)
