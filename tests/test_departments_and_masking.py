"""#12: departments have people (duty member, else the least-loaded present handler; none: refused
with the fix), members see residents as 居民#<id> and the place once, and masking covers the ways
people write phone numbers and ids."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import texts
from bot.errors import OrgFileError
from bot.models import Department, Ticket
from bot.privacy import mask_pii

TEXT = "楼上邻居天天半夜噪音，吵得睡不着，协商过几次没用"


def ticket(bot, no):
    with bot.db.session() as session:
        return session.scalar(select(Ticket).where(Ticket.no == no))


def org_with(bot, tmp_path, old: str, new: str) -> None:
    text = open(bot.cfg["org_file"], encoding="utf-8").read()
    path = tmp_path / f"org-{len(list(tmp_path.iterdir()))}.yaml"
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    bot.cfg["org_file"] = str(path)
    bot.sync_org()


def test_the_duty_member_takes_a_department_transfer_and_gets_the_card(bot, people, fake, deliver, tmp_path):
    org_with(bot, tmp_path, "{id: d2, name: 综治办, handlers: [pm02]}",
             "{id: d2, name: 综治办, handlers: [pm02], duty: sec01}")
    with bot.db.session() as session:
        assert session.get(Department, "d2").handlers == ["pm02", "sec01"]
    no = people.file_ticket("o-d1", TEXT)
    assert people.member("pm01").says(f"转派 {no} 综治办") == texts.W_DEPT_TRANSFERRED.format(
        no=no, department="综治办", member="王书记")
    deliver()
    assert ticket(bot, no).assignee_id == "sec01"
    assert [c["json"]["msgtype"] for c in fake.sent("wecom", "sec01")] == ["template_card"]
    assert fake.sent("wechat", "o-d1")[-1]["json"]["text"]["content"] == texts.R_TRANSFERRED.format(
        no=no, target="综治办")


def test_without_a_present_duty_member_the_least_loaded_handler_takes_it(bot, people, tmp_path):
    org_with(bot, tmp_path, "{id: d2, name: 综治办, handlers: [pm02]}",
             "{id: d2, name: 综治办, handlers: [pm01, pm02], duty: sec01}")
    org_with(bot, tmp_path, "{userid: sec01, name: 王书记, branch: b1, role: secretary}",
             "{userid: sec01, name: 王书记, branch: b1, role: secretary, away: true}")
    first = people.file_ticket("o-d2", TEXT)                     # pm01 holds one ticket already
    people.file_ticket("o-d3", "东门路灯坏了一个多星期了，晚上很黑")
    assert people.member("pm01").says(f"转派 {first} 综治办") == texts.W_DEPT_TRANSFERRED.format(
        no=first, department="综治办", member="李四")
    assert ticket(bot, first).assignee_id == "pm02"


def test_a_department_without_handlers_refuses_and_nothing_changes(bot, people, fake, deliver):
    no = people.file_ticket("o-d4", TEXT)
    deliver()
    before = len(fake.sent("wechat", "o-d4"))
    assert people.member("pm01").says(f"转派 {no} 党群工作部") == texts.W_DEPT_NO_HANDLERS.format(
        name="党群工作部", id="d3")
    assert people.member("pm01").says(f"转派 {no} 不存在的部门").startswith("没有找到“不存在的部门”")
    t = ticket(bot, no)
    assert (t.assignee_id, t.status, t.department_id) == ("pm01", "assigned", "d2")
    deliver()
    assert len(fake.sent("wechat", "o-d4")) == before              # the resident heard nothing


@pytest.mark.parametrize("old, new, reason", [
    ("{id: d2, name: 综治办, handlers: [pm02]}", "{id: d2, name: 综治办, handlers: [pm99]}",
     "handler 'pm99' is not among members"),
    ("{id: d2, name: 综治办, handlers: [pm02]}", "{id: d2, name: 综治办, handlers: pm02}",
     "handlers must be a list"),
    ("{id: d2, name: 综治办, handlers: [pm02]}", "{id: d2, name: 综治办, duty: pm98}",
     "duty 'pm98' is not among members"),
])
def test_a_bad_department_is_refused_with_its_line(bot, tmp_path, old, new, reason):
    with pytest.raises(OrgFileError) as err:
        org_with(bot, tmp_path, old, new)
    assert reason in str(err.value)


def test_the_card_names_the_resident_by_label_and_the_place_once(bot, people, fake, deliver):
    resident = people.resident("o-lice")
    resident.subscribes("grid-g1")
    for said in ("留言", "楼道里的声控灯坏了，晚上上楼很危险", "跳过"):
        resident.says(said)
    resident.shares_location(30.2741, 120.1551, "幸福里社区3号楼")
    resident.says("确认")
    deliver()
    [card] = fake.sent("wecom", "pm01")
    body = card["json"]["template_card"]["sub_title_text"]
    assert "居民lice" not in body and "居民#" in body
    assert "地点：幸福里社区3号楼\n" in body and body.count("幸福里社区") == 1


@pytest.mark.parametrize("written, shown", [
    ("电话13812345678", "电话138****5678"),
    ("电话 138 1234 5678", "电话 138****5678"),
    ("电话138-1234-5678", "电话138****5678"),
    ("+86 138 1234 5678", "138****5678"),
    ("+8613812345678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("座机0571-88123456", "座机0571-****3456"),
    ("座机（0571）88123456", "座机0571-****3456"),
    ("座机010 12345678", "座机010-****5678"),
    ("身份证110101199003074512", "身份证110101********4512"),
    ("老身份证110101900307451", "老身份证110101******451"),
    ("微信号：zhang_san88", "微信号：***"),
    ("加我vx abc12345", "加我vx ***"),
    ("QQ 12345678", "QQ ***"),
    ("扣扣：87654321", "扣扣：***"),
    ("3号楼501室", "*号楼*室"),
    ("工单20261120-0001，2026年11月20日", "工单20261120-0001，2026年11月20日"),
])
def test_masking_covers_how_people_write_numbers_and_ids(written, shown):
    assert mask_pii(written) == shown


def test_the_assigned_member_and_secretary_keep_the_address_but_never_the_phone():
    assert mask_pii("3号楼501室，电话13812345678", keep_address=True) == "3号楼501室，电话138****5678"


def test_the_assigned_member_reads_the_building_in_the_queue_and_others_do_not(bot, people):
    no = people.file_ticket("o-q1", "3号楼2单元门口的路灯坏了，晚上很黑，老人出门不方便")
    queue = people.member("pm01").says("我的工单")              # pm01 is the grid member: it is theirs
    assert no in queue and "3号楼2单元" in queue
    detail = people.member("pm02").says(f"工单 {no}")            # the backup, not yet the owner
    assert "3号楼" not in detail and "*号楼" in detail
