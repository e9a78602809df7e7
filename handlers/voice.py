"""A resident's voice message outside any flow: read through WeChat's Recognition text."""
from bot import texts

from . import handles
from .text import read_text


@handles("wechat", "voice")
def resident_voice(ctx):
    """Treats recognised speech as text; asks for text when there is none."""
    if not ctx.inbound.text:
        return [ctx.reply(texts.LM_VOICE_NO_TEXT)]
    return read_text(ctx, ctx.inbound.text)
