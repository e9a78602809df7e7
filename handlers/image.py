"""A resident's photo outside any flow."""
from bot import texts

from . import handles


@handles("wechat", "image")
def resident_image(ctx):
    """Explains that photos belong to a message (留言)."""
    return [ctx.reply(texts.PHOTO_OUTSIDE_FLOW)]
