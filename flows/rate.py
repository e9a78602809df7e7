"""评价: the resident rates a resolved ticket once, then may add a comment."""
from __future__ import annotations

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


def start(turn):
    """Finds the ticket to rate, or says there is none."""
    ticket = waiting_ticket(turn.ctx, turn.ctx.resident())
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
    if ticket.status != "resolved":
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
    outcome = work.rate(ctx, resident, ticket, code)
    if outcome is None:
        return None
    said = texts.RATE_REOPENED.format(no=ticket.no) if code == "unsatisfied" else texts.RATE_THANKS
    return [ctx.reply(said), *outcome]


def rate_now(ctx, ticket: Ticket, code: str) -> list:
    """A rating word sent outside the flow: record it, then ask for a comment."""
    replies = _record(ctx, ticket, code)
    if replies is None:
        return [ctx.reply(texts.RATE_NOTHING)]
    return [*replies, *ctx.bot.engine.begin(ctx, FLOW.name, S.AWAIT_COMMENT, {"no": ticket.no})]


def handle_score(turn):
    """Takes 满意 / 基本满意 / 不满意, 1–5, 五星, 很差 …; the first answer counts; 跳过 rates later."""
    rating = words.rating_code(turn.inbound.text)
    if rating is None and words.is_skip(turn.inbound.text):
        return Finish([turn.reply(texts.RATE_SKIP_SCORE)])
    if rating is None:
        return Retry(texts.RATE_HINT)
    replies = _record(turn.ctx, ticket_by_no(turn.ctx.session, turn.data["no"]), rating)
    if replies is None:
        return Finish([turn.reply(texts.RATE_NOTHING)])
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
    if words.is_skip(said) or words.is_done(said) or words.is_no(said):
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
    steps={
        S.AWAIT_SCORE: Step(ask=lambda turn: texts.RATE_ASK.format(no=turn.data["no"]), handle=handle_score),
        S.AWAIT_COMMENT: Step(ask=lambda turn: texts.RATE_ASK_COMMENT, handle=handle_comment),
        S.AWAIT_CONSENT: Step(ask=lambda turn: texts.CONSENT_ASK, handle=handle_consent),
    },
)
