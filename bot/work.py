"""What members and secretaries do with tickets, and what the resident hears of it.

Every action checks scope first: a member acts on tickets assigned to them or in their
grid, a secretary on every ticket of their branch. A refusal says why, changes nothing
and leaves an audit event.
"""
from __future__ import annotations

from sqlalchemy import case, func, or_, select, update

from . import points, texts
from .errors import Refused
from .models import (
    Branch,
    Category,
    Department,
    Grid,
    Member,
    Resident,
    Ticket,
    TicketEvent,
)
from .privacy import mask_name, mask_openid, mask_pii
from .replies import Reply, to_member, to_resident
from .talk.dates import plain
from .tickets import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    assignment_card,
    place_of,
    record_event,
    resident_actor,
    schedule_due,
    ticket_by_no,
    when,
)

CAN_ACCEPT = ("new", "assigned", "transferred", "reopened")


def is_secretary_of(member: Member, ticket: Ticket) -> bool:
    """A secretary acts on every ticket of their branch."""
    return member.role == "secretary" and ticket.branch_id is not None \
        and member.branch_id == ticket.branch_id


def in_scope(session, member: Member, ticket: Ticket) -> bool:
    """Whether the member may act on the ticket."""
    if ticket.assignee_id == member.userid or is_secretary_of(member, ticket):
        return True
    if ticket.grid_id:
        grid = session.get(Grid, ticket.grid_id)
        return grid is not None and member.userid in (grid.member_id, grid.backup_id)
    return False


def ticket_for(ctx, member: Member, no: str | None, action: str, allowed=OPEN_STATUSES) -> Ticket:
    """The ticket a member names, once scope and state allow the action; else Refused."""
    if not no:
        raise Refused(texts.W_NEED_NO.format(example=f"{action} 20261120-0001"))
    ticket = ticket_by_no(ctx.session, no)
    if ticket is None:
        raise Refused(texts.W_NO_SUCH.format(no=no))
    if not in_scope(ctx.session, member, ticket):
        record_event(ctx.session, ticket, "refused", f"member:{member.userid}", ctx.now, action=action)
        raise Refused(texts.W_OUT_OF_SCOPE.format(no=no))
    if ticket.status not in allowed:
        raise Refused(texts.W_CLOSED.format(no=no, action=action,
                                            status=texts.STATUS_NAMES.get(ticket.status, ticket.status)))
    return ticket


def _resident(ctx, ticket: Ticket) -> Resident | None:
    return ctx.session.get(Resident, ticket.resident_id) if ticket.resident_id else None


def _tell_resident(ctx, ticket: Ticket, content: str) -> list[Reply]:
    resident = _resident(ctx, ticket)
    return [to_resident(resident.openid, content)] if resident is not None else []


def _actor(member: Member) -> str:
    return f"member:{member.userid}"


def accept(ctx, member: Member, ticket: Ticket) -> list[Reply]:
    """Records the first response and tells the resident who took the ticket."""
    if ticket.first_response_at is not None and ticket.status not in ("transferred", "reopened"):
        return [ctx.reply(texts.W_ALREADY_ACCEPTED.format(no=ticket.no))]
    ticket.first_response_at = ticket.first_response_at or ctx.now
    ticket.assignee_id = member.userid if ticket.assignee_id is None else ticket.assignee_id
    ticket.status = "responded"
    record_event(ctx.session, ticket, "accepted", _actor(member), ctx.now)
    return [ctx.reply(texts.W_ACCEPTED.format(no=ticket.no, reply_due=when(ctx, ticket.reply_due_at))),
            *_tell_resident(ctx, ticket, texts.R_ACCEPTED.format(
                no=ticket.no, member=mask_name(member.name),
                reply_due=plain(ctx, ticket.reply_due_at, ticket.priority == "urgent")))]


def _answered(ticket: Ticket, now) -> None:
    """A reply or a resolution answers the resident: the first one stops both SLA clocks."""
    ticket.first_response_at = ticket.first_response_at or now
    ticket.first_reply_at = ticket.first_reply_at or now


def reply(ctx, member: Member, ticket: Ticket, text: str) -> list[Reply]:
    """Sends the member's answer to the resident; the first one is the first reply."""
    text = (text or "").strip()
    if not text:
        raise Refused(texts.W_EMPTY_REPLY.format(no=ticket.no))
    _answered(ticket, ctx.now)
    ticket.status = "replied"
    record_event(ctx.session, ticket, "replied", _actor(member), ctx.now, text=text)
    return [ctx.reply(texts.W_REPLIED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_REPLY.format(no=ticket.no, text=text,
                                                               member=f"党员{mask_name(member.name)}"))]


