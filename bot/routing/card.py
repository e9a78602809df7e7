"""What the member's card says about how sure the category is, and the one-tap 转派 to the
category the model would pick next."""
from __future__ import annotations

from sqlalchemy import select

from .. import texts
from ..models import Category, Ticket, TicketEvent

RECATEGORISE = "recategorise"     # card button key: recategorise:<ticket no>:<category>


def _guess(ctx, ticket: Ticket) -> dict | None:
    """The 'created' event's routing data when the model's confidence was below nlp.guess_below."""
    data = ctx.session.scalar(select(TicketEvent.data).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "created").limit(1)) or {}
    confidence = data.get("category_confidence")
    if confidence is None or confidence >= float(ctx.bot.cfg["nlp"]["guess_below"]):
        return None
    return data


def guess_note(ctx, ticket: Ticket) -> str:
    """One line for the card when the category is a guess, else nothing."""
    data = _guess(ctx, ticket)
    return "\n" + texts.CARD_CATEGORY_GUESS.format(confidence=data["category_confidence"]) if data else ""


def recategorise_button(ctx, ticket: Ticket) -> list[dict]:
    """The one-tap button to the next-likeliest category when the category is a guess."""
    data = _guess(ctx, ticket)
    other = data and data.get("category_runner_up")
    if not other or other == ticket.category or ctx.session.get(Category, other) is None:
        return []
    return [{"text": texts.CARD_RECATEGORISE.format(category=other)[:10], "style": 2,
             "key": f"{RECATEGORISE}:{ticket.no}:{other}"}]
