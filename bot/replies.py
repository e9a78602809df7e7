"""Replies as data: handlers return them; the pipeline sends the first passively, queues the rest."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from .wire import render_message


@dataclass(frozen=True)
class Reply:
    """One message to a person: channel, recipient, message type and its body.

    The body is what the platform's send API takes under the message type's key,
    e.g. kind 'text' with body {'content': '...'}.
    """

    channel: str
    to: str
    kind: str
    body: dict = field(default_factory=dict, hash=False, compare=True)


def text(channel: str, to: str, content: str) -> Reply:
    """A plain text message."""
    return Reply(channel, to, "text", {"content": content})


def to_member(userid: str, content: str) -> Reply:
    """A text message to a Party member in WeCom."""
    return text("wecom", userid, content)


def to_resident(openid: str, content: str) -> Reply:
    """A text message to a resident in the Official Account."""
    return text("wechat", openid, content)


def can_be_passive(reply: Reply, channel: str, user: str) -> bool:
    """Whether a reply can ride on the HTTP response to the callback that caused it."""
    return reply.channel == channel and reply.to == user and reply.kind == "text"


PASSIVE_LIMIT_BYTES = 2000


def split_passive(replies: list[Reply], channel: str, user: str) -> tuple[Reply | None, list[Reply]]:
    """Joins the texts for the sender into one passive reply; the rest go to the outbox.

    One answer per message reads better, works outside the 48-hour window and spends
    none of the customer-service quota.
    """
    mine = [r for r in replies if can_be_passive(r, channel, user)]
    if not mine:
        return None, list(replies)
    joined = "\n\n".join(r.body["content"] for r in mine)
    if len(joined.encode("utf-8")) <= PASSIVE_LIMIT_BYTES:
        return text(channel, user, joined), [r for r in replies if r not in mine]
    first = mine[0]
    return first, [r for r in replies if r is not first]


def render_passive(reply: Reply, from_app: str, now: int | None = None) -> str:
    """Renders a text reply as the passive-reply XML the platform expects."""
    return render_message({
        "ToUserName": reply.to,
        "FromUserName": from_app,
        "CreateTime": int(now or time.time()),
        "MsgType": "text",
        "Content": reply.body["content"],
    })
