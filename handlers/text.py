"""A resident's text outside any flow."""
from bot import texts

from . import handles


@handles("wechat", "text")
def resident_text(ctx):
    """Shows a resident what they can do."""
    if ctx.inbound.text in texts.HELP_WORDS:
        return [ctx.reply(texts.RESIDENT_MENU)]
    return [ctx.reply(texts.RESIDENT_HINT)]
