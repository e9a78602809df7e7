"""Menu clicks that start no flow: my tickets, or the menu itself."""
from bot import texts
from bot.tickets import my_tickets_text

from . import handles


@handles("wechat", "event.click")
def resident_click(ctx):
    """MY_TICKETS lists the resident's tickets; any other key no flow claims shows the menu."""
    if ctx.inbound.event_key == "MY_TICKETS":
        return [ctx.reply(my_tickets_text(ctx, ctx.resident()))]
    if ctx.inbound.event_key == "PUBLICITY":   # #15: the community's public page
        from bot.participation.web import public_link
        return [ctx.reply(public_link(ctx, ctx.resident()))]
    return [ctx.reply(texts.RESIDENT_MENU)]
