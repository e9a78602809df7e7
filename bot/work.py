"""What members and secretaries do with tickets, and what the resident and followers hear of it.

Every action checks scope first: a member acts on tickets assigned to them or in their
grid, a secretary on every ticket of their branch. A refusal says why, changes nothing
and leaves an audit event. Status, assignee and due times change only through
bot.lifecycle.apply; whoever accepts a ticket owns it, and credit goes to whoever resolved it.
"""
from __future__ import annotations

from sqlalchemy import case, func, literal, or_, select

from . import kv, lifecycle, points, texts
from .errors import Refused
from .lifecycle import ACCEPTABLE, OPEN, TicketStatus, rating_code
from .lifecycle.page import page_url
from .models import (
    Branch,
    Category,
    Department,
    Grid,
    Member,
    Resident,
    Ticket,
    TicketEvent,
    TicketFollower,
)
from .participation.proxy import card_for as proxy_card
from .privacy import mask_name, mask_pii
from .replies import Reply, to_member, to_resident
from .talk.dates import plain
from .tickets import (
    OPEN_STATUSES,
    RUNNING_STATUSES,
    assignment_card,
    due_times,
    place_of,
    record_event,
    resident_actor,
    ticket_by_no,
    when,
)

CAN_ACCEPT = tuple(sorted(ACCEPTABLE))
PHOTO_WAIT = "resolution-photos"


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


def sees_full_address(session, member: Member | None, ticket: Ticket) -> bool:
    """The assigned member and the branch secretary must find the place: they see the exact address."""
    return member is not None and (ticket.assignee_id == member.userid or is_secretary_of(member, ticket))


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


def refuse_role(ctx, member: Member, no: str | None, action: str):
    """Refuses a secretary's command to a member, leaving an audit event on the ticket named."""
    ticket = ticket_by_no(ctx.session, no) if no else None
    if ticket is not None:
        record_event(ctx.session, ticket, "refused", f"member:{member.userid}", ctx.now, action=action)
    raise Refused(texts.W_SECRETARY_ONLY.format(action=action))


def _resident(ctx, ticket: Ticket) -> Resident | None:
    return ctx.session.get(Resident, ticket.resident_id) if ticket.resident_id else None


def _tell_resident(ctx, ticket: Ticket, content: str) -> list[Reply]:
    resident = _resident(ctx, ticket)
    if resident is None:   # #15 代录: the member who entered the ticket relays it
        from .participation.proxy import relay
        return relay(ctx, ticket, content)
    return [to_resident(resident.openid, content)]


def followers(session, ticket: Ticket) -> list[Resident]:
    """The residents who follow the ticket (not its reporter), oldest first."""
    return list(session.scalars(select(Resident).join(TicketFollower, TicketFollower.resident_id == Resident.id)
                                .where(TicketFollower.ticket_id == ticket.id,
                                       Resident.id != (ticket.resident_id or -1),
                                       Resident.openid.not_like("erased:%"))
                                .order_by(TicketFollower.id)))


def _tell_followers(ctx, ticket: Ticket, template: str, **words) -> list[Reply]:
    return [to_resident(r.openid, template.format(no=ticket.no, **words))
            for r in followers(ctx.session, ticket)]


def follow(session, ticket: Ticket, resident: Resident, now, via: str = "follow") -> bool:
    """Stores the resident as a follower of the ticket (once); True when new."""
    if ticket.resident_id == resident.id:   # their own ticket: the record says they asked about it
        record_event(session, ticket, "followed", resident_actor(resident), now, via="own")
        return False
    if session.scalar(select(TicketFollower.id).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.resident_id == resident.id)) is not None:
        return False
    session.add(TicketFollower(ticket_id=ticket.id, resident_id=resident.id, via=via, created_at=now))
    record_event(session, ticket, "followed", resident_actor(resident), now, via=via)
    return True


def _actor(member: Member) -> str:
    return f"member:{member.userid}"


