"""A card button that needs words (回复 / 办结 / 转派): ask for them, then act."""
from __future__ import annotations

from enum import StrEnum

from bot import texts, work
from bot.engine import Finish, Flow, Retry, Step
from bot.errors import Refused


class S(StrEnum):
    AWAIT_REPLY = "await_reply"
    AWAIT_SUMMARY = "await_summary"
    AWAIT_TARGET = "await_target"


# state -> (action word, what to ask, domain function)
ACTIONS = {
    S.AWAIT_REPLY: ("回复", texts.W_ASK_REPLY, work.reply),
    S.AWAIT_SUMMARY: ("办结", texts.W_ASK_SUMMARY, work.resolve),
    S.AWAIT_TARGET: ("转派", texts.W_ASK_TARGET, work.transfer),
}
BUTTONS = {"reply": S.AWAIT_REPLY, "resolve": S.AWAIT_SUMMARY, "transfer": S.AWAIT_TARGET}


def _step(state: S) -> Step:
    word, question, act = ACTIONS[state]

    def ask(turn):
        return question.format(no=turn.data["no"])

    def handle(turn):
        if turn.inbound.kind != "text" or not turn.inbound.text:
            return Retry(question.format(no=turn.data["no"]))
        member = turn.ctx.member()
        try:
            ticket = work.ticket_for(turn.ctx, member, turn.data["no"], word)
            return Finish(act(turn.ctx, member, ticket, turn.inbound.text))
        except Refused as refusal:
            return Finish([turn.reply(str(refusal))])

    return Step(ask=ask, handle=handle)


FLOW = Flow(
    name="ticket_action",
    channel="wecom",
    states=S,
    first=S.AWAIT_REPLY,
    help="按提示输入内容即可；发送“取消”放弃本次操作。",
    steps={state: _step(state) for state in S},
)
