"""预约: a resident books a Party member service day — type → day → slot → description → confirm."""
from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select

from bot import booking, texts
from bot.engine import Finish, Flow, Next, Retry, Step
from bot.models import Appointment, Member
from bot.privacy import mask_name, mask_openid, mask_pii
from bot.replies import to_member
from bot.talk import words as answers


class S(StrEnum):
    AWAIT_TYPE = "await_type"
    AWAIT_DAY = "await_day"
    AWAIT_SLOT = "await_slot"
    AWAIT_DESCRIPTION = "await_description"
    AWAIT_CONFIRM = "await_confirm"


def validate_choice(raw: str, count: int) -> int | None:
    """A 1-based number within the list, as an index; None otherwise."""
    raw = answers.normalise(raw).lstrip("第").rstrip("个号")
    if not raw.isdigit() or not 1 <= int(raw) <= count:
        return None
    return int(raw) - 1


def pick(raw: str, count: int, aliases: list[list[str]]) -> int | None:
    """A number from the list, or the option named (矛盾调解, 11月21日, 9点半): the longest name found wins."""
    index = validate_choice(raw, count)
    if index is not None:
        return index
    said = answers.normalise(raw)
    found = [(max((len(a) for a in names if a and a in said), default=0), i) for i, names in enumerate(aliases)]
    best = max((n for n, _ in found), default=0)
    hits = [i for n, i in found if n == best and n > 0]
    return hits[0] if len(hits) == 1 else None


def _day_names(day: date) -> list[str]:
    return [f"{day.month}月{day.day}日", f"{day.month}月{day.day}号", f"{day.day}日", f"{day.day}号"]


def _slot_names(start: datetime, tz) -> list[str]:
    local = start.astimezone(tz)
    names = [f"{local.hour}:{local.minute:02d}", f"{local.hour:02d}:{local.minute:02d}"]
    if local.minute == 0:
        names.append(f"{local.hour}点")
    if local.minute == 30:
        names.append(f"{local.hour}点半")
    return names


def _hm(moment: datetime, tz) -> str:
    return moment.astimezone(tz).strftime("%H:%M")


def words_for(bot, start: datetime, end: datetime) -> dict:
    """The date and time words a message about a slot uses."""
    local = start.astimezone(bot.tz)
    return {"month": local.month, "day": local.day, "weekday": texts.WEEKDAY_NAMES[local.weekday()],
            "start": _hm(start, bot.tz), "end": _hm(end, bot.tz)}


def start(turn):
    """Finds the resident's branch, its service types and days; refuses when none or too many."""
    ctx = turn.ctx
    resident = ctx.resident()
    if resident is None or not resident.subscribed:
        return Finish([turn.reply(texts.LM_NOT_SUBSCRIBED)])
    limit = int(ctx.cfg["booking"]["max_open_per_resident"])
    if len(booking.open_appointments(ctx.session, resident, ctx.now)) >= limit:
        return Finish([turn.reply(texts.BK_TOO_MANY.format(n=limit))])
    branch = booking.branch_of(ctx.session, resident, ctx.bot.services)
    if branch is None or not booking.open_days(ctx.bot, ctx.session, branch, ctx.now, 1):
        return Finish([turn.reply(texts.BK_NO_DAYS)])
    types = booking.servable_types(ctx.bot, ctx.session, branch)
    if not types:
        return Finish([turn.reply(texts.BK_NO_TYPES)])
    turn.data.update(branch=branch, types=types)
    return None


def ask_type(turn):
    return texts.BK_ASK_TYPE.format(options="\n".join(f"{i}. {name}" for i, name in
                                                      enumerate(turn.data["types"], start=1)))


def handle_type(turn):
    """Stores the chosen service type."""
    index = pick(turn.inbound.text, len(turn.data["types"]), [[name] for name in turn.data["types"]])
    if index is None:
        return Retry(texts.BK_CHOICE_HINT.format(n=len(turn.data["types"])))
    turn.data["type"] = turn.data["types"][index]
    return Next(S.AWAIT_DAY)


def ask_day(turn):
    """Lists the next service days that still have room."""
    ctx = turn.ctx
    days = booking.open_days(ctx.bot, ctx.session, turn.data["branch"], ctx.now,
                             int(ctx.cfg["booking"]["days_ahead"]))
    turn.data["days"] = [d.isoformat() for d, _ in days]
    if not days:
        return texts.BK_NO_DAYS
    return texts.BK_ASK_DAY.format(options="\n".join(
        texts.BK_DAY_LINE.format(n=i, month=d.month, day=d.day, weekday=texts.WEEKDAY_NAMES[d.weekday()], left=left)
        for i, (d, left) in enumerate(days, start=1)))


