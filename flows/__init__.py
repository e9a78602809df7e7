"""Multi-step conversations, one module per flow; each module exposes FLOW."""
from __future__ import annotations

from . import book_service, erase_data, interrupts, leave_message, rate, ticket_action

ALL = (leave_message.FLOW, book_service.FLOW, rate.FLOW, ticket_action.FLOW, erase_data.FLOW)


def register_all(engine) -> None:
    """Registers every flow with the engine (at start-up, once)."""
    for flow in ALL:
        interrupts.add_safety(flow)
        engine.register(flow)
    interrupts.register(engine)
