"""A member taps the WeCom app's menu (CLICK): the same as typing the command."""
from bot import texts
from bot.errors import Refused

from . import handles
from .wecom import run_command


@handles("wecom", "event.click")
def member_click(ctx):
    """MY_QUEUE / OVERDUE / CHECKIN / POINTS / HELP run the command of that name."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    word = texts.WECOM_MENU_COMMANDS.get(ctx.inbound.event_key)
    if word is None:
        return [ctx.reply(texts.MEMBER_MENU)]
    try:
        return run_command(ctx, member, word)
    except Refused as refusal:
        return [ctx.reply(str(refusal))]