def resolve(ctx, member: Member, ticket: Ticket, summary: str) -> list[Reply]:
    """Closes the work and asks the resident, once, to rate it."""
    summary = (summary or "").strip()
    if not summary:
        raise Refused(texts.W_EMPTY_SUMMARY.format(no=ticket.no))
    _answered(ticket, ctx.now)
    ticket.status, ticket.resolved_at, ticket.rating = "resolved", ctx.now, None
    record_event(ctx.session, ticket, "resolved", _actor(member), ctx.now, summary=summary)
    # Once per ticket: resolving it again after a reopen earns nothing more.
    points.award(ctx.session, member.userid, points.for_resolution(ctx.cfg, ticket), f"办结工单 {ticket.no}",
                 f"resolved:{ticket.id}", ctx.now, ticket_id=ticket.id)
    return [ctx.reply(texts.W_RESOLVED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_RESOLVED.format(no=ticket.no, summary=summary))]


def ask(ctx, member: Member, ticket: Ticket, question: str) -> list[Reply]:
    """Asks the resident for more; the ticket waits and its clock stops until they answer."""
    question = (question or "").strip()
    if not question:
        raise Refused(texts.W_EMPTY_QUESTION.format(no=ticket.no))
    record_event(ctx.session, ticket, "asked", _actor(member), ctx.now, text=question, previous=ticket.status)
    ticket.status = "waiting"
    return [ctx.reply(texts.W_ASKED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_ASKED.format(no=ticket.no, question=question))]


def waiting_for(session, resident: Resident | None) -> Ticket | None:
    """The resident's ticket waiting for their answer, if any."""
    if resident is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.resident_id == resident.id, Ticket.status == "waiting")
                          .order_by(Ticket.updated_at.desc()).limit(1))


def answer_question(ctx, resident: Resident, ticket: Ticket, text: str) -> list[Reply]:
    """The resident answers: the clock resumes, due times move by the time spent waiting."""
    asked = ctx.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "asked")
                               .order_by(TicketEvent.id.desc()).limit(1))
    waited = ctx.now - asked.at
    for field in ("response_due_at", "response_remind_at", "reply_due_at", "reply_remind_at"):
        if getattr(ticket, field) is not None:
            setattr(ticket, field, getattr(ticket, field) + waited)
    ticket.status = asked.data.get("previous", "responded")
    record_event(ctx.session, ticket, "supplemented", resident_actor(resident), ctx.now, text=text[:1000],
                 waited_s=int(waited.total_seconds()))
    told = [to_member(ticket.assignee_id, texts.W_SUPPLEMENT.format(
        no=ticket.no, text=mask_pii(text)[:300], hours=round(waited.total_seconds() / 3600, 1)))] \
        if ticket.assignee_id else []
    return [ctx.reply(texts.R_SUPPLEMENT_THANKS.format(no=ticket.no)), *told]


def _find_target(session, ticket: Ticket, target: str):
    """A member of the ticket's branch, a department or a category, named by id or name."""
    target = target.strip()
    member = session.scalar(select(Member).where(
        Member.active, or_(Member.userid == target, Member.name == target),
        Member.branch_id == ticket.branch_id))
    if member is not None:
        return member
    department = session.scalar(select(Department).where(
        or_(Department.id == target, Department.name == target)))
    if department is not None:
        return department
    return session.get(Category, target)


