"""评价: the resident rates a resolved ticket once, then may add a comment."""
from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from bot import texts, work
from bot.engine import Finish, Flow, Next, Retry, Step
from bot.lifecycle import DONE, SATISFIED_CODES, rating_code
from bot.models import Ticket
from bot.talk import words
from bot.tickets import record_event, resident_actor, ticket_by_no


class S(StrEnum):
    AWAIT_SCORE = "await_score"
    AWAIT_COMMENT = "await_comment"
    AWAIT_CONSENT = "await_consent"   # #15: 是否同意公示, after a satisfied rating's comment


def waiting_ticket(ctx, resident) -> Ticket | None:
    """The resident's latest resolved ticket that still waits for a rating."""
    if resident is None:
        return None
    return ctx.session.scalar(select(Ticket).where(Ticket.resident_id == resident.id,
                                                   Ticket.status == "resolved")
                              .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1))


def closed_waiting(ctx, resident) -> Ticket | None:
    """The resident's ticket closed unresolved lately that they have not yet said how they take it."""
    if resident is None:
        return None
    since = ctx.now - timedelta(days=float(ctx.cfg["rating"]["expire_days"]))
    return ctx.session.scalar(select(Ticket).where(Ticket.resident_id == resident.id,
                                                   Ticket.status == "closed-unresolved",
                                                   Ticket.rating.is_(None), Ticket.closed_at >= since)
                              .order_by(Ticket.closed_at.desc(), Ticket.id.desc()).limit(1))


def followed_waiting(ctx, resident) -> Ticket | None:
    """A finished ticket the resident follows and has not rated (they were told "愿意评价可回复…")."""
    from bot.models import TicketFollower
    if resident is None:
        return None
    since = ctx.now - timedelta(days=float(ctx.cfg["rating"]["expire_days"]))
    return ctx.session.scalar(select(Ticket).join(TicketFollower, TicketFollower.ticket_id == Ticket.id).where(
        TicketFollower.resident_id == resident.id, TicketFollower.rating.is_(None),
        Ticket.status.in_(tuple(DONE)), Ticket.resolved_at >= since)
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1))


def to_rate(ctx, resident) -> Ticket | None:
    """The ticket a rating word is about: the latest resolved one, else one closed unresolved lately."""
    return waiting_ticket(ctx, resident) or closed_waiting(ctx, resident)


def start(turn):
    """Finds the ticket to rate, or says there is none."""
    ticket = to_rate(turn.ctx, turn.ctx.resident())
    if ticket is None:
        return Finish([turn.reply(texts.RATE_NOTHING)])
    turn.data["no"] = ticket.no
    return None


def start_for(ctx, no: str) -> list:
    """评价 <no>: rates a named ticket of one's own, or one followed (counted apart); refuses others'."""
    resident = ctx.resident()
    ticket = ticket_by_no(ctx.session, no)
    if ticket is not None and resident is not None and ticket.resident_id != resident.id:
        row = work.follower_row(ctx.session, ticket, resident)
        if row is None:
            return [ctx.reply(texts.RATE_NOT_YOURS.format(no=no))]
        if row.rating is not None:
            return [ctx.reply(texts.RATE_FOLLOWER_ALREADY.format(no=no))]
        if ticket.status not in DONE:
            return [ctx.reply(texts.RATE_NOTHING)]
        return ctx.bot.engine.begin(ctx, FLOW.name, S.AWAIT_SCORE, {"no": no})
    if ticket is None or resident is None:
        return [ctx.reply(texts.RATE_NOT_YOURS.format(no=no))]
    closed = ticket.status == "closed-unresolved" and ticket.rating is None
    if ticket.status != "resolved" and not closed:
        return [ctx.reply(texts.RATE_NOTHING)]
    return ctx.bot.engine.begin(ctx, FLOW.name, S.AWAIT_SCORE, {"no": no})


def _record(ctx, ticket: Ticket, rating: str) -> list | None:
    """Records the rating as its code (None if it was already rated) and says thanks or sorry.

    The reporter's rating counts; a follower's is kept beside it.
    """
    resident, code = ctx.resident(), rating_code(rating)
    if resident is not None and ticket.resident_id != resident.id:
        outcome = work.rate_as_follower(ctx, resident, ticket, code)
        return None if outcome is None else [ctx.reply(texts.RATE_FOLLOWER_THANKS)]
    if ticket.status == "closed-unresolved":
        return _rate_closure(ctx, resident, ticket, code)
    outcome = work.rate(ctx, resident, ticket, code)
    if outcome is None:
        return None
    said = texts.RATE_REOPENED.format(no=ticket.no) if code == "unsatisfied" else texts.RATE_THANKS
    return [ctx.reply(said), *outcome]


def _rate_closure(ctx, resident, ticket: Ticket, code: str) -> list | None:
    """How the resident takes a ticket closed unresolved (once): kept on the ticket; 不满意 goes to the secretary.

    The ticket stays closed (the secretary decided it cannot be fixed here); the rating is
    recorded as a `closure_rated` event that changes no status, apart from the satisfaction
    figures and appraisal (they count `rated` events of handled tickets).
    """
    from bot.models import Branch
    from bot.replies import to_member
    ticket = work._locked(ctx, ticket)
    if code is None or ticket.status != "closed-unresolved" or ticket.rating is not None:
        return None
    ticket.rating = code
    record_event(ctx.session, ticket, "closure_rated", resident_actor(resident), ctx.now, rating=code)
    if code != "unsatisfied":
        return [ctx.reply(texts.RATE_CLOSED_THANKS)]
    branch = ctx.session.get(Branch, ticket.branch_id) if ticket.branch_id else None
    alert = [to_member(branch.secretary_id, texts.SECRETARY_CLOSED_UNSATISFIED.format(no=ticket.no))] \
        if branch is not None and branch.secretary_id else []
    return [ctx.reply(texts.RATE_CLOSED_UNSATISFIED.format(no=ticket.no)), *alert]


