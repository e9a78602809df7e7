"""Weekly digest to each branch secretary, and the monthly stars (月度之星).

Each runs often and sends when due by the injected clock; a unique row per branch and
period, written in the same transaction as the message, makes it once even after a
restart or with two schedulers.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from . import points, texts
from .dashboard.links import digest_link
from .db import insert_ignore
from .figures import ticket_figures
from .hot import hot_topics
from .models import Branch, Member, ScheduledSend, Ticket, TicketEvent
from .outbox import enqueue
from .participation import figures as participation_figures
from .replies import Reply, to_member
from .work import overdue_count, overdue_tickets
from .workcalendar import at


def week_bounds(bot, now: datetime) -> tuple[datetime, datetime] | None:
    """The last full week (Monday to Monday, local) if this week's digest time has come."""
    opts = bot.cfg["digest"]
    local = now.astimezone(bot.tz)
    monday = local.date() - timedelta(days=local.weekday())
    if now < at(monday + timedelta(days=int(opts["weekday"])), opts["time"], bot.tz):
        return None
    end = datetime.combine(monday, time(0), tzinfo=bot.tz)
    return end - timedelta(days=7), end


def week_figures(session, branch_id: str, start: datetime, end: datetime) -> dict:
    """The digest's numbers for one branch and week, straight from the database."""
    created = [Ticket.branch_id == branch_id, Ticket.created_at >= start, Ticket.created_at < end]
    rated = [Ticket.branch_id == branch_id, TicketEvent.at >= start, TicketEvent.at < end]
    figures = ticket_figures(session, created, end, rating_conditions=rated)
    resolved = session.scalar(
        select(func.count(func.distinct(TicketEvent.ticket_id))).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(TicketEvent.kind == "resolved", *rated)) or 0
    return {"received": figures.total, "resolved": resolved,
            "median_response_h": figures.median_response_h, "median_reply_h": figures.median_reply_h,
            "sla_met_pct": figures.sla_met_pct, "satisfaction_pct": figures.satisfaction_pct}


def _value(value, unit: str) -> str:
    return texts.DIGEST_NONE if value is None else f"{value:g}{unit}"


def _change(now, before, unit: str) -> str:
    if now is None or before is None:
        return ""
    delta = now - before
    return f"（上周 {before:g}{unit}，{'+' if delta >= 0 else ''}{delta:g}）"


