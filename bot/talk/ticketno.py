"""Ticket numbers the way members type them: full-width digits, the last few digits, no dash."""
from __future__ import annotations

import re
import unicodedata

from sqlalchemy import or_, select

from bot import texts
from bot.errors import Refused
from bot.models import Grid, Member, Ticket
from bot.privacy import mask_pii
from bot.tickets import OPEN_STATUSES

FULL = re.compile(r"^\d{8}-\d{4}$")
SHORT_LIMIT = 200     # in-scope tickets compared for a short number, newest first
CHOICES = 5


def normalise_no(raw: str | None) -> str:
    """Half-width digits and dash, no spaces: "２０２６１１２０－０００７" → "20261120-0007"."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = re.sub(r"\s+", "", text).replace("—", "-").replace("–", "-").replace("－", "-")
    if re.fullmatch(r"\d{12}", text):
        text = f"{text[:8]}-{text[8:]}"
    return text


def _scope(member: Member):
    grids = select(Grid.id).where(or_(Grid.member_id == member.userid, Grid.backup_id == member.userid))
    conditions = [Ticket.assignee_id == member.userid, Ticket.grid_id.in_(grids)]
    if member.role == "secretary":
        conditions.append(Ticket.branch_id == member.branch_id)
    return or_(*conditions)


def resolve_ticket_no(session, member: Member, raw: str | None) -> str | None:
    """The full number a member means: typed in full, or its last digits when unique in their scope.

    Open tickets are preferred; several matches raise Refused listing the choices. A number
    matching nothing in scope comes back as typed, so the usual 'no such ticket' or
    'not yours' answer follows.
    """
    if not raw:
        return None
    text = normalise_no(raw)
    if FULL.match(text) or not text.isdigit() or len(text) > 4:
        return text
    rows = session.scalars(select(Ticket).where(_scope(member), Ticket.no.like(f"%{text}"))
                           .order_by(Ticket.id.desc()).limit(SHORT_LIMIT)).all()
    if not rows:
        return text
    exact = [t for t in rows if t.no.endswith("-" + text.zfill(4))]
    for pool in ([t for t in exact if t.status in OPEN_STATUSES], [t for t in rows if t.status in OPEN_STATUSES],
                 exact, rows):
        if len(pool) == 1:
            return pool[0].no
        if pool:
            choices = "\n".join(texts.W_NO_CHOICE.format(
                no=t.no, status=texts.STATUS_NAMES.get(t.status, t.status), text=mask_pii(t.text)[:20])
                for t in pool[:CHOICES])
            raise Refused(texts.W_NO_AMBIGUOUS.format(raw=raw.strip(), choices=choices))
    return text
