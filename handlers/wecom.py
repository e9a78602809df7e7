"""A member's text in the WeCom app outside any flow."""
from bot import texts

from . import handles


@handles("wecom", "text")
def member_text(ctx):
    """Answers a member with their commands, or tells a stranger the app is for members."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    return [ctx.reply(texts.MEMBER_MENU)]