def render_digest(bot, session, branch: Branch, start: datetime, end: datetime) -> str:
    """The digest's markdown for one branch and week."""
    this = week_figures(session, branch.id, start, end)
    last = week_figures(session, branch.id, start - timedelta(days=7), start)
    local_end = (end - timedelta(seconds=1)).astimezone(bot.tz)
    local_start = start.astimezone(bot.tz)
    lines = [texts.DIGEST_TITLE.format(branch=branch.name, start=f"{local_start.month}月{local_start.day}日",
                                       end=f"{local_end.month}月{local_end.day}日")]
    for key, name, unit in (("received", "收到留言", "件"), ("resolved", "办结", "件"),
                            ("median_response_h", "首次响应中位数", "小时"),
                            ("median_reply_h", "首次答复中位数", "小时"),
                            ("sla_met_pct", "按时办理率", "%"), ("satisfaction_pct", "群众满意率", "%")):
        lines.append(texts.DIGEST_LINE.format(name=name, value=_value(this[key], unit),
                                              change=_change(this[key], last[key], unit)))
    lines.append(texts.DIGEST_OVERDUE_TITLE.format(n=overdue_count(session, branch.id, end)))
    for ticket in overdue_tickets(session, branch.id, end, limit=10):
        assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
        due = ticket.response_due_at if ticket.first_response_at is None else ticket.reply_due_at
        lines.append(texts.DIGEST_OVERDUE_LINE.format(
            no=ticket.no, assignee=assignee.name if assignee else "未分派",
            hours=int((end - due).total_seconds() // 3600)))
    topics = hot_topics(session, start, end, branch.id, limit=int(bot.cfg["digest"]["top_keywords"]))
    lines.append(texts.DIGEST_HOT.format(words="、".join(
        f"{t['keyword']}（{t['place']}，{t['residents']}人）" for t in topics) or texts.DIGEST_NONE))
    extra = participation_figures(session, start, end, branch.id)   # #15
    lines.append(texts.DIGEST_PARTICIPATION.format(
        logs=extra["work_logs"], golden=extra["golden"], cases=extra["cases"],
        council=_value(extra["council_resolution_pct"], "%")))
    top = [(m, p) for m, p in points.totals(session, start, end, branch.id) if p > 0]
    lines.append(texts.DIGEST_TOP.format(members="，".join(
        f"{m.name} {p}分" for m, p in top[: int(bot.cfg["digest"]["top_members"])]) or texts.DIGEST_NONE))
    from .outbox import failed_to_members

    failed = failed_to_members(session, branch.id, start, end)
    if failed:   # members who missed cards or reminders: the operator has to look (#16)
        lines.append(texts.DIGEST_FAILED.format(n=sum(failed.values()), members="、".join(failed)))
    lines.extend(retrain_line(bot, start, end))     # #18
    link = digest_link(bot, branch.id, start, end)
    if link:
        lines.append(link)
    return "\n".join(lines)


def retrain_line(bot, start: datetime, end: datetime) -> list[str]:
    """One line on this week's category-model retrain, if one ran."""
    from .routing.retrain import outcome

    last = outcome(bot)
    if not last or not start <= datetime.fromisoformat(last["at"]) < end:
        return []
    if last.get("reason") == "too_few_labels":
        return [texts.DIGEST_MODEL_TOO_FEW.format(n=bot.cfg["nlp"]["retrain_min_per_category"])]
    line = texts.DIGEST_MODEL_KEPT if last["kept"] else texts.DIGEST_MODEL_NOT_KEPT
    return [line.format(n=last["n"], before=last["current_f1"], after=last["candidate_f1"])]


def send_weekly_digests(bot) -> int:
    """Sends last week's digest to every branch secretary, once per branch and week."""
    now = bot.clock.now()
    bounds = week_bounds(bot, now)
    if bounds is None:
        return 0
    start, end = bounds
    period = start.astimezone(bot.tz).strftime("%G-W%V")
    sent = 0
    with bot.db.session() as session:
        for branch in session.scalars(select(Branch).where(Branch.secretary_id.is_not(None))):
            if session.scalar(select(ScheduledSend.id).where(
                    ScheduledSend.kind == "digest", ScheduledSend.scope == branch.id,
                    ScheduledSend.period == period)):
                continue
            body = render_digest(bot, session, branch, start, end)
            if insert_ignore(session, ScheduledSend, kind="digest", scope=branch.id, period=period, at=now):
                enqueue(session, [Reply("wecom", branch.secretary_id, "markdown", {"content": body})], now)
                sent += 1
    return sent


def announce_stars(bot) -> int:
    """On the configured day, names last month's top members (by points) to their branch."""
    opts = bot.cfg["stars"]
    now = bot.clock.now()
    local = now.astimezone(bot.tz)
    first = local.date().replace(day=1)
    if now < at(first.replace(day=int(opts["day"])), opts["time"], bot.tz):
        return 0
    start_day = (first - timedelta(days=1)).replace(day=1)
    start = datetime.combine(start_day, time(0), tzinfo=bot.tz)
    end = datetime.combine(first, time(0), tzinfo=bot.tz)
    period = start_day.strftime("%Y-%m")
    sent = 0
    with bot.db.session() as session:
        for branch in session.scalars(select(Branch)).all():
            if not insert_ignore(session, ScheduledSend, kind="stars", scope=branch.id, period=period, at=now):
                continue
            best = points.stars(points.totals(session, start, end, branch.id), float(opts["share"]))
            if not best:
                continue
            names = "、".join(m.name for m, _ in best)
            message = texts.STARS.format(month=f"{start_day.year}年{start_day.month}月", branch=branch.name,
                                         names=names)
            members = session.scalars(select(Member.userid).where(Member.branch_id == branch.id, Member.active)).all()
            enqueue(session, [to_member(userid, message) for userid in members], now)
            sent += 1
    return sent
