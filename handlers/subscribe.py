"""Following the Official Account, scanning a grid's QR code (民情二维码), unfollowing."""
import logging

from sqlalchemy import select

from bot import texts
from bot.models import Grid, Member

from . import handles

log = logging.getLogger(__name__)


def _scene(ctx) -> str:
    key = ctx.inbound.event_key
    return key[len("qrscene_"):] if key.startswith("qrscene_") else key


def bind(ctx, welcome: bool):
    """Marks the resident subscribed and binds the grid of the QR scene, if any."""
    resident = ctx.resident()
    resident.subscribed = True
    scene = _scene(ctx)
    grid = ctx.session.scalar(select(Grid).where(Grid.qr_scene == scene, Grid.active)) if scene else None
    if scene and grid is None:
        log.warning("QR scene %r matches no grid (resident %s)", scene, ctx.inbound.user)
    if grid is None:
        return [ctx.reply(texts.WELCOME)] if welcome else [ctx.reply(texts.RESIDENT_MENU)]
    resident.grid_id = grid.id
    member = ctx.session.get(Member, grid.member_id) if grid.member_id else None
    if welcome:
        return [ctx.reply(texts.WELCOME_GRID.format(community=grid.community, grid=grid.name,
                                                    member=member.name if member else ""))]
    return [ctx.reply(texts.BOUND_GRID.format(community=grid.community, grid=grid.name))]


@handles("wechat", "event.subscribe")
def subscribed(ctx):
    """Welcomes a new follower, binding them to the grid of the QR code they scanned."""
    return bind(ctx, welcome=True)


@handles("wechat", "event.scan")
def scanned(ctx):
    """A follower scanned a grid's QR code: bind them to that grid."""
    return bind(ctx, welcome=False)


@handles("wechat", "event.unsubscribe")
def unsubscribed(ctx):
    """Remembers that the resident left; nothing can be sent to them now."""
    resident = ctx.resident()
    if resident is not None:   # someone the bot never heard from is not recorded now
        resident.subscribed = False
    return []
