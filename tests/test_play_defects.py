"""#20: what the play-test of the merged product found, one scenario per point, written as data.

Each line is (who, action, argument, expected); see Conversation in conftest.py. "{no}" is the last
ticket number someone was told. Each scenario failed before the fix.
"""
from sqlalchemy import select

from bot import texts
from bot.__main__ import _point_fake_at
from bot.config import follow_port
from bot.lifecycle.page import page_url
from bot.models import Publicity, Ticket, TicketEvent
from tests.conftest import count

LAMP = "小区3号楼的路灯坏了一个多星期，晚上老人出门很不方便，请尽快修一下"
GAS = "楼下燃气泄漏了"


def ticket(bot, no=None) -> Ticket:
    with bot.db.session() as session:
        query = select(Ticket).order_by(Ticket.id.desc())
        return session.scalar(query.where(Ticket.no == no) if no else query.limit(1))


def event_kinds(bot, no) -> list[str]:
    with bot.db.session() as session:
        found = session.scalar(select(Ticket).where(Ticket.no == no))
        return list(session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == found.id)
                                    .order_by(TicketEvent.id)))


def files(who, text=LAMP, last="确认", expected="留言已提交"):
    return [(who, "subscribes", "grid-g1", None), (who, "says", "留言", texts.LM_ASK_TEXT),
            (who, "says", text, "如有现场照片"), (who, "says", "跳过", "问题发生在哪里"),
            (who, "says", "不变", "请核对"), (who, "says", last, expected)]


def resolved(who, summary="已更换3号楼路灯"):
    """A resident's ticket, resolved by the grid member; the resident has heard the push."""
    return [*files(who), ("pm01", "says", f"办结 {{no}} {summary}", "已办结"),
            (who, "hears", None, ("已办结", summary))]


# -- 1. safety advice at once, in any state ---------------------------------------------------

def test_1_a_danger_described_in_any_step_gets_the_advice_at_once_and_the_flow_goes_on(bot, conversation):
    conversation.play([
        ("o-an", "subscribes", "grid-g1", None),
        ("o-an", "says", "留言", texts.LM_ASK_TEXT),
        ("o-an", "says", LAMP, "如有现场照片"),
        # At the photo step: advice first, and the words still join the description.
        ("o-an", "says", "刚闻到楼道里有很浓的燃气味", ("【安全提示】", "燃气总阀", "补充到问题描述")),
        ("o-an", "says", "跳过", ("问题发生在哪里", "!【安全提示】")),
        ("o-an", "says", "不变", ("请核对", "燃气味", texts.LM_SUMMARY_URGENT.strip(), "!燃气总阀")),  # told once
        ("o-an", "says", "楼道里开始冒烟了", ("发生火情", "119", "请核对")),          # a new danger, new advice
        ("o-an", "says", "确认", "留言已提交"),
        # Another flow, another step: the advice comes, the question stays.
        ("o-an", "says", "预约", "请选择服务类型"),
        ("o-an", "says", "家里有人触电了", ("切断电源", "序号")),
        ("o-an", "says", "取消", texts.CANCELLED),
        # Outside any flow: the advice before the offer to file it.
        ("o-an", "says", GAS, ("燃气总阀", "回复“留言”")),
    ])
    assert "燃气味" in ticket(bot).text and ticket(bot).priority == "urgent"


# -- 2. 留言 after an offer files the words already given ----------------------------------------

def test_2_an_offered_urgent_text_is_filed_by_留言_asking_only_what_is_missing(bot, conversation):
    conversation.play([
        ("o-bo", "subscribes", "grid-g1", None),
        ("o-bo", "says", GAS, ("燃气总阀", "立即提交")),
        ("o-bo", "says", "留言", ("就用您刚才说的", GAS, "请核对", "幸福里社区东区一网格",
                                 "!请用文字或语音描述", "!如有现场照片", "!燃气总阀")),
        ("o-bo", "says", "确认", "留言已提交"),
        # Without a known grid, only the place is asked.
        ("o-ci", "says", "小区东门的垃圾桶已经满了三天没有人清理，味道很大", "回复“留言”"),
        ("o-ci", "subscribes", None, None),
        ("o-ci", "says", "留言", ("就用您刚才说的", "问题发生在哪里", "!如有现场照片")),
        ("o-ci", "sends_photo", "mp-late", ("第1张照片", "问题发生在哪里")),          # a photo is still welcome
        ("o-ci", "says", "幸福里社区东门", ("请核对", "照片：1张")),
        ("o-ci", "says", "确认", "留言已提交"),
    ])
    assert ticket(bot).text.startswith("小区东门的垃圾桶") and len(ticket(bot).photos or []) == 1
    with bot.db.session() as session:
        assert session.scalar(select(Ticket.text).where(Ticket.text == GAS)) == GAS


