"""The dashboard's figures, each one SQL aggregate over the viewer's scope and period.

Nothing here loops over ticket rows in Python: counts, buckets, weeks and grids are
grouped by the database, so a page stays fast over millions of tickets.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, and_, case, cast, func, or_, select, true

from ..models import Grid, Member, PointsEntry, Ticket, TicketEvent
from ..tickets import OPEN_STATUSES, RUNNING_STATUSES
from .ratings import satisfied

DONE_STATUSES = ("resolved", "rated", "closed")
# Handling time (received → resolved) buckets: up to 4 h, 24 h, 72 h, longer.
BUCKETS = (4, 24, 72)
# snownlp's score: below NEGATIVE is negative, from POSITIVE on positive, neutral between.
NEGATIVE, POSITIVE = 0.4, 0.6


@dataclass(frozen=True)
class Period:
    """A half-open span of time [start, end) and the one of equal length before it."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        return Period(self.start - (self.end - self.start), self.start)


def in_scope(branch_id: str | None) -> list:
    """Conditions on Ticket for a branch, or none for every branch."""
    return [Ticket.branch_id == branch_id] if branch_id else []


def epoch_hours(session, column):
    """Hours since 1970-01-01 UTC of a stored (naive UTC) time, in this database's dialect."""
    if session.bind.dialect.name == "postgresql":
        return func.extract("epoch", column) / 3600.0
    return (func.julianday(column) - 2440587.5) * 24.0


def whole_part(session, expr):
    """The integer part of a non-negative SQL number (PostgreSQL's cast would round it)."""
    if session.bind.dialect.name == "postgresql":
        return cast(func.floor(expr), Integer)
    return cast(expr, Integer)


