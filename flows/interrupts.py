"""What each channel answers in the middle of any flow, before a step reads the words.

Residents: 查询 / 我的留言 / 我的数据 / 我的预约 (and the MY_TICKETS menu) are answered and the
question asked again; following or scanning a grid's QR code binds the grid and the flow
goes on (the place step then offers that grid); unfollowing ends the flow; a photo or a
location a step cannot use is acknowledged; words describing a danger (gas, fire, electric
shock …) get the safety advice at once, whatever the step, and the step then reads them as
usual (`with_safety`). Members: a command ends a pending wait, with a line saying the words
awaited were not sent.
"""
from __future__ import annotations

from bot import texts
from bot.engine import Finish, Interrupt, Next, Retry, Step
from bot.talk import safety, words

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
    if text.RATE_NO.match(said):   # 评价 <no> is no description: finish this first (#20)
        return Interrupt([ctx.reply(texts.FLOW_FINISH_FIRST.format(flow=flow.title or flow.name))])
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


def with_safety(handle):
    """A resident's step that first gives safety advice for a danger the words describe (once per flow)."""
    if getattr(handle, "gives_safety_advice", False):
        return handle

    def step(turn):
        said = turn.inbound.text if turn.inbound.kind in ("text", "voice") else ""
        advice = safety.advise_once(turn.ctx.cfg, turn.data, said) if said else []
        outcome = handle(turn)
        if not advice:
            return outcome
        if isinstance(outcome, Retry):
            return Retry("\n\n".join([*advice, outcome.hint]))
        told = " ".join(str(getattr(r, "body", {}).get("content", "")) for r in
                        getattr(outcome, "replies", ()))
        first = [turn.reply(a) for a in advice if a not in told]
        if isinstance(outcome, Next):
            return Next(outcome.state, [*first, *outcome.replies])
        if isinstance(outcome, Finish):
            return Finish([*first, *outcome.replies])
        return outcome

    step.gives_safety_advice = True
    step.__doc__ = handle.__doc__
    return step


def add_safety(flow) -> None:
    """Every step of a resident's flow gives safety advice at once (see with_safety)."""
    if flow.channel != "wechat":
        return
    for state, step in list(flow.steps.items()):
        flow.steps[state] = Step(ask=step.ask, handle=with_safety(step.handle))


def register(engine) -> None:
    """Registers both channels' interrupts with the flow engine."""
    engine.interrupt("wechat", resident)
    engine.interrupt("wecom", member)