def handle_day(turn):
    """Stores the chosen day, if it still has room."""
    days = turn.data.get("days", [])
    index = pick(turn.inbound.text, len(days), [_day_names(date.fromisoformat(d)) for d in days])
    if index is None:
        return Retry(texts.BK_CHOICE_HINT.format(n=max(1, len(turn.data.get("days", [])))))
    day = date.fromisoformat(turn.data["days"][index])
    if not booking.open_slots(turn.ctx.bot, turn.ctx.session, turn.data["branch"], day, turn.ctx.now):
        return Retry(texts.BK_DAY_FULL)
    turn.data["day"] = day.isoformat()
    return Next(S.AWAIT_SLOT)


def ask_slot(turn):
    """Lists the chosen day's slots that have not begun and have room."""
    ctx = turn.ctx
    day = date.fromisoformat(turn.data["day"])
    slots = booking.open_slots(ctx.bot, ctx.session, turn.data["branch"], day, ctx.now)
    turn.data["slots"] = [s.start.isoformat() for s, _ in slots]
    if not slots:
        return texts.BK_DAY_FULL
    return texts.BK_ASK_SLOT.format(month=day.month, day=day.day, options="\n".join(
        texts.BK_SLOT_LINE.format(n=i, start=_hm(s.start, ctx.bot.tz), end=_hm(s.end, ctx.bot.tz), left=left)
        for i, (s, left) in enumerate(slots, start=1)))


def _slot(turn) -> booking.Slot | None:
    day = date.fromisoformat(turn.data["day"])
    chosen = datetime.fromisoformat(turn.data["slot"])
    return next((s for s in booking.slots_of_day(turn.ctx.bot, turn.data["branch"], day) if s.start == chosen), None)


def handle_slot(turn):
    """Stores the chosen slot."""
    slots = turn.data.get("slots", [])
    index = pick(turn.inbound.text, len(slots),
                 [_slot_names(datetime.fromisoformat(x), turn.ctx.bot.tz) for x in slots])
    if index is None:
        return Retry(texts.BK_CHOICE_HINT.format(n=max(1, len(turn.data.get("slots", [])))))
    turn.data["slot"] = turn.data["slots"][index]
    return Next(S.AWAIT_DESCRIPTION)


def handle_description(turn):
    """Stores a short description of what the resident needs."""
    said = turn.inbound.text
    if turn.inbound.kind not in ("text", "voice") or len(said) < int(turn.ctx.cfg["booking"]["min_description_chars"]):
        return Retry(texts.BK_DESCRIPTION_HINT)
    if answers.is_answer_word(said):
        return Retry(texts.BK_DESCRIPTION_NOT_ANSWER)
    turn.data["description"] = said[:200]
    return Next(S.AWAIT_CONFIRM)


def ask_confirm(turn):
    slot = _slot(turn)
    words = words_for(turn.ctx.bot, slot.start, slot.end)
    return texts.BK_SUMMARY.format(type=turn.data["type"], place=slot.place,
                                   description=turn.data["description"], **words)


def handle_confirm(turn):
    """Takes a seat (or sends the resident back to a fresh list) and tells both sides."""
    ctx = turn.ctx
    if not answers.is_yes(turn.inbound.text):
        return Retry(texts.LM_CONFIRM_HINT)
    draft_id = turn.data.get("draft_id")
    made = ctx.session.scalar(select(Appointment).where(Appointment.draft_id == draft_id)) if draft_id else None
    if made is not None:   # confirmed before (a resend after a lost answer, a replay)
        return Finish([turn.reply(texts.BK_ALREADY_BOOKED.format(id=made.id))])
    slot = _slot(turn)
    if slot is None or slot.start <= ctx.now:
        return Next(S.AWAIT_SLOT, [turn.reply(texts.BK_SLOT_TAKEN)])
    member = booking.choose_member(ctx.bot, ctx.session, slot.branch_id, turn.data["type"],
                                   slot.start.astimezone(ctx.bot.tz).date())
    if member is None:
        return Next(S.AWAIT_DAY, [turn.reply(texts.BK_NO_MEMBER)])
    resident = ctx.resident()
    appointment = booking.take_seat(ctx.session, slot, resident_id=resident.id, member_id=member.userid,
                                    service_type=turn.data["type"], description=turn.data["description"],
                                    status="booked", created_at=ctx.now, draft_id=draft_id)
    if appointment is None:
        return Next(S.AWAIT_SLOT, [turn.reply(texts.BK_SLOT_TAKEN)])
    replies = []
    if turn.data.get("reschedule"):
        # Only once the new seat is ours does the old one go (a failed reschedule keeps it).
        old = ctx.session.get(Appointment, turn.data["reschedule"])
        if old is not None and old.resident_id == resident.id and old.status == "booked":
            replies += cancel(ctx, old)[1:]
    words = words_for(ctx.bot, slot.start, slot.end)
    done = texts.BK_CONFIRMED.format(id=appointment.id, place=slot.place, member=mask_name(member.name), **words)
    if turn.data.get("reschedule"):
        done = texts.BK_RESCHEDULED + "\n" + done
    card = to_member(member.userid, texts.BK_MEMBER_NEW.format(
        id=appointment.id, type=appointment.service_type, place=slot.place,
        resident=mask_openid(resident.openid), description=mask_pii(appointment.description), **words))
    return Finish([turn.reply(done), card, *replies])


