"""代录: a member enters a ticket for a resident without WeChat (phone or desk); the ticket is
created and routed through the same lifecycle path as any other, every message meant for the
resident goes to that member to relay, and a later 绑定手机 with the code moves it to the resident."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from .. import kv, lifecycle, texts
from ..errors import Refused
from ..models import Grid, Member, ProxyEntry, Resident, Ticket
from ..privacy import mask_name, mask_pii
from ..replies import to_member
from ..tickets import (
    Draft,
    assess,
    assignment_card,
    choose_assignee,
    due_times,
    insert_new,
    record_event,
    resident_actor,
)

BIND_TRIES = 5   # wrong codes a resident may send a day
PHONE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")
NAME = re.compile(r"^[\u4e00-\u9fa5A-Za-z·]{1,8}$")


def parse_contact(raw: str) -> tuple[str | None, str | None]:
    """A phone number (digits only) or a short name; (None, None) when it is neither."""
    compact = re.sub(r"[\s-]", "", raw or "")
    phone = PHONE.match(compact)
    if phone:
        return phone.group(1), None
    return (None, raw) if NAME.match(raw or "") else (None, None)


def contact_label(entry: ProxyEntry) -> str:
    """The contact as members see it: the phone masked, the name by surname."""
    if entry.phone:
        return mask_pii(entry.phone)
    return mask_name(entry.name) if entry.name else "—"


def _members_grid(session, member: Member) -> Grid | None:
    return session.scalar(select(Grid).where(Grid.active, Grid.member_id == member.userid).order_by(Grid.id)
                          .limit(1))


def enter(ctx, member: Member, rest: str) -> list:
    """代录 <phone or name> <text>: creates and routes the ticket; the entering member relays every step."""
    parts = (rest or "").split(maxsplit=1)
    if not parts:
        raise Refused(texts.PROXY_USAGE)
    phone, name = parse_contact(parts[0])
    if phone is None and name is None or len(parts) < 2:
        if phone is None and name is None:
            raise Refused(texts.PROXY_WHO)
        raise Refused(texts.PROXY_EMPTY.format(who=parts[0]))
    text = parts[1].strip()[: int(ctx.cfg["leave_message"]["max_chars"])]
    session = ctx.session
    draft = Draft(text=text)
    found = assess(ctx.bot, session, None, draft)
    grid = found.grid or _members_grid(session, member)
    assignee, branch_id = choose_assignee(session, grid)
    channel = "phone" if phone else "desk"
    ticket = Ticket(resident_id=None,
                    grid_id=grid.id if grid else None, branch_id=branch_id or member.branch_id,
                    category=found.category, department_id=found.department_id, priority=found.priority,
                    text=text, photos=[], photos_pending=0, created_at=ctx.now, updated_at=ctx.now)
    insert_new(ctx, ticket)
    actor = f"member:{member.userid}"
    lifecycle.apply(session, ticket, "created", actor, ctx.now, due=due_times(ctx.bot, session, ticket, ctx.now),
                    category=found.category, category_by=found.decided_by, priority=found.priority,
                    grid=ticket.grid_id, urgent_words=found.urgent_words, photos=0, channel=channel)
    entry = ProxyEntry(ticket_id=ticket.id, channel=channel, phone=phone, name=name, member_id=member.userid,
                       bind_code=f"{secrets.randbelow(10 ** 6):06d}" if phone else None, created_at=ctx.now)
    session.add(entry)
    replies = []
    if assignee is not None:
        lifecycle.apply(session, ticket, "assigned", "system", ctx.now, assignee=assignee.userid, branch=branch_id)
        replies += card_for(ctx, ticket, assignee, entry)
    template = texts.PROXY_SAVED if phone else texts.PROXY_SAVED_NO_PHONE
    said = template.format(no=ticket.no, channel=texts.PROXY_CHANNELS[channel], contact=contact_label(entry),
                           assignee=assignee.name if assignee else texts.PROXY_NOBODY, phone_hint=phone,
                           code=entry.bind_code)
    return [ctx.reply(said), *replies]


def card_for(ctx, ticket: Ticket, member: Member, entry: ProxyEntry | None = None) -> list:
    """The assignment card of a ticket with no resident: a 代录 ticket names its masked contact;
    a council follow-up has no one to name. Empty for any other ticket without a resident (erased)."""
    entry = entry or entry_of(ctx.session, ticket)
    card = assignment_card(ctx, ticket, member, None)
    if entry is not None:
        entering = ctx.session.get(Member, entry.member_id)
        card.body["sub_title_text"] = card.body["sub_title_text"].replace(
            texts.RESIDENT_LABEL.format(id="—"),
            texts.PROXY_LABEL.format(contact=contact_label(entry), member=entering.name if entering else "—"), 1)
        return [card]
    from ..models import CouncilFollowup
    followup = ctx.session.scalar(select(CouncilFollowup.id).where(CouncilFollowup.ticket_id == ticket.id))
    return [card] if followup is not None else []


def entry_of(session, ticket: Ticket) -> ProxyEntry | None:
    """The 代录 record of a ticket, if a member entered it."""
    return session.scalar(select(ProxyEntry).where(ProxyEntry.ticket_id == ticket.id))


def relay(ctx, ticket: Ticket, content: str) -> list:
    """A message for a resident without WeChat goes to the member who entered the ticket, to pass on."""
    entry = entry_of(ctx.session, ticket)
    if entry is None or entry.bound_at is not None:
        return []
    return [to_member(entry.member_id, texts.PROXY_RELAY.format(contact=contact_label(entry), no=ticket.no,
                                                                content=content))]


def bind(ctx, resident: Resident | None, rest: str) -> list:
    """绑定手机 <phone> <code>: the phone's 代录 tickets move to the resident's account."""
    parts = (rest or "").split()
    phone = parse_contact(parts[0])[0] if parts else None
    if resident is None or phone is None or len(parts) != 2:
        return [ctx.reply(texts.BIND_USAGE)]
    failures = kv.key("bind-failures", str(resident.id))
    if int(ctx.redis.get(failures) or 0) >= BIND_TRIES:   # a 6-digit code must not be guessed
        return [ctx.reply(texts.BIND_LOCKED)]
    entries = ctx.session.scalars(select(ProxyEntry).where(ProxyEntry.phone == phone,
                                                           ProxyEntry.bound_at.is_(None))).all()
    if not entries or not any(e.bind_code and secrets.compare_digest(e.bind_code, parts[1]) for e in entries):
        ctx.redis.incr(failures)
        ctx.redis.expire(failures, 86400)
        return [ctx.reply(texts.BIND_NONE)]
    numbers = []
    for entry in entries:
        ticket = ctx.session.get(Ticket, entry.ticket_id)
        if ticket.personal_erased_at is not None:
            continue
        ticket.resident_id = resident.id
        entry.bound_resident_id, entry.bound_at = resident.id, ctx.now
        record_event(ctx.session, ticket, "bound", resident_actor(resident), ctx.now, via="phone")
        numbers.append(ticket.no)
    if not numbers:
        return [ctx.reply(texts.BIND_NONE)]
    return [ctx.reply(texts.BIND_DONE.format(n=len(numbers), nos="、".join(numbers)))]


def scrub(session, ticket: Ticket) -> None:
    """Erases the contact kept for a 代录 ticket (erasure and retention, like the rest of its personal data)."""
    entry = entry_of(session, ticket)
    if entry is not None:
        entry.phone, entry.name, entry.bind_code = None, None, None


def erase(ctx, secretary: Member, no: str | None) -> list:
    """删除联系人 <no>: at the resident's request (by phone or at the desk), a secretary erases the
    contact and the ticket's personal data, as erasure does for a WeChat resident."""
    from ..audit import admin_change
    from ..privacy import _scrub_ticket
    from ..tickets import ticket_by_no
    from ..work import is_secretary_of
    if secretary.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action="删除联系人"))
    ticket = ticket_by_no(ctx.session, no) if no else None
    if ticket is None:
        raise Refused(texts.PROXY_ERASE_USAGE)
    if not is_secretary_of(secretary, ticket):
        raise Refused(texts.W_OUT_OF_SCOPE.format(no=ticket.no))
    entry = entry_of(ctx.session, ticket)
    if entry is None or entry.bound_at is not None or (entry.phone is None and entry.name is None):
        raise Refused(texts.PROXY_ERASE_NONE.format(no=ticket.no))
    _scrub_ticket(ctx.session, ticket, ctx.cfg["data_dir"])
    ticket.personal_erased_at = ctx.now
    admin_change(ctx.session, f"member:{secretary.userid}", "proxy_contact_erased", ctx.now, ticket=ticket.id)
    return [ctx.reply(texts.PROXY_ERASED.format(no=ticket.no))]


def answer(ctx, member: Member, no: str | None, text: str) -> list:
    """代答 <no> <text>: the entering member (or the secretary) gives the resident's answer to a 询问."""
    from ..tickets import ticket_by_no
    from ..work import answer_question, is_secretary_of
    text = (text or "").strip()
    ticket = ticket_by_no(ctx.session, no) if no else None
    if ticket is None or not text:
        raise Refused(texts.PROXY_ANSWER_USAGE)
    entry = entry_of(ctx.session, ticket)
    if entry is None or entry.bound_at is not None or \
            (entry.member_id != member.userid and not is_secretary_of(member, ticket)):
        raise Refused(texts.PROXY_ANSWER_NOT_YOURS.format(no=ticket.no))
    if ticket.status != "waiting":
        raise Refused(texts.PROXY_ANSWER_NOT_WAITING.format(no=ticket.no))
    told = answer_question(ctx, None, ticket, text, actor=f"member:{member.userid}")
    return [ctx.reply(texts.PROXY_ANSWERED.format(no=ticket.no)), *told[1:]]