def _member_of(actor: str | None) -> str | None:
    return actor.split(":", 1)[1] if actor and actor.startswith("member:") else None


def resolver_of(session, ticket: Ticket) -> str | None:
    """The userid of the member who last resolved the ticket: the one who gets the credit."""
    actor = session.scalar(select(TicketEvent.actor).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolved").order_by(TicketEvent.id.desc()).limit(1))
    return _member_of(actor)


def _hand_over(ctx, ticket: Ticket, member: Member, template: str) -> list[Reply]:
    """One line to the previous assignee when someone else takes the ticket over."""
    previous = ticket.assignee_id
    if previous and previous != member.userid:
        return [to_member(previous, template.format(no=ticket.no, member=member.name))]
    return []


def accept(ctx, member: Member, ticket: Ticket) -> list[Reply]:
    """接单: the member who accepts owns the ticket; the previous assignee is told; the resident hears who."""
    if ticket.status not in ACCEPTABLE:
        return [ctx.reply(texts.W_ALREADY_ACCEPTED.format(no=ticket.no))]
    told = _hand_over(ctx, ticket, member, texts.W_TAKEN_OVER)
    previous = ticket.assignee_id
    ticket.first_response_at = ticket.first_response_at or ctx.now
    lifecycle.apply(ctx.session, ticket, "accepted", _actor(member), ctx.now, assignee=member.userid,
                    previous=previous if previous != member.userid else None)
    masked = mask_name(member.name)
    return [ctx.reply(texts.W_ACCEPTED.format(no=ticket.no, reply_due=when(ctx, ticket.reply_due_at))), *told,
            *_tell_resident(ctx, ticket, texts.R_ACCEPTED.format(
                no=ticket.no, member=masked, reply_due=plain(ctx, ticket.reply_due_at, ticket.priority == "urgent"))),
            *_tell_followers(ctx, ticket, texts.R_FOLLOW_ACCEPTED, member=masked)]


def _answered(ticket: Ticket, now) -> None:
    """A reply or a resolution answers the resident: the first one stops both SLA clocks."""
    ticket.first_response_at = ticket.first_response_at or now
    ticket.first_reply_at = ticket.first_reply_at or now


def reply(ctx, member: Member, ticket: Ticket, text: str) -> list[Reply]:
    """Sends the member's answer to the resident (followers get a short notice); the first one is the first reply."""
    text = (text or "").strip()
    if not text:
        raise Refused(texts.W_EMPTY_REPLY.format(no=ticket.no))
    _answered(ticket, ctx.now)
    lifecycle.apply(ctx.session, ticket, "replied", _actor(member), ctx.now, text=text)
    return [ctx.reply(texts.W_REPLIED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_REPLY.format(no=ticket.no, text=text,
                                                               member=f"党员{mask_name(member.name)}")),
            *_tell_followers(ctx, ticket, texts.R_FOLLOW_REPLIED, text=mask_pii(text)[:60])]


def photo_window_min(cfg) -> int:
    """Minutes after 办结 in which the member's photos go to the resident."""
    return int(cfg["lifecycle"]["resolution_photo_minutes"])


def resolve(ctx, member: Member, ticket: Ticket, summary: str) -> list[Reply]:
    """办结: the resolver owns the ticket and earns its points; the resident is asked, once, to rate it."""
    summary = (summary or "").strip()
    if not summary:
        raise Refused(texts.W_EMPTY_SUMMARY.format(no=ticket.no))
    told = _hand_over(ctx, ticket, member, texts.W_TAKEN_OVER)
    _answered(ticket, ctx.now)
    ticket.resolved_at, ticket.rating = ctx.now, None
    lifecycle.apply(ctx.session, ticket, "resolved", _actor(member), ctx.now, assignee=member.userid,
                    summary=summary)
    # Once per ticket: resolving it again after a reopen earns nothing more.
    points.award(ctx.session, member.userid, points.for_resolution(ctx.cfg, ticket), f"办结工单 {ticket.no}",
                 f"resolved:{ticket.id}", ctx.now, ticket_id=ticket.id)
    minutes = photo_window_min(ctx.cfg)
    key, no, redis = kv.key(PHOTO_WAIT, member.userid), ticket.no, ctx.redis
    ctx.after_commit.append(lambda: redis.set(key, no, ex=minutes * 60))
    return [ctx.reply(texts.W_RESOLVED.format(no=ticket.no) + "\n" + texts.W_RESOLVE_PHOTOS.format(minutes=minutes)),
            *told,
            *_tell_resident(ctx, ticket, texts.R_RESOLVED.format(no=ticket.no, summary=summary)),
            *_tell_followers(ctx, ticket, texts.R_FOLLOW_RESOLVED, summary=mask_pii(summary)[:60])]


def resolution_photo(ctx, member: Member, media_id: str) -> list[Reply]:
    """A member's photo after 办结: forwarded to the resident as a customer-service image."""
    minutes = photo_window_min(ctx.cfg)
    no = ctx.redis.get(kv.key(PHOTO_WAIT, member.userid))
    ticket = ticket_by_no(ctx.session, no) if no else None
    # A resident who rates at once (rated / closed) must not cost the member the photo (#20).
    if ticket is None or not media_id or ticket.assignee_id != member.userid \
            or ticket.status not in lifecycle.DONE:
        return [ctx.reply(texts.W_PHOTO_NO_TICKET.format(minutes=minutes))]
    record_event(ctx.session, ticket, "resolution_photo", _actor(member), ctx.now, media_id=media_id)
    resident = _resident(ctx, ticket)
    forwarded = [Reply("wechat", resident.openid, "image", {"from_wecom_media_id": media_id})] \
        if resident is not None else []
    return [ctx.reply(texts.W_PHOTO_FORWARDED.format(no=ticket.no)), *forwarded]


def ask(ctx, member: Member, ticket: Ticket, question: str) -> list[Reply]:
    """询问: asks the resident for more; the ticket waits, its clock stops, and the answer goes to the asker."""
    question = (question or "").strip()
    if not question:
        raise Refused(texts.W_EMPTY_QUESTION.format(no=ticket.no))
    lifecycle.apply(ctx.session, ticket, "asked", _actor(member), ctx.now, text=question, previous=ticket.status)
    return [ctx.reply(texts.W_ASKED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_ASKED.format(no=ticket.no, question=question))]


def waiting_for(session, resident: Resident | None) -> Ticket | None:
    """The resident's ticket waiting for their answer, if any."""
    if resident is None:
        return None
    return session.scalar(select(Ticket).where(Ticket.resident_id == resident.id, Ticket.status == "waiting")
                          .order_by(Ticket.updated_at.desc()).limit(1))


def _extension(waited) -> str:
    minutes = int(waited.total_seconds() // 60)
    if minutes < 1:
        return ""
    if minutes < 60:
        return "\n" + texts.W_EXTENDED_MIN.format(minutes=minutes)
    return "\n" + texts.W_EXTENDED_H.format(hours=round(minutes / 60, 1))


def answer_question(ctx, resident: Resident | None, ticket: Ticket, text: str, actor: str | None = None) -> list[Reply]:
    """The resident answers: it goes to the member who asked; due times move by the time spent waiting.

    `actor`: who typed the answer for a resident without WeChat (#15 代答)."""
    asked = ctx.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "asked")
                               .order_by(TicketEvent.id.desc()).limit(1))
    waited = ctx.now - asked.at
    due = {field: getattr(ticket, field) + waited for field in lifecycle.DUE_FIELDS
           if getattr(ticket, field) is not None}
    previous = asked.data.get("previous", "responded")
    lifecycle.apply(ctx.session, ticket, "supplemented", actor or resident_actor(resident), ctx.now,
                    to=previous if previous in lifecycle.targets("supplemented", "waiting") else None,
                    due=due, text=text[:1000], waited_s=int(waited.total_seconds()))
    asker_id = _member_of(asked.actor) or ticket.assignee_id
    asker = ctx.session.get(Member, asker_id) if asker_id else None
    told = []
    if asker is not None:
        shown = mask_pii(text, keep_address=sees_full_address(ctx.session, asker, ticket))[:300]
        told.append(to_member(asker.userid, texts.W_SUPPLEMENTED.format(no=ticket.no, text=shown)
                              + _extension(waited)))
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


