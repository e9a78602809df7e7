"""Members' points (积分): a ledger of awards, each once per event, never edited.

An award's key names the event behind it (ticket resolved, rated 满意, appointment done,
a day's check-in, a secretary's award), so a retried callback or job cannot award twice;
a mistake is corrected by a reversing entry.
"""
from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import func, select

from .audit import admin_change
from .models import Member, PointsEntry, Ticket


def award(session, member_id: str, points: int, reason: str, key: str, now: datetime,
          ticket_id: int | None = None, appointment_id: int | None = None) -> PointsEntry | None:
    """Adds an entry unless one with the same key exists; returns it, or None when already awarded."""
    if session.scalar(select(PointsEntry.id).where(PointsEntry.award_key == key)) is not None:
        return None
    entry = PointsEntry(member_id=member_id, points=int(points), reason=reason, award_key=key, at=now,
                        ticket_id=ticket_id, appointment_id=appointment_id)
    session.add(entry)
    session.flush()  # the unique key guards a race: the loser's transaction fails here
    return entry


def for_resolution(cfg: dict, ticket: Ticket) -> int:
    """Points for resolving a ticket: the base scaled by category and priority, within bounds."""
    rules = cfg["points"]
    weight = float(rules["category_weights"].get(ticket.category, 1.0))
    if ticket.priority == "urgent":
        weight *= float(rules["urgent_weight"])
    return int(min(rules["resolved_max"], max(rules["resolved_min"], round(rules["resolved_min"] * weight))))


def reverse(session, entry_id: int, reason: str, actor: str, now: datetime) -> PointsEntry | None:
    """Cancels an entry with a negative one (the ledger is never edited)."""
    entry = session.get(PointsEntry, entry_id)
    if entry is None or entry.points == 0:
        return None
    reversal = award(session, entry.member_id, -entry.points, f"冲正：{reason}", f"reverse:{entry.id}", now,
                     ticket_id=entry.ticket_id, appointment_id=entry.appointment_id)
    if reversal is not None:
        admin_change(session, actor, "points_reversed", now, entry=entry.id, reversal=reversal.id)
    return reversal


def month_bounds(month: str, tz) -> tuple[datetime, datetime]:
    """The start and end of a month such as 2026-11, in the configured zone."""
    year, number = (int(x) for x in month.split("-"))
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return start, end


def totals(session, start: datetime, end: datetime, branch_id: str | None = None) -> list[tuple[Member, int]]:
    """Members (of a branch) with their points in a period, most first; members without points too."""
    sums = dict(session.execute(select(PointsEntry.member_id, func.sum(PointsEntry.points))
                                .where(PointsEntry.at >= start, PointsEntry.at < end)
                                .group_by(PointsEntry.member_id)).all())
    query = select(Member).where(Member.active)
    if branch_id:
        query = query.where(Member.branch_id == branch_id)
    members = session.scalars(query).all()
    return sorted(((m, int(sums.get(m.userid) or 0)) for m in members), key=lambda p: (-p[1], p[0].userid))


def rank_of(ranked: list[tuple[Member, int]], userid: str) -> int:
    """A member's place in a ranking (ties share the better place)."""
    mine = next((pts for m, pts in ranked if m.userid == userid), 0)
    return 1 + sum(1 for _, pts in ranked if pts > mine)


def local_day_key(now: datetime, tz) -> str:
    """The local date, for once-a-day awards."""
    return now.astimezone(tz).date().isoformat()


def stars(ranked: list[tuple[Member, int]], share: float) -> list[tuple[Member, int]]:
    """The top share of a ranking (at least one), among those with points."""
    with_points = [(m, p) for m, p in ranked if p > 0]
    count = max(1, math.ceil(len(ranked) * share)) if ranked else 0
    return with_points[:count]