def _pct(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _delta(now, before) -> float | None:
    return round(now - before, 1) if now is not None and before is not None else None


def _median(session, expr, where, n: int) -> float | None:
    """The median of a SQL expression over n known rows (one query: the middle one or two)."""
    if n == 0:
        return None
    middle = session.scalars(select(expr).select_from(Ticket).where(*where).order_by(expr)
                             .offset((n - 1) // 2).limit(2 - n % 2)).all()
    return round(sum(float(v) for v in middle) / len(middle), 2)


def ratings_by_grid(session, branch_id: str | None, period: Period) -> dict:
    """Ratings given in a period and in the one before, per grid: {(current?, grid): (rated, satisfied)}.

    One join of the two periods' `rated` events to their tickets serves the 总览 cards of both
    periods and the grid table.
    """
    before = period.previous()
    current = TicketEvent.at >= period.start
    satisfied_n = func.coalesce(func.sum(case((satisfied(), 1), else_=0)), 0)
    rows = session.execute(
        select(current.label("current"), Ticket.grid_id, func.count(), satisfied_n)
        .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "rated", *in_scope(branch_id), TicketEvent.at >= before.start,
               TicketEvent.at < period.end)
        .group_by(current, Ticket.grid_id)).all()
    return {(bool(c), g): (int(n), int(k)) for c, g, n, k in rows}


def _ratings_total(ratings: dict, current: bool) -> tuple[int, int]:
    picked = [v for (c, _), v in ratings.items() if c == current]
    return sum(n for n, _ in picked), sum(k for _, k in picked)


def summary(session, branch_id: str | None, period: Period, with_categories: bool = True,
            ratings: tuple[int, int] | None = None) -> dict:
    """Received, resolved, medians, SLA met %, and the 三率 (响应率, 解决率, 满意率) of a period.

    The definitions are those of bot/figures.py (the digest's and the API's); the counts come
    from one pass over the period's tickets, which the covering index ix_tickets_dashboard serves.
    """
    scope = in_scope(branch_id)
    created = [*scope, Ticket.created_at >= period.start, Ticket.created_at < period.end]
    judged_when = or_(Ticket.first_reply_at.is_not(None), Ticket.reply_due_at <= period.end)
    met_when = and_(judged_when, Ticket.first_response_at <= Ticket.response_due_at,
                    Ticket.first_reply_at <= Ticket.reply_due_at)

    def count_when(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    total, responded, replied, done, judged, met = (int(v) for v in session.execute(select(
        func.count(), count_when(Ticket.first_response_at.is_not(None)), count_when(Ticket.first_reply_at.is_not(None)),
        count_when(Ticket.status.in_(DONE_STATUSES)), count_when(judged_when), count_when(met_when),
    ).select_from(Ticket).where(*created)).one())
    events = [*scope, TicketEvent.at >= period.start, TicketEvent.at < period.end]
    if ratings is None:
        ratings = tuple(int(v) for v in session.execute(
            select(func.count(), count_when(satisfied())).select_from(TicketEvent)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id).where(TicketEvent.kind == "rated", *events)).one())
    rated, satisfied_n = ratings
    resolved = session.scalar(
        select(func.count(func.distinct(TicketEvent.ticket_id))).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "resolved", *events)) or 0
    response_h = epoch_hours(session, Ticket.first_response_at) - epoch_hours(session, Ticket.created_at)
    reply_h = epoch_hours(session, Ticket.first_reply_at) - epoch_hours(session, Ticket.created_at)
    by_category = dict(session.execute(select(Ticket.category, func.count()).where(*created)
                                       .group_by(Ticket.category)).all()) if with_categories else {}
    return {"received": total, "resolved": int(resolved),
            "median_response_h": _median(session, response_h, [*created, Ticket.first_response_at.is_not(None)],
                                         responded),
            "median_reply_h": _median(session, reply_h, [*created, Ticket.first_reply_at.is_not(None)], replied),
            "sla_met_pct": _pct(met, judged), "response_rate": _pct(responded, total),
            "resolution_rate": _pct(done, total), "satisfaction_pct": _pct(satisfied_n, rated), "rated": rated,
            "by_category": by_category}


def overview(session, branch_id: str | None, period: Period, ratings: dict | None = None) -> dict:
    """The 总览 figures of a period beside the previous period's, with the change of each."""
    if ratings is None:
        ratings = ratings_by_grid(session, branch_id, period)
    this = summary(session, branch_id, period, ratings=_ratings_total(ratings, True))
    before = summary(session, branch_id, period.previous(), with_categories=False,
                     ratings=_ratings_total(ratings, False))
    keys = ("received", "resolved", "median_response_h", "median_reply_h", "sla_met_pct",
            "response_rate", "resolution_rate", "satisfaction_pct")
    return {"now": this, "before": before, "change": {k: _delta(this[k], before[k]) for k in keys}}


def handling_buckets(session, branch_id: str | None, period: Period) -> list[int]:
    """How many of the period's tickets were resolved within 4 h, 24 h, 72 h, and later."""
    hours = epoch_hours(session, Ticket.resolved_at) - epoch_hours(session, Ticket.created_at)
    bucket = case(*((hours <= limit, i) for i, limit in enumerate(BUCKETS)), else_=len(BUCKETS))
    rows = dict(session.execute(select(bucket, func.count()).where(
        *in_scope(branch_id), Ticket.created_at >= period.start, Ticket.created_at < period.end,
        Ticket.resolved_at.is_not(None)).group_by(bucket)).all())
    return [int(rows.get(i, 0)) for i in range(len(BUCKETS) + 1)]


def weekly_trend(session, branch_id: str | None, first_monday: datetime, weeks: int) -> list[dict]:
    """Tickets received in each of `weeks` weeks from a local Monday, and how many of them are resolved now."""
    origin = first_monday.timestamp() / 3600.0
    week = whole_part(session, (epoch_hours(session, Ticket.created_at) - origin) / 168.0)
    rows = {int(w): (int(n), int(d)) for w, n, d in session.execute(
        select(week, func.count(), func.coalesce(func.sum(case((Ticket.status.in_(DONE_STATUSES), 1), else_=0)), 0))
        .where(*in_scope(branch_id), Ticket.created_at >= first_monday,
               Ticket.created_at < first_monday + timedelta(weeks=weeks)).group_by(week))}
    return [{"week": (first_monday + timedelta(weeks=i)).date().isoformat(),
             "received": rows.get(i, (0, 0))[0], "resolved": rows.get(i, (0, 0))[1]} for i in range(weeks)]


def overdue_where(branch_id: str | None, now: datetime, within_h: float = 0.0) -> tuple:
    """Running tickets past (or, with within_h, within that many hours of) their due time."""
    soon = now + timedelta(hours=within_h)
    return (*in_scope(branch_id), Ticket.status.in_(RUNNING_STATUSES),
            or_(Ticket.first_response_at.is_(None) & (Ticket.response_due_at < soon),
                Ticket.first_reply_at.is_(None) & (Ticket.reply_due_at < soon),
                (Ticket.status == "reopened") & (Ticket.reply_due_at < soon)))


def grid_table(session, branch_id: str | None, period: Period, now: datetime,
               ratings: dict | None = None) -> list[dict]:
    """Per grid: tickets of the period, tickets overdue now, satisfaction % of the period's ratings."""
    scope = in_scope(branch_id)
    tickets = dict(session.execute(select(Ticket.grid_id, func.count()).where(
        *scope, Ticket.created_at >= period.start, Ticket.created_at < period.end).group_by(Ticket.grid_id)).all())
    overdue = dict(session.execute(select(Ticket.grid_id, func.count()).where(*overdue_where(branch_id, now))
                                   .group_by(Ticket.grid_id)).all())
    if ratings is None:
        ratings = ratings_by_grid(session, branch_id, period)
    ratings = {g: v for (current, g), v in ratings.items() if current}
    grids = session.scalars(select(Grid).where(Grid.branch_id == branch_id) if branch_id
                            else select(Grid)).all()
    rows = [{"grid": g.id, "name": f"{g.community}{g.name}", "tickets": int(tickets.get(g.id, 0)),
             "overdue": int(overdue.get(g.id, 0)), "rated": ratings.get(g.id, (0, 0))[0],
             "satisfaction_pct": _pct(ratings.get(g.id, (0, 0))[1], ratings.get(g.id, (0, 0))[0])}
            for g in sorted(grids, key=lambda g: g.id)]
    if tickets.get(None) or overdue.get(None):
        n, s = ratings.get(None, (0, 0))
        rows.append({"grid": "", "name": None, "tickets": int(tickets.get(None, 0)),
                     "overdue": int(overdue.get(None, 0)), "rated": n, "satisfaction_pct": _pct(s, n)})
    return rows


LEDGER_SORTS = {"late": "late", "due": "due", "assignee": "assignee", "no": "no"}


def ledger(session, branch_id: str | None, now: datetime, near_h: float, sort: str = "late",
           limit: int = 200) -> list[dict]:
    """The 督办台账: overdue and nearly-due running tickets with assignee, due time and how late."""
    due = case((Ticket.first_response_at.is_(None), Ticket.response_due_at), else_=Ticket.reply_due_at)
    order = {"late": (due, Ticket.id), "due": (due, Ticket.id), "assignee": (Ticket.assignee_id, due),
             "no": (Ticket.no,)}[LEDGER_SORTS.get(sort, "late")]
    rows = session.execute(
        select(Ticket.id, Ticket.no, Ticket.status, Ticket.priority, Ticket.category, Ticket.text, Ticket.grid_id,
               Ticket.assignee_id, Member.name, due.label("due"))
        .outerjoin(Member, Member.userid == Ticket.assignee_id)
        .where(*overdue_where(branch_id, now, near_h)).order_by(*order).limit(limit)).all()
    return [{"id": r.id, "no": r.no, "status": r.status, "priority": r.priority, "category": r.category,
             "text": r.text, "grid": r.grid_id, "assignee": r.assignee_id, "assignee_name": r.name,
             "due": r.due, "late_h": round((now - r.due).total_seconds() / 3600, 1) if r.due else None,
             "overdue": bool(r.due and r.due < now)} for r in rows]


def sentiment_split(session, branch_id: str | None, period: Period) -> dict:
    """How many of the period's tickets read negative, neutral, positive (and not scored yet)."""
    label = case((Ticket.sentiment.is_(None), "unscored"), (Ticket.sentiment < NEGATIVE, "negative"),
                 (Ticket.sentiment >= POSITIVE, "positive"), else_="neutral")
    rows = dict(session.execute(select(label, func.count()).where(
        *in_scope(branch_id), Ticket.created_at >= period.start, Ticket.created_at < period.end)
        .group_by(label)).all())
    return {k: int(rows.get(k, 0)) for k in ("negative", "neutral", "positive", "unscored")}


def urgent_cases(session, branch_id: str | None, period: Period, angry_below: float, limit: int = 50) -> list:
    """The period's urgent tickets and those read as angry, newest first."""
    return session.execute(
        select(Ticket.id, Ticket.no, Ticket.status, Ticket.priority, Ticket.category, Ticket.text,
               Ticket.sentiment, Ticket.created_at, Ticket.grid_id)
        .where(*in_scope(branch_id), Ticket.created_at >= period.start, Ticket.created_at < period.end,
               or_(Ticket.priority == "urgent", Ticket.sentiment < angry_below))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)).all()