def open_load(session, userid: str) -> int:
    """How many open tickets a member holds."""
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.assignee_id == userid, Ticket.status.in_(OPEN_STATUSES))) or 0


def department_handler(session, department: Department) -> Member | None:
    """Who takes a department's ticket: its duty member, else the least-loaded handler (present, active)."""
    ids = [u for u in [department.duty_id, *(department.handlers or [])] if u]
    people = [m for m in (session.get(Member, u) for u in dict.fromkeys(ids)) if m is not None and m.active]
    present = [m for m in people if not m.away]
    if not present:
        return None
    if department.duty_id and present[0].userid == department.duty_id:
        return present[0]
    return min(present, key=lambda m: (open_load(session, m.userid), m.userid))


def transfer(ctx, member: Member, ticket: Ticket, target_name: str) -> list[Reply]:
    """转派: hands the ticket to a member, to a department's handler, or to another category."""
    target = _find_target(ctx.session, ticket, target_name or "")
    if target is None:
        names = "、".join(d.name for d in ctx.session.scalars(select(Department).order_by(Department.id)))
        raise Refused(texts.W_TRANSFER_UNKNOWN.format(target=target_name, departments=names))
    if isinstance(target, Category):  # a label the classifier can learn from: nobody new takes it
        if target.name == ticket.category:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        record_event(ctx.session, ticket, "recategorised", _actor(member), ctx.now,
                     category_from=ticket.category, category_to=target.name)
        ticket.category, ticket.department_id = target.name, target.department_id or ticket.department_id
        label = f"“{target.name}”类"
        return [ctx.reply(texts.W_TRANSFERRED.format(no=ticket.no, target=label)),
                *_tell_resident(ctx, ticket, texts.R_TRANSFERRED.format(no=ticket.no, target=label))]
    data = {"from": ticket.assignee_id}
    if isinstance(target, Member):
        if target.userid == ticket.assignee_id:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        person, said = target, texts.W_TRANSFERRED.format(no=ticket.no, target=f"党员{target.name}")
        resident_label_ = f"党员{mask_name(target.name)}"
    else:
        person = department_handler(ctx.session, target)
        if person is None:
            raise Refused(texts.W_DEPT_NO_HANDLERS.format(name=target.name, id=target.id))
        if target.id == ticket.department_id and person.userid == ticket.assignee_id:
            raise Refused(texts.W_TRANSFER_SAME.format(no=ticket.no, target=target.name))
        data.update(department_from=ticket.department_id, department_to=target.id)
        ticket.department_id = target.id
        said = texts.W_DEPT_TRANSFERRED.format(no=ticket.no, department=target.name, member=person.name)
        resident_label_ = target.name
    told = [to_member(ticket.assignee_id, texts.W_TRANSFERRED.format(no=ticket.no, target=person.name))] \
        if ticket.assignee_id not in (None, member.userid, person.userid) else []
    lifecycle.apply(ctx.session, ticket, "transferred", _actor(member), ctx.now, assignee=person.userid,
                    to_member=person.userid, **data)
    resident = _resident(ctx, ticket)
    card = [assignment_card(ctx, ticket, person, resident)] if resident is not None \
        else proxy_card(ctx, ticket, person)   # #15: a 代录 or council follow-up ticket has no resident
    return [ctx.reply(said), *card, *told,
            *_tell_resident(ctx, ticket, texts.R_TRANSFERRED.format(no=ticket.no, target=resident_label_)),
            *_tell_followers(ctx, ticket, texts.R_FOLLOW_TRANSFERRED, target=resident_label_)]