# -- 3. what a resident means by 嗯 / 算了 / 还行吧 / 好的 -----------------------------------------

def test_3_everyday_words_after_a_resolution_mean_what_a_resident_means(bot, conversation):
    conversation.play([
        *resolved("o-du"),
        ("o-du", "says", "好的", (texts.RATE_ACK_ASK.format(no="{no}"), "!没太明白")),
        ("o-du", "says", "嗯", ("请评价", "!没太明白")),
        ("o-du", "says", "还行吧", (texts.RATE_THANKS, texts.RATE_ASK_COMMENT)),
        ("o-du", "says", "嗯", texts.RATE_SKIPPED),                # not a comment
    ])
    no = conversation.no
    assert ticket(bot, no).rating == "basic" and "rating_comment" not in event_kinds(bot, no)
    conversation.play([
        *resolved("o-el"),
        ("o-el", "says", "一般般", texts.RATE_ASK_COMMENT),
    ])
    assert ticket(bot, conversation.no).rating == "basic"


def test_3_算了_at_the_publicity_question_is_a_no_said_as_such(bot, conversation):
    conversation.play([
        *resolved("o-fu"),
        ("o-fu", "says", "满意", texts.RATE_ASK_COMMENT),
        ("o-fu", "says", "跳过", texts.CONSENT_ASK),
        ("o-fu", "says", "算了", (texts.CONSENT_NO, "!已取消")),
    ])
    with bot.db.session() as session:
        assert session.scalar(select(Publicity.consent)) is False


# -- 4. nonsense is not a description ---------------------------------------------------------

def test_4_keyboard_mash_and_emoji_are_refused_with_a_hint(bot, conversation):
    conversation.play([
        ("o-ge", "subscribes", "grid-g1", None),
        ("o-ge", "says", "asdfgh", (texts.RESIDENT_HINT, "!回复“留言”")),       # idle: not offered
        ("o-ge", "says", "留言", texts.LM_ASK_TEXT),
        ("o-ge", "says", "asdfgh", texts.LM_TEXT_NONSENSE),
        ("o-ge", "says", "qwertyuiop zxcvbnm", texts.LM_TEXT_NONSENSE),
        ("o-ge", "says", "啊啊啊啊啊啊", texts.LM_TEXT_NONSENSE),
        ("o-ge", "says", "1111111", texts.LM_TEXT_NONSENSE),
        ("o-ge", "says", "？？！！。。", texts.LM_TEXT_EMPTY),
        ("o-ge", "says", "😀😀😀😀", texts.LM_TEXT_EMPTY),
        ("o-ge", "says", LAMP, "如有现场照片"),
        ("o-ge", "says", "jkljkljkl", ("请发送照片", "!补充到问题描述")),
    ])
    assert count(bot, Ticket) == 0


# -- 5. the duplicate hint names the original; 确认 beside it -----------------------------------

def test_5_the_hint_names_the_first_report_and_确认_is_explained(bot, conversation):
    conversation.play(files("o-ha"))
    original = conversation.no
    conversation.play([
        # A neighbour files a copy anyway: 确认 beside a neighbour's ticket is their own new one.
        *files("o-hb", expected=("近期邻居已反映过类似问题", original, "确认”提交为您自己的新留言"))[:-1],
        ("o-hb", "says", "确认", "留言已提交"),
    ])
    copy = conversation.no
    assert copy != original
    conversation.play([
        *files("o-hc")[:-1],
        ("o-hc", "says", "返回", "问题发生在哪里"),
        ("o-hc", "says", "不变", (original, f"!{copy}")),            # the first report, not the copy
        ("o-hc", "says", "关注", texts.LM_FOLLOWED.format(no=original)),
        # The reporter again: beside their own open ticket 确认 asks which they mean.
        *files("o-ha", expected=("您已有一条相似的留言", original, "!回复“确认”"))[:-1],
        ("o-ha", "says", "确认", texts.LM_DUP_CHOOSE.format(no=original)),
        ("o-ha", "says", "仍然提交", "留言已提交"),
    ])
    assert count(bot, Ticket) == 3


