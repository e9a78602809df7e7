"""Points once per event, appraisal by hand, the audit chain, masking and erasure."""
import logging
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from bot import texts
from bot.appraisal import appraise
from bot.audit import record_anchor, seal_pending, verify
from bot.models import (
    AdminChange,
    AuditHead,
    Base,
    PointsEntry,
    Ticket,
    TicketEvent,
)
from bot.points import award, reverse
from bot.privacy import apply_retention

SHANGHAI = timezone(timedelta(hours=8))
PHONE, ID_NO, ROOM = "13812345678", "110101199003074512", "3号楼501室"
PII_TEXT = f"楼道路灯坏了，我住{ROOM}，电话{PHONE}，身份证{ID_NO}"
AUTH = {"Authorization": "Bearer test-admin-token"}


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def entries(bot, member=None):
    with bot.db.session() as session:
        query = select(PointsEntry).order_by(PointsEntry.id)
        if member:
            query = query.where(PointsEntry.member_id == member)
        return session.scalars(query).all()


def verdict(bot):
    seal_pending(bot)
    with bot.db.session() as session:
        return verify(session)


# -- points -------------------------------------------------------------------------------

def test_points_are_awarded_once_per_event_even_when_retried(bot, people, client):
    no = people.file_ticket("o-a", "东门路灯坏了好几天，晚上很黑")
    zhang = people.member("pm01")
    query, body = zhang.deliver({"MsgType": "text", "Content": f"办结 {no} 已更换灯泡"})
    for _ in range(3):                                       # the platform retries the callback
        assert client.post("/wecom", query_string=query, data=body).status_code == 200
    assert [(e.points, e.reason) for e in entries(bot)] == [(8, f"办结工单 {no}")]
    people.resident("o-a").says("不满意")
    zhang.says(f"办结 {no} 换了整套灯具")                      # resolved again: no second award
    people.resident("o-a").says("满意")
    assert [e.points for e in entries(bot)] == [8, 5]
    assert zhang.says("签到") == texts.PT_CHECKED_IN.format(n=1)
    assert zhang.says("签到") == texts.PT_ALREADY
    zhang.event("enter_agent")
    with bot.db.session() as session:
        assert award(session, "pm01", 8, "again", f"resolved:{entries(bot)[0].ticket_id}", bot.clock.now()) is None
    assert [e.points for e in entries(bot)] == [8, 5, 1]


def test_secretary_awards_innovation_points_within_range_and_branch(bot, people):
    secretary = people.member("sec01")
    assert secretary.says("加分 张三 50 很好") == texts.PT_AWARD_RANGE.format(low=10, high=30)
    assert secretary.says("加分 王五 20 很好") == texts.PT_AWARD_WHO.format(who="王五")   # other branch
    assert people.member("pm01").says("加分 李四 20 很好") == texts.W_SECRETARY_ONLY.format(action="加分")
    assert secretary.says("加分 张三 20 楼道议事会") == texts.PT_AWARDED.format(
        name="张三", points=20, reason="楼道议事会")
    assert [(e.member_id, e.points) for e in entries(bot)] == [("pm01", 20)]
    mine = people.member("pm01").says("积分")
    assert mine.startswith("11月您的积分：20分，支部排名第1名（共3人）")


def test_a_reversal_is_a_new_negative_entry(bot):
    with bot.db.session() as session:
        entry = award(session, "pm02", 12, "办结", "k1", bot.clock.now())
    with bot.db.session() as session:
        reversal = reverse(session, entry.id, "误操作", "admin:test", bot.clock.now())
        assert reverse(session, entry.id, "误操作", "admin:test", bot.clock.now()) is None
    assert [(e.points, e.reason) for e in entries(bot)] == [(12, "办结"), (-12, "冲正：误操作")]
    assert reversal is not None and verdict(bot).ok


# -- appraisal ---------------------------------------------------------------------------------

