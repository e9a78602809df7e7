"""A resident's text outside any flow: help, my tickets, or a long text offered as a ticket."""
import re

from bot import texts
from bot.nlp import is_meaningful
from bot.tickets import my_tickets_text
from flows import book_service, rate
from flows.leave_message import offer_key

from . import handles

MY_TICKETS_WORDS = ("查询", "我的留言", "进度", "我的工单")
RATE_NO = re.compile(r"^评价\s*(\d{8}-\d{4})$")
OFFER_TTL_S = 1800


def read_text(ctx, said: str):
    """Answers words a resident sends outside a flow (typed, or spoken and recognised)."""
    booked = book_service.my_appointments(ctx, said)
    if booked is not None:
        return booked
    named = RATE_NO.match(said)
    if named:
        return rate.start_for(ctx, named.group(1))
    if said in texts.RATE_WORDS:
        waiting = rate.waiting_ticket(ctx, ctx.resident())
        if waiting is not None:
            return rate.rate_now(ctx, waiting, texts.RATE_WORDS[said])
    if said in MY_TICKETS_WORDS:
        return [ctx.reply(my_tickets_text(ctx, ctx.resident()))]
    if said in texts.HELP_WORDS or said in ("你好", "您好", "菜单"):
        return [ctx.reply(texts.RESIDENT_MENU)]
    if len(said) >= int(ctx.cfg["leave_message"]["offer_ticket_chars"]) and is_meaningful(said):
        text = said[: int(ctx.cfg["leave_message"]["max_chars"])]
        key = offer_key(ctx.inbound.user)
        ctx.after_commit.append(lambda: ctx.redis.set(key, text, ex=OFFER_TTL_S))
        preview = text if len(text) <= 40 else text[:40] + "…"
        return [ctx.reply(texts.LM_OFFER.format(preview=preview))]
    return [ctx.reply(texts.RESIDENT_HINT)]


@handles("wechat", "text")
def resident_text(ctx):
    """Shows the menu, the resident's tickets, or offers a long text as a ticket."""
    return read_text(ctx, ctx.inbound.text)