def assign(ctx, secretary: Member, ticket: Ticket, target_name: str) -> list[Reply]:
    """指派: a secretary gives a ticket of the branch to one of its members, who must accept it."""
    if not is_secretary_of(secretary, ticket):
        raise Refused(texts.W_SECRETARY_ONLY.format(action="指派"))
    target = _find_target(ctx.session, ticket, target_name or "")
    if not isinstance(target, Member):
        raise Refused(texts.W_TRANSFER_UNKNOWN.format(target=target_name, departments="—"))
    if not lifecycle.allowed("assigned", ticket.status):
        raise Refused(texts.W_CLOSED.format(no=ticket.no, action="指派",
                                            status=texts.STATUS_NAMES.get(ticket.status, ticket.status)))
    told = _hand_over(ctx, ticket, target, texts.W_TAKEN_OVER)
    lifecycle.apply(ctx.session, ticket, "assigned", _actor(secretary), ctx.now, assignee=target.userid,
                    previous=ticket.assignee_id)
    resident = _resident(ctx, ticket)
    card = [assignment_card(ctx, ticket, target, resident)] if resident is not None \
        else proxy_card(ctx, ticket, target)   # #15: a 代录 or council follow-up ticket has no resident
    return [ctx.reply(texts.W_ASSIGNED.format(no=ticket.no, target=target.name)), *card, *told]