def transfer(ctx, member: Member, ticket: Ticket, target_name: str) -> list[Reply]:
    """Hands the ticket to another member, department or category."""
    target = _find_target(ctx.session, ticket, target_name or "")
    if target is None:
        names = "、".join(d.name for d in ctx.session.scalars(select(Department).order_by(Department.id)))
        raise Refused(texts.W_TRANSFER_UNKNOWN.format(target=target_name, departments=names))
    replies = []
    if isinstance(target, Member):
        if target.userid == ticket.assignee_id:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        label = f"党员{target.name}"
        record_event(ctx.session, ticket, "transferred", _actor(member), ctx.now,
                     **{"from": ticket.assignee_id, "to": target.userid})
        ticket.assignee_id = target.userid
        resident = _resident(ctx, ticket)
        if resident is not None:
            replies.append(assignment_card(ctx, ticket, target, resident))
        resident_label = f"党员{mask_name(target.name)}"
    elif isinstance(target, Department):
        if target.id == ticket.department_id:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        label = resident_label = target.name
        record_event(ctx.session, ticket, "transferred", _actor(member), ctx.now,
                     department_from=ticket.department_id, department_to=target.id)
        ticket.department_id = target.id
    else:  # a category: a label the classifier can learn from
        if target.name == ticket.category:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        label = resident_label = f"“{target.name}”类"
        record_event(ctx.session, ticket, "recategorised", _actor(member), ctx.now,
                     category_from=ticket.category, category_to=target.name)
        ticket.category, ticket.department_id = target.name, target.department_id or ticket.department_id
    ticket.status = "transferred"
    return [ctx.reply(texts.W_TRANSFERRED.format(no=ticket.no, target=label)), *replies,
            *_tell_resident(ctx, ticket, texts.R_TRANSFERRED.format(no=ticket.no, target=resident_label))]


def assign(ctx, secretary: Member, ticket: Ticket, target_name: str) -> list[Reply]:
    """A secretary gives a ticket of the branch to one of its members."""
    if not is_secretary_of(secretary, ticket):
        raise Refused(texts.W_SECRETARY_ONLY.format(action="指派"))
    target = _find_target(ctx.session, ticket, target_name or "")
    if not isinstance(target, Member):
        raise Refused(texts.W_TRANSFER_UNKNOWN.format(target=target_name, departments="—"))
    record_event(ctx.session, ticket, "assigned", _actor(secretary), ctx.now,
                 assignee=target.userid, previous=ticket.assignee_id)
    ticket.assignee_id = target.userid
    ticket.status = "assigned" if ticket.first_response_at is None else ticket.status
    resident = _resident(ctx, ticket)
    card = [assignment_card(ctx, ticket, target, resident)] if resident is not None else []
    return [ctx.reply(texts.W_ASSIGNED.format(no=ticket.no, target=target.name)), *card]


def rate(ctx, resident: Resident, ticket: Ticket, rating: str) -> list[Reply] | None:
    """Records the resident's rating once; 不满意 reopens the ticket and alerts the secretary.

    Returns None when the ticket was rated meanwhile (the first answer counts).
    """
    taken = ctx.session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.status == "resolved")
                                .values(status="rated", rating=rating))
    if taken.rowcount != 1:
        return None
    ctx.session.refresh(ticket)
    actor = resident_actor(resident)
    record_event(ctx.session, ticket, "rated", actor, ctx.now, rating=rating)
    if rating != "不满意":
        ticket.status, ticket.closed_at = "closed", ctx.now
        record_event(ctx.session, ticket, "closed", "system", ctx.now)
        if rating == "满意" and ticket.assignee_id:
            points.award(ctx.session, ticket.assignee_id, int(ctx.cfg["points"]["praised"]),
                         f"工单 {ticket.no} 获居民满意", f"praised:{ticket.id}", ctx.now, ticket_id=ticket.id)
        return []
    ticket.status, ticket.resolved_at = "reopened", None
    ticket.reopen_count, ticket.reopened_at = (ticket.reopen_count or 0) + 1, ctx.now
    # A reopened ticket needs another answer: the reply window starts again.
    schedule_due(ctx.bot, ctx.session, ticket, ctx.now, response=False)
    record_event(ctx.session, ticket, "reopened", "system", ctx.now, reason="unsatisfied")
    branch = ctx.session.get(Branch, ticket.branch_id) if ticket.branch_id else None
    assignee = ctx.session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    alerts = []
    if branch is not None and branch.secretary_id:
        alerts.append(to_member(branch.secretary_id, texts.SECRETARY_ALERT_UNSATISFIED.format(
            no=ticket.no, assignee=assignee.name if assignee else "—")))
    if assignee is not None and assignee.userid != (branch.secretary_id if branch else None):
        alerts.append(to_member(assignee.userid, texts.SECRETARY_ALERT_UNSATISFIED.format(
            no=ticket.no, assignee=assignee.name)))
    return alerts


# -- what a member reads -------------------------------------------------------------------

def _due(ticket: Ticket):
    return ticket.response_due_at if ticket.first_response_at is None else ticket.reply_due_at


