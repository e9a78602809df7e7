"""The #15 scheduled sends, each once per scope and period (a ScheduledSend row in the same transaction)."""
from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import func, select

from .. import texts
from ..db import insert_ignore
from ..models import Branch, Member, ScheduledSend, TicketEvent
from ..outbox import enqueue
from ..replies import to_member
from ..workcalendar import at


def handled_count(session, userid: str, start: datetime, end: datetime) -> int:
    """Tickets a member resolved (办结) in a period: the monthly minimum counts these."""
    return session.scalar(select(func.count(func.distinct(TicketEvent.ticket_id))).where(
        TicketEvent.kind == "resolved", TicketEvent.actor == f"member:{userid}",
        TicketEvent.at >= start, TicketEvent.at < end)) or 0


def check_monthly_minimum(bot) -> int:
    """On members.monthly_check_day: a friendly reminder to members below the minimum, a list to the secretary."""
    opts = bot.cfg["members"]
    now = bot.clock.now()
    local = now.astimezone(bot.tz)
    if now < at(local.date().replace(day=int(opts["monthly_check_day"])), opts["monthly_check_time"], bot.tz):
        return 0
    minimum = int(opts["monthly_min_handled"])
    start = datetime.combine(local.date().replace(day=1), time(0), tzinfo=bot.tz)
    period = local.strftime("%Y-%m")
    sent = 0
    with bot.db.session() as session:
        for branch in session.scalars(select(Branch).order_by(Branch.id)).all():
            if not insert_ignore(session, ScheduledSend, kind="monthly_min", scope=branch.id, period=period, at=now):
                continue
            members = session.scalars(select(Member).where(Member.active, Member.branch_id == branch.id,
                                                           Member.role != "secretary").order_by(Member.userid))
            below = [(m, n) for m in members if (n := handled_count(session, m.userid, start, now)) < minimum]
            replies = [to_member(m.userid, texts.MONTHLY_MIN_MEMBER.format(n=n, min=minimum)) for m, n in below]
            if below and branch.secretary_id:
                replies.append(to_member(branch.secretary_id, texts.MONTHLY_MIN_SECRETARY.format(
                    min=minimum, lines="\n".join(texts.MONTHLY_MIN_LINE.format(name=m.name, n=n) for m, n in below))))
            enqueue(session, replies, now)
            sent += len(replies)
    return sent
