"""The compliance monitor (制度执行监控): response time, satisfaction and member participation
per branch against the configured standards; a breach alerts the secretary once a day.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select

from . import texts
from .dashboard.links import alert_reply
from .db import insert_ignore
from .figures import hours_between, ticket_figures
from .models import Branch, Member, ScheduledSend, Ticket, TicketEvent
from .outbox import enqueue
from .replies import to_member
from .workcalendar import at

log = logging.getLogger(__name__)


def branch_measures(session, branch_id: str, start: datetime, end: datetime) -> dict:
    """Average response hours, satisfaction % and participation % of a branch in a period."""
    created = [Ticket.branch_id == branch_id, Ticket.created_at >= start, Ticket.created_at < end]
    average = session.scalar(select(func.avg(hours_between(session, Ticket.created_at, Ticket.first_response_at)))
                             .where(*created, Ticket.first_response_at.is_not(None)))
    figures = ticket_figures(session, created, end, rating_conditions=[
        Ticket.branch_id == branch_id, TicketEvent.at >= start, TicketEvent.at < end])
    members = session.scalars(select(Member.userid).where(Member.branch_id == branch_id, Member.active)).all()
    acting = set(session.scalars(
        select(func.distinct(TicketEvent.actor)).join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(Ticket.branch_id == branch_id, TicketEvent.at >= start, TicketEvent.at < end,
               TicketEvent.actor.like("member:%"))).all())
    participating = [m for m in members if f"member:{m}" in acting]
    received = session.scalar(select(func.count()).select_from(Ticket).where(*created)) or 0
    return {
        "response_h": round(float(average), 1) if average is not None else None,
        "satisfaction_pct": figures.satisfaction_pct,
        # Participation means something only where there was work to take part in.
        "participation_pct": round(100.0 * len(participating) / len(members), 1) if members and received else None,
    }


def breaches(measures: dict, standards: dict, high_gap: float) -> list[dict]:
    """Each measure on the wrong side of its standard, with the gap and the alert level."""
    found = []
    for metric, actual in measures.items():
        if actual is None:
            continue
        standard = float(standards[metric])
        gap = actual - standard if metric == "response_h" else standard - actual
        if gap > 0:
            found.append({"metric": metric, "actual": actual, "standard": standard, "gap": round(gap, 1),
                          "level": "high" if gap > high_gap else "medium"})
    return found


def _shown(metric: str, value: float) -> str:
    return (texts.UNIT_HOURS if metric == "response_h" else texts.UNIT_PERCENT).format(value=value)


def monitor_compliance(bot) -> int:
    """Alerts each secretary once a day about the standards their branch misses."""
    opts = bot.cfg["compliance"]
    now = bot.clock.now()
    local = now.astimezone(bot.tz)
    if now < at(local.date(), opts["time"], bot.tz):
        return 0
    end = now
    start = end - timedelta(days=float(opts["period_days"]))
    period = local.date().isoformat()
    sent = 0
    with bot.db.session() as session:
        for branch in session.scalars(select(Branch).where(Branch.secretary_id.is_not(None))).all():
            measures = branch_measures(session, branch.id, start, end)
            for breach in breaches(measures, opts, float(opts["high_gap"])):
                metric = breach["metric"]
                if not insert_ignore(session, ScheduledSend, kind=f"compliance:{metric}", scope=branch.id,
                                     period=period, at=now):
                    continue
                message = texts.COMPLIANCE_ALERT.format(
                    level=texts.LEVELS[breach["level"]], branch=branch.name, days=opts["period_days"],
                    metric=texts.COMPLIANCE_METRICS[metric], actual=_shown(metric, breach["actual"]),
                    standard=_shown(metric, breach["standard"]), gap=_shown(metric, breach["gap"]))
                enqueue(session, [alert_reply(bot, branch.secretary_id, branch.id, metric, breach["level"],
                                              message, start, end)], now)
                log.warning("compliance %s for %s: %s", breach["level"], branch.id, breach)
                sent += 1
    return sent


def check_calendar(bot) -> int:
    """Tells the log and every secretary, once a year, when holidays of a coming year are unknown."""
    now = bot.clock.now()
    years = sorted({now.astimezone(bot.tz).year, (now + timedelta(days=60)).astimezone(bot.tz).year})
    told = 0
    with bot.db.session() as session:
        for year in years:
            if bot.calendar.knows(year):
                continue
            if not insert_ignore(session, ScheduledSend, kind="calendar", scope="all", period=str(year), at=now):
                continue
            log.warning("no holiday data for %s: due times count weekends only until calendar.* is set", year)
            secretaries = session.scalars(select(Branch.secretary_id).where(Branch.secretary_id.is_not(None))).all()
            enqueue(session, [to_member(s, texts.CALENDAR_UNKNOWN.format(year=year)) for s in secretaries], now)
            told += 1
    return told