def queue_text(ctx, member: Member) -> str:
    """The member's open tickets, nearest due first (overdue at the top)."""
    rows = ctx.session.scalars(select(Ticket).where(Ticket.assignee_id == member.userid,
                                                    Ticket.status.in_(OPEN_STATUSES))).all()
    if not rows:
        return texts.W_QUEUE_EMPTY
    rows.sort(key=lambda t: _due(t) or ctx.now)
    lines = [texts.W_QUEUE_HEADER.format(n=len(rows))]
    for t in rows[:20]:
        due = _due(t)
        overdue = due is not None and due < ctx.now
        lines.append(texts.W_QUEUE_LINE.format(
            flag="【待补充】" if t.status == "waiting" else "【超期】" if overdue else (
                "【紧急】" if t.priority == "urgent" else ""),
            no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), category=t.category,
            due=f"{when(ctx, due)}前{'响应' if t.first_response_at is None else '答复'}",
            text=mask_pii(t.text)[:40]))
    return "\n".join(lines)


def _overdue_where(branch_id: str, now):
    return (Ticket.branch_id == branch_id, Ticket.status.in_(RUNNING_STATUSES),
            or_(Ticket.first_response_at.is_(None) & (Ticket.response_due_at < now),
                Ticket.first_reply_at.is_(None) & (Ticket.reply_due_at < now),
                (Ticket.status == "reopened") & (Ticket.reply_due_at < now)))


def overdue_tickets(session, branch_id: str, now, limit: int | None = None) -> list[Ticket]:
    """Open tickets of a branch past their response or reply due time (督办台账), most overdue first."""
    due = case((Ticket.first_response_at.is_(None), Ticket.response_due_at), else_=Ticket.reply_due_at)
    query = select(Ticket).where(*_overdue_where(branch_id, now)).order_by(due, Ticket.id)
    return session.scalars(query.limit(limit) if limit else query).all()


def overdue_count(session, branch_id: str, now) -> int:
    """How many tickets of a branch are overdue."""
    return session.scalar(select(func.count()).select_from(Ticket).where(*_overdue_where(branch_id, now))) or 0


def overdue_text(ctx, secretary: Member) -> str:
    """The branch's 督办台账 for its secretary."""
    if secretary.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action="督办"))
    rows = overdue_tickets(ctx.session, secretary.branch_id, ctx.now, limit=30)
    if not rows:
        return texts.W_OVERDUE_EMPTY
    lines = [texts.W_OVERDUE_HEADER.format(n=overdue_count(ctx.session, secretary.branch_id, ctx.now))]
    for t in rows:
        assignee = ctx.session.get(Member, t.assignee_id) if t.assignee_id else None
        hours = int((ctx.now - (_due(t) or ctx.now)).total_seconds() // 3600)
        lines.append(texts.W_OVERDUE_LINE.format(
            no=t.no, assignee=assignee.name if assignee else "未分派",
            status=texts.STATUS_NAMES.get(t.status, t.status), hours=hours, text=mask_pii(t.text)[:40]))
    return "\n".join(lines)


def detail_text(ctx, ticket: Ticket) -> str:
    """One ticket and its history, with personal data masked."""
    session = ctx.session
    grid = session.get(Grid, ticket.grid_id) if ticket.grid_id else None
    department = session.get(Department, ticket.department_id) if ticket.department_id else None
    assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    resident = _resident(ctx, ticket)
    head = texts.W_DETAIL.format(
        no=ticket.no, status=texts.STATUS_NAMES.get(ticket.status, ticket.status),
        priority=texts.PRIORITY_NAMES[ticket.priority], category=ticket.category,
        department=department.name if department else "—", place=place_of(ticket, grid),
        assignee=assignee.name if assignee else "未分派", response_due=when(ctx, ticket.response_due_at),
        reply_due=when(ctx, ticket.reply_due_at), text=mask_pii(ticket.text))
    lines = [head]
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id)):
        what = texts.EVENT_NAMES.get(event.kind, event.kind)
        extra = event.data.get("text") or event.data.get("summary") or event.data.get("rating") or ""
        if extra:
            what += "：" + mask_pii(str(extra))[:60]
        if event.actor.startswith("resident:") and resident is not None:
            what += f"（{mask_openid(resident.openid)}）"
        lines.append(texts.W_DETAIL_EVENT.format(at=when(ctx, event.at), what=what))
    return "\n".join(lines)