def weekly_counts(session, branch_id: str | None, first_monday: datetime, weeks: int) -> dict:
    """Tickets received per category and week index from a local Monday (for the forecast)."""
    origin = first_monday.timestamp() / 3600.0
    week = whole_part(session, (epoch_hours(session, Ticket.created_at) - origin) / 168.0)
    out: dict = {}
    for category, index, n in session.execute(select(Ticket.category, week, func.count()).where(
            *in_scope(branch_id), Ticket.created_at >= first_monday,
            Ticket.created_at < first_monday + timedelta(weeks=weeks)).group_by(Ticket.category, week)):
        out.setdefault(category, [0] * weeks)[int(index)] = int(n)
    return out


def first_ticket_at(session, branch_id: str | None) -> datetime | None:
    """When the scope's first ticket came in."""
    return session.scalar(select(func.min(Ticket.created_at)).where(*in_scope(branch_id)))


def tickets_for_export(session, branch_id: str | None, period: Period, status: str | None = None,
                       category: str | None = None, grid: str | None = None, limit: int = 100_000):
    """Tickets of a period with the export's filters, oldest first."""
    where = [*in_scope(branch_id), Ticket.created_at >= period.start, Ticket.created_at < period.end]
    if status == "open":
        where.append(Ticket.status.in_(OPEN_STATUSES))
    elif status:
        where.append(Ticket.status == status)
    if category:
        where.append(Ticket.category == category)
    if grid:
        where.append(Ticket.grid_id == grid)
    return session.execute(
        select(Ticket.no, Ticket.created_at, Ticket.status, Ticket.priority, Ticket.category, Ticket.grid_id,
               Ticket.assignee_id, Ticket.text, Ticket.address, Ticket.first_response_at, Ticket.first_reply_at,
               Ticket.resolved_at, Ticket.rating)
        .where(*where).order_by(Ticket.created_at, Ticket.id).limit(limit)).all()


