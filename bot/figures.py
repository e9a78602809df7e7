"""Figures about tickets, computed in SQL so they stay fast over millions of rows.

One definition serves the admin API, the weekly digest and the compliance monitor.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from .models import Ticket, TicketEvent

# Rating codes, and the words stored in events sealed before migration 0009.
SATISFIED = ("satisfied", "basic", "满意", "基本满意")


def hours_between(session, start, end):
    """A SQL expression for the hours from `start` to `end` in this database's dialect."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def median_hours(session, start, end, conditions) -> float | None:
    """The median of end − start in hours over the tickets matching the conditions."""
    expr = hours_between(session, start, end)
    where = [*conditions, end.is_not(None), start.is_not(None)]
    n = session.scalar(select(func.count()).select_from(Ticket).where(*where)) or 0
    if n == 0:
        return None
    ordered = select(expr).select_from(Ticket).where(*where).order_by(expr)
    middle = session.scalars(ordered.offset((n - 1) // 2).limit(2 - n % 2)).all()
    return round(sum(float(v) for v in middle) / len(middle), 2)


@dataclass
class Figures:
    """What a branch, a week or the API is told about a set of tickets."""

    total: int
    by_status: dict
    by_category: dict
    median_response_h: float | None
    median_reply_h: float | None
    sla_judged: int
    sla_met: int
    sla_met_pct: float | None
    rated: int
    satisfied: int
    satisfaction_pct: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def ticket_figures(session, conditions, now: datetime, rating_conditions=None) -> Figures:
    """Counts, medians, SLA met % and satisfaction % of the tickets matching the conditions.

    A ticket counts for the SLA once it was answered or its reply came due. Satisfaction
    counts each rating given to those tickets, or to the tickets and events matching
    `rating_conditions` when given (e.g. ratings given during a week).
    """
    by_status = dict(session.execute(select(Ticket.status, func.count()).where(*conditions)
                                     .group_by(Ticket.status)).all())
    by_category = dict(session.execute(select(Ticket.category, func.count()).where(*conditions)
                                       .group_by(Ticket.category)).all())
    judged_when = or_(Ticket.first_reply_at.is_not(None), Ticket.reply_due_at <= now)
    met_when = and_(Ticket.first_response_at <= Ticket.response_due_at,
                    Ticket.first_reply_at <= Ticket.reply_due_at)
    judged, met = session.execute(select(
        func.coalesce(func.sum(case((judged_when, 1), else_=0)), 0),
        func.coalesce(func.sum(case((and_(judged_when, met_when), 1), else_=0)), 0),
    ).select_from(Ticket).where(*conditions)).one()
    rating = TicketEvent.data["rating"].as_string()
    rated, satisfied = session.execute(
        select(func.count(), func.coalesce(func.sum(case((rating.in_(SATISFIED), 1), else_=0)), 0))
        .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "rated",
               *(conditions if rating_conditions is None else rating_conditions))).one()
    return Figures(
        total=sum(by_status.values()), by_status=by_status, by_category=by_category,
        median_response_h=median_hours(session, Ticket.created_at, Ticket.first_response_at, conditions),
        median_reply_h=median_hours(session, Ticket.created_at, Ticket.first_reply_at, conditions),
        sla_judged=int(judged), sla_met=int(met), sla_met_pct=_pct(int(met), int(judged)),
        rated=int(rated), satisfied=int(satisfied), satisfaction_pct=_pct(int(satisfied), int(rated)))