def test_appraisal_figures_equal_those_computed_by_hand(bot, people, clock, client):
    # November 2026: 21 working days; the clock ends on Mon 30 Nov 20:00.
    clock.set(local(2026, 11, 2, 9, 0))
    a = people.file_ticket("o-m1", "东门路灯坏了好几天，晚上很黑")       # 民生服务, reply due 48 h
    b = people.file_ticket("o-m2", "楼下垃圾桶满了没人清理")             # 环境卫生
    zhang, li = people.member("pm01"), people.member("pm02")
    clock.set(local(2026, 11, 3, 9, 0))
    zhang.says(f"办结 {a} 已修好")                                   # on time (first reply now)
    people.resident("o-m1").says("满意")
    clock.set(local(2026, 11, 10, 9, 0))
    zhang.says(f"办结 {b} 已清理")                                   # late: reply was due 4 Nov
    people.resident("o-m2").says("基本满意")
    clock.set(local(2026, 11, 11, 9, 0))
    zhang.says("签到")
    li.says("签到")
    clock.set(local(2026, 11, 30, 20, 0))
    with bot.db.session() as session:
        report = appraise(bot, session, "2026-11")
    pm01 = next(m for m in report["members"] if m["userid"] == "pm01")
    pm02 = next(m for m in report["members"] if m["userid"] == "pm02")
    # pm01 was active on 3, 10 and 11 Nov: 3 of 21 working days = 14.3 %; resolved 2, 1 on time
    # and never reopened = 50 %; ratings 满意 + 基本满意 = 100 %.
    assert (pm01["participation"], pm01["quality"], pm01["satisfaction"]) == (14.3, 50.0, 100.0)
    assert pm01["total"] == round(14.3 * 0.3 + 50.0 * 0.4 + 100.0 * 0.3, 1) == 54.3
    # pm02 only checked in once: 4.8 %; nothing else to judge, so that part alone.
    assert (pm02["participation"], pm02["quality"], pm02["satisfaction"], pm02["total"]) == (4.8, None, None, 4.8)
    b1 = next(x for x in report["branches"] if x["branch"] == "b1")
    assert (b1["participation_pct"], b1["resolution_pct"], b1["satisfaction_pct"]) == (66.7, 100.0, 100.0)
    assert b1["satisfaction_trend"] is None                          # October had no ratings
    api = client.get("/api/v1/appraisal?month=2026-11", headers=AUTH).get_json()
    assert api == report
    assert client.get("/api/v1/appraisal?month=11-2026", headers=AUTH).status_code == 400


def test_appraisal_csv_report(bot, tmp_path, cli):
    out = tmp_path / "appraisal.csv"
    assert cli("report", "appraisal", "--month", "2026-11", "--out", str(out))[0] == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("userid,name,branch,participation,quality,satisfaction,total")
    assert len(lines) == 1 + 5


# -- the audit chain ------------------------------------------------------------------------------

def _chain(bot, people):
    no = people.file_ticket("o-c", "东门路灯坏了好几天，晚上很黑")
    people.member("pm01").says(f"办结 {no} 已修好")
    people.resident("o-c").says("满意")
    assert seal_pending(bot) > 0 and seal_pending(bot) == 0
    return no


def test_an_intact_chain_verifies(bot, people, cli):
    _chain(bot, people)
    people.member("pm01").says("签到")                              # written, not sealed yet
    with bot.db.session() as session:
        waiting = verify(session)
    assert waiting.ok and waiting.unsealed == 1
    result = verdict(bot)
    assert result.ok and result.checked >= 8 and result.unsealed == 0
    code, said = cli("audit", "verify")
    assert code == 0 and said.startswith("audit chain intact")


@pytest.mark.parametrize("tamper, table", [
    (lambda s: s.execute(update(TicketEvent).where(TicketEvent.kind == "resolved")
                         .values(data={"summary": "改过的说明"})), "ticket_events"),
    (lambda s: s.execute(update(TicketEvent).where(TicketEvent.kind == "rated")
                         .values(actor="member:pm01")), "ticket_events"),
    (lambda s: s.execute(update(PointsEntry).values(points=PointsEntry.points + 100)), "points_entries"),
    (lambda s: s.execute(update(AdminChange).values(action="nothing")), "admin_changes"),
])
def test_editing_any_record_is_caught_with_its_id(bot, people, cli, tamper, table):
    _chain(bot, people)
    with bot.db.session() as session:
        tamper(session)
    result = verdict(bot)
    assert not result.ok and result.broken["table"] == table and "edited" in result.broken["reason"]
    code, said = cli("audit", "verify")
    assert code == 1 and f'"id": {result.broken["id"]}' in said


def test_deleting_a_record_is_caught(bot, people):
    _chain(bot, people)
    with bot.db.session() as session:
        victim = session.scalar(select(TicketEvent).where(TicketEvent.kind == "resolved"))
        seq = victim.chain_seq
        session.delete(victim)
    result = verdict(bot)
    assert not result.ok and result.broken["seq"] == seq + 1 and "deleted" in result.broken["reason"]


