"""How the dashboard reads a resident's rating: the one place to change when ratings become codes.

#12 stores ratings as the codes "satisfied" / "basic" / "unsatisfied" instead of the words
满意 / 基本满意 / 不满意; figures.SATISFIED names whatever the store holds for a good rating.
"""
from __future__ import annotations

from ..figures import SATISFIED
from ..models import TicketEvent


def satisfied():
    """A SQL condition: this `rated` event's rating counts as satisfied (满意 or 基本满意)."""
    return TicketEvent.data["rating"].as_string().in_(SATISFIED)


def is_satisfied(rating: str | None) -> bool:
    """Whether a stored rating counts as satisfied."""
    return rating in SATISFIED