def _locked(ctx, ticket: Ticket) -> Ticket:
    """The ticket re-read under a row lock, so two answers at once cannot both count."""
    return ctx.session.scalar(select(Ticket).where(Ticket.id == ticket.id).with_for_update()
                              .execution_options(populate_existing=True))


def rate(ctx, resident: Resident, ticket: Ticket, rating: str) -> list[Reply] | None:
    """Records the reporter's rating once; 不满意 reopens the ticket and alerts secretary and assignee.

    Returns None when the ticket was rated meanwhile (the first answer counts).
    """
    code = rating_code(rating)
    ticket = _locked(ctx, ticket)
    if code is None or ticket.status != TicketStatus.RESOLVED:
        return None
    resolver = resolver_of(ctx.session, ticket)
    actor = resident_actor(resident)
    ticket.rating = code
    lifecycle.apply(ctx.session, ticket, "rated", actor, ctx.now, rating=code, resolver=resolver)
    if code != "unsatisfied":
        ticket.closed_at = ctx.now
        lifecycle.apply(ctx.session, ticket, "closed", "system", ctx.now)
        if code == "satisfied" and resolver:
            points.award(ctx.session, resolver, int(ctx.cfg["points"]["praised"]),
                         f"工单 {ticket.no} 获居民满意", f"praised:{ticket.id}", ctx.now, ticket_id=ticket.id)
        return []
    ticket.resolved_at = None
    ticket.reopen_count, ticket.reopened_at = (ticket.reopen_count or 0) + 1, ctx.now
    # A reopened ticket needs another answer: the reply window starts again.
    lifecycle.apply(ctx.session, ticket, "reopened", "system", ctx.now, reason="unsatisfied",
                    due=due_times(ctx.bot, ctx.session, ticket, ctx.now, response=False))
    branch = ctx.session.get(Branch, ticket.branch_id) if ticket.branch_id else None
    assignee = ctx.session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    secretary_id = branch.secretary_id if branch else None
    alerts = []
    if secretary_id and (assignee is None or assignee.userid != secretary_id):
        alerts.append(to_member(secretary_id, texts.SECRETARY_ALERT_UNSATISFIED.format(
            no=ticket.no, assignee=assignee.name if assignee else "—")))
    if assignee is not None:
        alerts.append(to_member(assignee.userid, texts.W_UNSATISFIED_ASSIGNEE.format(no=ticket.no)))
    return [*alerts, *_tell_followers(ctx, ticket, texts.R_FOLLOW_REOPENED)]