def member_table(session, branch_id: str | None, start: datetime, end: datetime, workdays: int,
                 weights: dict[str, float], only: str | None = None) -> list[dict]:
    """Per member of a month: handled, on-time %, satisfaction, points and the appraisal parts and total.

    The parts are those of bot/appraisal.py (participation: active days over working days;
    quality: resolved tickets answered on time and never reopened; satisfaction: ratings given
    to the member's tickets), grouped in SQL instead of one query per member.
    """
    members = select(Member).where(Member.active)
    if branch_id:
        members = members.where(Member.branch_id == branch_id)
    if only:
        members = members.where(Member.userid == only)
    people = session.scalars(members.order_by(Member.branch_id, Member.userid)).all()
    offset_h = start.utcoffset().total_seconds() / 3600 if start.utcoffset() else 0.0
    userid = func.substr(TicketEvent.actor, 8)
    by_member = TicketEvent.actor.like("member:%")

    def day(column):
        return whole_part(session, (epoch_hours(session, column) + offset_h) / 24.0)

    days = select(PointsEntry.member_id.label("m"), day(PointsEntry.at).label("d")).where(
        PointsEntry.at >= start, PointsEntry.at < end).union(
        select(userid.label("m"), day(TicketEvent.at).label("d")).where(
            by_member, TicketEvent.at >= start, TicketEvent.at < end)).subquery()
    active = dict(session.execute(select(days.c.m, func.count()).group_by(days.c.m)).all())
    good = and_(Ticket.reopen_count == 0, Ticket.first_reply_at.is_not(None), Ticket.reply_due_at.is_not(None),
                Ticket.first_reply_at <= Ticket.reply_due_at)
    handled = {m: (int(n), int(g)) for m, n, g in session.execute(
        select(userid, func.count(func.distinct(TicketEvent.ticket_id)),
               func.count(func.distinct(case((good, TicketEvent.ticket_id)))))
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "resolved", by_member, TicketEvent.at >= start, TicketEvent.at < end)
        .group_by(userid))}
    rated = {m: (int(n), int(s)) for m, n, s in session.execute(
        select(Ticket.assignee_id, func.count(), func.coalesce(func.sum(case((satisfied(), 1), else_=0)), 0))
        .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "rated", TicketEvent.at >= start, TicketEvent.at < end,
               Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id))}
    points = dict(session.execute(select(PointsEntry.member_id, func.sum(PointsEntry.points)).where(
        PointsEntry.at >= start, PointsEntry.at < end).group_by(PointsEntry.member_id)).all())
    rows = []
    for m in people:
        n_active = int(active.get(m.userid, 0))
        n_handled, n_good = handled.get(m.userid, (0, 0))
        n_rated, n_satisfied = rated.get(m.userid, (0, 0))
        parts = {"participation": min(100.0, _pct(n_active, workdays)) if workdays else None,
                 "quality": _pct(n_good, n_handled), "satisfaction": _pct(n_satisfied, n_rated)}
        weighed = {k: v for k, v in parts.items() if v is not None}
        total = round(sum(v * weights[k] for k, v in weighed.items()) / sum(weights[k] for k in weighed), 1) \
            if weighed and sum(weights[k] for k in weighed) else None
        rows.append({"userid": m.userid, "name": m.name, "branch": m.branch_id, "role": m.role,
                     "handled": n_handled, "on_time": n_good, "on_time_pct": parts["quality"],
                     "ratings": n_rated, "satisfaction_pct": parts["satisfaction"],
                     "points": int(points.get(m.userid) or 0), "active_days": n_active, "working_days": workdays,
                     **parts, "total": total})
    return rows