def test_reordering_records_is_caught(bot, people):
    _chain(bot, people)
    with bot.db.session() as session:
        first, second = session.scalars(select(TicketEvent).order_by(TicketEvent.chain_seq).limit(2)).all()
        a, b = first.chain_seq, second.chain_seq
        session.execute(update(TicketEvent).where(TicketEvent.id == first.id).values(chain_seq=-1))
        session.execute(update(TicketEvent).where(TicketEvent.id == second.id).values(chain_seq=a))
        session.execute(update(TicketEvent).where(TicketEvent.id == first.id).values(chain_seq=b))
    result = verdict(bot)
    assert not result.ok and result.broken["id"] == second.id


def test_deleting_the_newest_record_is_caught_by_the_head(bot, people):
    _chain(bot, people)
    with bot.db.session() as session:
        head = session.get(AuditHead, 1).seq
        [last] = [row for model in (TicketEvent, PointsEntry, AdminChange)
                  for row in session.scalars(select(model).where(model.chain_seq == head))]
        session.delete(last)
    result = verdict(bot)
    assert not result.ok and result.broken["table"] == "audit_head"


def test_a_tail_rewritten_with_fresh_hashes_is_caught_by_the_anchor(bot, people):
    _chain(bot, people)
    assert record_anchor(bot) is True and record_anchor(bot) is False
    from bot.audit import _fields, link_hash
    with bot.db.session() as session:
        # An intruder edits the newest record and recomputes its hash and the head: internally consistent.
        head = session.get(AuditHead, 1).seq
        [last] = [row for model in (TicketEvent, PointsEntry, AdminChange)
                  for row in session.scalars(select(model).where(model.chain_seq == head))]
        last.actor = "admin:intruder"
        session.flush()
        kind = {TicketEvent: "ticket_event", PointsEntry: "points", AdminChange: "admin"}[type(last)]
        last.hash = link_hash(kind, _fields(kind, last), last.chain_seq, last.prev_hash)
        session.execute(update(AuditHead).values(hash=last.hash))
    result = verdict(bot)
    assert not result.ok and "head recorded on" in result.broken["reason"]


def test_records_from_before_the_chain_migration_are_chained(tmp_path):
    from alembic import command

    from bot.db import Database

    db = Database("sqlite:///" + str(tmp_path / "old.db"))
    command.upgrade(db.alembic_config(), "0003")
    with db.engine.begin() as conn:
        day = "2026-11-01 00:00:00"
        conn.execute(text("INSERT INTO residents (id, openid, subscribed, created_at) "
                          f"VALUES (1, 'o-old', 1, '{day}')"))
        conn.execute(text("INSERT INTO tickets (id, no, resident_id, category, status, priority, text, photos, "
                          "photos_pending, created_at, updated_at, reopen_count) "
                          f"VALUES (1, '20261101-0001', 1, '其他', 'new', 'normal', 'x', '[]', 0, "
                          f"'{day}', '{day}', 0)"))
        for n, kind in enumerate(("created", "assigned"), start=1):
            conn.execute(text("INSERT INTO ticket_events (id, ticket_id, at, kind, actor, data, prev_hash, hash) "
                              f"VALUES ({n}, 1, '2026-11-01 00:00:0{n}', '{kind}', 'resident:o-old', '{{}}', "
                              f"'x', 'h{n}')"))
    command.upgrade(db.alembic_config(), "head")
    with db.session() as session:
        result = verify(session)
        actors = session.scalars(select(TicketEvent.actor)).all()
    assert result.ok and result.checked == 2
    assert actors == ["resident:1", "resident:1"]


# -- personal data ---------------------------------------------------------------------------------

