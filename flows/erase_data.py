"""删除我的数据: a resident has their identity and personal data erased, after confirming."""
from __future__ import annotations

from enum import StrEnum

from bot import texts
from bot.engine import Finish, Flow, Retry, Step
from bot.privacy import erase_resident
from bot.tickets import resident_actor

from .leave_message import offer_key


class S(StrEnum):
    AWAIT_CONFIRM = "await_confirm"


def start(turn):
    if turn.ctx.resident() is None:
        return Finish([turn.reply(texts.MY_NONE)])
    return None


def handle_confirm(turn):
    """确认删除 erases; anything else asks again (取消 leaves everything as it is)."""
    if turn.inbound.text != "确认删除":
        return Retry(texts.ERASE_HINT)
    ctx = turn.ctx
    resident = ctx.resident()
    openid = resident.openid
    erase_resident(ctx.bot, ctx.session, resident, ctx.now, resident_actor(resident))
    ctx.after_commit.append(lambda: ctx.redis.delete(offer_key(openid)))
    return Finish([turn.reply(texts.ERASE_DONE)])


FLOW = Flow(
    name="erase_data",
    title=texts.FLOW_TITLES["erase_data"],
    channel="wechat",
    states=S,
    first=S.AWAIT_CONFIRM,
    keywords=("删除我的数据",),
    help=texts.ERASE_ASK,
    start=start,
    steps={S.AWAIT_CONFIRM: Step(ask=lambda turn: texts.ERASE_ASK, handle=handle_confirm)},
)