def part_averages(rows: list[dict]) -> dict[str, float | None]:
    """Each appraisal part averaged over the members who have a value for it."""
    out = {}
    for key in ("participation", "quality", "satisfaction"):
        values = [r[key] for r in rows if r[key] is not None]
        out[key] = round(sum(values) / len(values), 1) if values else None
    return out


def hot_words(session, branch_id: str | None, period: Period, limit: int = 10) -> list[dict]:
    """The period's hot topics in SQL: each keyword and grid, ranked by how many residents raised it.

    Keywords are those the worker extracted (bot/hot.py); a ticket not read yet is not counted.
    """
    if session.bind.dialect.name == "postgresql":
        words = func.json_array_elements_text(Ticket.keywords).table_valued("value").render_derived()
    else:
        words = func.json_each(Ticket.keywords).table_valued("value")
    word = words.c.value
    residents = func.count(func.distinct(Ticket.resident_id))
    rows = session.execute(
        select(word, Ticket.grid_id, residents, func.count(), func.max(Ticket.created_at))
        .select_from(Ticket).join(words, true())
        .where(*in_scope(branch_id), Ticket.created_at >= period.start, Ticket.created_at < period.end,
               Ticket.keywords.is_not(None))
        .group_by(word, Ticket.grid_id).order_by(residents.desc(), func.count().desc(), word).limit(limit)).all()
    return [{"keyword": w, "grid": g, "residents": int(r), "tickets": int(n), "latest": latest}
            for w, g, r, n, latest in rows]
