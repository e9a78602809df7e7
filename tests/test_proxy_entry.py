"""代录: a member enters a ticket for a resident without WeChat; it is routed like any other, the
member relays each step, and the resident later binds the phone to take the ticket over."""
import re

from sqlalchemy import select

from bot import texts
from bot.models import ProxyEntry, Resident, Ticket
from bot.privacy import erase_resident
from tests.conftest import cards_to, count, texts_to

PHONE = "13812345678"


def test_a_phone_entry_is_routed_relayed_and_later_bound(bot, people, fake, deliver):
    zhang, li, sec = people.member("pm01"), people.member("pm02"), people.member("sec01")
    said = zhang.says(f"代录 {PHONE} 3号楼楼道的路灯坏了一个多星期，晚上很黑")
    no = re.search(r"\d{8}-\d{4}", said).group(0)
    code = re.search(rf"绑定手机 {PHONE} (\d{{6}})", said).group(1)
    assert said.startswith(f"已代居民留言，编号 {no}（电话，联系人 138****5678），已转 张三")
    with bot.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == no))
        entry = session.scalar(select(ProxyEntry))
        assert (ticket.resident_id, ticket.grid_id, ticket.assignee_id, ticket.category) == \
            (None, "g1", "pm01", "民生服务")
        assert (entry.channel, entry.phone, entry.member_id) == ("phone", PHONE, "pm01")
    deliver()
    card = cards_to(fake, "pm01")[-1]
    assert "代录居民（138****5678，张三代录）" in card["sub_title_text"] and PHONE not in str(card)
    # The secretary gives it to another member: every step for the resident reaches pm01 to relay.
    assert sec.says(f"指派 {no} 李四") == texts.W_ASSIGNED.format(no=no, target="李四")
    deliver()
    assert "代录居民（138****5678，张三代录）" in cards_to(fake, "pm02")[-1]["sub_title_text"]
    li.says(f"接单 {no}")
    li.says(f"回复 {no} 明天上午电工上门更换")
    deliver()
    relayed = texts_to(fake, "wecom", "pm01")
    assert any(m.startswith("【请转告代录居民 138****5678】留言") and "已由党员李*接单" in m for m in relayed)
    assert any("明天上午电工上门更换" in m for m in relayed if m.startswith("【请转告"))
    # The resident joins the Official Account later and binds the phone with the code.
    wang = people.resident("o-wang")
    wang.subscribes()
    assert wang.says(f"绑定手机 {PHONE} 000000") == texts.BIND_NONE
    assert wang.says(f"绑定手机 {PHONE} {code}") == texts.BIND_DONE.format(n=1, nos=no)
    assert wang.says(f"绑定手机 {PHONE} {code}") == texts.BIND_NONE   # once
    with bot.db.session() as session:
        resident = session.scalar(select(Resident).where(Resident.openid == "o-wang"))
        assert session.scalar(select(Ticket.resident_id).where(Ticket.no == no)) == resident.id
    before = len(texts_to(fake, "wecom", "pm01"))
    li.says(f"办结 {no} 已更换灯泡")
    deliver()
    assert texts_to(fake, "wechat", "o-wang")[-1].startswith(f"您的留言 {no} 已办结：已更换灯泡")
    assert len(texts_to(fake, "wecom", "pm01")) == before   # no more relaying
    assert no in wang.says("查询")


def test_a_desk_entry_by_name_has_no_bind_code(bot, people):
    said = people.member("pm02").says("代录 张阿姨 楼下垃圾三天没人清运，气味很大")
    no = re.search(r"\d{8}-\d{4}", said).group(0)
    assert said.startswith(f"已代居民留言，编号 {no}（窗口，联系人 张**），已转 李四") and "绑定手机" not in said
    with bot.db.session() as session:
        entry = session.scalar(select(ProxyEntry))
        assert (entry.channel, entry.name, entry.phone, entry.bind_code) == ("desk", "张阿姨", None, None)


def test_bad_entries_get_one_line_and_change_nothing(bot, people):
    zhang = people.member("pm01")
    assert zhang.says("代录") == texts.PROXY_USAGE
    assert zhang.says("代录 小区门口的路灯已经坏了很久了") == texts.PROXY_WHO
    assert zhang.says(f"代录 {PHONE}") == texts.PROXY_EMPTY.format(who=PHONE)
    assert count(bot, Ticket) == 0 and count(bot, ProxyEntry) == 0
    assert people.resident("o-x").says("绑定手机 123") == texts.BIND_USAGE


