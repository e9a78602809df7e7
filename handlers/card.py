"""A member taps a button on a ticket card (WeCom template_card_event)."""
import logging

from bot import texts, work
from bot.errors import Refused
from bot.routing.card import RECATEGORISE
from bot.tickets import ticket_by_no
from flows import ticket_action

from . import handles

log = logging.getLogger(__name__)


@handles("wecom", "event.template_card_event")
def card_button(ctx):
    """接单 acts at once; 回复 / 办结 / 转派 ask for the words first. Stale cards say so."""
    member = ctx.member()
    if member is None:
        return [ctx.reply(texts.MEMBER_UNKNOWN)]
    action, _, no = ctx.inbound.event_key.partition(":")
    if action == RECATEGORISE:        # #18: one tap to the category the model would pick next
        no, _, category = no.partition(":")
        try:
            ticket = work.ticket_for(ctx, member, no, "转派", work.OPEN_STATUSES)
            return work.transfer(ctx, member, ticket, category)
        except Refused as refusal:
            return [ctx.reply(str(refusal))]
    if action not in ("accept", *ticket_action.BUTTONS) or not no:
        log.warning("unknown card button %r from %s", ctx.inbound.event_key, member.userid)
        return [ctx.reply(texts.W_UNKNOWN_COMMAND)]
    allowed = work.CAN_ACCEPT if action == "accept" else work.OPEN_STATUSES
    ticket = ticket_by_no(ctx.session, no)
    if ticket is not None and ticket.status not in allowed:
        return [ctx.reply(texts.W_CARD_EXPIRED.format(
            no=no, status=texts.STATUS_NAMES.get(ticket.status, ticket.status)))]
    try:
        ticket = work.ticket_for(ctx, member, no, "接单" if action == "accept" else action, allowed)
    except Refused as refusal:
        return [ctx.reply(str(refusal))]
    dropped = _dropped(ctx, action, no)
    if action == "accept":
        return [*work.accept(ctx, member, ticket), *dropped]
    return [*dropped, *ctx.bot.engine.begin(ctx, ticket_action.FLOW.name, ticket_action.BUTTONS[action],
                                            {"no": no})]


def _dropped(ctx, action: str, no: str) -> list:
    """Another button while words were awaited for a card: say those words were not sent."""
    pending = ctx.bot.engine.load(ctx)
    if not pending or pending.get("flow") != ticket_action.FLOW.name:
        return []
    same = pending.get("state") == ticket_action.BUTTONS.get(action) and pending.get("data", {}).get("no") == no
    if same:
        return []
    return [ctx.reply(texts.W_PENDING_DROPPED.format(action=ticket_action.action_of(pending["state"]),
                                                     no=pending.get("data", {}).get("no", "")))]
