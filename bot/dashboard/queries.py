"""The dashboard's figures over the viewer's scope and period.

Period figures add up the daily summaries (summary.py: hundreds of rows, grouped by the
database, with today read live); what is true now (the overdue ledger, the grid's overdue
count, urgent cases, exports) is read from tickets through their indexes. Nothing here loops
over ticket rows in Python.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, bindparam, cast, func, or_, select

from .. import kv
from ..models import LEDGER_DUE, LEDGER_STATUSES, Branch, Grid, Member, Ticket
from ..tickets import OPEN_STATUSES
from . import summary
from .summary import DONE_STATUSES, NEGATIVE, POSITIVE  # noqa: F401  (the pages' vocabulary)

# Handling time (received → resolved) buckets: up to 4 h, 24 h, 72 h, longer.
BUCKETS = (4, 24, 72)


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


def _days(period: Period) -> tuple[date, date]:
    """A period of local midnights as local days [first, end)."""
    return summary.day_of(period.start), summary.day_of(period.end)


def _tz(moment: datetime):
    return moment.tzinfo


def ratings_by_grid(session, branch_id: str | None, period: Period) -> dict:
    """Ratings given in a period and in the one before, per grid: {(current?, grid): (rated, satisfied)}.

    From the daily summaries (the grid '' is None: tickets without a grid).
    """
    out = {}
    for current, span in ((True, period), (False, period.previous())):
        for (grid,), v in summary.daily(session, _tz(span.start), branch_id, *_days(span), ("grid_id",)).items():
            if v["rated"]:
                out[(current, grid or None)] = (v["rated"], v["satisfied"])
    return out


def _ratings_total(ratings: dict, current: bool) -> tuple[int, int]:
    picked = [v for (c, _), v in ratings.items() if c == current]
    return sum(n for n, _ in picked), sum(k for _, k in picked)


def summary_figures(session, branch_id: str | None, period: Period, with_categories: bool = True,
                    ratings: tuple[int, int] | None = None) -> dict:
    """Received, resolved, medians, SLA met %, and the 三率 (响应率, 解决率, 满意率) of a period.

    The definitions are those of bot/figures.py (the digest's and the API's), added up from the
    daily summaries (bot/dashboard/summary.py); the medians are read from 0.1-h buckets (within
    0.05 h of the exact ones below 72 h).
    """
    tz = _tz(period.start)
    first, end = _days(period)
    by_category = summary.daily(session, tz, branch_id, first, end, ("category",))
    totals = dict.fromkeys(summary.DAILY_COUNTS, 0)
    for v in by_category.values():
        for k in totals:
            totals[k] += v[k]
    histograms = summary.hours(session, tz, branch_id, first, end)
    end_no = (end - summary.EPOCH).days
    # Judged: replied, or not replied by a reply due time at or before the period's end.
    judged = totals["replied"] + sum(n for due, n in histograms.get("due", {}).items() if due <= end_no)
    # Each ticket once, on the first of its resolutions in the period.
    resolved = sum(n for before, n in histograms.get("resolved", {}).items() if before < (first - summary.EPOCH).days)
    total = totals["received"]
    rated, satisfied_n = ratings if ratings is not None else (totals["rated"], totals["satisfied"])
    return {"received": total, "resolved": resolved,
            "median_response_h": summary.median_of(histograms.get("response", {})),
            "median_reply_h": summary.median_of(histograms.get("reply", {})),
            "sla_met_pct": _pct(totals["met"], judged), "response_rate": _pct(totals["responded"], total),
            "resolution_rate": _pct(totals["done"], total), "satisfaction_pct": _pct(satisfied_n, rated),
            "rated": rated,
            "by_category": {(c or None): v["received"] for (c,), v in by_category.items() if v["received"]}
            if with_categories else {},
            "sentiment": {k: totals[k] for k in ("negative", "neutral", "positive", "unscored")},
            "handling": histograms.get("handling", {})}


def overview(session, branch_id: str | None, period: Period, ratings: dict | None = None) -> dict:
    """The 总览 figures of a period beside the previous period's, with the change of each."""
    if ratings is None:
        ratings = ratings_by_grid(session, branch_id, period)
    this = summary_figures(session, branch_id, period, ratings=_ratings_total(ratings, True))
    before = summary_figures(session, branch_id, period.previous(), with_categories=False,
                             ratings=_ratings_total(ratings, False))
    keys = ("received", "resolved", "median_response_h", "median_reply_h", "sla_met_pct",
            "response_rate", "resolution_rate", "satisfaction_pct")
    return {"now": this, "before": before, "change": {k: _delta(this[k], before[k]) for k in keys}}


