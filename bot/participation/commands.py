"""The #15 words: members' and secretaries' WeCom commands, and residents' Official Account words."""
from __future__ import annotations

import re

from .. import texts
from . import proxy, publicity, worklog

TICKET_NO = r"(\d{8}-\d{4})?"
VERBS = ("日志", "代录", "代答", "删除联系人", "金点子", "案例", "隐藏公示", "恢复公示", "议题", "选题", "召开", "决议")
MEMBER = re.compile(r"^(" + "|".join(VERBS) + r")(?:\s+|$)(.*)$", re.S)
WITH_NO = re.compile(r"^" + TICKET_NO + r"\s*(.*)$", re.S)


def run_member(ctx, member, said: str) -> list | None:
    """Runs a #15 command of a member or secretary; None when the words are not one (Refused when refused)."""
    match = MEMBER.match(said or "")
    if match is None:
        return None
    verb, rest = match.group(1), match.group(2).strip()
    if verb == "日志":
        return worklog.log_work(ctx, member, rest)
    if verb == "代录":
        return proxy.enter(ctx, member, rest)
    if verb in ("议题", "选题", "召开", "决议"):
        from . import council
        return council.run(ctx, member, verb, rest)
    no, tail = WITH_NO.match(rest).groups()
    if verb == "代答":
        return proxy.answer(ctx, member, no, tail)
    if verb == "删除联系人":
        return proxy.erase(ctx, member, no)
    if verb == "金点子":
        return publicity.golden(ctx, member, no)
    if verb == "案例":
        return publicity.add_case(ctx, member, no, tail)
    return publicity.set_hidden(ctx, member, no, verb == "隐藏公示")


def run_resident(ctx, said: str) -> list | None:
    """Answers a resident's #15 words (绑定手机, 参加, 议事会通知 开/关, 公示); None when not one of them."""
    said = (said or "").strip()
    if said.startswith("绑定手机"):
        return proxy.bind(ctx, ctx.resident(), said[len("绑定手机"):])
    if said in texts.PUBLIC_WORDS:
        from .web import public_link
        return [ctx.reply(public_link(ctx, ctx.resident()))]
    if said in ("参加", "报名参加", "议事会通知 开", "议事会通知 关", "议事会通知开", "议事会通知关"):
        from . import council
        if said in ("参加", "报名参加"):
            return council.join(ctx, ctx.resident())
        return council.subscribe(ctx, ctx.resident(), said.endswith("开"))
    return None
