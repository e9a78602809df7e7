"""Dashboard summaries (汇总): the dashboard's figures per local day, so a page over a million
tickets adds up hundreds of summary rows instead of reading millions of tickets.

One function, `compute`, groups tickets, events, points and work logs of a span of local days
in SQL into rows per day and branch / grid / category (DashDaily), hour histograms (DashHours),
keywords (DashWord) and members' days (DashMember). The scheduler job `summarise` writes those rows
for closed days (recomputing a day replaces its rows, so running twice changes nothing) and moves
the mark `through`; pages read the rows for days before the mark and call `compute` live for the
rest (today, or everything while the job has not run yet). A late change to an old ticket (a
rating, a resolution, a reopening, a transfer) sets its `updated_at`; the next run recomputes
the day it was created and the days of its ratings and resolutions. Hours are kept in buckets of
0.1 h up to 72 h and of 1 h beyond, so a median read from them is within 0.05 h (3 minutes) of the
exact one below 72 h and within 0.5 h above. Days are local days of the configured zone, which
must keep one UTC offset all year (Asia/Shanghai does).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, case, cast, delete, func, select, true, union

from ..models import (
    DashDaily,
    DashHours,
    DashMark,
    DashMember,
    DashWord,
    PointsEntry,
    Ticket,
    TicketEvent,
    WorkLog,
)
from .ratings import satisfied

EPOCH = date(1970, 1, 1)
DONE_STATUSES = ("resolved", "rated", "closed")
# snownlp's score: below NEGATIVE is negative, from POSITIVE on positive, neutral between.
NEGATIVE, POSITIVE = 0.4, 0.6
FINE_UNTIL_H = 72          # 0.1-h buckets up to here, 1-h buckets beyond
EPS = 1e-6                 # float noise of a time difference in hours (a few milliseconds)
DAILY_COUNTS = ("received", "responded", "replied", "done", "met", "negative", "neutral", "positive",
                "unscored", "rated", "satisfied", "resolved")
MEMBER_COUNTS = ("active", "handled", "good", "rated", "satisfied", "points")
HOUR_KINDS = ("response", "reply", "handling")
MARK = "daily"
# A transaction that began before the job's last look and committed after it still counts.
CHANGE_MARGIN = timedelta(minutes=10)
PARTS = ("daily", "hours", "words", "members")


def _pg(session) -> bool:
    return session.bind.dialect.name == "postgresql"


def offset_hours(tz) -> float:
    """The zone's UTC offset in hours (one all year)."""
    return datetime(2026, 1, 1, tzinfo=tz).utcoffset().total_seconds() / 3600.0


def midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def day_of(moment: datetime) -> date:
    """The local date of a local midnight (periods and months start at one)."""
    return moment.date()


def day_no(session, column, off_h: float):
    """Days since 1970-01-01 of a stored time's local date (exact: no floating point)."""
    if _pg(session):
        return cast(func.floor((func.extract("epoch", column) + int(round(off_h * 3600))) / 86400), Integer)
    return cast(func.julianday(func.date(column, f"{off_h:+g} hours")) - 2440587.5, Integer)


def ceil_day_no(session, column, off_h: float):
    """The first local midnight at or after a stored time, as days since 1970-01-01."""
    if _pg(session):
        return cast(func.ceil((func.extract("epoch", column) + int(round(off_h * 3600))) / 86400), Integer)
    day = func.date(column, f"{off_h:+g} hours")
    exact = func.julianday(column) == func.julianday(day, f"{-off_h:+g} hours")
    return cast(func.julianday(day) - 2440587.5, Integer) + case((exact, 0), else_=1)


def hours_between(session, start, end):
    if _pg(session):
        return (func.extract("epoch", end) - func.extract("epoch", start)) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _ceil(session, expr):
    """The smallest integer ≥ a SQL number."""
    if _pg(session):
        return cast(func.ceil(expr), Integer)
    whole = cast(expr, Integer)
    return whole + case((expr > whole, 1), else_=0)


