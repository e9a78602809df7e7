"""A resident's shared location outside any flow."""
from bot import texts

from . import handles


@handles("wechat", "location")
def resident_location(ctx):
    """Explains that a place belongs to a message (留言)."""
    return [ctx.reply(texts.LOCATION_OUTSIDE_FLOW)]
