"""The SLA sweep: a reminder to the assignee at a share of each window, an escalation to the
secretary at breach; each once per ticket, stage, level and round (a unique row).

Due times are set on the ticket when its state changes; the sweep only compares them with
now. Non-urgent notices wait for quiet hours to end; a ticket waiting for the resident,
or resolved, is chased by nobody.
"""
from __future__ import annotations

import logging

from sqlalchemy import exists, or_, select

from . import texts
from .db import insert_ignore
from .models import Branch, Member, SlaNotice, Ticket
from .outbox import enqueue
from .privacy import mask_pii
from .replies import Reply, to_member
from .tickets import RUNNING_STATUSES, local_time

log = logging.getLogger(__name__)


def _stage_open(stage: str):
    if stage == "response":
        return Ticket.first_response_at.is_(None)
    # A reopened ticket needs another reply: its reply window runs again.
    return or_(Ticket.first_reply_at.is_(None), Ticket.status == "reopened")


def _round(stage: str):
    return 0 if stage == "response" else Ticket.reopen_count


CHECKS = (("response", "remind", Ticket.response_remind_at), ("response", "escalate", Ticket.response_due_at),
          ("reply", "remind", Ticket.reply_remind_at), ("reply", "escalate", Ticket.reply_due_at))


def _left(now, due) -> str:
    minutes = max(0, int((due - now).total_seconds() // 60))
    return f"{minutes // 60}小时{minutes % 60}分钟" if minutes >= 60 else f"{minutes}分钟"


# A batch goes as WeCom markdown (at most 4096 bytes); a longer one is split.
BATCH_BYTES = 4000


def _batch_line(bot, ticket, stage, level, due, assignee) -> str:
    link = str(bot.cfg["sla"].get("ticket_link") or "")
    no = f"[{ticket.no}]({link.format(no=ticket.no)})" if link else ticket.no
    return texts.SLA_BATCH_LINE.format(no=no, stage=texts.STAGE_NAMES[stage], due=local_time(due, bot.tz),
                                       assignee=assignee.name if assignee else texts.SLA_UNASSIGNED)


def batched(notices: dict) -> list:
    """One message per person per sweep: alone as it was, or several as one list (split at 4000 bytes)."""
    replies = []
    for to, items in notices.items():
        if len(items) == 1:
            replies.append(to_member(to, items[0][1]))
            continue
        lines = []
        for level, head in (("escalate", texts.SLA_BATCH_ESCALATE), ("remind", texts.SLA_BATCH_REMIND)):
            mine = [line for lvl, _, line in items if lvl == level]
            if mine:
                lines += [head.format(n=len(mine)), *mine]
        chunk: list[str] = []
        for line in lines:
            if chunk and len("\n".join([*chunk, line, texts.SLA_BATCH_FOOT]).encode()) > BATCH_BYTES:
                replies.append(_markdown(to, chunk))
                chunk = []
            chunk.append(line)
        replies.append(_markdown(to, chunk))
    return replies


def _markdown(to: str, lines: list[str]) -> Reply:
    return Reply("wecom", to, "markdown", {"content": "\n".join([*lines, texts.SLA_BATCH_FOOT])})


def sweep_sla(bot, limit: int = 500) -> int:
    """Sends the reminders and escalations that have come due, one message per person; returns how many."""
    now = bot.clock.now()
    quiet = bot.calendar.in_quiet_hours(now, bot.cfg["sla"]["quiet_hours"])
    sent = 0
    notices: dict[str, list] = {}
    with bot.db.session() as session:
        for stage, level, moment in CHECKS:
            done = exists().where(SlaNotice.ticket_id == Ticket.id, SlaNotice.stage == stage,
                                  SlaNotice.level == level, SlaNotice.round == _round(stage))
            query = select(Ticket).where(Ticket.status.in_(RUNNING_STATUSES), moment.is_not(None),
                                         moment <= now, _stage_open(stage), ~done)
            if quiet:
                query = query.where(Ticket.priority == "urgent")
            for ticket in session.scalars(query.order_by(moment).limit(limit)).all():
                round_ = 0 if stage == "response" else ticket.reopen_count
                if not insert_ignore(session, SlaNotice, ticket_id=ticket.id, stage=stage, level=level,
                                     round=round_, at=now):
                    continue
                due = ticket.response_due_at if stage == "response" else ticket.reply_due_at
                branch = session.get(Branch, ticket.branch_id) if ticket.branch_id else None
                secretary = branch.secretary_id if branch else None
                assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
                words = dict(no=ticket.no, stage=texts.STAGE_NAMES[stage], due=local_time(due, bot.tz),
                             text=mask_pii(ticket.text)[:60])
                if level == "remind":
                    to = ticket.assignee_id or secretary
                    message = texts.SLA_REMIND.format(left=_left(now, due), **words)
                else:
                    to = secretary or ticket.assignee_id
                    message = texts.SLA_ESCALATE.format(assignee=assignee.name if assignee else "未分派", **words)
                if to:
                    notices.setdefault(to, []).append(
                        (level, message, _batch_line(bot, ticket, stage, level, due, assignee)))
                    sent += 1
        enqueue(session, batched(notices), now)
    return sent