def follower_row(session, ticket: Ticket, resident: Resident | None) -> TicketFollower | None:
    """The resident's follow of the ticket, if they follow it."""
    if resident is None:
        return None
    return session.scalar(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                       TicketFollower.resident_id == resident.id))


def rate_as_follower(ctx, resident: Resident, ticket: Ticket, rating: str) -> list[Reply] | None:
    """A follower's rating: kept beside the reporter's, counting for neither SLA nor appraisal."""
    code, row = rating_code(rating), follower_row(ctx.session, ticket, resident)
    if code is None or row is None or row.rating is not None:
        return None
    row.rating, row.rated_at = code, ctx.now
    record_event(ctx.session, ticket, "follower_rated", resident_actor(resident), ctx.now, rating=code)
    return []


def merge(ctx, secretary: Member, ticket: Ticket, into_no: str) -> list[Reply]:
    """合并: a duplicate joins the ticket it repeats; its reporter (and followers) follow that one instead."""
    if not is_secretary_of(secretary, ticket):
        raise Refused(texts.W_SECRETARY_ONLY.format(action="合并"))
    if not into_no:
        raise Refused(texts.W_MERGE_USAGE)
    if into_no == ticket.no:
        raise Refused(texts.W_MERGE_SELF.format(no=ticket.no))
    into = ticket_by_no(ctx.session, into_no)
    if into is None:
        raise Refused(texts.W_NO_SUCH.format(no=into_no))
    if into.status not in OPEN or into.duplicate_of is not None:
        raise Refused(texts.W_MERGE_TARGET_DONE.format(
            into=into.no, status=texts.STATUS_NAMES.get(into.status, into.status)))
    ticket.duplicate_of, ticket.closed_at = into.id, ctx.now
    lifecycle.apply(ctx.session, ticket, "merged", _actor(secretary), ctx.now, into=into.no)
    record_event(ctx.session, into, "merged_in", _actor(secretary), ctx.now, duplicate=ticket.no)
    reporter = _resident(ctx, ticket)
    moved = [reporter] if reporter is not None else []
    moved += followers(ctx.session, ticket)
    for resident in moved:
        follow(ctx.session, into, resident, ctx.now, via="merge")
    said = [to_resident(r.openid, texts.R_MERGED.format(no=ticket.no, into=into.no)) for r in moved]
    return [ctx.reply(texts.W_MERGED.format(no=ticket.no, into=into.no)), *said]


def close_unresolved(ctx, secretary: Member, ticket: Ticket, reason: str) -> list[Reply]:
    """关闭: a secretary closes a ticket that cannot be fixed; the resident and followers hear why."""
    if not is_secretary_of(secretary, ticket):
        raise Refused(texts.W_SECRETARY_ONLY.format(action="关闭"))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(texts.W_CLOSE_USAGE)
    ticket.closed_at = ctx.now
    lifecycle.apply(ctx.session, ticket, "closed_unresolved", _actor(secretary), ctx.now, reason=reason[:500])
    return [ctx.reply(texts.W_CLOSED_UNRESOLVED.format(no=ticket.no)),
            *_tell_resident(ctx, ticket, texts.R_CLOSED_UNRESOLVED.format(no=ticket.no, reason=reason[:500])),
            *_tell_followers(ctx, ticket, texts.R_FOLLOW_CLOSED, reason=mask_pii(reason)[:100])]


# -- what a member reads -------------------------------------------------------------------

def _due(ticket: Ticket):
    return ticket.response_due_at if ticket.first_response_at is None else ticket.reply_due_at


QUEUE_SHOWN = 20