# -- 6. links follow the port served ----------------------------------------------------------

def test_6_local_links_follow_the_port_unless_set_elsewhere(app, bot, clock):
    bot.cfg["dashboard"].update(base_url="http://127.0.0.1:8000",
                                oauth_authorize_url="http://127.0.0.1:8000/_fake/wecom/connect/oauth2/authorize")
    bot.cfg["ticket_page"]["base_url"] = "http://127.0.0.1:8000/"
    _point_fake_at(app, "0.0.0.0", 8002)
    assert bot.cfg["dashboard"]["base_url"] == "http://127.0.0.1:8002"
    assert bot.cfg["dashboard"]["oauth_authorize_url"].startswith("http://127.0.0.1:8002/_fake/")
    assert page_url(bot.cfg, "20261120-0001", "pm01", clock.now()).startswith("http://127.0.0.1:8002/t/")
    mine = {"dashboard": {"base_url": "https://bot.example.org", "oauth_authorize_url":
                          "https://open.weixin.qq.com/connect/oauth2/authorize"},
            "ticket_page": {"base_url": "http://127.0.0.1:9000/"}}
    follow_port(mine, "127.0.0.1", 8002)
    assert mine["dashboard"]["base_url"] == "https://bot.example.org"
    assert mine["ticket_page"]["base_url"] == "http://127.0.0.1:9000/"


# -- 7. a member's lone 取消 ---------------------------------------------------------------------

def test_7_a_lone_取消_from_a_member_is_one_line(bot, conversation):
    conversation.play([
        ("pm01", "says", "取消", (texts.W_NOTHING_PENDING, "!党员工作台可用指令")),
        ("pm01", "says", "算了", texts.W_NOTHING_PENDING),
        ("pm01", "says", "帮助", "党员工作台可用指令"),
    ])


# -- 8. after 办结: 查询, rating a closed ticket, photos on the pages ------------------------------

def test_8_查询_after_办结_shows_the_resolution(bot, conversation):
    conversation.play([
        *files("o-ia"),
        ("pm01", "says", "回复 {no} 已联系电工，明天上午来修", "已把回复发送给居民"),
        ("o-ia", "says", "查询", "最新答复：已联系电工"),
        ("pm01", "says", "办结 {no} 灯泡已更换，晚上已经亮了", "已办结"),
        ("o-ia", "says", "查询", ("办结说明：灯泡已更换", "!已联系电工")),
    ])


def test_8_a_ticket_closed_unresolved_can_be_rated_once(bot, conversation):
    conversation.play([
        *files("o-ja"),
        ("sec01", "says", "关闭 {no} 属于市政道路，已转告市政热线", "未解决关闭"),
        ("o-ja", "hears", None, ("已关闭，未能解决", "是否满意")),
        ("o-ja", "says", "不满意", texts.RATE_CLOSED_UNSATISFIED.format(no="{no}")),
        ("sec01", "hears", None, "居民不满意"),
        ("o-ja", "says", "满意", "!谢谢您的反馈"),                  # the first answer counts
        ("o-ja", "says", "查询", "关闭原因：属于市政道路"),
    ])
    found = ticket(bot, conversation.no)
    assert (found.status, found.rating) == ("closed-unresolved", "unsatisfied")
    assert event_kinds(bot, conversation.no).count("closure_rated") == 1


def test_8_a_resolution_photo_after_a_quick_rating_is_on_the_ticket_page_and_the_public_page(
        bot, conversation, client, clock):
    conversation.play([
        *resolved("o-ka"),
        ("o-ka", "says", "满意", texts.RATE_ASK_COMMENT),
        ("o-ka", "says", "跳过", texts.CONSENT_ASK),
        ("o-ka", "says", "同意", texts.CONSENT_YES),
        # The member's photo comes after the resident already rated: it still counts.
        ("pm01", "sends_photo", "wecom-fixed-1", texts.W_PHOTO_FORWARDED.format(no="{no}")),
    ])
    link = page_url(bot.cfg, conversation.no, "pm01", clock.now()).split("/", 3)[3]
    page = client.get("/" + link).get_data(as_text=True)
    assert texts.PAGE_DONE_PHOTOS in page
    photo = next(p for p in page.split('"') if "/done/" in p).replace("&amp;", "&")
    got = client.get(photo)
    assert got.status_code == 200 and got.mimetype == "image/jpeg" and got.data
    public = client.get("/public/b1").get_data(as_text=True)
    assert "/public/b1/photo/" in public


