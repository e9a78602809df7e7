"""Tickets: numbering, routing, due times, the event chain, duplicates, and the member's card."""
from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import lifecycle, texts
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
from .nlp import OTHER, KeywordClassifier, similarities, words_in
from .privacy import mask_address, mask_name, mask_pii, resident_label
from .reliability.numbering import insert_numbered
from .replies import Reply
from .routing.card import guess_note, recategorise_button

log = logging.getLogger(__name__)

# From the lifecycle's table (#12), as plain strings for queries.
OPEN_STATUSES = tuple(sorted(str(s) for s in lifecycle.OPEN))
# Waiting for the resident to answer a member's question stops the SLA clock.
RUNNING_STATUSES = tuple(s for s in OPEN_STATUSES if s != "waiting")
DUPLICATE_OWN = 0.6     # share of bigrams shared with the resident's own open ticket
DUPLICATE_GRID = 0.5    # … with a neighbour's ticket in the same grid
MAX_GRID_KM = 3.0
DUPLICATE_CANDIDATES = 200   # the newest open tickets compared, so a busy grid stays fast


# -- numbering and the event chain ------------------------------------------------

def insert_new(ctx, ticket: Ticket) -> None:
    """Numbers a new ticket (20261120-0007) and inserts it; a number the database holds is skipped."""
    insert_numbered(ctx.bot, ctx.session, ticket, ctx.local(ctx.now).strftime("%Y%m%d"))


def record_event(session: Session, ticket: Ticket, kind: str, actor: str, now: datetime,
                 **data) -> TicketEvent:
    """Appends an event to the ticket's history (the sealer chains it seconds later)."""
    event = TicketEvent(ticket_id=ticket.id, at=now, kind=kind, actor=actor, data=data)
    session.add(event)
    ticket.updated_at = now
    return event


def resident_actor(resident: Resident) -> str:
    """How a resident appears in the record: by internal id, never by openid."""
    return f"resident:{resident.id}"


# -- reading the message ----------------------------------------------------------

def keyword_classifier(session: Session) -> KeywordClassifier:
    """The keyword rules from the organisation's categories, in file order."""
    rows = session.scalars(select(Category).order_by(Category.position)).all()
    return KeywordClassifier([(c.name, list(c.keywords or [])) for c in rows])


def sla_hours(cfg: dict, category: Category | None, priority: str) -> tuple[float, float]:
    """First-response and first-reply hours for a category and priority."""
    sla = cfg["sla"]
    if priority == "urgent":
        return float(sla["urgent_response_h"]), float(sla["urgent_reply_h"])
    if category is not None:
        return (float(category.response_h or sla["response_h"]),
                float(category.reply_h or sla["reply_h"]))
    return float(sla["response_h"]), float(sla["reply_h"])


def due_times(bot, session: Session, ticket: Ticket, start: datetime,
              response: bool = True, reply: bool = True) -> dict:
    """Due and reminder times of the ticket's open windows counted from `start`, for the lifecycle to set.

    Working hours and holidays apply when configured; urgent tickets run on the wall clock.
    """
    category = session.get(Category, ticket.category)
    response_h, reply_h = sla_hours(bot.cfg, category, ticket.priority)
    share, urgent, add = float(bot.cfg["sla"]["remind_at"]), ticket.priority == "urgent", bot.calendar.add_hours
    due = {}
    if response:
        due["response_due_at"] = add(start, response_h, urgent)
        due["response_remind_at"] = add(start, response_h * share, urgent)
    if reply:
        due["reply_due_at"] = add(start, reply_h, urgent)
        due["reply_remind_at"] = add(start, reply_h * share, urgent)
    return due


