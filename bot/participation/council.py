"""红色议事厅: topics (a ticket or a hot keyword) → the Friday candidates → 选题 → 召开 with a notice
at least council.notice_days ahead to the residents who raised or followed a topic and to the
grid's opted-in subscribers → 参加 registrations → 决议 with follow-up tickets assigned to members
→ a summary to the convener when every follow-up is done. The branch secretary convenes."""
from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from .. import lifecycle, texts
from ..db import insert_ignore
from ..errors import Refused
from ..lifecycle import DONE, FINISHED
from ..models import (
    Branch,
    CouncilFollowup,
    CouncilMeeting,
    CouncilRegistration,
    CouncilSubscription,
    CouncilTopic,
    Grid,
    Member,
    Resident,
    ScheduledSend,
    Ticket,
    TicketEvent,
    TicketFollower,
)
from ..outbox import enqueue
from ..privacy import mask_pii
from ..replies import to_member, to_resident
from ..tickets import Draft, assess, assignment_card, insert_new, local_time, record_event, ticket_by_no
from ..workcalendar import at

TICKET_NO = re.compile(r"^\d{8}-\d{4}$")
DATE = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?$")
FOLLOWUP = re.compile(r"^跟进\s+(\S+)\s+(\d{1,3})\s+(.+)$")
HANDLED = tuple(sorted(str(s) for s in DONE | FINISHED))
KEYWORD_DAYS = 30


def run(ctx, member: Member, verb: str, rest: str) -> list:
    """议题 / 选题 / 召开 / 决议."""
    if verb == "议题":
        return propose(ctx, member, rest)
    if member.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action=verb))
    return {"选题": select_topics, "召开": call_meeting, "决议": resolve_meeting}[verb](ctx, member, rest)


# -- topics ---------------------------------------------------------------------------------

def topic_title(session, topic: CouncilTopic) -> str:
    """A topic in words: the ticket's number and category, or the hot keyword."""
    if topic.keyword:
        return texts.COUNCIL_TOPIC_KEYWORD.format(keyword=topic.keyword)
    ticket = session.get(Ticket, topic.ticket_id)
    return texts.COUNCIL_TOPIC_TICKET.format(no=ticket.no, category=ticket.category)


def propose(ctx, member: Member, rest: str) -> list:
    """议题 <no> or 议题 <keyword>: a member proposes a ticket or a hot topic of the branch (once)."""
    what = (rest or "").strip()
    if not what or len(what) > 20:
        raise Refused(texts.COUNCIL_TOPIC_USAGE)
    session, branch_id = ctx.session, member.branch_id
    ticket = None
    if TICKET_NO.match(what):
        ticket = ticket_by_no(session, what)
        if ticket is None:
            raise Refused(texts.W_NO_SUCH.format(no=what))
        if ticket.branch_id != branch_id:
            raise Refused(texts.W_OUT_OF_SCOPE.format(no=what))
        existing = session.scalar(select(CouncilTopic).where(CouncilTopic.branch_id == branch_id,
                                                             CouncilTopic.ticket_id == ticket.id))
    else:
        existing = session.scalar(select(CouncilTopic).where(CouncilTopic.branch_id == branch_id,
                                                             CouncilTopic.keyword == what))
    if existing is not None:
        raise Refused(texts.COUNCIL_TOPIC_TWICE.format(id=existing.id))
    topic = CouncilTopic(branch_id=branch_id, ticket_id=ticket.id if ticket else None,
                         keyword=None if ticket else what, proposed_by=member.userid, proposed_at=ctx.now)
    session.add(topic)
    session.flush()
    if ticket is not None:
        record_event(session, ticket, "council_topic", f"member:{member.userid}", ctx.now, topic=topic.id)
    return [ctx.reply(texts.COUNCIL_TOPIC_DONE.format(id=topic.id, what=topic_title(session, topic)))]


def _keyword_tickets(session, topic: CouncilTopic, now: datetime) -> list[Ticket]:
    """The branch's tickets about a hot keyword, from a month before it was proposed."""
    return list(session.scalars(select(Ticket).where(
        Ticket.branch_id == topic.branch_id,
        Ticket.created_at >= topic.proposed_at - timedelta(days=KEYWORD_DAYS),
        Ticket.text.contains(topic.keyword))))