def test_masking_holds_in_every_member_facing_text_and_api_response(bot, people, client, clock, deliver,
                                                                    fake, caplog):
    caplog.set_level(logging.INFO)
    logging.getLogger().addHandler(caplog.handler)
    from bot.privacy import install_log_masking
    install_log_masking()
    no = people.file_ticket("o-p", PII_TEXT, scene=None)
    resident = people.resident("o-p")
    zhang, secretary = people.member("pm01"), people.member("sec01")
    seen = [zhang.says("我的工单"), zhang.says(f"工单 {no}"), secretary.says(f"工单 {no}")]
    zhang_reply = zhang.says(f"回复 {no} 收到，明天上午去看")
    seen.append(zhang_reply)
    resident.says(f"我再补充一下，电话是{PHONE}")
    seen.append(secretary.says(f"工单 {no}"))
    clock.advance(hours=30)
    seen.append(secretary.says("督办"))
    from bot.digest import send_weekly_digests
    from bot.sla import sweep_sla
    sweep_sla(bot)
    clock.set(local(2026, 11, 30, 9, 0))
    send_weekly_digests(bot)
    deliver()
    seen += [str(c["json"]) for c in fake.sent("wecom")]
    for url in ("/api/v1/tickets", f"/api/v1/tickets/{no}", "/api/v1/overdue", "/api/v1/stats",
                "/api/v1/appointments", "/api/v1/members"):
        seen.append(client.get(url, headers=AUTH).get_data(as_text=True))
    logging.getLogger("bot.test").warning("resident wrote %s", PII_TEXT)
    seen.append(caplog.text)
    everything = "\n".join(seen)
    assert len(fake.sent("wecom")) >= 3 and "markdown" in everything
    assert PHONE not in everything and ID_NO not in everything
    # The assigned member and the secretary must find the place: their detail and the card keep it (#12).
    # Their own queue (我的工单) too: the same person, the same place.
    full = {seen[0], seen[1], seen[2], seen[4]} | {str(c["json"]) for c in fake.sent("wecom")
                                          if c["json"]["msgtype"] == "template_card"}
    assert all(ROOM in view for view in full)
    assert ROOM not in "\n".join(view for view in seen if view not in full)
    assert "138****5678" in everything
    unmasked = client.get(f"/api/v1/tickets/{no}", headers={"Authorization": "Bearer pii-token"})
    assert unmasked.status_code == 401
    bot.cfg["admin"]["pii_api_token"] = "pii-token"
    unmasked = client.get(f"/api/v1/tickets/{no}", headers={"Authorization": "Bearer pii-token"}).get_json()
    assert PHONE in unmasked["text"] and ROOM in unmasked["text"] and unmasked["address"] == "幸福里社区3号楼"


def _all_values(bot):
    """Every value in every table, as text."""
    with bot.db.session() as session:
        out = []
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                out.extend(str(v) for v in row)
    return "\n".join(out)


def test_erasure_leaves_no_personal_field_and_the_chain_still_verifies(bot, people, deliver, fake):
    no = people.file_ticket("o-erase", PII_TEXT, scene=None)
    people.member("pm01").says(f"回复 {no} 已联系，电话{PHONE}的住户请留意")
    people.resident("o-erase").says("预约")
    erin = people.resident("o-erase")
    for said in ("1", "1", "1", f"想咨询补贴，我的电话{PHONE}", "确认"):
        erin.says(said)
    before = _all_values(bot)
    assert "o-erase" in before and PHONE in before
    listing = erin.says("我的数据")
    assert no in listing and "留言1条" in listing and "预约1个" in listing
    assert erin.says("删除我的数据") == texts.ERASE_ASK
    assert erin.says("确认删除") == texts.ERASE_DONE
    after = _all_values(bot)
    assert "o-erase" not in after and PHONE not in after and ID_NO not in after and ROOM not in after
    assert verdict(bot).ok
    with bot.db.session() as session:
        t = session.scalar(select(Ticket).where(Ticket.no == no))
        assert t.text.startswith("楼道路灯坏了") and t.address is None and t.personal_erased_at is not None
        assert session.scalar(select(AdminChange.action).order_by(AdminChange.id.desc()).limit(1)) == "resident_erased"
    assert erin.says("查询") == texts.MY_NONE                         # a new, empty identity


def test_closed_tickets_lose_personal_fields_after_retention(bot, people, clock):
    no = people.file_ticket("o-old", PII_TEXT, scene=None)
    people.member("pm01").says(f"办结 {no} 已修好")
    people.resident("o-old").says("满意")
    clock.advance(days=364)
    assert apply_retention(bot) == 0
    clock.advance(days=2)
    assert apply_retention(bot) == 1
    with bot.db.session() as session:
        t = session.scalar(select(Ticket).where(Ticket.no == no))
        assert (t.resident_id, t.address, t.lat) == (None, None, None) and PHONE not in t.text
    assert verdict(bot).ok
    assert apply_retention(bot) == 0
