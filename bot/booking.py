"""Party member service days (党员服务日): days, slots with room, seats, and who serves.

A slot's capacity is enforced by the database: each appointment takes a numbered seat
under a unique key, so two residents racing for the last seat cannot both win.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from . import points, texts
from .db import insert_ignore
from .models import Appointment, Grid, Member, Resident, ScheduledSend
from .org import WEEKDAYS
from .outbox import enqueue
from .privacy import mask_name, mask_pii
from .replies import to_member, to_resident
from .workcalendar import at


@dataclass(frozen=True)
class Slot:
    """One bookable slot of a service day."""

    branch_id: str
    start: datetime
    end: datetime
    capacity: int
    place: str


def service_dates(bot, spec: dict, start: date, end: date) -> list[date]:
    """The dates a service-day entry falls on between start and end, holidays skipped."""
    if spec.get("dates") is not None:
        days = sorted(date.fromisoformat(str(d)) for d in spec["dates"])
        return [d for d in days if start <= d <= end]
    weekly = str(spec["weekly"]).lower()
    found, day = [], start
    while day <= end:
        if weekly == "workdays":
            # Working days include make-up days (调休) and leave out holidays.
            if bot.calendar.is_workday(day):
                found.append(day)
        elif day.weekday() == WEEKDAYS.index(weekly) and not bot.calendar.is_public_holiday(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def branch_of(session, resident: Resident | None, services: dict) -> str | None:
    """The branch whose service days a resident books: their grid's, else the first offering any."""
    if resident is not None and resident.grid_id:
        grid = session.get(Grid, resident.grid_id)
        if grid is not None and grid.branch_id and any(
                d["branch"] == grid.branch_id for d in services["service_days"]):
            return grid.branch_id
    branches = sorted({d["branch"] for d in services["service_days"]})
    return branches[0] if branches else None


def slots_of_day(bot, branch_id: str, day: date) -> list[Slot]:
    """Every slot of a branch on one date."""
    slots = []
    for spec in bot.services["service_days"]:
        if spec["branch"] != branch_id or day not in service_dates(bot, spec, day, day):
            continue
        moment, end = at(day, spec["start"], bot.tz), at(day, spec["end"], bot.tz)
        step = timedelta(minutes=int(spec["slot_minutes"]))
        while moment + step <= end:
            slots.append(Slot(branch_id, moment, moment + step, int(spec["capacity"]), spec.get("place", "")))
            moment += step
    return sorted(slots, key=lambda s: s.start)


def taken(session, slot: Slot) -> int:
    """Seats already taken in a slot."""
    return session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.branch_id == slot.branch_id, Appointment.slot_start == slot.start,
        Appointment.seat.is_not(None))) or 0


def open_slots(bot, session, branch_id: str, day: date, now: datetime) -> list[tuple[Slot, int]]:
    """Slots of a day that have not begun and still have room, with the seats left."""
    found = []
    for slot in slots_of_day(bot, branch_id, day):
        left = slot.capacity - taken(session, slot)
        if slot.start > now and left > 0:
            found.append((slot, left))
    return found


def open_days(bot, session, branch_id: str, now: datetime, count: int) -> list[tuple[date, int]]:
    """The next service days that still have room, with the seats left on each."""
    today = now.astimezone(bot.tz).date()
    horizon = today + timedelta(days=int(bot.cfg["booking"]["look_ahead_days"]))
    days = sorted({d for spec in bot.services["service_days"] if spec["branch"] == branch_id
                   for d in service_dates(bot, spec, today, horizon)})
    found = []
    for day in days:
        left = sum(n for _, n in open_slots(bot, session, branch_id, day, now))
        if left:
            found.append((day, left))
        if len(found) >= count:
            break
    return found


def servable_types(bot, session, branch_id: str) -> list[str]:
    """Service types that at least one available member of the branch has the skills for."""
    members = session.scalars(select(Member).where(Member.branch_id == branch_id, Member.active,
                                                   Member.away.is_(False))).all()
    names = []
    for spec in bot.services["service_types"]:
        wanted = set(spec.get("skills") or [])
        if any(not wanted or wanted & set(m.skills or []) for m in members):
            names.append(spec["name"])
    return names


