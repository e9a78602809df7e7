"""A member's text command in the WeCom app: 接单 / 回复 / 办结 / 转派 / 指派 / 我的工单 / 工单 / 督办."""
import re

from bot import booking, texts, work
from bot.errors import Refused

from . import handles

MARK = re.compile(r"^(到场|未到)\s*[Aa](\d+)$")
COMMAND = re.compile(r"^(接单|回复|办结|转派|指派|工单)\s*(\d{8}-\d{4})?\s*(.*)$", re.S)
ACTS = {"回复": work.reply, "办结": work.resolve, "转派": work.transfer, "指派": work.assign}


def run_command(ctx, member, said: str):
    """Parses and runs one command; a refusal is answered, nothing changed."""
    if said in ("我的工单", "待办"):
        return [ctx.reply(work.queue_text(ctx, member))]
    if said in ("督办", "督办台账", "超期"):
        return [ctx.reply(work.overdue_text(ctx, member))]
    if said in texts.HELP_WORDS or said in ("你好", "您好", "菜单"):
        return [ctx.reply(texts.MEMBER_MENU)]
    marked = MARK.match(said)
    if marked:
        return mark_appointment(ctx, member, int(marked.group(2)),
                                "done" if marked.group(1) == "到场" else "no_show")
    match = COMMAND.match(said)
    if match is None:
        return [ctx.reply(texts.W_UNKNOWN_COMMAND)]
    verb, no, rest = match.group(1), match.group(2), match.group(3).strip()
    if verb == "工单":
        return [ctx.reply(work.detail_text(ctx, work.ticket_for(ctx, member, no, verb,
                                                                allowed=tuple(texts.STATUS_NAMES))))]
    if verb == "接单":
        return work.accept(ctx, member, work.ticket_for(ctx, member, no, verb, allowed=work.CAN_ACCEPT))
    if verb == "指派" and member.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action=verb))
    return ACTS[verb](ctx, member, work.ticket_for(ctx, member, no, verb), rest)


def mark_appointment(ctx, member, appointment_id: int, result: str):
    """到场 / 未到 A<id>: the member records how a service-day appointment went."""
    try:
        appointment = booking.mark(ctx.session, member, appointment_id, result, ctx.now)
    except ValueError:
        return [ctx.reply(texts.BK_MARK_TOO_EARLY.format(id=appointment_id))]
    if appointment is None:
        return [ctx.reply(texts.BK_MARK_NO_SUCH.format(id=appointment_id))]
    return [ctx.reply(texts.BK_MARKED.format(id=appointment_id, result=texts.BK_MARK_NAMES[result]))]


@handles("wecom", "text")
def member_text(ctx):
    """Answers a member's command, or tells a stranger the app is for members."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    try:
        return run_command(ctx, member, ctx.inbound.text)
    except Refused as refusal:
        return [ctx.reply(str(refusal))]
