"""A resident's text outside any flow: help, my tickets, or a long text offered as a ticket."""
import re

from sqlalchemy import select

from bot import caching, texts, work
from bot.models import Appointment, Grid, Ticket
from bot.nlp import is_meaningful, words_in
from bot.participation import commands as participation
from bot.talk import safety, words
from bot.tickets import my_tickets_text, when
from flows import book_service, rate
from flows.leave_message import offer_key

from . import handles

MY_TICKETS_WORDS = ("查询", "我的留言", "进度", "我的工单")
MY_DATA_WORDS = ("我的数据", "我的信息")
RATE_NO = re.compile(r"^评价\s*(\d{8}-\d{4})$")
OFFER_TTL_S = 1800


def read_text(ctx, said: str):
    """Answers words a resident sends outside a flow (typed, or spoken and recognised)."""
    extra = participation.run_resident(ctx, said)   # #15: 绑定手机, 参加, 议事会通知 开/关, 公示
    if extra is not None:
        return extra
    booked = book_service.my_appointments(ctx, said)
    if booked is not None:
        return booked
    named = RATE_NO.match(said)
    if named:
        return rate.start_for(ctx, named.group(1))
    short = words.normalise(said)
    code = words.rating_code(short)
    if code is not None:
        waiting = rate.to_rate(ctx, ctx.resident())
        if waiting is not None and waiting.status == "resolved":
            return rate.rate_now(ctx, waiting, code)
        if waiting is not None:   # closed unresolved: how the resident takes it, no comment asked
            return rate.rate_once(ctx, waiting, code)
        followed = rate.followed_waiting(ctx, ctx.resident())
        if followed is not None:  # a neighbour answering the follower's 办结 notice
            return rate.rate_once(ctx, followed, code)
    if short in MY_DATA_WORDS:
        return [ctx.reply(my_data_text(ctx, ctx.resident()) + texts.MY_DATA_BIND_HINT)]   # #15 绑定手机
    if short in MY_TICKETS_WORDS or (any(w in said for w in texts.PROGRESS_WORDS) and len(said) <= 30):
        return [ctx.reply(my_tickets_text(ctx, ctx.resident()))]
    if words.is_cancel(short) or words.is_back(short):
        return [ctx.reply(texts.R_NOTHING_PENDING)]
    if short in texts.INTENT_WORDS:
        return [ctx.reply(texts.INTENT_REPLY)]
    if words.is_help(short):
        return [ctx.reply(texts.RESIDENT_MENU)]
    if words.is_greeting(short):
        return [ctx.reply(texts.GREETING_REPLY)]
    asked = None
    if caching.facts(ctx).get("waiting") is not False:     # #19: cached while no ticket waits
        asked = work.waiting_for(ctx.session, ctx.resident())
        caching.learn(ctx, waiting=asked is not None)
    if asked is None and (words.is_yes(short) or words.is_ack(short)) and not words.is_thanks(short) \
            and ctx.kv_get(offer_key(ctx.inbound.user)):
        # 好的 / 确认 right after "回复“留言”提交": they mean 留言 (#20).
        from flows import leave_message
        return ctx.bot.engine._start(ctx, ctx.bot.engine.flows[leave_message.FLOW.name])
    if words.is_thanks(short) or (words.is_ack(short) and asked is None):
        # 好的 / 嗯 / 谢谢 after a push: a resolved ticket is asked about once more, else acknowledged.
        resolved = rate.waiting_ticket(ctx, ctx.resident())
        if resolved is not None:
            return [ctx.reply(texts.RATE_ACK_ASK.format(no=resolved.no))]
        return [ctx.reply(texts.THANKS_REPLY if words.is_thanks(short) else texts.ACK_REPLY)]
    if asked is not None and is_meaningful(said):
        return work.answer_question(ctx, ctx.resident(), asked, said)
    advice = [ctx.reply(a) for a in safety.advice_for(ctx.cfg, said)]   # at once, before anything else
    return [*advice, *(offer(ctx, said) or [ctx.reply(texts.RESIDENT_HINT)])]


def offer(ctx, said: str):
    """Offers a complaint as a ticket: a long text, or a short one with an urgent word.

    While an offer waits, further words add to it (up to the description limit), so nothing
    the resident explains before tapping 留言 is lost.
    """
    opts = ctx.cfg["leave_message"]
    limit = int(opts["max_chars"])
    if not is_meaningful(said) or words.is_answer_word(said) or not words.looks_like_words(said):
        return None
    key = offer_key(ctx.inbound.user)
    pending = ctx.kv_get(key)
    if isinstance(pending, bytes):
        pending = pending.decode("utf-8")
    urgent = words_in(said, ctx.cfg["nlp"]["urgent_words"])
    problem = len(said.strip()) >= int(opts["min_chars"]) and words_in(said, texts.PROBLEM_WORDS)
    if pending:
        text = (pending + "\n" + said.strip())[:limit]
        template = texts.LM_OFFER_MORE
    elif len(said) >= int(opts["offer_ticket_chars"]) or urgent or problem:
        text = said.strip()[:limit]
        template = texts.LM_OFFER_URGENT if urgent else texts.LM_OFFER
    else:
        return None
    ctx.after_commit.append(lambda: ctx.redis.set(key, text, ex=OFFER_TTL_S))
    preview = text if len(text) <= 60 else "…" + text[-60:] if pending else text[:60] + "…"
    return [ctx.reply(template.format(preview=preview))]


def my_data_text(ctx, resident) -> str:
    """Everything held about the resident who asks (their own data, unmasked)."""
    session = ctx.session
    tickets = session.scalars(select(Ticket).where(Ticket.resident_id == resident.id)
                              .order_by(Ticket.id)).all()
    appointments = session.scalars(select(Appointment).where(Appointment.resident_id == resident.id)
                                   .order_by(Appointment.id)).all()
    grid = session.get(Grid, resident.grid_id) if resident.grid_id else None
    ticket_lines = "\n".join(texts.MY_DATA_TICKET.format(
        no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), text=t.text[:40]) for t in tickets)
    appointment_lines = "\n".join(texts.MY_DATA_APPOINTMENT.format(
        when=when(ctx, a.slot_start), type=a.service_type,
        status=texts.APPOINTMENT_STATUS_NAMES.get(a.status, a.status)) for a in appointments)
    return texts.MY_DATA.format(
        subscribed=texts.SUBSCRIBED_NAMES[bool(resident.subscribed)],
        grid=f"{grid.community}{grid.name}" if grid else texts.MY_DATA_NO_GRID, since=when(ctx, resident.created_at),
        tickets=len(tickets), ticket_lines=ticket_lines or texts.MY_DATA_NONE,
        appointments=len(appointments), appointment_lines=appointment_lines or texts.MY_DATA_NONE)


@handles("wechat", "text")
def resident_text(ctx):
    """Shows the menu, the resident's tickets, or offers a long text as a ticket."""
    return read_text(ctx, ctx.inbound.text)