def bucket_of(session, hours):
    """The histogram bucket of an hour figure: 0 for none, b covers ((b-1)/10, b/10] up to 72 h,
    720 + k covers (72 + k - 1, 72 + k] beyond."""
    return case((hours <= 0, 0), (hours <= FINE_UNTIL_H, _ceil(session, hours * 10 - EPS)),
                else_=FINE_UNTIL_H * 10 + _ceil(session, hours - FINE_UNTIL_H - EPS))


def bucket_hours(bucket: int) -> float:
    """The hours a bucket stands for (its middle)."""
    if bucket <= 0:
        return 0.0
    if bucket <= FINE_UNTIL_H * 10:
        return (bucket - 0.5) / 10
    return FINE_UNTIL_H + (bucket - FINE_UNTIL_H * 10) - 0.5


def median_of(histogram: dict[int, int]) -> float | None:
    """The median read from a histogram {bucket: count} (the middle one or the mean of the middle two)."""
    n = sum(histogram.values())
    if n == 0:
        return None
    wanted, seen, picked = sorted({(n - 1) // 2, n // 2}), 0, []
    for bucket in sorted(histogram):
        count = histogram[bucket]
        while wanted and wanted[0] < seen + count:
            picked.append(bucket_hours(bucket))
            wanted.pop(0)
        seen += count
    return round(sum(picked) / len(picked), 2)


def _to_date(n) -> date:
    return EPOCH + timedelta(days=int(n))


def _month_starts(first: date, end: date):
    """The first day of each local month that the days [first, end) touch."""
    month = first.replace(day=1)
    while month < end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


# -- computing ---------------------------------------------------------------------------------

def compute(session, tz, first: date, end: date, branch_id: str | None = None,
            parts: tuple[str, ...] = PARTS) -> dict[str, dict]:
    """The summary rows of the local days [first, end), grouped in SQL.

    Returns {"daily": {(day, branch, grid, category): {count: n}}, "hours": {(day, branch, kind,
    bucket): n}, "words": {(day, branch, grid, keyword): {...}}, "members": {(day, member): {...}}}.
    With branch_id only that branch's tickets are read (members are always all).
    """
    out: dict[str, dict] = {p: {} for p in PARTS}
    if first >= end:
        return out
    off = offset_hours(tz)
    start_at, end_at = midnight(first, tz), midnight(end, tz)
    scope = [Ticket.branch_id == branch_id] if branch_id else []
    created = [*scope, Ticket.created_at >= start_at, Ticket.created_at < end_at]
    branch, grid = func.coalesce(Ticket.branch_id, ""), func.coalesce(Ticket.grid_id, "")
    category = func.coalesce(Ticket.category, "")

    def count_when(condition):
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    if "daily" in parts:
        daily = out["daily"]

        def row(key):
            if key not in daily:
                daily[key] = dict.fromkeys(DAILY_COUNTS, 0)
            return daily[key]

        made = day_no(session, Ticket.created_at, off)
        for d, b, g, c, *counts in session.execute(select(
                made, branch, grid, category, func.count(),
                count_when(Ticket.first_response_at.is_not(None)), count_when(Ticket.first_reply_at.is_not(None)),
                count_when(Ticket.status.in_(DONE_STATUSES)),
                count_when(and_(Ticket.first_response_at <= Ticket.response_due_at,
                                Ticket.first_reply_at <= Ticket.reply_due_at)),
                count_when(Ticket.sentiment < NEGATIVE),
                count_when(and_(Ticket.sentiment >= NEGATIVE, Ticket.sentiment < POSITIVE)),
                count_when(Ticket.sentiment >= POSITIVE), count_when(Ticket.sentiment.is_(None)))
                .where(*created).group_by(made, branch, grid, category)):
            row((_to_date(d), b, g, c)).update(zip(DAILY_COUNTS[:9], (int(v) for v in counts)))
        happened = day_no(session, TicketEvent.at, off)
        events = [*scope, TicketEvent.at >= start_at, TicketEvent.at < end_at]
        for d, b, g, c, n, k in session.execute(
                select(happened, branch, grid, category, func.count(), count_when(satisfied()))
                .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(TicketEvent.kind == "rated", *events).group_by(happened, branch, grid, category)):
            row((_to_date(d), b, g, c)).update(rated=int(n), satisfied=int(k))
        for d, b, g, c, n in session.execute(
                select(happened, branch, grid, category, func.count(func.distinct(TicketEvent.ticket_id)))
                .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
                .where(TicketEvent.kind == "resolved", *events).group_by(happened, branch, grid, category)):
            row((_to_date(d), b, g, c))["resolved"] = int(n)

    if "hours" in parts:
        hours = out["hours"]
        made = day_no(session, Ticket.created_at, off)
        for kind, column in zip(HOUR_KINDS, (Ticket.first_response_at, Ticket.first_reply_at, Ticket.resolved_at)):
            bucket = bucket_of(session, hours_between(session, Ticket.created_at, column))
            if kind == "handling":         # only 总览's four spans: ≤ 4 h, 24 h, 72 h, longer
                bucket = case((bucket <= 40, 40), (bucket <= 240, 240), (bucket <= 720, 720), else_=721)
            for d, b, k, n in session.execute(select(made, branch, bucket, func.count())
                                              .where(*created, column.is_not(None)).group_by(made, branch, bucket)):
                hours[(_to_date(d), b, kind, int(k))] = int(n)
        # Resolutions, each (ticket, day) once with the day of the ticket's resolution before it
        # (0: none), so a span of days counts each ticket once: those whose previous one is older.
        resolved_on = day_no(session, TicketEvent.at, off)
        pairs = (select(TicketEvent.ticket_id.label("t"), resolved_on.label("d"), branch.label("b"))
                 .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                 .where(TicketEvent.kind == "resolved", *scope, TicketEvent.at >= start_at, TicketEvent.at < end_at)
                 .group_by(TicketEvent.ticket_id, resolved_on, branch)).subquery()
        earlier = TicketEvent.__table__.alias("earlier")
        previous = (select(func.coalesce(func.max(day_no(session, earlier.c.at, off)), 0))
                    .where(earlier.c.ticket_id == pairs.c.t, earlier.c.kind == "resolved",
                           day_no(session, earlier.c.at, off) < pairs.c.d).scalar_subquery())
        before = previous.label("p")
        for d, b, p, n in session.execute(select(pairs.c.d, pairs.c.b, before, func.count())
                                          .group_by(pairs.c.d, pairs.c.b, before)):
            hours[(_to_date(d), b, "resolved", int(p))] = int(n)
        due = ceil_day_no(session, Ticket.reply_due_at, off)
        for d, b, k, n in session.execute(select(made, branch, due, func.count()).where(
                *created, Ticket.first_reply_at.is_(None), Ticket.reply_due_at.is_not(None))
                .group_by(made, branch, due)):
            hours[(_to_date(d), b, "due", int(k))] = int(n)

    if "words" in parts:
        if _pg(session):
            words = func.json_array_elements_text(Ticket.keywords).table_valued("value").render_derived()
        else:
            words = func.json_each(Ticket.keywords).table_valued("value")
        made = day_no(session, Ticket.created_at, off)
        word = words.c.value
        for d, b, g, w, n, r, latest in session.execute(
                select(made, branch, grid, word, func.count(), func.count(func.distinct(Ticket.resident_id)),
                       func.max(Ticket.created_at))
                .select_from(Ticket).join(words, true()).where(*created, Ticket.keywords.is_not(None))
                .group_by(made, branch, grid, word)):
            if w is None or len(str(w)) > 64:
                continue
            out["words"][(_to_date(d), b, g, str(w))] = {"tickets": int(n), "residents": int(r), "latest": latest}

    if "members" in parts:
        _members(session, off, first, end, start_at, end_at, tz, out["members"])
    return out


def _members(session, off, first, end, start_at, end_at, tz, members: dict) -> None:
    """Members' days: active, first resolutions of the month (and good ones), ratings, points."""
    def row(key):
        if key not in members:
            members[key] = dict.fromkeys(MEMBER_COUNTS, 0)
        return members[key]

    userid = func.substr(TicketEvent.actor, 8)
    by_member = TicketEvent.actor.like("member:%")
    days = union(
        select(PointsEntry.member_id.label("m"), day_no(session, PointsEntry.at, off).label("d"))
        .where(PointsEntry.at >= start_at, PointsEntry.at < end_at),
        select(userid.label("m"), day_no(session, TicketEvent.at, off).label("d"))
        .where(by_member, TicketEvent.at >= start_at, TicketEvent.at < end_at),
        select(WorkLog.member_id.label("m"), day_no(session, WorkLog.at, off).label("d"))
        .where(WorkLog.at >= start_at, WorkLog.at < end_at)).subquery()
    for m, d in session.execute(select(days.c.m, days.c.d)):
        row((_to_date(d), m))["active"] = 1
    good = case((and_(Ticket.reopen_count == 0, Ticket.first_reply_at.is_not(None), Ticket.reply_due_at.is_not(None),
                      Ticket.first_reply_at <= Ticket.reply_due_at), 1), else_=0)
    happened = day_no(session, TicketEvent.at, off)
    for month in _month_starts(first, end):
        # A ticket counts on the day its member first resolved it in the month (so a month adds up exactly).
        next_month = (month + timedelta(days=32)).replace(day=1)
        firsts = (select(userid.label("m"), TicketEvent.ticket_id, func.min(happened).label("d"),
                         func.max(good).label("g"))
                  .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                  .where(TicketEvent.kind == "resolved", by_member, TicketEvent.at >= midnight(month, tz),
                         TicketEvent.at < min(end_at, midnight(next_month, tz)))
                  .group_by(userid, TicketEvent.ticket_id)).subquery()
        since = (max(first, month) - EPOCH).days
        for m, d, n, k in session.execute(select(firsts.c.m, firsts.c.d, func.count(), func.sum(firsts.c.g))
                                          .where(firsts.c.d >= since).group_by(firsts.c.m, firsts.c.d)):
            row((_to_date(d), m)).update(handled=int(n), good=int(k or 0))
    # Credit for a rating goes to the member who resolved the ticket (as bot/appraisal.py).
    credited = func.coalesce(TicketEvent.data["resolver"].as_string(), Ticket.assignee_id)
    for d, m, n, k in session.execute(
            select(happened, credited, func.count(), func.coalesce(func.sum(case((satisfied(), 1), else_=0)), 0))
            .select_from(TicketEvent).join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(TicketEvent.kind == "rated", TicketEvent.at >= start_at, TicketEvent.at < end_at,
                   credited.is_not(None))
            .group_by(happened, credited)):
        row((_to_date(d), m)).update(rated=int(n), satisfied=int(k))
    earned = day_no(session, PointsEntry.at, off)
    for d, m, p in session.execute(select(earned, PointsEntry.member_id, func.sum(PointsEntry.points))
                                   .where(PointsEntry.at >= start_at, PointsEntry.at < end_at)
                                   .group_by(earned, PointsEntry.member_id)):
        row((_to_date(d), m))["points"] = int(p or 0)


# -- writing (the scheduler job) -------------------------------------------------------------------

def write(session, tz, days: list[tuple[date, date]]) -> int:
    """Recomputes the spans of days [first, end) and replaces their rows; returns the rows written."""
    written = 0
    for first, end in days:
        rows = compute(session, tz, first, end)
        for model in (DashDaily, DashHours, DashWord, DashMember):
            session.execute(delete(model).where(model.day >= first, model.day < end))
        if rows["daily"]:
            session.execute(DashDaily.__table__.insert(), [
                {"day": d, "branch_id": b, "grid_id": g, "category": c, **v}
                for (d, b, g, c), v in rows["daily"].items()])
        if rows["hours"]:
            session.execute(DashHours.__table__.insert(), [
                {"day": d, "branch_id": b, "kind": k, "bucket": u, "n": n}
                for (d, b, k, u), n in rows["hours"].items()])
        if rows["words"]:
            session.execute(DashWord.__table__.insert(), [
                {"day": d, "branch_id": b, "grid_id": g, "keyword": w, **v}
                for (d, b, g, w), v in rows["words"].items()])
        if rows["members"]:
            session.execute(DashMember.__table__.insert(), [
                {"day": d, "member_id": m, **v} for (d, m), v in rows["members"].items()])
        written += sum(len(v) for v in rows.values())
    return written


def _spans(days: set[date]) -> list[tuple[date, date]]:
    """Sorted days as spans of consecutive days [first, end)."""
    spans: list[list[date]] = []
    for day in sorted(days):
        if spans and spans[-1][1] == day:
            spans[-1][1] = day + timedelta(days=1)
        else:
            spans.append([day, day + timedelta(days=1)])
    return [(a, b) for a, b in spans]


def _first_day(session, off) -> date | None:
    firsts = [session.scalar(select(func.min(column))) for column in
              (Ticket.created_at, TicketEvent.at, PointsEntry.at, WorkLog.at)]
    firsts = [f for f in firsts if f is not None]
    if not firsts:
        return None
    return (min(firsts) + timedelta(hours=off)).date()


def changed_days(session, tz, since: datetime, before: date) -> set[date]:
    """Days before `before` whose rows may be stale: those of tickets changed since `since`
    (their creation day, and the days of their ratings and resolutions)."""
    off = offset_hours(tz)
    changed = select(Ticket.id).where(Ticket.updated_at >= since)
    days = set(session.scalars(select(func.distinct(day_no(session, Ticket.created_at, off)))
                               .where(Ticket.updated_at >= since)))
    days |= set(session.scalars(select(func.distinct(day_no(session, TicketEvent.at, off))).where(
        TicketEvent.ticket_id.in_(changed), TicketEvent.kind.in_(("rated", "resolved")))))
    return {d for d in (_to_date(n) for n in days) if d < before}


def summarise(bot, chunk_days: int = 31) -> dict:
    """The scheduler job: summarises the closed days not yet summarised, yesterday again (late
    sentiment scores and keywords), and the days of tickets changed since the last run; and
    snapshots the overdue counts per grid for 总览 (queries.store_overdue)."""
    tz = bot.tz
    now = bot.clock.now()
    today = now.astimezone(tz).date()
    with bot.db.session() as session:
        mark = session.get(DashMark, MARK)
        if mark is None:
            first = _first_day(session, offset_hours(tz))
            todo = {first + timedelta(days=i) for i in range((today - first).days)} if first else set()
        else:
            todo = {mark.through - timedelta(days=1) + timedelta(days=i)
                    for i in range((today - mark.through).days + 1)}
            todo |= changed_days(session, tz, mark.checked_at - CHANGE_MARGIN, today)
        todo = {d for d in todo if d < today}
    spans = []
    for first, end in _spans(todo):                 # bounded transactions over a long history
        while first < end:
            spans.append((first, min(end, first + timedelta(days=chunk_days))))
            first = spans[-1][1]
    written = 0
    for span in spans:
        with bot.db.session() as session:
            written += write(session, tz, [span])
            session.commit()
    with bot.db.session() as session:
        from .queries import store_overdue

        store_overdue(bot, session, now)
        mark = session.get(DashMark, MARK)
        if mark is None:
            session.add(DashMark(name=MARK, through=today, checked_at=now))
        else:
            mark.through, mark.checked_at = max(mark.through, today), now
        session.commit()
    return {"days": len(todo), "rows": written}


# -- reading -------------------------------------------------------------------------------------

def through(session) -> date | None:
    """Days before this are summarised (None: the job has not run yet)."""
    mark = session.get(DashMark, MARK)
    return mark.through if mark else None


def _live(session, tz, first: date, end: date, branch_id: str | None, part: str) -> dict:
    """compute() of one part, remembered for the session (a page asks for today several times)."""
    cache = session.info.setdefault("dash_live", {})
    key = (first, end, branch_id, part)
    if key not in cache:
        cache[key] = compute(session, tz, first, end, branch_id, parts=(part,))[part]
    return cache[key]


def _split(session, first: date, end: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """The summarised days and the live days of [first, end)."""
    mark = through(session)
    cut = min(max(mark, first), end) if mark else first
    return (first, cut), (cut, end)


def daily(session, tz, branch_id: str | None, first: date, end: date, by: tuple[str, ...]) -> dict:
    """DashDaily counts of [first, end) summed by some of day / branch_id / grid_id / category.

    Keys are tuples in `by` order ('' stands for no grid / category); values {count: n}.
    """
    (a, b), (c, d) = _split(session, first, end)
    out: dict = defaultdict(lambda: dict.fromkeys(DAILY_COUNTS, 0))
    if a < b:
        columns = [getattr(DashDaily, k) for k in by]
        where = [DashDaily.day >= a, DashDaily.day < b] + ([DashDaily.branch_id == branch_id] if branch_id else [])
        for row in session.execute(select(*columns, *(func.sum(getattr(DashDaily, k)) for k in DAILY_COUNTS))
                                   .where(*where).group_by(*columns)):
            key, counts = tuple(row[:len(by)]), row[len(by):]
            target = out[key]
            for name, value in zip(DAILY_COUNTS, counts):
                target[name] += int(value or 0)
    if c < d:
        names = ("day", "branch_id", "grid_id", "category")
        for key, counts in _live(session, tz, c, d, branch_id, "daily").items():
            target = out[tuple(key[names.index(k)] for k in by)]
            for name in DAILY_COUNTS:
                target[name] += counts[name]
    return dict(out)


def hours(session, tz, branch_id: str | None, first: date, end: date) -> dict[str, dict[int, int]]:
    """DashHours of [first, end): {kind: {bucket: n}}."""
    (a, b), (c, d) = _split(session, first, end)
    out: dict = defaultdict(lambda: defaultdict(int))
    if a < b:
        where = [DashHours.day >= a, DashHours.day < b] + ([DashHours.branch_id == branch_id] if branch_id else [])
        for kind, bucket, n in session.execute(select(DashHours.kind, DashHours.bucket, func.sum(DashHours.n))
                                               .where(*where).group_by(DashHours.kind, DashHours.bucket)):
            out[kind][int(bucket)] += int(n)
    if c < d:
        for (_, _, kind, bucket), n in _live(session, tz, c, d, branch_id, "hours").items():
            out[kind][bucket] += n
    return {k: dict(v) for k, v in out.items()}


def words(session, tz, branch_id: str | None, first: date, end: date) -> dict:
    """DashWord of [first, end) summed per (keyword, grid): {(keyword, grid): {tickets, residents, latest}}."""
    (a, b), (c, d) = _split(session, first, end)
    out: dict = {}

    def add(key, tickets, residents, latest):
        row = out.setdefault(key, {"tickets": 0, "residents": 0, "latest": None})
        row["tickets"] += tickets
        row["residents"] += residents
        if latest is not None and (row["latest"] is None or latest > row["latest"]):
            row["latest"] = latest

    if a < b:
        where = [DashWord.day >= a, DashWord.day < b] + ([DashWord.branch_id == branch_id] if branch_id else [])
        for w, g, n, r, latest in session.execute(
                select(DashWord.keyword, DashWord.grid_id, func.sum(DashWord.tickets), func.sum(DashWord.residents),
                       func.max(DashWord.latest)).where(*where).group_by(DashWord.keyword, DashWord.grid_id)):
            add((w, g), int(n), int(r), latest)
    if c < d:
        for (_, _, g, w), v in _live(session, tz, c, d, branch_id, "words").items():
            add((w, g), v["tickets"], v["residents"], v["latest"])
    return out


def members(session, tz, first: date, end: date) -> dict[str, dict]:
    """DashMember of [first, end) summed per member: {member: {count: n}}."""
    (a, b), (c, d) = _split(session, first, end)
    out: dict = defaultdict(lambda: dict.fromkeys(MEMBER_COUNTS, 0))
    if a < b:
        for m, *counts in session.execute(select(DashMember.member_id,
                                                 *(func.sum(getattr(DashMember, k)) for k in MEMBER_COUNTS))
                                          .where(DashMember.day >= a, DashMember.day < b)
                                          .group_by(DashMember.member_id)):
            for name, value in zip(MEMBER_COUNTS, counts):
                out[m][name] += int(value or 0)
    if c < d:
        for (_, m), counts in _live(session, tz, c, d, None, "members").items():
            for name in MEMBER_COUNTS:
                out[m][name] += counts[name]
    return dict(out)

