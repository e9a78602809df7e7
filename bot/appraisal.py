"""Monthly appraisal of members and branches.

Per member (weights from config, default 30 / 40 / 30):
- participation: share of the month's working days (up to today) on which the member did
  anything recorded — a check-in, an award, an action on a ticket, a work-log entry (#15);
- handling quality: share of the tickets the member resolved in the month that were
  answered on time and never reopened;
- satisfaction: share of the reporters' ratings given in the month to tickets the member
  resolved (the `resolver` of the rating; older ratings: the assignee) that were 满意 or 基本满意.
A part with nothing to judge is left out and the others are reweighted.
Per branch: participation rate (members with any activity), resolution rate (tickets
received in the month that are resolved), satisfaction and its change from last month.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from .figures import SATISFIED
from .models import Branch, Member, PointsEntry, Ticket, TicketEvent
from .participation.worklog import log_moments
from .points import month_bounds

DONE_STATUSES = ("resolved", "rated", "closed")


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def working_days(bot, start: datetime, end: datetime) -> int:
    """Working days from start (inclusive) to end (exclusive), in the configured zone."""
    day, last, count = start.astimezone(bot.tz).date(), (end - timedelta(seconds=1)).astimezone(bot.tz).date(), 0
    while day <= last:
        count += bot.calendar.is_workday(day)
        day += timedelta(days=1)
    return count


def _active_days(bot, session, userid: str, start: datetime, end: datetime) -> int:
    moments = session.scalars(select(PointsEntry.at).where(
        PointsEntry.member_id == userid, PointsEntry.at >= start, PointsEntry.at < end)).all()
    moments += session.scalars(select(TicketEvent.at).where(
        TicketEvent.actor == f"member:{userid}", TicketEvent.at >= start, TicketEvent.at < end)).all()
    moments += log_moments(session, userid, start, end)   # #15: offline work counts as a day's work
    return len({m.astimezone(bot.tz).date() for m in moments})


def member_scores(bot, session, member: Member, start: datetime, end: datetime,
                  weights: dict[str, float] | None = None) -> dict:
    """One member's appraisal parts and total for a period (weights: those in force, static by default)."""
    weights = weights or bot.cfg["appraisal"]
    days = working_days(bot, start, min(end, bot.clock.now()))
    active = _active_days(bot, session, member.userid, start, end)
    resolved_ids = set(session.scalars(select(TicketEvent.ticket_id).where(
        TicketEvent.kind == "resolved", TicketEvent.actor == f"member:{member.userid}",
        TicketEvent.at >= start, TicketEvent.at < end)).all())
    resolved = session.scalars(select(Ticket).where(Ticket.id.in_(resolved_ids))).all() if resolved_ids else []
    good = [t for t in resolved if t.reopen_count == 0 and t.first_reply_at is not None
            and t.reply_due_at is not None and t.first_reply_at <= t.reply_due_at]
    rows = session.execute(select(TicketEvent.data, Ticket.assignee_id).join(
        Ticket, Ticket.id == TicketEvent.ticket_id).where(
        TicketEvent.kind == "rated", TicketEvent.at >= start, TicketEvent.at < end)).all()
    # Credit goes to the member who resolved the ticket, not to whoever holds it now.
    ratings = [data for data, assignee in rows if (data or {}).get("resolver", assignee) == member.userid]
    parts = {
        "participation": min(100.0, _pct(active, days)) if days else None,
        "quality": _pct(len(good), len(resolved)),
        "satisfaction": _pct(sum(r.get("rating") in SATISFIED for r in ratings), len(ratings)),
    }
    weighed = {k: v for k, v in parts.items() if v is not None}
    total = round(sum(v * weights[k] for k, v in weighed.items()) / sum(weights[k] for k in weighed), 1) \
        if weighed else None
    return {"userid": member.userid, "name": member.name, "branch": member.branch_id, **parts,
            "active_days": active, "working_days": days, "resolved": len(resolved),
            "resolved_well": len(good), "ratings": len(ratings), "total": total}


def _branch_satisfaction(session, branch_id: str, start: datetime, end: datetime) -> float | None:
    ratings = session.scalars(select(TicketEvent.data).join(Ticket, Ticket.id == TicketEvent.ticket_id).where(
        TicketEvent.kind == "rated", Ticket.branch_id == branch_id,
        TicketEvent.at >= start, TicketEvent.at < end)).all()
    return _pct(sum(r.get("rating") in SATISFIED for r in ratings), len(ratings))


def appraise(bot, session, month: str) -> dict:
    """The month's appraisal of every active member and every branch."""
    start, end = month_bounds(month, bot.tz)
    previous = month_bounds((start - timedelta(days=1)).strftime("%Y-%m"), bot.tz)
    members = session.scalars(select(Member).where(Member.active).order_by(Member.branch_id, Member.userid)).all()
    # The weights in force for each branch (dynamic with appraisal.dynamic), as on the dashboard.
    from .dashboard.weights import in_force

    in_force_by_branch = {b: in_force(bot, session, b, month) for b in {m.branch_id for m in members}}
    scores = [member_scores(bot, session, m, start, end, in_force_by_branch[m.branch_id]) for m in members]
    branches = []
    for branch in session.scalars(select(Branch).order_by(Branch.id)):
        mine = [s for s in scores if s["branch"] == branch.id]
        received = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.branch_id == branch.id, Ticket.created_at >= start, Ticket.created_at < end)) or 0
        done = session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.branch_id == branch.id, Ticket.created_at >= start, Ticket.created_at < end,
            Ticket.status.in_(DONE_STATUSES))) or 0
        now_pct = _branch_satisfaction(session, branch.id, start, end)
        before_pct = _branch_satisfaction(session, branch.id, *previous)
        branches.append({
            "branch": branch.id, "name": branch.name,
            "participation_pct": _pct(sum(1 for s in mine if s["active_days"]), len(mine)),
            "resolution_pct": _pct(done, received), "received": received, "resolved": done,
            "satisfaction_pct": now_pct,
            "satisfaction_trend": round(now_pct - before_pct, 1) if None not in (now_pct, before_pct) else None,
        })
    return {"month": month, "members": scores, "branches": branches}


CSV_COLUMNS = ("userid", "name", "branch", "participation", "quality", "satisfaction", "total",
               "active_days", "working_days", "resolved", "resolved_well", "ratings")