def _km(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


def valid_location(lat, lng) -> bool:
    """Whether coordinates can be a place on Earth (and not the 0,0 of a broken client)."""
    return -90 <= lat <= 90 and -180 <= lng <= 180 and not (lat == 0 and lng == 0)


@dataclass
class Draft:
    """What the resident has told the 留言 flow so far."""

    text: str
    photos: list = field(default_factory=list)
    lat: float | None = None
    lng: float | None = None
    address: str | None = None
    id: str | None = None        # the draft id (#17): the ticket carries it under a unique key

    @classmethod
    def from_data(cls, data: dict) -> "Draft":
        return cls(text=data.get("text", ""), photos=list(data.get("photos", [])),
                   lat=data.get("lat"), lng=data.get("lng"), address=data.get("address"),
                   id=data.get("draft_id"))


def active_grids(session: Session) -> list[Grid]:
    """Every active grid (read through the bot's short cache)."""
    return list(session.scalars(select(Grid).where(Grid.active).order_by(Grid.id)))


def find_grid(grids: list[Grid], resident: Resident | None, draft: Draft) -> Grid | None:
    """The grid: from a shared location (nearest centre), address words, or the QR binding."""
    if draft.lat is not None and draft.lng is not None:
        placed = [(g, _km(draft.lat, draft.lng, g.lat, g.lng)) for g in grids if g.lat is not None]
        near = min(placed, key=lambda pair: pair[1], default=None)
        if near and near[1] <= MAX_GRID_KM:
            return near[0]
    if draft.address:
        for grid in grids:
            if grid.name and grid.name in draft.address:
                return grid
        for grid in grids:
            if grid.community and grid.community in draft.address:
                return grid
    if resident is not None and resident.grid_id:
        return next((g for g in grids if g.id == resident.grid_id), None)
    return None


def choose_assignee(session: Session, grid: Grid | None) -> tuple[Member | None, str | None]:
    """The grid's member, the backup when the member is away, else the branch secretary."""
    branch_id = grid.branch_id if grid else None
    if branch_id is None:
        # No grid known: the first branch's secretary routes it by hand.
        branch_id = session.scalar(select(Branch.id).order_by(Branch.id).limit(1))
    if grid is not None:
        for userid in (grid.member_id, grid.backup_id):
            member = session.get(Member, userid) if userid else None
            if member is not None and member.active and not member.away:
                return member, branch_id
    branch = session.get(Branch, branch_id) if branch_id else None
    secretary = session.get(Member, branch.secretary_id) if branch and branch.secretary_id else None
    return (secretary if secretary is not None and secretary.active else None), branch_id


@dataclass
class Assessment:
    """The bot's reading of a draft: where it goes and how fast it must be handled."""

    category: str
    department_id: str | None
    grid: Grid | None
    priority: str
    urgent_words: list
    response_h: float
    reply_h: float
    decided_by: str = "rules"
    confidence: float | None = None     # #18: the model's, when there is a model (0…1)
    runner_up: str | None = None        # #18: the category the model would pick next


def assess(bot, session: Session, resident: Resident | None, draft: Draft) -> Assessment:
    """Category, department, grid, priority and promised hours of a draft."""
    name, decided_by, confidence, runner_up = bot.route(session, draft.text)
    category = session.get(Category, name) if name != OTHER else None
    words = words_in(draft.text, bot.cfg["nlp"]["urgent_words"])
    priority = "urgent" if words else "normal"
    response_h, reply_h = sla_hours(bot.cfg, category, priority)
    return Assessment(name, category.department_id if category else None,
                      find_grid(bot.cached("grids", active_grids), resident, draft), priority, words,
                      response_h, reply_h, decided_by, confidence, runner_up)


@dataclass(frozen=True)
class Similar:
    """An open ticket that reads like a new message."""

    no: str
    status: str
    whose: str       # own | grid


def _most_similar(session, conditions, text: str, threshold: float):
    rows = session.execute(select(Ticket.no, Ticket.status, Ticket.text).where(*conditions)
                           .order_by(Ticket.id.desc()).limit(DUPLICATE_CANDIDATES)).all()
    # Of the tickets on the same thing, the first reported: a neighbour's later copy (filed with
    # 仍然提交) is not the one to follow.
    scores = similarities(text, [row.text for row in rows])
    alike = [row for row, score in zip(rows, scores) if score >= threshold]
    return alike[-1] if alike else None


def find_duplicate(session: Session, resident: Resident, grid: Grid | None, text: str,
                   now: datetime) -> Similar | None:
    """An open ticket of the same resident, or of the same grid this week, on the same thing."""
    own = _most_similar(session, (Ticket.resident_id == resident.id, Ticket.status.in_(OPEN_STATUSES)),
                        text, DUPLICATE_OWN)
    if own is not None:
        return Similar(own.no, own.status, "own")
    if grid is None:
        return None
    near = _most_similar(session, (Ticket.grid_id == grid.id, Ticket.status.in_(OPEN_STATUSES),
                                   Ticket.created_at >= now - timedelta(days=7), Ticket.resident_id != resident.id),
                         text, DUPLICATE_GRID)
    return Similar(near.no, near.status, "grid") if near is not None else None


def tickets_since(session: Session, resident: Resident, since: datetime) -> int:
    """How many tickets the resident created since a time (the daily limit)."""
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.resident_id == resident.id, Ticket.created_at >= since)) or 0