def test_the_contact_is_erased_with_the_bound_residents_data(bot, people, clock):
    said = people.member("pm01").says(f"代录 {PHONE} 路灯坏了好几天了")
    code = re.search(rf"{PHONE} (\d{{6}})", said).group(1)
    wang = people.resident("o-wang")
    wang.subscribes()
    wang.says(f"绑定手机 {PHONE} {code}")
    with bot.db.session() as session:
        resident = session.scalar(select(Resident).where(Resident.openid == "o-wang"))
        erase_resident(bot, session, resident, clock.now(), "test")
    with bot.db.session() as session:
        entry = session.scalar(select(ProxyEntry))
        assert (entry.phone, entry.name, entry.bind_code) == (None, None, None)


def test_a_secretary_erases_an_unbound_contact_on_request(bot, people):
    said = people.member("pm01").says(f"代录 {PHONE} 路灯坏了好几天了，我的电话{PHONE}")
    no = re.search(r"\d{8}-\d{4}", said).group(0)
    assert people.member("pm01").says(f"删除联系人 {no}") == texts.W_SECRETARY_ONLY.format(action="删除联系人")
    assert people.member("sec02").says(f"删除联系人 {no}") == texts.W_OUT_OF_SCOPE.format(no=no)
    sec = people.member("sec01")
    assert sec.says(f"删除联系人 {no}") == texts.PROXY_ERASED.format(no=no)
    assert sec.says(f"删除联系人 {no}") == texts.PROXY_ERASE_NONE.format(no=no)
    with bot.db.session() as session:
        entry = session.scalar(select(ProxyEntry))
        ticket = session.scalar(select(Ticket).where(Ticket.no == no))
        assert (entry.phone, entry.name, entry.bind_code) == (None, None, None)
        assert PHONE not in ticket.text and ticket.personal_erased_at is not None


def test_my_data_says_how_to_bind_a_phone(people):
    person = people.resident("o-q")
    person.subscribes("grid-g1")
    assert person.says("我的数据").endswith(texts.MY_DATA_BIND_HINT)


def test_the_entering_member_answers_a_question_for_the_resident(bot, people, fake, deliver):
    zhang, li = people.member("pm01"), people.member("pm02")
    no = re.search(r"\d{8}-\d{4}", zhang.says("代录 张阿姨 楼下垃圾三天没人清运，气味很大")).group(0)
    people.member("sec01").says(f"指派 {no} 李四")
    li.says(f"接单 {no}")
    assert zhang.says(f"代答 {no} 在5单元门口") == texts.PROXY_ANSWER_NOT_WAITING.format(no=no)
    li.says(f"询问 {no} 具体是哪个垃圾桶？")
    deliver()
    assert any("具体是哪个垃圾桶" in m for m in texts_to(fake, "wecom", "pm01") if m.startswith("【请转告"))
    assert li.says(f"代答 {no} 在5单元门口") == texts.PROXY_ANSWER_NOT_YOURS.format(no=no)
    assert zhang.says(f"代答 {no}") == texts.PROXY_ANSWER_USAGE
    assert zhang.says(f"代答 {no} 在5单元门口") == texts.PROXY_ANSWERED.format(no=no)
    deliver()
    assert any("在5单元门口" in m for m in texts_to(fake, "wecom", "pm02"))
    with bot.db.session() as session:
        assert session.scalar(select(Ticket.status).where(Ticket.no == no)) == "responded"


def test_binding_stops_after_five_wrong_codes_a_day(bot, people, clock):
    said = people.member("pm01").says(f"代录 {PHONE} 路灯坏了好几天了")
    code = re.search(rf"{PHONE} (\d{{6}})", said).group(1)
    wrong = "000000" if code != "000000" else "111111"
    eve = people.resident("o-eve")
    for _ in range(5):
        assert eve.says(f"绑定手机 {PHONE} {wrong}") == texts.BIND_NONE
    assert eve.says(f"绑定手机 {PHONE} {code}") == texts.BIND_LOCKED
    with bot.db.session() as session:
        assert session.scalar(select(ProxyEntry.bound_at)) is None
