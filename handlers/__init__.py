"""Handlers for messages outside any flow: one module per inbound kind.

A handler takes a Context and returns a list of replies; it never sends.
"""
from __future__ import annotations

from bot.errors import RegistrationError

_REGISTRY: dict[tuple[str, str], object] = {}
_frozen = False


def handles(channel: str, *kinds: str):
    """Registers the decorated function for these inbound kinds of one channel."""
    def register(fn):
        for kind in kinds:
            if _frozen:
                raise RegistrationError(f"handler {fn.__name__} registered after start-up; import "
                                        "its module from handlers/__init__.py")
            if (channel, kind) in _REGISTRY:
                raise RegistrationError(f"{channel} {kind} already has handler "
                                        f"{_REGISTRY[(channel, kind)].__name__}; keep one")
            _REGISTRY[(channel, kind)] = fn
        return fn
    return register


def find(channel: str, kind: str):
    """The handler for a kind, or the channel's fallback ('*')."""
    return _REGISTRY.get((channel, kind)) or _REGISTRY[(channel, "*")]


def freeze() -> None:
    """Ends registration at start-up."""
    global _frozen
    _frozen = True


from . import (  # noqa: E402,F401
    card,
    click,
    image,
    location,
    subscribe,
    text,
    unknown,
    voice,
    wecom,
    wecom_menu,
)
