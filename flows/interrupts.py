"""What each channel answers in the middle of any flow, before a step reads the words.

Residents: 查询 / 我的留言 / 我的数据 / 我的预约 (and the MY_TICKETS menu) are answered and the
question asked again; following or scanning a grid's QR code binds the grid and the flow
goes on (the place step then offers that grid); unfollowing ends the flow; a photo or a
location a step cannot use is acknowledged. Members: a command ends a pending wait, with a
line saying the words awaited were not sent.
"""
from __future__ import annotations

from bot import texts
from bot.engine import Interrupt
from bot.talk import words

RESIDENT_QUERY_WORDS = ("查询", "我的留言", "进度", "我的工单")
MY_DATA_WORDS = ("我的数据", "我的信息")


def resident(ctx, flow, current, turn) -> Interrupt | None:
    """Answers a resident's query, event or unusable message without losing the flow."""
    from bot.tickets import my_tickets_text
    from flows import book_service
    from handlers import subscribe, text

    inbound = ctx.inbound
    kind = inbound.kind
    if kind in ("event.subscribe", "event.scan"):
        return Interrupt(subscribe.bind(ctx, welcome=kind == "event.subscribe"))
    if kind == "event.unsubscribe":
        subscribe.unsubscribed(ctx)
        return Interrupt([], end=True)
    if kind == "event.click" and inbound.event_key == "MY_TICKETS":
        return Interrupt([ctx.reply(my_tickets_text(ctx, ctx.resident()))])
    if kind in ("image", "location") and kind not in flow.accepts:
        return Interrupt([ctx.reply(texts.KIND_NOT_NOW.format(flow=flow.title or flow.name))])
    said = words.normalise(inbound.text)
    if said in RESIDENT_QUERY_WORDS:
        return Interrupt([ctx.reply(my_tickets_text(ctx, ctx.resident()))])
    if said in MY_DATA_WORDS:
        return Interrupt([ctx.reply(text.my_data_text(ctx, ctx.resident()))])
    if said in book_service.LIST_WORDS:
        return Interrupt([ctx.reply(book_service.list_text(ctx, ctx.resident()))])
    return None


def member(ctx, flow, current, turn) -> Interrupt | None:
    """A member's command runs as that command and ends the wait for words."""
    from bot.errors import Refused
    from flows import ticket_action
    from handlers import wecom

    if ctx.inbound.kind != "text" or not wecom.is_command(ctx.inbound.text):
        return None
    someone = ctx.member()
    if someone is None:
        return None
    dropped = []
    if flow.name == ticket_action.FLOW.name:
        dropped = [ctx.reply(texts.W_PENDING_DROPPED.format(action=ticket_action.action_of(current),
                                                           no=turn.data.get("no", "")))]
    try:
        replies = wecom.run_command(ctx, someone, ctx.inbound.text)
    except Refused as refusal:
        replies = [ctx.reply(str(refusal))]
    return Interrupt([*replies, *dropped], end=True)


def register(engine) -> None:
    """Registers both channels' interrupts with the flow engine."""
    engine.interrupt("wechat", resident)
    engine.interrupt("wecom", member)