def cancel(ctx, appointment: Appointment) -> list:
    """Cancels an appointment, frees its seat and tells the member."""
    appointment.status, appointment.seat, appointment.marked_at = "cancelled", None, ctx.now
    words = words_for(ctx.bot, appointment.slot_start, appointment.slot_end or appointment.slot_start)
    said = ctx.reply(texts.BK_CANCELLED.format(id=appointment.id, **words))
    told = [to_member(appointment.member_id, texts.BK_MEMBER_CANCELLED.format(id=appointment.id, **words))] \
        if appointment.member_id else []
    return [said, *told]


def reschedule(ctx, appointment: Appointment) -> list:
    """Starts the flow again at the day, keeping the service type; the old seat goes on confirm."""
    types = [appointment.service_type]
    return ctx.bot.engine.begin(ctx, FLOW.name, S.AWAIT_DAY, {
        "branch": appointment.branch_id, "types": types, "type": appointment.service_type,
        "reschedule": appointment.id})


# -- 我的预约: list, 取消 n, 改期 n ------------------------------------------------------------

MINE = re.compile(r"^(取消|改期)\s*(\d{1,2})$")
LIST_WORDS = ("我的预约", "预约查询")


def list_text(ctx, resident) -> str:
    """The resident's coming appointments, numbered."""
    rows = booking.open_appointments(ctx.session, resident, ctx.now) if resident else []
    if not rows:
        return texts.BK_MINE_NONE
    lines = [texts.BK_MINE_HEADER]
    for n, a in enumerate(rows, start=1):
        member = ctx.session.get(Member, a.member_id) if a.member_id else None
        lines.append(texts.BK_MINE_LINE.format(
            n=n, type=a.service_type, place=a.place, member=mask_name(member.name if member else None),
            **words_for(ctx.bot, a.slot_start, a.slot_end or a.slot_start)))
    lines.append(texts.BK_MINE_FOOTER)
    return "\n".join(lines)


def my_appointments(ctx, said: str):
    """Answers 我的预约 / 取消 n / 改期 n; None when the words are about something else."""
    if said in LIST_WORDS:
        return [ctx.reply(list_text(ctx, ctx.resident()))]
    match = MINE.match(said)
    if match is None:
        return None
    resident = ctx.resident()
    rows = booking.open_appointments(ctx.session, resident, ctx.now) if resident else []
    n = int(match.group(2))
    if not 1 <= n <= len(rows):
        return [ctx.reply(texts.BK_NO_SUCH.format(n=n))]
    if match.group(1) == "取消":
        return cancel(ctx, rows[n - 1])
    return reschedule(ctx, rows[n - 1])


FLOW = Flow(
    name="book_service",
    title=texts.FLOW_TITLES["book_service"],
    channel="wechat",
    states=S,
    first=S.AWAIT_TYPE,
    keywords=("预约", "预约服务", "服务日"),
    menu_keys=("BOOK_SERVICE",),
    help=texts.BK_HELP,
    start=start,
    durable=True,
    steps={
        S.AWAIT_TYPE: Step(ask=ask_type, handle=handle_type),
        S.AWAIT_DAY: Step(ask=ask_day, handle=handle_day),
        S.AWAIT_SLOT: Step(ask=ask_slot, handle=handle_slot),
        S.AWAIT_DESCRIPTION: Step(ask=lambda turn: texts.BK_ASK_DESCRIPTION, handle=handle_description),
        S.AWAIT_CONFIRM: Step(ask=ask_confirm, handle=handle_confirm),
    },
)