def handling_buckets(session, branch_id: str | None, period: Period, histogram: dict | None = None) -> list[int]:
    """How many of the period's tickets were resolved within 4 h, 24 h, 72 h, and later."""
    if histogram is None:
        histogram = summary.hours(session, _tz(period.start), branch_id, *_days(period)).get("handling", {})
    limits = [h * 10 for h in BUCKETS]          # 0.1-h buckets: hours <= 4 is bucket <= 40
    out = [0] * (len(BUCKETS) + 1)
    for bucket, n in histogram.items():
        out[next((i for i, limit in enumerate(limits) if bucket <= limit), len(BUCKETS))] += n
    return out


def weekly_trend(session, branch_id: str | None, first_monday: datetime, weeks: int) -> list[dict]:
    """Tickets received in each of `weeks` weeks from a local Monday, and how many of them are resolved now."""
    first = summary.day_of(first_monday)
    rows = [[0, 0] for _ in range(weeks)]
    for (day,), v in summary.daily(session, _tz(first_monday), branch_id, first, first + timedelta(weeks=weeks),
                                   ("day",)).items():
        rows[(day - first).days // 7][0] += v["received"]
        rows[(day - first).days // 7][1] += v["done"]
    return [{"week": (first + timedelta(weeks=i)).isoformat(), "received": rows[i][0], "resolved": rows[i][1]}
            for i in range(weeks)]


def running():
    """Ticket.status is a running one, with the statuses written into the SQL (so the partial
    index ix_tickets_ledger, whose condition names them alike, can serve the query)."""
    return Ticket.status.in_(bindparam("running_statuses", list(LEDGER_STATUSES), expanding=True,
                                       literal_execute=True))


def overdue_where(branch_id: str | None, now: datetime, within_h: float = 0.0) -> tuple:
    """Running tickets past (or, with within_h, within that many hours of) their due time."""
    soon = now + timedelta(hours=within_h)
    return (*in_scope(branch_id), running(),
            or_(Ticket.first_response_at.is_(None) & (Ticket.response_due_at < soon),
                Ticket.first_reply_at.is_(None) & (Ticket.reply_due_at < soon),
                (Ticket.status == "reopened") & (Ticket.reply_due_at < soon)))


def overdue_by_grid(session, branch_id: str | None, now: datetime) -> dict:
    """Running tickets overdue now per grid, counted from the tickets."""
    return dict(session.execute(select(Ticket.grid_id, func.count()).where(*overdue_where(branch_id, now))
                                .group_by(Ticket.grid_id)).all())


def _overdue_key(branch_id: str | None) -> str:
    return kv.key("dashboard", "overdue", branch_id or "*")


def store_overdue(bot, session, now: datetime) -> None:
    """The summary job's snapshot of the overdue counts per branch and grid (and for every branch),
    so that 总览 need not count every overdue ticket while a secretary waits."""
    counts: dict = {}
    rows = session.execute(select(Ticket.branch_id, Ticket.grid_id, func.count())
                           .where(*overdue_where(None, now)).group_by(Ticket.branch_id, Ticket.grid_id))
    for branch, grid, n in rows:
        for scope in {branch, None}:
            per_grid = counts.setdefault(scope, {})
            per_grid[grid or ""] = per_grid.get(grid or "", 0) + int(n)
    ttl = 3 * 60 * int(bot.cfg["dashboard"]["summary_every_min"])
    pipe = bot.redis.pipeline()
    for scope in {None, *(b for b, in session.execute(select(Branch.id)))}:
        pipe.set(_overdue_key(scope), json.dumps({"at": now.isoformat(), "counts": counts.get(scope, {})}), ex=ttl)
    pipe.execute()


def overdue_counts(bot, session, branch_id: str | None, now: datetime) -> tuple[dict, datetime | None]:
    """Overdue tickets per grid: the job's snapshot when it is at most two job intervals old
    (with its time), else counted now (time None)."""
    raw = bot.redis.get(_overdue_key(branch_id))
    if raw:
        snap = json.loads(raw)
        at = datetime.fromisoformat(snap["at"])
        if now - timedelta(minutes=2 * int(bot.cfg["dashboard"]["summary_every_min"])) <= at <= now:
            return {(g or None): n for g, n in snap["counts"].items()}, at
    return overdue_by_grid(session, branch_id, now), None


def grid_table(session, branch_id: str | None, period: Period, now: datetime,
               ratings: dict | None = None, overdue: dict | None = None) -> list[dict]:
    """Per grid: tickets of the period, tickets overdue now, satisfaction % of the period's ratings."""
    tickets = {(g or None): v["received"] for (g,), v in
               summary.daily(session, _tz(period.start), branch_id, *_days(period), ("grid_id",)).items()}
    if overdue is None:
        overdue = overdue_by_grid(session, branch_id, now)
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
    due = LEDGER_DUE
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
    totals = dict.fromkeys(("negative", "neutral", "positive", "unscored"), 0)
    for v in summary.daily(session, _tz(period.start), branch_id, *_days(period), ()).values():
        for k in totals:
            totals[k] += v[k]
    return totals


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
    first = summary.day_of(first_monday)
    out: dict = {}
    for (day, category), v in summary.daily(session, _tz(first_monday), branch_id, first,
                                            first + timedelta(weeks=weeks), ("day", "category")).items():
        if v["received"]:
            out.setdefault(category, [0] * weeks)[(day - first).days // 7] += v["received"]
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

    The parts are those of bot/appraisal.py (participation: days with points, ticket events or
    work logs over working days; quality: resolved tickets answered on time and never reopened;
    satisfaction: ratings credited to the member who resolved the ticket), added up from the
    members' daily summaries.
    """
    members = select(Member).where(Member.active)
    if branch_id:
        members = members.where(Member.branch_id == branch_id)
    if only:
        members = members.where(Member.userid == only)
    people = session.scalars(members.order_by(Member.branch_id, Member.userid)).all()
    days = summary.members(session, _tz(start), summary.day_of(start), summary.day_of(end))
    empty = dict.fromkeys(summary.MEMBER_COUNTS, 0)
    rows = []
    for m in people:
        v = days.get(m.userid, empty)
        parts = {"participation": min(100.0, _pct(v["active"], workdays)) if workdays else None,
                 "quality": _pct(v["good"], v["handled"]), "satisfaction": _pct(v["satisfied"], v["rated"])}
        weighed = {k: value for k, value in parts.items() if value is not None}
        total = round(sum(value * weights[k] for k, value in weighed.items()) / sum(weights[k] for k in weighed), 1) \
            if weighed and sum(weights[k] for k in weighed) else None
        rows.append({"userid": m.userid, "name": m.name, "branch": m.branch_id, "role": m.role,
                     "handled": v["handled"], "on_time": v["good"], "on_time_pct": parts["quality"],
                     "ratings": v["rated"], "satisfaction_pct": parts["satisfaction"],
                     "points": v["points"], "active_days": v["active"], "working_days": workdays,
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
    """The period's hot topics: each keyword and grid, ranked by how many residents raised it.

    Keywords are those the worker extracted (bot/hot.py); a ticket not read yet is not counted.
    Residents are counted per day (one who raised a word on two days of the period counts twice).
    """
    rows = summary.words(session, _tz(period.start), branch_id, *_days(period))
    ranked = sorted(rows.items(), key=lambda kv: (-kv[1]["residents"], -kv[1]["tickets"], kv[0][0]))[:limit]
    return [{"keyword": w, "grid": g or None, "residents": v["residents"], "tickets": v["tickets"],
             "latest": v["latest"]} for (w, g), v in ranked]