def choose_member(bot, session, branch_id: str, service_type: str, day: date) -> Member | None:
    """The member with the skills for the type and the fewest appointments that day."""
    spec = next((t for t in bot.services["service_types"] if t["name"] == service_type), {})
    wanted = set(spec.get("skills") or [])
    members = [m for m in session.scalars(select(Member).where(
        Member.branch_id == branch_id, Member.active, Member.away.is_(False))).all()
        if not wanted or wanted & set(m.skills or [])]
    if not members:
        return None
    start = datetime.combine(day, time(0), tzinfo=bot.tz)
    load = dict(session.execute(
        select(Appointment.member_id, func.count()).where(
            Appointment.slot_start >= start, Appointment.slot_start < start + timedelta(days=1),
            Appointment.status == "booked").group_by(Appointment.member_id)).all())
    return min(members, key=lambda m: (load.get(m.userid, 0), m.userid))


def take_seat(session, slot: Slot, **fields) -> Appointment | None:
    """Takes the first free seat of the slot; None when it is full (the database decides)."""
    for seat in range(1, slot.capacity + 1):
        if insert_ignore(session, Appointment, branch_id=slot.branch_id, slot_start=slot.start,
                         slot_end=slot.end, place=slot.place, seat=seat, **fields):
            return session.scalar(select(Appointment).where(
                Appointment.branch_id == slot.branch_id, Appointment.slot_start == slot.start,
                Appointment.seat == seat))
    return None


def open_appointments(session, resident: Resident, now: datetime) -> list[Appointment]:
    """A resident's booked appointments that have not begun, in the order they are numbered."""
    return session.scalars(select(Appointment).where(
        Appointment.resident_id == resident.id, Appointment.status == "booked",
        Appointment.slot_start > now).order_by(Appointment.slot_start, Appointment.id)).all()


def mark(session, cfg: dict, member: Member, appointment_id: int, result: str,
         now: datetime) -> Appointment | None:
    """A member records after the slot whether the resident came; None when not theirs to mark."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None or appointment.status not in ("booked", "done", "no_show"):
        return None
    if appointment.member_id != member.userid and not (
            member.role == "secretary" and member.branch_id == appointment.branch_id):
        return None
    if appointment.slot_start > now:
        raise ValueError("the appointment has not begun")
    appointment.status, appointment.marked_at = result, now
    if result == "done" and appointment.member_id:
        points.award(session, appointment.member_id, int(cfg["points"]["appointment_done"]),
                     texts.PT_APPOINTMENT_DONE.format(id=appointment.id), f"appointment:{appointment.id}", now,
                     appointment_id=appointment.id)
    return appointment


def send_reminders(bot) -> int:
    """The day before, from the configured time on, reminds resident and member once each."""
    now = bot.clock.now()
    local = now.astimezone(bot.tz)
    if now < at(local.date(), bot.cfg["booking"]["remind_time"], bot.tz):
        return 0
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=bot.tz)
    sent = 0
    with bot.db.session() as session:
        rows = session.scalars(select(Appointment).where(
            Appointment.status == "booked", Appointment.slot_start >= tomorrow,
            Appointment.slot_start < tomorrow + timedelta(days=1))).all()
        for a in rows:
            resident = session.get(Resident, a.resident_id)
            member = session.get(Member, a.member_id) if a.member_id else None
            start = a.slot_start.astimezone(bot.tz).strftime("%H:%M")
            messages = {
                "resident": to_resident(resident.openid, texts.BK_REMIND_RESIDENT.format(
                    start=start, place=a.place, type=a.service_type,
                    member=mask_name(member.name if member else None))) if resident else None,
                "member": to_member(member.userid, texts.BK_REMIND_MEMBER.format(
                    start=start, place=a.place, type=a.service_type, id=a.id,
                    description=mask_pii(a.description))) if member else None,
            }
            for party, message in messages.items():
                if message and insert_ignore(session, ScheduledSend, kind="appointment-reminder",
                                             scope=f"{a.id}:{party}", period=str(a.id), at=now):
                    enqueue(session, [message], now)
                    sent += 1
    return sent