def queue_text(ctx, member: Member) -> str:
    """The member's open tickets, nearest due first (overdue at the top).

    Counted, sorted and cut to the first QUEUE_SHOWN in SQL (#19): a member with a thousand
    open tickets costs what one with twenty does.
    """
    mine = (Ticket.assignee_id == member.userid, Ticket.status.in_(OPEN_STATUSES))
    total = ctx.session.scalar(select(func.count()).select_from(Ticket).where(*mine)) or 0
    if not total:
        return texts.W_QUEUE_EMPTY
    due = case((Ticket.first_response_at.is_(None), Ticket.response_due_at), else_=Ticket.reply_due_at)
    rows = ctx.session.execute(
        select(Ticket.no, Ticket.status, Ticket.priority, Ticket.category, Ticket.text,
               Ticket.first_response_at, Ticket.response_due_at, Ticket.reply_due_at)
        .where(*mine).order_by(func.coalesce(due, literal(ctx.now, Ticket.response_due_at.type)), Ticket.id)
        .limit(QUEUE_SHOWN)).all()
    lines = [texts.W_QUEUE_HEADER.format(n=total)]
    for t in rows:
        due_at = _due(t)
        overdue = due_at is not None and due_at < ctx.now
        lines.append(texts.W_QUEUE_LINE.format(
            flag="【待补充】" if t.status == "waiting" else "【超期】" if overdue else (
                "【紧急】" if t.priority == "urgent" else ""),
            no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), category=t.category,
            due=f"{when(ctx, due_at)}前{'响应' if t.first_response_at is None else '答复'}",
            text=mask_pii(t.text, keep_address=True)[:40]))   # their own: they must find it
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
            status=texts.STATUS_NAMES.get(t.status, t.status), hours=hours,
            text=mask_pii(t.text, keep_address=True)[:40]))
    return "\n".join(lines)


def member_names(session) -> dict:
    """Every member's name by userid, to say who did what in a history."""
    return dict(session.execute(select(Member.userid, Member.name)).all())


def event_line(event: TicketEvent, full: bool = False, names: dict | None = None) -> str:
    """One event of a ticket's history in words, personal data masked (addresses kept when `full`)."""
    what = texts.EVENT_NAMES.get(event.kind, event.kind)
    data = event.data or {}
    rating = rating_code(data.get("rating")) if data.get("rating") else None
    extra = data.get("text") or data.get("summary") or data.get("reason") or (
        texts.RATING_NAMES.get(rating, data.get("rating")) if data.get("rating") else "") or data.get("into") or ""
    if extra:
        what += "：" + mask_pii(str(extra), keep_address=full)[:60]
    if event.actor.startswith("resident:"):
        what += f"（{texts.RESIDENT_LABEL.format(id=event.actor.split(':', 1)[1])}）"
    elif names and _member_of(event.actor) in names:
        what += f"（{names[_member_of(event.actor)]}）"
    return what


def detail_text(ctx, ticket: Ticket) -> str:
    """One ticket and its history; the exact address only for its assignee and the secretary."""
    session = ctx.session
    grid = session.get(Grid, ticket.grid_id) if ticket.grid_id else None
    department = session.get(Department, ticket.department_id) if ticket.department_id else None
    assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
    full = sees_full_address(session, ctx.member(), ticket)
    head = texts.W_DETAIL.format(
        no=ticket.no, status=texts.STATUS_NAMES.get(ticket.status, ticket.status),
        priority=texts.PRIORITY_NAMES[ticket.priority], category=ticket.category,
        department=department.name if department else "—", place=place_of(ticket, grid, full=full),
        assignee=assignee.name if assignee else "未分派", response_due=when(ctx, ticket.response_due_at),
        reply_due=when(ctx, ticket.reply_due_at), text=mask_pii(ticket.text, keep_address=full))
    lines, names = [head], member_names(session)
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id)):
        lines.append(texts.W_DETAIL_EVENT.format(at=when(ctx, event.at), what=event_line(event, full, names)))
    viewer = ctx.member()
    if viewer is not None:
        lines.append(texts.W_DETAIL_PAGE.format(url=page_url(ctx.cfg, ticket.no, viewer.userid, ctx.now)))
    return "\n".join(lines)