def topic_residents(session, topic: CouncilTopic, now: datetime) -> set[int]:
    """The residents who raised or followed a topic (for a keyword: who wrote about it lately)."""
    tickets = _keyword_tickets(session, topic, now) if topic.keyword else [session.get(Ticket, topic.ticket_id)]
    ids = {t.resident_id for t in tickets if t is not None and t.resident_id}
    ticket_ids = [t.id for t in tickets if t is not None]
    if ticket_ids:
        ids |= set(session.scalars(select(TicketFollower.resident_id).where(TicketFollower.ticket_id.in_(ticket_ids))))
    return ids


def candidates(session, branch_id: str, now: datetime) -> list[tuple[CouncilTopic, int]]:
    """Topics not yet selected, most-followed first (a hot keyword counts everyone who wrote about it)."""
    topics = session.scalars(select(CouncilTopic).where(CouncilTopic.branch_id == branch_id,
                                                        CouncilTopic.selected_at.is_(None))).all()
    scored = [(t, len(topic_residents(session, t, now))) for t in topics]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0].keyword is None, pair[0].id))


def send_candidates(bot) -> int:
    """Each council.candidates_weekday (Friday): the week's candidates to each branch's convener, once a week."""
    opts = bot.cfg["council"]
    now = bot.clock.now()
    local = now.astimezone(bot.tz)
    if local.weekday() != int(opts["candidates_weekday"]) or now < at(local.date(), opts["candidates_time"], bot.tz):
        return 0
    period = local.strftime("%G-W%V")
    sent = 0
    with bot.db.session() as session:
        for branch in session.scalars(select(Branch).where(Branch.secretary_id.is_not(None))).all():
            found = candidates(session, branch.id, now)[: int(opts["max_candidates"])]
            if not found or not insert_ignore(session, ScheduledSend, kind="council_candidates", scope=branch.id,
                                              period=period, at=now):
                continue
            lines = "\n".join(texts.COUNCIL_CANDIDATE_LINE.format(id=t.id, what=topic_title(session, t), followers=n)
                              for t, n in found)
            enqueue(session, [to_member(branch.secretary_id, texts.COUNCIL_CANDIDATES.format(
                lines=lines, example=" ".join(str(t.id) for t, _ in found[:2])))], now)
            sent += 1
    return sent


def _ids(rest: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", rest or "")]


def select_topics(ctx, secretary: Member, rest: str) -> list:
    """选题 <ids>: the convener picks topics for the next meeting; unknown ids change nothing."""
    ids = _ids(rest)
    if not ids:
        raise Refused(texts.COUNCIL_SELECT_USAGE)
    topics = ctx.session.scalars(select(CouncilTopic).where(CouncilTopic.branch_id == secretary.branch_id,
                                                            CouncilTopic.id.in_(ids),
                                                            CouncilTopic.meeting_id.is_(None))).all()
    unknown = sorted(set(ids) - {t.id for t in topics})
    if unknown:
        raise Refused(texts.COUNCIL_SELECT_UNKNOWN.format(ids="、".join(f"#{i}" for i in unknown)))
    for topic in topics:
        topic.selected_at = topic.selected_at or ctx.now
    return [ctx.reply(texts.COUNCIL_SELECTED.format(ids="、".join(f"#{t.id}" for t in topics)))]


# -- the meeting ----------------------------------------------------------------------------

def last_saturday(year: int, month: int) -> date:
    """The last Saturday of a month (the council's usual day)."""
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - 5) % 7)


def earliest_day(bot, now: datetime) -> date:
    """The first day a meeting can be held with council.notice_days of notice."""
    opts = bot.cfg["council"]
    limit = now + timedelta(days=int(opts["notice_days"]))
    day = limit.astimezone(bot.tz).date()
    return day if at(day, opts["meeting_time"], bot.tz) >= limit else day + timedelta(days=1)


def default_day(bot, now: datetime) -> date:
    """The last Saturday of this month, or of the next month when it is too soon."""
    local, earliest = now.astimezone(bot.tz).date(), earliest_day(bot, now)
    day = last_saturday(local.year, local.month)
    if day < earliest:
        following = local.replace(day=1) + timedelta(days=32)
        day = last_saturday(following.year, following.month)
    return day


def _day_text(day: date) -> str:
    return texts.COUNCIL_DAY.format(month=day.month, day=day.day)


