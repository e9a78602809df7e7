"""The ticket lifecycle: the one place that changes a ticket's status, assignee and due times.

`TicketStatus` names every status a ticket can be in, `TRANSITIONS` says which event may move a
ticket from which status to which, and `apply(...)` is the only writer of `Ticket.status`,
`Ticket.assignee_id` and the four due/reminder times: it checks the transition, writes the
fields and appends the event with its actor in the same step. A transition not in the table
raises `TransitionError`. The model enforces it: setting one of those fields anywhere else
raises `LifecycleError` (see `_guard` below), so a forgotten writer fails its first test.
Ratings are stored as codes (`RATING_CODES`); `texts.RATING_NAMES` shows them in Chinese.
"""
from __future__ import annotations

import contextvars
from datetime import datetime
from enum import StrEnum

from sqlalchemy import event as sa_event

from ..models import Ticket, TicketEvent


class TicketStatus(StrEnum):
    """Every status a ticket can be in (stored as these strings)."""

    NEW = "new"
    ASSIGNED = "assigned"
    RESPONDED = "responded"
    REPLIED = "replied"
    WAITING = "waiting"
    TRANSFERRED = "transferred"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    RATED = "rated"
    CLOSED = "closed"
    MERGED = "merged"
    CLOSED_UNRESOLVED = "closed-unresolved"


S = TicketStatus
OPEN = frozenset({S.NEW, S.ASSIGNED, S.RESPONDED, S.REPLIED, S.WAITING, S.TRANSFERRED, S.REOPENED})
# A ticket someone must still take (接单).
ACCEPTABLE = frozenset({S.NEW, S.ASSIGNED, S.TRANSFERRED, S.REOPENED})
DONE = frozenset({S.RESOLVED, S.RATED, S.CLOSED})
FINISHED = frozenset({S.CLOSED, S.MERGED, S.CLOSED_UNRESOLVED})
SAME = "same"   # a transition that keeps the status (it changes assignee or due times)

# event -> {from status: allowed target statuses}; the first target is the default.
TRANSITIONS: dict[str, dict[TicketStatus, tuple]] = {
    "created": {S.NEW: (S.NEW,)},
    "assigned": {s: (S.ASSIGNED,) for s in OPEN - {S.WAITING}},
    "accepted": {s: (S.RESPONDED,) for s in ACCEPTABLE},
    "replied": {s: (S.REPLIED,) for s in OPEN},
    "asked": {s: (S.WAITING,) for s in OPEN - {S.WAITING}},
    # The answer puts the ticket back where it was when the question was asked.
    "supplemented": {S.WAITING: tuple(sorted(OPEN - {S.WAITING}))},
    "transferred": {s: (S.TRANSFERRED,) for s in OPEN},
    "resolved": {s: (S.RESOLVED,) for s in OPEN},
    "rated": {S.RESOLVED: (S.RATED,)},
    "closed": {S.RATED: (S.CLOSED,)},
    "reopened": {S.RATED: (S.REOPENED,)},
    "closed_unrated": {S.RESOLVED: (S.CLOSED,)},
    "closed_unresolved": {s: (S.CLOSED_UNRESOLVED,) for s in OPEN | {S.RESOLVED}},
    "merged": {s: (S.MERGED,) for s in OPEN},
    # Changes of due times only: the status stays.
    "priority_raised": {s: (SAME,) for s in OPEN},
}

RATING_CODES = ("satisfied", "basic", "unsatisfied")
SATISFIED_CODES = ("satisfied", "basic")
# Old rows (before migration 0009) and the words residents type, read as codes.
_RATING_WORDS = {"满意": "satisfied", "非常满意": "satisfied", "基本满意": "basic", "一般": "basic",
                 "不满意": "unsatisfied", "很不满意": "unsatisfied",
                 "5": "satisfied", "4": "satisfied", "3": "basic", "2": "unsatisfied", "1": "unsatisfied"}
DUE_FIELDS = ("response_due_at", "response_remind_at", "reply_due_at", "reply_remind_at")
GUARDED = ("status", "assignee_id", *DUE_FIELDS)
KEEP = object()


class TransitionError(ValueError):
    """An event that the ticket's status does not allow."""


class LifecycleError(RuntimeError):
    """A ticket's status, assignee or due time written outside the lifecycle."""


def rating_code(value) -> str | None:
    """A rating as its code: accepts a code, a Chinese rating word or 1–5; None if it is neither."""
    value = str(value or "").strip()
    return value if value in RATING_CODES else _RATING_WORDS.get(value)


def targets(event: str, status: str) -> tuple:
    """The statuses `event` may move a ticket in `status` to (empty: not allowed)."""
    try:
        return TRANSITIONS.get(event, {}).get(TicketStatus(status), ())
    except ValueError:
        return ()


def allowed(event: str, status: str) -> bool:
    """Whether the event may happen to a ticket in this status."""
    return bool(targets(event, status))


_writing = contextvars.ContextVar("lifecycle_writing", default=False)


def apply(session, ticket: Ticket, event: str, actor: str, now: datetime, *, to: str | None = None,
          assignee=KEEP, due: dict | None = None, **data) -> TicketEvent:
    """Moves the ticket by `event`, writes assignee and due times, and records the event with its actor.

    `to` picks the target where the table allows several; `assignee` (a userid or None) replaces
    the assignee; `due` maps due/remind fields to new times. Raises TransitionError otherwise.
    """
    status = ticket.status or S.NEW
    options = targets(event, status)
    if not options:
        raise TransitionError(f"ticket {ticket.no}: {event} is not allowed from {status}")
    if to is not None and to not in options:
        raise TransitionError(f"ticket {ticket.no}: {event} from {status} cannot lead to {to}")
    target = to or options[0]
    unknown = set(due or {}) - set(DUE_FIELDS)
    if unknown:
        raise TransitionError(f"not due-time fields: {sorted(unknown)}")
    token = _writing.set(True)
    try:
        if target != SAME:
            ticket.status = str(target)
        if assignee is not KEEP:
            ticket.assignee_id = assignee
        for field, value in (due or {}).items():
            setattr(ticket, field, value)
    finally:
        _writing.reset(token)
    if ticket.id is None:
        session.add(ticket)
        session.flush()
    record = TicketEvent(ticket_id=ticket.id, at=now, kind=event, actor=actor,
                         data={k: v for k, v in data.items() if v is not None})
    session.add(record)
    ticket.updated_at = now
    return record


def _guard(target, value, oldvalue, initiator):
    if not _writing.get():
        raise LifecycleError(f"Ticket.{initiator.key} is written only by bot.lifecycle.apply")
    return value


for _name in GUARDED:
    sa_event.listen(getattr(Ticket, _name), "set", _guard, retval=True)
