"""预约: booking service days through signed callbacks — capacity, races, holidays, reminders."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot import texts
from bot.booking import send_reminders
from bot.models import Appointment, Member, OutboxMessage

SHANGHAI = timezone(timedelta(hours=8))
AUTH = {"Authorization": "Bearer test-admin-token"}


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


def appointments(bot):
    with bot.db.session() as session:
        return session.scalars(select(Appointment).order_by(Appointment.id)).all()


def queued(bot, to):
    with bot.db.session() as session:
        return [m.body["content"] for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == to).order_by(OutboxMessage.id))]


def reach_confirm(person, scene="grid-g1", type_n="1", day_n="1", slot_n="1"):
    person.subscribes(scene)
    for said in ("预约", type_n, day_n, slot_n):
        person.says(said)
    return person.says("想咨询老年人居家养老补贴怎么申请")


def test_happy_path(bot, people):
    amy = people.resident("o-amy")
    amy.subscribes("grid-g1")
    assert amy.clicks("BOOK_SERVICE") == texts.BK_ASK_TYPE.format(options="1. 政策咨询\n2. 矛盾调解\n3. 生活帮扶")
    assert amy.says("1") == texts.BK_ASK_DAY.format(options="\n".join([
        "1. 11月21日（周六）余18位", "2. 11月28日（周六）余18位",
        "3. 12月5日（周六）余18位", "4. 12月12日（周六）余18位"]))
    slots = amy.says("2")
    assert slots.startswith("11月28日可选时段") and "1. 09:00–09:30 余3位" in slots and "6. 11:30–12:00 余3位" in slots
    assert amy.says("3") == texts.BK_ASK_DESCRIPTION
    summary = amy.says("想咨询老年人居家养老补贴怎么申请")
    assert "10:00–10:30" in summary and "社区党群服务中心" in summary
    done = amy.says("确认")
    [a] = appointments(bot)
    assert done.startswith(f"预约成功！预约号 A{a.id}") and "接待党员：张*" in done
    assert (a.member_id, a.seat, a.status, a.service_type) == ("pm01", 1, "booked", "政策咨询")
    assert a.slot_start == local(2026, 11, 28, 10, 0)
    assert queued(bot, "pm01")[0].startswith(f"【新预约 A{a.id}】11月28日（周六）10:00–10:30")


def test_two_residents_race_for_the_last_seat_and_exactly_one_wins(bot, people):
    for name in ("o-r1", "o-r2"):
        reach_confirm(people.resident(name))
        people.resident(name).says("确认")
    racers = [people.resident(n) for n in ("o-r3", "o-r4")]
    for racer in racers:
        reach_confirm(racer)
    answers = {}

    def confirm(person):
        answers[person.user] = person.says("确认")

    threads = [threading.Thread(target=confirm, args=(p,)) for p in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [u for u, a in answers.items() if a.startswith("预约成功")]
    lost = [u for u, a in answers.items() if a.startswith(texts.BK_SLOT_TAKEN)]
    assert len(won) == 1 and len(lost) == 1
    assert "09:00–09:30" not in answers[lost[0]]            # the fresh list leaves the full slot out
    seats = [(a.slot_start, a.seat) for a in appointments(bot)]
    assert sorted(s for _, s in seats) == [1, 2, 3] and len(set(seats)) == 3


def test_cancel_frees_the_seat_and_tells_the_member(bot, people):
    ben = people.resident("o-ben")
    reach_confirm(ben)
    ben.says("确认")
    listing = ben.says("我的预约")
    assert listing.startswith(texts.BK_MINE_HEADER) and "1. 11月21日（周六）09:00 政策咨询" in listing
    [a] = appointments(bot)
    assert ben.says("取消 1") == texts.BK_CANCELLED.format(id=a.id, month=11, day=21, weekday="六",
                                                         start="09:00", end="09:30")
    [a] = appointments(bot)
    assert (a.status, a.seat) == ("cancelled", None)
    assert queued(bot, "pm01")[-1].startswith(f"【预约取消】A{a.id}")
    assert ben.says("我的预约") == texts.BK_MINE_NONE


def test_reschedule_moves_the_booking_and_keeps_the_old_one_until_then(bot, people):
    cat = people.resident("o-cat")
    reach_confirm(cat)
    cat.says("确认")
    assert cat.says("改期 1").startswith("请选择日期")
    cat.says("2")
    cat.says("2")
    assert appointments(bot)[0].status == "booked"           # not yet: nothing confirmed
    cat.says("换个时间再咨询补贴")
    done = cat.says("确认")
    assert done.startswith(texts.BK_RESCHEDULED)
    old, new = appointments(bot)
    assert (old.status, old.seat) == ("cancelled", None)
    assert (new.status, new.slot_start) == ("booked", local(2026, 11, 28, 9, 30))


def test_public_holidays_are_skipped(bot, people, clock):
    clock.set(local(2026, 9, 28, 10, 0))                      # Saturday 3 October is National Day
    dan = people.resident("o-dan")
    dan.subscribes("grid-g1")
    dan.says("预约")
    days = dan.says("1")
    assert "10月3日" not in days and days.split("\n")[1].startswith("1. 10月10日（周六）")


def test_reminders_the_day_before_go_once_to_both(bot, people, clock):
    eve = people.resident("o-eve")
    reach_confirm(eve)                                        # Saturday 21 Nov, 09:00
    eve.says("确认")
    clock.set(local(2026, 11, 20, 17, 59))
    assert send_reminders(bot) == 0
    clock.set(local(2026, 11, 20, 18, 0))
    assert send_reminders(bot) == 2
    assert send_reminders(bot) == 0
    clock.advance(hours=3)
    assert send_reminders(bot) == 0
    assert queued(bot, "o-eve")[-1].startswith("【预约提醒】您明天09:00在社区党群服务中心")
    assert queued(bot, "pm01")[-1].startswith("【预约提醒】明天09:00在社区党群服务中心")


def test_members_mark_done_or_no_show_only_after_the_slot(bot, people, clock):
    fay = people.resident("o-fay")
    reach_confirm(fay)
    fay.says("确认")
    [a] = appointments(bot)
    zhang = people.member("pm01")
    assert zhang.says(f"到场 A{a.id}") == texts.BK_MARK_TOO_EARLY.format(id=a.id)
    clock.set(local(2026, 11, 21, 9, 40))
    assert people.member("pm02").says(f"到场 A{a.id}") == texts.BK_MARK_NO_SUCH.format(id=a.id)
    assert zhang.says(f"未到 A{a.id}") == texts.BK_MARKED.format(id=a.id, result="居民未到")
    assert appointments(bot)[0].status == "no_show"


@pytest.mark.parametrize("said, hint", [
    ("9", texts.BK_CHOICE_HINT.format(n=3)),
    ("政策", texts.BK_CHOICE_HINT.format(n=3)),
    ("0", texts.BK_CHOICE_HINT.format(n=3)),
])
def test_bad_choices_are_asked_again(bot, people, said, hint):
    gus = people.resident("o-gus")
    gus.subscribes("grid-g1")
    gus.says("预约")
    assert gus.says(said) == hint
    assert appointments(bot) == []


def test_too_many_open_bookings_are_refused(bot, people):
    hal = people.resident("o-hal")
    for _ in range(2):
        reach_confirm(hal)
        hal.says("确认")
    assert hal.says("预约") == texts.BK_TOO_MANY.format(n=2)
    assert len(appointments(bot)) == 2


def test_someone_elses_appointment_cannot_be_cancelled(bot, people):
    ian = people.resident("o-ian")
    reach_confirm(ian)
    ian.says("确认")
    assert people.resident("o-jo").says("取消 1") == texts.BK_NO_SUCH.format(n=1)
    assert appointments(bot)[0].status == "booked"


def test_a_type_no_member_can_serve_is_not_offered(bot, people):
    with bot.db.session() as session:
        session.get(Member, "pm02").away = True               # the only one with 生活帮扶
    kim = people.resident("o-kim")
    kim.subscribes("grid-g1")
    assert kim.says("预约") == texts.BK_ASK_TYPE.format(options="1. 政策咨询\n2. 矛盾调解")


def test_a_slot_that_filled_meanwhile_sends_back_to_a_fresh_list(bot, people):
    lee = people.resident("o-lee")
    reach_confirm(lee)
    for n in range(3):                                        # others fill 09:00 meanwhile
        other = people.resident(f"o-fill{n}")
        reach_confirm(other)
        other.says("确认")
    answer = lee.says("确认")
    assert answer.startswith(texts.BK_SLOT_TAKEN) and "1. 09:30–10:00" in answer


def test_a_day_that_passed_while_choosing_is_refused(settings, people_factory, clock):
    settings["flows"] = {"ttl_s": 3 * 86400}     # the conversation outlives the day it chose
    _, people = people_factory(settings)
    mo = people.resident("o-mo")
    mo.subscribes("grid-g1")
    mo.says("预约")
    mo.says("1")
    clock.set(local(2026, 11, 21, 12, 30))                    # Saturday's slots are over
    assert mo.says("1") == texts.BK_DAY_FULL


def test_api_lists_what_the_database_holds(bot, people, client):
    nia = people.resident("o-nia")
    reach_confirm(nia)
    nia.says("确认")
    [a] = appointments(bot)
    items = client.get("/api/v1/appointments?day=2026-11-21&branch=b1&status=booked", headers=AUTH).get_json()["items"]
    assert [(i["id"], i["member"], i["resident"], i["slot_start"], i["seat"]) for i in items] == \
        [(a.id, "pm01", "o-nia", "2026-11-21T01:00:00Z", 1)]
    assert client.get("/api/v1/appointments?day=2026-11-22", headers=AUTH).get_json()["items"] == []
    assert client.get("/api/v1/appointments?status=lost", headers=AUTH).status_code == 400
    assert client.get("/api/v1/appointments?day=tomorrow", headers=AUTH).status_code == 400