def meeting_residents(session, meeting: CouncilMeeting, now: datetime) -> list[Resident]:
    """Who hears of a meeting: raisers and followers of its topics, and the grids' opted-in subscribers."""
    ids: set[int] = set()
    for topic in session.scalars(select(CouncilTopic).where(CouncilTopic.meeting_id == meeting.id)):
        ids |= topic_residents(session, topic, now)
    grids = select(Grid.id).where(Grid.branch_id == meeting.branch_id)
    ids |= set(session.scalars(select(CouncilSubscription.resident_id).join(
        Resident, Resident.id == CouncilSubscription.resident_id).where(
        CouncilSubscription.on.is_(True), Resident.grid_id.in_(grids))))
    if not ids:
        return []
    return list(session.scalars(select(Resident).where(Resident.id.in_(ids), Resident.subscribed,
                                                       Resident.openid.not_like("erased:%")).order_by(Resident.id)))


def call_meeting(ctx, secretary: Member, rest: str) -> list:
    """召开 [<date>] <place>: schedules the meeting with the selected topics and sends the notice now."""
    parts = (rest or "").split(maxsplit=1)
    if not parts:
        raise Refused(texts.COUNCIL_CALL_USAGE)
    bot, session = ctx.bot, ctx.session
    parsed = DATE.match(parts[0])
    if parsed:
        year = int(parsed.group(1) or ctx.local(ctx.now).year)
        try:
            day = date(year, int(parsed.group(2)), int(parsed.group(3)))
        except ValueError:
            raise Refused(texts.COUNCIL_CALL_BAD_DATE.format(raw=parts[0])) from None
        place = parts[1].strip() if len(parts) > 1 else ""
    else:
        day, place = default_day(bot, ctx.now), rest.strip()
    if not place:
        raise Refused(texts.COUNCIL_CALL_USAGE)
    earliest = earliest_day(bot, ctx.now)
    if day < earliest:
        raise Refused(texts.COUNCIL_CALL_TOO_SOON.format(days=ctx.cfg["council"]["notice_days"],
                                                         earliest=_day_text(earliest)))
    topics = session.scalars(select(CouncilTopic).where(CouncilTopic.branch_id == secretary.branch_id,
                                                        CouncilTopic.selected_at.is_not(None),
                                                        CouncilTopic.meeting_id.is_(None))
                             .order_by(CouncilTopic.id)).all()
    if not topics:
        raise Refused(texts.COUNCIL_CALL_NOTHING)
    meeting = CouncilMeeting(branch_id=secretary.branch_id, convener_id=secretary.userid,
                             starts_at=at(day, ctx.cfg["council"]["meeting_time"], bot.tz), place=place[:200],
                             created_at=ctx.now, notice_sent_at=ctx.now)
    session.add(meeting)
    session.flush()
    for topic in topics:
        topic.meeting_id = meeting.id
    when, titles = local_time(meeting.starts_at, bot.tz), "、".join(topic_title(session, t) for t in topics)
    residents = meeting_residents(session, meeting, ctx.now)
    insert_ignore(session, ScheduledSend, kind="council_notice", scope=str(meeting.id), period="notice", at=ctx.now)
    notice = texts.COUNCIL_NOTICE.format(when=when, place=meeting.place, topics=titles)
    return [ctx.reply(texts.COUNCIL_CALLED.format(id=meeting.id, when=when, place=meeting.place, topics=titles,
                                                  n=len(residents))),
            *[to_resident(r.openid, notice) for r in residents]]


def join(ctx, resident: Resident | None) -> list:
    """参加: the resident registers for the next meeting they were told of."""
    if resident is not None:
        upcoming = ctx.session.scalars(select(CouncilMeeting).where(
            CouncilMeeting.starts_at > ctx.now, CouncilMeeting.notice_sent_at.is_not(None))
            .order_by(CouncilMeeting.starts_at)).all()
        for meeting in upcoming:
            if resident.id not in {r.id for r in meeting_residents(ctx.session, meeting, ctx.now)}:
                continue
            when = local_time(meeting.starts_at, ctx.bot.tz)
            if ctx.session.scalar(select(CouncilRegistration.id).where(
                    CouncilRegistration.meeting_id == meeting.id, CouncilRegistration.resident_id == resident.id)):
                return [ctx.reply(texts.COUNCIL_JOINED_ALREADY.format(when=when))]
            ctx.session.add(CouncilRegistration(meeting_id=meeting.id, resident_id=resident.id, at=ctx.now))
            return [ctx.reply(texts.COUNCIL_JOINED.format(when=when))]
    return [ctx.reply(texts.COUNCIL_NOTHING_TO_JOIN)]