def rate_now(ctx, ticket: Ticket, code: str) -> list:
    """A rating word sent outside the flow: record it, then ask for a comment."""
    replies = _record(ctx, ticket, code)
    if replies is None:
        return [ctx.reply(texts.RATE_NOTHING)]
    return [*replies, *ctx.bot.engine.begin(ctx, FLOW.name, S.AWAIT_COMMENT, {"no": ticket.no})]


def rate_once(ctx, ticket: Ticket, code: str) -> list:
    """A rating word recorded once with no comment asked: a ticket closed unresolved, or one followed."""
    return _record(ctx, ticket, code) or [ctx.reply(texts.RATE_NOTHING)]


def handle_score(turn):
    """Takes 满意 / 基本满意 / 不满意, 1–5, 五星, 很差 …; the first answer counts; 跳过 rates later."""
    rating = words.rating_code(turn.inbound.text)
    if rating is None and words.is_skip(turn.inbound.text):
        return Finish([turn.reply(texts.RATE_SKIP_SCORE)])
    if rating is None:
        return Retry(texts.RATE_HINT)
    ticket = ticket_by_no(turn.ctx.session, turn.data["no"])
    replies = _record(turn.ctx, ticket, rating)
    if replies is None:
        return Finish([turn.reply(texts.RATE_NOTHING)])
    if ticket.status == "closed-unresolved":
        return Finish(replies)
    return Next(S.AWAIT_COMMENT, replies)


def handle_comment(turn):
    """Saves a comment; a rating word for a ticket resolved again meanwhile rates that instead."""
    said = turn.inbound.text
    if turn.inbound.kind not in ("text", "voice") or not said:
        return Retry(texts.RATE_ASK_COMMENT)
    waiting = waiting_ticket(turn.ctx, turn.ctx.resident())
    if words.rating_code(said) and waiting is not None:
        turn.data["no"] = waiting.no
        return Next(S.AWAIT_COMMENT, _record(turn.ctx, waiting, words.rating_code(said)))
    if words.is_skip(said) or words.is_done(said) or words.is_no(said) or words.is_ack(said) \
            or words.rating_code(said):
        # 嗯 / 好的 / 谢谢 (or the rating said again) is no comment on the work.
        return _then_consent(turn, [turn.reply(texts.RATE_SKIPPED)])
    ticket = ticket_by_no(turn.ctx.session, turn.data["no"])
    record_event(turn.ctx.session, ticket, "rating_comment", resident_actor(turn.ctx.resident()),
                 turn.ctx.now, text=said[:500])
    return _then_consent(turn, [turn.reply(texts.RATE_COMMENT_SAVED)])


def _then_consent(turn, replies):
    """#15: a reporter who rated a ticket to its close is asked once whether it may be published."""
    from bot.participation import publicity
    ticket, resident = ticket_by_no(turn.ctx.session, turn.data["no"]), turn.ctx.resident()
    if ticket is None or resident is None or ticket.resident_id != resident.id \
            or ticket.status not in publicity.PUBLISHABLE or ticket.rating not in SATISFIED_CODES:
        return Finish(replies)
    row = publicity.row_of(turn.ctx.session, ticket)
    if row is not None and row.consent is not None:
        return Finish(replies)
    return Next(S.AWAIT_CONSENT, replies)


def handle_consent(turn):
    """同意 / 不同意 publishes or keeps it private; anything else leaves it private and is read as usual."""
    from bot.participation import publicity
    answer = publicity.consent_word(turn.inbound.text)
    if answer is None:
        from handlers.text import read_text
        return Finish(read_text(turn.ctx, turn.inbound.text) if turn.inbound.text else [])
    ticket = ticket_by_no(turn.ctx.session, turn.data["no"])
    publicity.record_consent(turn.ctx.session, ticket, turn.ctx.resident(), answer, turn.ctx.now)
    return Finish([turn.reply(texts.CONSENT_YES if answer else texts.CONSENT_NO)])


def on_cancel(turn, current):
    """算了 / 取消 after the rating: at the comment, no comment; at 公示, not published (an answer, not a cancel)."""
    if current == S.AWAIT_COMMENT:
        return Finish([turn.reply(texts.RATE_SKIPPED)])
    if current == S.AWAIT_CONSENT:
        from bot.participation import publicity
        ticket = ticket_by_no(turn.ctx.session, turn.data["no"])
        publicity.record_consent(turn.ctx.session, ticket, turn.ctx.resident(), False, turn.ctx.now)
        return Finish([turn.reply(texts.CONSENT_NO)])
    return None


FLOW = Flow(
    name="rate",
    title=texts.FLOW_TITLES["rate"],
    channel="wechat",
    states=S,
    first=S.AWAIT_SCORE,
    keywords=("评价",),
    menu_keys=("RATE",),
    help=texts.RATE_HINT,
    start=start,
    on_cancel=on_cancel,
    steps={
        S.AWAIT_SCORE: Step(ask=lambda turn: texts.RATE_ASK.format(no=turn.data["no"]), handle=handle_score),
        S.AWAIT_COMMENT: Step(ask=lambda turn: texts.RATE_ASK_COMMENT, handle=handle_comment),
        S.AWAIT_CONSENT: Step(ask=lambda turn: texts.CONSENT_ASK, handle=handle_consent),
    },
)
