"""Anything the bot has no handler for: a hint, never silence or an error."""
from bot import texts

from . import handles


@handles("wechat", "*")
def resident_fallback(ctx):
    """Tells a resident what the bot understands; events it does not know need no answer."""
    if ctx.inbound.kind.startswith("event.") or ctx.inbound.fields.get("MsgType") == "event":
        return []
    return [ctx.reply(texts.UNSUPPORTED_KIND)]


@handles("wecom", "*")
def member_fallback(ctx):
    """Ignores WeCom events that need no answer (e.g. entering the app's page)."""
    if ctx.inbound.kind.startswith("event.") or ctx.inbound.fields.get("MsgType") == "event":
        return []
    return [ctx.reply(texts.MEMBER_MENU if ctx.member() else texts.MEMBER_UNKNOWN)]