def subscribe(ctx, resident: Resident | None, on: bool) -> list:
    """议事会通知 开 / 关: the resident's choice to hear of their grid's meetings."""
    if resident is None or not resident.grid_id:
        return [ctx.reply(texts.COUNCIL_SUB_NO_GRID)]
    row = ctx.session.get(CouncilSubscription, resident.id)
    if row is None:
        row = CouncilSubscription(resident_id=resident.id, on=on, at=ctx.now)
        ctx.session.add(row)
    row.on, row.at = on, ctx.now
    return [ctx.reply(texts.COUNCIL_SUB_ON if on else texts.COUNCIL_SUB_OFF)]


# -- the resolution and its follow-ups ------------------------------------------------------

def _member_named(session, branch_id: str, who: str) -> Member | None:
    return session.scalar(select(Member).where(Member.active, Member.branch_id == branch_id,
                                               (Member.userid == who) | (Member.name == who)))


def resolve_meeting(ctx, secretary: Member, rest: str) -> list:
    """决议 <meeting> <text>, then lines 跟进 <member> <days> <item>: records, publishes, assigns follow-ups."""
    head, _, tail = (rest or "").partition("\n")
    parts = head.split(maxsplit=1)
    if not parts or not parts[0].lstrip("#").isdigit():
        raise Refused(texts.COUNCIL_RESOLVE_USAGE)
    meeting_id = int(parts[0].lstrip("#"))
    session = ctx.session
    meeting = session.get(CouncilMeeting, meeting_id)
    if meeting is None or meeting.branch_id != secretary.branch_id:
        raise Refused(texts.COUNCIL_UNKNOWN_MEETING.format(id=meeting_id))
    if meeting.resolved_at is not None:
        raise Refused(texts.COUNCIL_ALREADY_RESOLVED.format(id=meeting.id))
    resolution = parts[1].strip() if len(parts) > 1 else ""
    items = []
    for line in (x.strip() for x in tail.splitlines() if x.strip()):
        match = FOLLOWUP.match(line)
        member = _member_named(session, meeting.branch_id, match.group(1)) if match else None
        if match is None or member is None or int(match.group(2)) < 1:
            raise Refused(texts.COUNCIL_BAD_FOLLOWUP.format(line=line[:40]))
        items.append((member, int(match.group(2)), match.group(3).strip()))
    if not resolution:
        raise Refused(texts.COUNCIL_RESOLVE_USAGE)
    meeting.resolution, meeting.resolved_at = resolution[:2000], ctx.now
    topics = session.scalars(select(CouncilTopic).where(CouncilTopic.meeting_id == meeting.id)).all()
    told: set[int] = set()
    for topic in topics:
        topic.resolution = meeting.resolution
        tickets = _keyword_tickets(session, topic, ctx.now) if topic.keyword else [session.get(Ticket, topic.ticket_id)]
        for ticket in tickets:
            record_event(session, ticket, "council_resolution", f"member:{secretary.userid}", ctx.now,
                         meeting=meeting.id)
        told |= topic_residents(session, topic, ctx.now)
    replies, numbers = [], []
    for member, days, item in items:
        ticket, card = _followup_ticket(ctx, secretary, meeting, member, days, item)
        numbers.append(ticket.no)
        replies.append(card)
    said = texts.COUNCIL_RESULT_RESIDENT.format(id=meeting.id, resolution=mask_pii(meeting.resolution)[:300])
    residents = session.scalars(select(Resident).where(Resident.id.in_(told), Resident.subscribed)).all() \
        if told else []
    return [ctx.reply(texts.COUNCIL_RESOLVED.format(id=meeting.id, n=len(numbers), nos="、".join(numbers) or "—")),
            *replies, *[to_resident(r.openid, said) for r in residents]]


