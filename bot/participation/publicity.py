"""公示, 金点子 and 案例: what a community may see of its resolved tickets, with the reporter's consent.

Only tickets whose reporter said 同意 to 是否同意公示 are published, and a secretary can hide one.
The public page carries no personal data: no names, openids, phones or addresses (the place is the
grid), and texts pass through the masking. 金点子 marks an adopted suggestion; 案例 adds a handled
ticket to the branch's case library. Both count toward the branch's innovation figures.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from .. import texts
from ..errors import Refused
from ..lifecycle import DONE
from ..models import Case, Publicity, Resident, Ticket, TicketEvent
from ..replies import to_resident
from ..talk import words
from ..tickets import record_event
from ..work import is_secretary_of

PUBLISHABLE = tuple(sorted(str(s) for s in DONE))


def row_of(session, ticket: Ticket, create: bool = False) -> Publicity | None:
    """The ticket's publication row (made on demand)."""
    row = session.scalar(select(Publicity).where(Publicity.ticket_id == ticket.id))
    if row is None and create:
        row = Publicity(ticket_id=ticket.id, hidden=False)
        session.add(row)
    return row


def consent_word(said: str) -> bool | None:
    """同意 (or any yes word) → True, 不同意 (or any no word) → False, anything else None."""
    said = (said or "").strip().rstrip("。.!！")
    if said in texts.CONSENT_NO_WORDS or words.is_no(said):
        return False
    if said in texts.CONSENT_YES_WORDS or words.is_yes(said):
        return True
    return None


def record_consent(session, ticket: Ticket, resident: Resident, consent: bool, now: datetime) -> None:
    """Stores the reporter's answer to 是否同意公示 (their last answer counts)."""
    row = row_of(session, ticket, create=True)
    row.consent, row.consent_at = consent, now
    record_event(session, ticket, "publicity_consent", f"resident:{resident.id}", now, consent=consent)


def _secretary_ticket(ctx, member, no: str | None, action: str, usage: str) -> Ticket:
    from ..tickets import ticket_by_no
    if member.role != "secretary":
        raise Refused(texts.W_SECRETARY_ONLY.format(action=action))
    if not no:
        raise Refused(usage)
    ticket = ticket_by_no(ctx.session, no)
    if ticket is None:
        raise Refused(texts.W_NO_SUCH.format(no=no))
    if not is_secretary_of(member, ticket):
        raise Refused(texts.W_OUT_OF_SCOPE.format(no=no))
    return ticket


def set_hidden(ctx, member, no: str | None, hidden: bool) -> list:
    """隐藏公示 / 恢复公示 <no>: a secretary takes an entry off the public page or puts it back."""
    ticket = _secretary_ticket(ctx, member, no, "隐藏公示" if hidden else "恢复公示", texts.PUB_HIDE_USAGE)
    row = row_of(ctx.session, ticket)
    if not hidden and (row is None or not row.consent):
        raise Refused(texts.PUB_NO_CONSENT.format(no=ticket.no))
    row = row or row_of(ctx.session, ticket, create=True)
    row.hidden, row.hidden_by = hidden, member.userid
    record_event(ctx.session, ticket, "publicity_hidden" if hidden else "publicity_shown",
                 f"member:{member.userid}", ctx.now)
    return [ctx.reply((texts.PUB_HIDDEN if hidden else texts.PUB_SHOWN).format(no=ticket.no))]


def golden(ctx, member, no: str | None) -> list:
    """金点子 <no>: marks a resident's suggestion as adopted, thanks them; shown on the page if they agreed."""
    ticket = _secretary_ticket(ctx, member, no, "金点子", texts.GOLDEN_USAGE)
    row = row_of(ctx.session, ticket, create=True)
    if row.golden_at is not None:
        raise Refused(texts.GOLDEN_ALREADY.format(no=ticket.no))
    row.golden_by, row.golden_at = member.userid, ctx.now
    record_event(ctx.session, ticket, "golden", f"member:{member.userid}", ctx.now)
    resident = ctx.session.get(Resident, ticket.resident_id) if ticket.resident_id else None
    thanks = [to_resident(resident.openid, texts.GOLDEN_THANKS.format(no=ticket.no))] if resident else []
    if resident is None:
        from .proxy import relay
        thanks = relay(ctx, ticket, texts.GOLDEN_THANKS.format(no=ticket.no))
    return [ctx.reply(texts.GOLDEN_DONE.format(no=ticket.no)), *thanks]


def add_case(ctx, member, no: str | None, title: str) -> list:
    """案例 <no> <title>: a handled ticket joins the branch's case library."""
    ticket = _secretary_ticket(ctx, member, no, "案例", texts.CASE_USAGE)
    title = (title or "").strip()
    if not title:
        raise Refused(texts.CASE_USAGE)
    if ticket.status not in PUBLISHABLE:
        raise Refused(texts.CASE_NOT_DONE.format(no=ticket.no))
    if ctx.session.scalar(select(Case.id).where(Case.ticket_id == ticket.id)) is not None:
        raise Refused(texts.CASE_ALREADY.format(no=ticket.no))
    ctx.session.add(Case(ticket_id=ticket.id, branch_id=ticket.branch_id, title=title[:200],
                         added_by=member.userid, at=ctx.now))
    record_event(ctx.session, ticket, "case", f"member:{member.userid}", ctx.now, title=title[:200])
    return [ctx.reply(texts.CASE_DONE.format(no=ticket.no, title=title[:200]))]


def resolution_summary(session, ticket: Ticket) -> str:
    """The member's last 办结 text of a ticket."""
    data = session.scalar(select(TicketEvent.data).where(TicketEvent.ticket_id == ticket.id,
                                                         TicketEvent.kind == "resolved")
                          .order_by(TicketEvent.id.desc()).limit(1))
    return (data or {}).get("summary", "")


def resolution_photos(session, ticket: Ticket) -> list[int]:
    """The events of the photos the member sent after 办结 (their ids name them on the public page)."""
    return list(session.scalars(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolution_photo").order_by(TicketEvent.id)))


def published(session, branch_id: str, limit: int = 50) -> list[Ticket]:
    """The branch's resolved tickets whose reporter agreed and no secretary hid, newest first."""
    return list(session.scalars(select(Ticket).join(Publicity, Publicity.ticket_id == Ticket.id).where(
        Ticket.branch_id == branch_id, Ticket.status.in_(PUBLISHABLE), Publicity.consent.is_(True),
        Publicity.hidden.is_(False), Ticket.personal_erased_at.is_(None))
        .order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(limit)))


def is_published(session, ticket: Ticket) -> bool:
    """Whether the ticket is on its branch's public page now."""
    row = row_of(session, ticket)
    return row is not None and bool(row.consent) and not row.hidden and ticket.status in PUBLISHABLE \
        and ticket.personal_erased_at is None


def innovation_counts(session, start: datetime, end: datetime, branch_id: str | None = None) -> dict:
    """金点子 and new cases in a period (of a branch): the branch's 创新 figures for dashboard and digest."""
    golden_q = select(func.count()).select_from(Publicity).join(Ticket, Ticket.id == Publicity.ticket_id).where(
        Publicity.golden_at >= start, Publicity.golden_at < end)
    cases_q = select(func.count()).select_from(Case).where(Case.at >= start, Case.at < end)
    if branch_id:
        golden_q = golden_q.where(Ticket.branch_id == branch_id)
        cases_q = cases_q.where(Case.branch_id == branch_id)
    golden_n, cases_n = session.scalar(golden_q) or 0, session.scalar(cases_q) or 0
    return {"golden": golden_n, "cases": cases_n, "innovation": golden_n + cases_n}