# -- found playing this session ---------------------------------------------------------------

def test_more_everyday_words_found_playing(bot, conversation):
    conversation.play([
        ("o-la", "subscribes", "grid-g1", None),
        ("o-la", "says", "取消", texts.R_NOTHING_PENDING),                    # nothing to cancel: one line
        ("o-la", "says", "路灯坏了", ("回复“留言”", "!没太明白")),               # a short problem is offered
        ("o-la", "says", "留言", "请核对"),
        ("o-la", "says", "确认", "留言已提交"),
        ("o-la", "says", "什么时候修好", ("您的留言", "{no}", "!没太明白")),      # asking how it goes
        ("pm01", "says", "好的", (texts.W_ACK, "!党员工作台可用指令")),
        # A neighbour follows it, and answers the follower's 办结 notice with a plain 满意.
        *files("o-lb", text="小区路灯坏了好几天了，晚上出门不方便")[:-1],
        ("o-lb", "says", "关注", "已为您关注"),
        ("pm01", "says", "办结 {no} 已更换灯泡", "已办结"),
        ("o-lb", "hears", None, "愿意评价"),
        ("o-lb", "says", "满意", texts.RATE_FOLLOWER_THANKS),
        # 评价 <no> in the middle of 留言 is not a description.
        ("o-lb", "says", "留言", texts.LM_ASK_TEXT),
        ("o-lb", "says", "评价 {no}", ("请先发送“取消”", texts.LM_ASK_TEXT)),
        ("o-lb", "says", "取消", texts.CANCELLED),
        # 不用了 at 公示 is a no.
        ("o-la", "says", "满意", texts.RATE_ASK_COMMENT),
        ("o-la", "says", "没有", texts.CONSENT_ASK),
        ("o-la", "says", "不用了", texts.CONSENT_NO),
    ])
    with bot.db.session() as session:
        assert session.scalar(select(Publicity.consent)) is False


def test_a_stock_word_is_no_resolution_summary_and_a_bare_complaint_word_gets_a_prompt(bot, conversation):
    conversation.play([
        *files("o-ma"),
        ("pm01", "taps", "resolve:{no}", "请输入办结说明"),
        ("pm01", "says", "嗯", ("不能作为办结内容", "请输入办结说明")),
        ("pm01", "says", "已疏通下水道", "已办结"),
        ("o-ma", "hears", None, ("已办结：已疏通下水道", "!已办结：嗯")),
        *files("o-mb", text="东门的垃圾桶满了三天了，没人清运"),
        ("pm01", "says", "办结 {tail} 好的", ("不能作为办结内容", "办结 {no}")),
        ("o-mb", "says", "我要投诉", (texts.INTENT_REPLY, "!没太明白")),
    ])
    assert ticket(bot, conversation.no).status != "resolved"


def test_booking_options_can_be_named_not_only_numbered(bot, conversation):
    conversation.play([
        ("o-na", "subscribes", "grid-g1", None),
        ("o-na", "says", "预约", "请选择服务类型"),
        ("o-na", "says", "矛盾调解", "请选择日期"),
        ("o-na", "says", "11月28号", "11月28日可选时段"),
        ("o-na", "says", "9点半", "请简单说明"),
        ("o-na", "says", "返回", "可选时段"),
        ("o-na", "says", "09:00–09:30", texts.BK_CHOICE_HINT.format(n=6)),     # two times named: which?
        ("o-na", "says", "10:00", "请简单说明"),
        ("o-na", "says", "邻居装修太吵了想调解一下", ("矛盾调解", "11月28日", "10:00–10:30")),
        ("o-na", "says", "确认", "预约成功"),
    ])


def test_好的_right_after_an_offer_files_it(bot, conversation):
    conversation.play([
        ("o-pa", "subscribes", "grid-g1", None),
        ("o-pa", "says", "电梯又坏了，老人上不了楼", "回复“留言”"),
        ("o-pa", "says", "好的", ("就用您刚才说的", "电梯又坏了", "请核对")),
        ("o-pa", "says", "确认", "留言已提交"),
        ("o-pa", "says", "好的", texts.ACK_REPLY),                    # no offer waits now
    ])
