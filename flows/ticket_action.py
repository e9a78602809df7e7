"""A card button that needs words (回复 / 办结 / 转派): ask for them, then act.

A reply is shown back to the member before it goes to the resident (确认 sends it). A member
command typed while words are awaited runs as that command and ends the wait (the channel's
interrupt, flows/interrupts.py), so a command never reaches a resident as a reply.
"""
from __future__ import annotations

from enum import StrEnum

from bot import texts, work
from bot.engine import Finish, Flow, Next, Retry, Step
from bot.errors import Refused
from bot.talk import words


class S(StrEnum):
    AWAIT_REPLY = "await_reply"
    AWAIT_SUMMARY = "await_summary"
    AWAIT_TARGET = "await_target"
    AWAIT_SEND = "await_send"


# state -> (action word, what to ask, domain function)
ACTIONS = {
    S.AWAIT_REPLY: ("回复", texts.W_ASK_REPLY, work.reply),
    S.AWAIT_SUMMARY: ("办结", texts.W_ASK_SUMMARY, work.resolve),
    S.AWAIT_TARGET: ("转派", texts.W_ASK_TARGET, work.transfer),
    S.AWAIT_SEND: ("回复", texts.W_CONFIRM_HINT, work.reply),
}
BUTTONS = {"reply": S.AWAIT_REPLY, "resolve": S.AWAIT_SUMMARY, "transfer": S.AWAIT_TARGET}


def not_a_summary(said: str) -> bool:
    """Whether 办结 words are only a stock answer (嗯 / 好的 / 确认 / 完成), not what was done."""
    return words.is_answer_word(said) or words.is_ack(said)


def action_of(state: str) -> str:
    """The action word a waiting state stands for (回复 / 办结 / 转派)."""
    return ACTIONS[S(state)][0]


def _act(turn, word: str, act, said: str):
    member = turn.ctx.member()
    try:
        ticket = work.ticket_for(turn.ctx, member, turn.data["no"], word)
        return Finish(act(turn.ctx, member, ticket, said))
    except Refused as refusal:
        return Finish([turn.reply(str(refusal))])


def _step(state: S) -> Step:
    word, question, act = ACTIONS[state]

    def ask(turn):
        return question.format(no=turn.data["no"])

    def handle(turn):
        if turn.inbound.kind not in ("text", "voice") or not turn.inbound.text:
            return Retry(question.format(no=turn.data["no"]))
        said = turn.inbound.text
        if state == S.AWAIT_SUMMARY and not_a_summary(said):
            # 嗯 / 好的 / 确认 is no 办结 summary: the resident would read just that (#20). A reply
            # is shown back before it is sent, so there the member sees what they typed.
            return Retry(texts.W_WORDS_NOT_CONTENT.format(action=word) + question.format(no=turn.data["no"]))
        if state == S.AWAIT_REPLY:
            turn.data["words"] = turn.inbound.text
            return Next(S.AWAIT_SEND)
        return _act(turn, word, act, turn.inbound.text)

    return Step(ask=ask, handle=handle)


def ask_send(turn):
    return texts.W_CONFIRM_REPLY.format(no=turn.data["no"], text=turn.data["words"])


def handle_send(turn):
    """确认 sends the reply shown; other words replace it and are shown again."""
    if turn.inbound.kind not in ("text", "voice") or not turn.inbound.text:
        return Retry(texts.W_CONFIRM_HINT)
    if words.is_yes(turn.inbound.text):
        return _act(turn, "回复", work.reply, turn.data["words"])
    turn.data["words"] = turn.inbound.text
    return Retry(ask_send(turn))


FLOW = Flow(
    name="ticket_action",
    channel="wecom",
    states=S,
    first=S.AWAIT_REPLY,
    help=texts.W_FLOW_HELP,
    title=texts.FLOW_TITLES["ticket_action"],
    cancelled=texts.W_CANCELLED,
    steps={**{state: _step(state) for state in (S.AWAIT_REPLY, S.AWAIT_SUMMARY, S.AWAIT_TARGET)},
           S.AWAIT_SEND: Step(ask=ask_send, handle=handle_send)},
)
