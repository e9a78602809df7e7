"""The lifecycle is the one writer of status, assignee and due times (#12): its table, its guard,
rating codes and the migration that converts stored ratings."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from bot import lifecycle
from bot.lifecycle import SAME, TRANSITIONS, LifecycleError, TicketStatus, TransitionError, rating_code
from bot.models import Ticket, TicketEvent

ROOT = Path(__file__).resolve().parent.parent
AGREED = {"new", "assigned", "responded", "replied", "waiting", "transferred", "reopened", "resolved",
          "rated", "closed", "merged", "closed-unresolved"}


def test_the_statuses_are_exactly_the_agreed_vocabulary():
    assert {s.value for s in TicketStatus} == AGREED


def _ticket(session, clock) -> Ticket:
    ticket = Ticket(no="20261120-9999", text="路灯坏了", created_at=clock.now(), updated_at=clock.now())
    lifecycle.apply(session, ticket, "created", "system", clock.now())
    return ticket


def test_every_allowed_transition_works_and_every_other_raises(bot, clock):
    """Walks the whole table: every (status, event) pair either lands where the table says or raises."""
    checked = allowed = 0
    with bot.db.session() as session:
        ticket = _ticket(session, clock)
        for status in TicketStatus:
            for event, table in TRANSITIONS.items():
                session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status=status.value))
                session.refresh(ticket)
                before = session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()).limit(1))
                targets = table.get(status, ())
                checked += 1
                if not targets:
                    with pytest.raises(TransitionError):
                        lifecycle.apply(session, ticket, event, "system", clock.now())
                    assert ticket.status == status.value      # nothing changed
                    assert session.scalar(select(TicketEvent.id).order_by(TicketEvent.id.desc()).limit(1)) == before
                    continue
                for target in targets:
                    session.execute(update(Ticket).where(Ticket.id == ticket.id).values(status=status.value))
                    session.refresh(ticket)
                    record = lifecycle.apply(session, ticket, event, "member:pm01", clock.now(), to=target)
                    session.flush()
                    assert ticket.status == (status.value if target == SAME else target)
                    assert (record.kind, record.actor, record.ticket_id) == (event, "member:pm01", ticket.id)
                    allowed += 1
    assert checked == len(TicketStatus) * len(TRANSITIONS) and allowed > 40


def test_a_target_the_table_does_not_offer_raises(bot, clock):
    with bot.db.session() as session:
        ticket = _ticket(session, clock)
        with pytest.raises(TransitionError):
            lifecycle.apply(session, ticket, "created", "system", clock.now(), to="closed")
        with pytest.raises(TransitionError):
            lifecycle.apply(session, ticket, "no-such-event", "system", clock.now())
        with pytest.raises(TransitionError):
            lifecycle.apply(session, ticket, "assigned", "system", clock.now(), due={"closed_at": clock.now()})


def test_the_model_refuses_any_other_writer(bot, clock):
    """Status, assignee and the due times cannot be set outside lifecycle.apply."""
    with bot.db.session() as session:
        ticket = _ticket(session, clock)
        for field, value in (("status", "closed"), ("assignee_id", "pm01"),
                             ("response_due_at", clock.now()), ("reply_remind_at", clock.now())):
            with pytest.raises(LifecycleError):
                setattr(ticket, field, value)
        with pytest.raises(LifecycleError):
            Ticket(no="x", text="x", status="closed")
        lifecycle.apply(session, ticket, "assigned", "system", clock.now(), assignee="pm01",
                        due={"reply_due_at": clock.now() + timedelta(hours=1)})
        assert (ticket.status, ticket.assignee_id) == ("assigned", "pm01")


GUARDED = r"(status|assignee_id|response_due_at|reply_due_at|response_remind_at|reply_remind_at)\s*="


def test_no_bulk_update_of_tickets_writes_a_guarded_field_outside_the_lifecycle():
    """The ORM guard cannot see `update(Ticket).values(...)` or raw SQL: grep for them."""
    offenders = []
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("flows/*.py"), *ROOT.glob("handlers/*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(("bot/lifecycle/", "bot/migrations/")):
            continue
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(r"update\(\s*Ticket\s*\)", source):
            statement = source[match.start():source.find("\n\n", match.start())]
            if re.search(GUARDED, statement):
                offenders.append(rel)
        if re.search(r"UPDATE\s+tickets\s+SET", source, re.I):
            offenders.append(rel)
    assert offenders == []


@pytest.mark.parametrize("said, code", [("满意", "satisfied"), ("5", "satisfied"), ("基本满意", "basic"),
                                        ("3", "basic"), ("不满意", "unsatisfied"), ("1", "unsatisfied"),
                                        ("satisfied", "satisfied"), ("basic", "basic"), ("好", None), ("", None)])
def test_ratings_are_read_as_codes(said, code):
    assert rating_code(said) == code


def test_the_migration_turns_stored_rating_words_into_codes(tmp_path):
    from alembic import command

    from bot.db import Database

    db = Database("sqlite:///" + str(tmp_path / "old.db"))
    command.upgrade(db.alembic_config(), "0008")
    day = "2026-11-01 00:00:00"
    with db.engine.begin() as conn:
        for n, word in enumerate(("满意", "基本满意", "不满意", None), start=1):
            value = "NULL" if word is None else f"'{word}'"
            conn.execute(text("INSERT INTO tickets (id, no, category, status, priority, text, photos, "
                              "photos_pending, created_at, updated_at, reopen_count, rating) "
                              f"VALUES ({n}, '20261101-000{n}', '其他', 'closed', 'normal', 'x', '[]', 0, "
                              f"'{day}', '{day}', 0, {value})"))
    command.upgrade(db.alembic_config(), "head")
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT rating FROM tickets ORDER BY id")).scalars().all() == \
            ["satisfied", "basic", "unsatisfied", None]
    command.downgrade(db.alembic_config(), "0008")
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT rating FROM tickets ORDER BY id")).scalars().all() == \
            ["满意", "基本满意", "不满意", None]