# -- creating and telling ----------------------------------------------------------

def local_time(moment: datetime | None, tz) -> str:
    """A time as residents and members read it, in the configured zone: 11月21日 10:00."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def when(ctx, moment: datetime | None) -> str:
    """A time shown to the person of this conversation."""
    return local_time(moment, ctx.bot.tz)


def place_of(ticket: Ticket, grid: Grid | None, full: bool = False) -> str:
    """Where the ticket is: the exact address only when `full` (assignee, secretary), else masked.

    The grid is named once: an address that already names the community stands alone.
    """
    parts = []
    address = (ticket.address if full else mask_address(ticket.address)) if ticket.address else None
    if grid is not None and not (address and grid.community and grid.community in address):
        parts.append(f"{grid.community}{grid.name}")
    if address:
        parts.append(address)
    elif ticket.lat is not None:
        parts.append("居民已发送定位")
    return " ".join(parts) or "未说明"


def assignment_card(ctx, ticket: Ticket, member: Member, resident: Resident) -> Reply:
    """The WeCom card that gives a member a new ticket, with masked personal data."""
    grid = ctx.session.get(Grid, ticket.grid_id) if ticket.grid_id else None
    department = ctx.session.get(Department, ticket.department_id) if ticket.department_id else None
    # The card goes to the member who will take the ticket: they must find the place.
    description = texts.CARD_NEW_BODY.format(
        resident=resident_label(resident), category=ticket.category,
        department=department.name if department else "—", place=place_of(ticket, grid, full=True),
        text=mask_pii(ticket.text, keep_address=True)[:300], response_due=when(ctx, ticket.response_due_at),
        reply_due=when(ctx, ticket.reply_due_at)) + guess_note(ctx, ticket)     # #18
    title = texts.CARD_NEW_TITLE.format(no=ticket.no, priority=texts.PRIORITY_NAMES[ticket.priority])
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": title[:26], "desc": ticket.category},
        "sub_title_text": description[:500],
        # Unique per card: a transfer and a transfer back within one second made two cards alike.
        "task_id": f"ticket-{ticket.no}-{int(ctx.now.timestamp())}-{secrets.token_hex(4)}",
        "button_list": [{"text": label, "style": 1 if i == 0 else 2, "key": f"{action}:{ticket.no}"}
                        for i, (label, action) in enumerate(texts.CARD_ACTIONS)] + recategorise_button(ctx, ticket),
    }
    # The page with photos, map and history (#12): tapping the card or its link row opens it.
    link = page_url(ctx.cfg, ticket.no, member.userid, ctx.now)
    card["card_action"] = {"type": 1, "url": link}
    card["horizontal_content_list"] = [{"keyname": texts.CARD_PAGE_KEY, "value": texts.CARD_PAGE_LINK,
                                        "type": 1, "url": link}]
    return Reply("wecom", member.userid, "template_card", card)


def create_ticket(ctx, resident: Resident, draft: Draft) -> tuple[Ticket, list[Reply]]:
    """Creates the ticket with its events and the card to its assignee, in one transaction."""
    session = ctx.session
    found = assess(ctx.bot, session, resident, draft)
    member, branch_id = choose_assignee(session, found.grid)
    ticket = Ticket(
        draft_id=draft.id, resident_id=resident.id,
        grid_id=found.grid.id if found.grid else None, branch_id=branch_id,
        category=found.category, department_id=found.department_id, priority=found.priority,
        text=draft.text, address=draft.address, lat=draft.lat, lng=draft.lng,
        photos=[{"media_id": m, "path": None, "error": None} for m in draft.photos],
        photos_pending=len(draft.photos),
        created_at=ctx.now, updated_at=ctx.now)
    insert_new(ctx, ticket)     # numbered and inserted first, then created
    lifecycle.apply(session, ticket, "created", resident_actor(resident), ctx.now,
                    due=due_times(ctx.bot, session, ticket, ctx.now),
                    category=found.category, category_by=found.decided_by, priority=found.priority,
                    category_confidence=found.confidence, category_runner_up=found.runner_up,
                    grid=ticket.grid_id, urgent_words=found.urgent_words, photos=len(draft.photos))
    replies = []
    if member is not None:
        lifecycle.apply(session, ticket, "assigned", "system", ctx.now, assignee=member.userid,
                        branch=branch_id)
        replies.append(assignment_card(ctx, ticket, member, resident))
    return ticket, replies


def ticket_by_no(session: Session, no: str) -> Ticket | None:
    """The ticket with this number, or None."""
    return session.scalar(select(Ticket).where(Ticket.no == no))


def ticket_of_draft(session: Session, draft_id: str | None) -> Ticket | None:
    """The ticket a draft already became, or None (#17: confirming twice makes one)."""
    return session.scalar(select(Ticket).where(Ticket.draft_id == draft_id)) if draft_id else None


def follow_ticket(ctx, resident: Resident, ticket: Ticket) -> None:
    """Stores a resident as a follower of an existing ticket instead of filing the same again."""
    from .work import follow
    follow(ctx.session, ticket, resident, ctx.now)


LAST_WORD_KINDS = {"replied": ("text", texts.MY_LAST_REPLY), "resolved": ("summary", texts.MY_LAST_RESOLVED),
                   "closed_unresolved": ("reason", texts.MY_LAST_CLOSED)}


def _last_word(event: TicketEvent | None) -> str:
    """The line of 查询 that says what the resident was last told."""
    if event is None:
        return texts.MY_NO_REPLY
    field, template = LAST_WORD_KINDS[event.kind]
    return template.format(text=str((event.data or {}).get(field, ""))[:60])


def my_tickets_text(ctx, resident: Resident | None, limit: int = 5) -> str:
    """The resident's open and recent tickets (status, masked assignee, last reply, due), then those followed."""
    from .talk.dates import plain
    if resident is None:
        return texts.MY_NONE
    session = ctx.session
    rows = session.scalars(select(Ticket).where(Ticket.resident_id == resident.id)
                           .order_by(Ticket.status.in_(OPEN_STATUSES).desc(), Ticket.id.desc())
                           .limit(limit)).all()
    followed = session.scalars(select(Ticket).join(TicketFollower, TicketFollower.ticket_id == Ticket.id)
                               .where(TicketFollower.resident_id == resident.id)
                               .order_by(Ticket.status.in_(OPEN_STATUSES).desc(), Ticket.id.desc())
                               .limit(limit)).all()
    if not rows and not followed:
        return texts.MY_NONE
    lines = [texts.MY_HEADER.format(n=len(rows))] if rows else []
    for t in rows:
        assignee = session.get(Member, t.assignee_id) if t.assignee_id else None
        # The latest word to the resident: a reply, the 办结 summary or the reason it was closed.
        last = session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                        TicketEvent.kind.in_(list(LAST_WORD_KINDS)))
                              .order_by(TicketEvent.id.desc()).limit(1))
        if t.status == "waiting":
            due = "等待您补充信息（直接回复即可）"
        elif t.status in OPEN_STATUSES:
            urgent = t.priority == "urgent"
            due = (texts.MY_DUE_RESPONSE.format(due=plain(ctx, t.response_due_at, urgent))
                   if t.first_response_at is None
                   else texts.MY_DUE_REPLY.format(due=plain(ctx, t.reply_due_at, urgent)))
        else:
            due = texts.STATUS_NAMES.get(t.status, t.status)
        lines.append(texts.MY_LINE.format(
            no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), category=t.category,
            assignee=mask_name(assignee.name if assignee else None), due=due,
            last=_last_word(last)))
    if followed:
        lines.append(texts.MY_FOLLOWED_HEADER.format(n=len(followed)))
    for t in followed:
        assignee = session.get(Member, t.assignee_id) if t.assignee_id else None
        lines.append(texts.MY_FOLLOWED_LINE.format(
            no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), category=t.category,
            assignee=mask_name(assignee.name if assignee else None)))
    return "\n".join(lines)


def labelled_history(session: Session) -> tuple[list[str], list[str]]:
    """Texts and categories people confirmed: tickets recategorised by hand, or handled to the end."""
    corrected = select(TicketEvent.ticket_id).where(TicketEvent.kind == "recategorised")
    rows = session.execute(select(Ticket.text, Ticket.category).where(
        Ticket.category != OTHER, Ticket.personal_erased_at.is_(None),
        (Ticket.id.in_(corrected)) | Ticket.status.in_(("resolved", "rated", "closed")))).all()
    return [t for t, _ in rows], [c for _, c in rows]