def _followup_ticket(ctx, secretary, meeting, member, days, item):
    """A follow-up item as a ticket of the branch, assigned to the member, due in `days`."""
    session, text = ctx.session, texts.COUNCIL_FOLLOWUP_TEXT.format(id=meeting.id, text=item)[:1000]
    found = assess(ctx.bot, session, None, Draft(text=text))
    grid = session.scalar(select(Grid).where(Grid.member_id == member.userid).order_by(Grid.id).limit(1))
    ticket = Ticket(resident_id=None,
                    grid_id=grid.id if grid else None, branch_id=meeting.branch_id, category=found.category,
                    department_id=found.department_id, priority="normal", text=text, photos=[], photos_pending=0,
                    created_at=ctx.now, updated_at=ctx.now)
    insert_new(ctx, ticket)
    due_at = ctx.now + timedelta(days=days)
    due = {"response_due_at": due_at, "response_remind_at": ctx.now + timedelta(days=days * 0.75),
           "reply_due_at": due_at, "reply_remind_at": ctx.now + timedelta(days=days * 0.75)}
    actor = f"member:{secretary.userid}"
    lifecycle.apply(session, ticket, "created", actor, ctx.now, due=due, category=found.category,
                    category_by=found.decided_by, priority="normal", grid=ticket.grid_id, channel="council",
                    meeting=meeting.id)
    lifecycle.apply(session, ticket, "assigned", actor, ctx.now, assignee=member.userid, branch=meeting.branch_id)
    session.add(CouncilFollowup(meeting_id=meeting.id, ticket_id=ticket.id))
    return ticket, assignment_card(ctx, ticket, member, None)


def send_summaries(bot) -> int:
    """Tells each convener, once, when every follow-up of a meeting's resolution is done."""
    now = bot.clock.now()
    sent = 0
    with bot.db.session() as session:
        meetings = session.scalars(select(CouncilMeeting).where(CouncilMeeting.resolved_at.is_not(None),
                                                                CouncilMeeting.summary_sent_at.is_(None))).all()
        for meeting in meetings:
            tickets = session.scalars(select(Ticket).join(CouncilFollowup, CouncilFollowup.ticket_id == Ticket.id)
                                      .where(CouncilFollowup.meeting_id == meeting.id).order_by(Ticket.id)).all()
            if not tickets or any(t.status not in HANDLED for t in tickets):
                continue
            if not insert_ignore(session, ScheduledSend, kind="council_summary", scope=str(meeting.id),
                                 period="done", at=now):
                continue
            meeting.summary_sent_at = now
            names = dict(session.execute(select(Member.userid, Member.name)).all())
            lines = []
            for ticket in tickets:
                summary = session.scalar(select(TicketEvent.data).where(
                    TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolved")
                    .order_by(TicketEvent.id.desc()).limit(1)) or {}
                lines.append(texts.COUNCIL_SUMMARY_LINE.format(
                    no=ticket.no, member=names.get(ticket.assignee_id, "—"),
                    summary=mask_pii(summary.get("summary", texts.STATUS_NAMES.get(ticket.status, "")))[:80]))
            enqueue(session, [to_member(meeting.convener_id, texts.COUNCIL_SUMMARY.format(
                id=meeting.id, lines="\n".join(lines)))], now)
            sent += 1
    return sent


def resolution_rate(session, start: datetime, end: datetime, branch_id: str | None = None) -> float | None:
    """议题解决率: of the topics resolved at meetings in a period, the share whose follow-ups are all done."""
    query = select(CouncilTopic.id, CouncilTopic.meeting_id).join(
        CouncilMeeting, CouncilMeeting.id == CouncilTopic.meeting_id).where(
        CouncilMeeting.resolved_at >= start, CouncilMeeting.resolved_at < end)
    if branch_id:
        query = query.where(CouncilMeeting.branch_id == branch_id)
    topics = session.execute(query).all()
    if not topics:
        return None
    open_meetings = set(session.scalars(select(CouncilFollowup.meeting_id).join(
        Ticket, Ticket.id == CouncilFollowup.ticket_id).where(Ticket.status.not_in(HANDLED))))
    done = sum(1 for _, meeting_id in topics if meeting_id not in open_meetings)
    return round(100.0 * done / len(topics), 1)


def registrations(session, meeting_id: int) -> int:
    """How many residents registered for a meeting."""
    return session.scalar(select(func.count()).select_from(CouncilRegistration).where(
        CouncilRegistration.meeting_id == meeting_id)) or 0
