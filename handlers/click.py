"""Menu clicks that start no flow."""
from bot import texts

from . import handles


@handles("wechat", "event.click")
def resident_click(ctx):
    """Answers a menu key no flow claims with the menu."""
    return [ctx.reply(texts.RESIDENT_MENU)]
