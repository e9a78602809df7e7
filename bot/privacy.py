"""Personal data (个人信息保护法): masking for everything a member, a log, a digest or the API
shows; erasure at a resident's request; retention of closed tickets."""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import shutil
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from .audit import admin_change, tombstone
from .models import Appointment, FlowDraft, InboxEntry, OutboxAttempt, OutboxMessage, Ticket, TicketEvent

# Mobiles, also written 138 1234 5678, 138-1234-5678 or +86 138…
PHONE = re.compile(r"(?<![\d+])(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
# Landlines with an area code: 0571-88123456, 010 12345678, (0571)88123456.
LANDLINE = re.compile(r"(?<![0-9A-Za-z])[(（]?(0\d{2,3})[)）]?[\s-]?(\d{3,4})(\d{4})(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
ID_NUMBER_15 = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{6})(\d{3})(?![0-9A-Za-z])")
# A WeChat or QQ id written after its name: 微信号：zhang_san88, vx abc123, QQ 12345678, wxid_….
CHAT_ID = re.compile(r"((?:微信号?|威信|薇信|[vV][xX]|[wW][xX]|weixin|[qQ]{2}号?|扣扣)\s*(?:号码|号)?\s*[:：是为]?\s*)"
                     r"([A-Za-z][-_A-Za-z0-9]{4,19}|\d{5,11})(?![-_A-Za-z0-9])")
WXID = re.compile(r"wxid_[A-Za-z0-9]{4,}")
DIGITS = re.compile(r"\d+")
# Building, unit, floor and room numbers inside free text: 3号楼501室 → *号楼*室.
ADDRESS_NUMBER = re.compile(r"\d+(?=\s*(?:号楼|号院|栋|幢|单元|室|层|楼|号|户))")
TEXT_KEYS = ("text", "summary", "address", "comment")
FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def mask_pii(text: str, keep_address: bool = False) -> str:
    """Masks mobile numbers (138****1234, also spaced, dashed or +86), landlines (0571-****3456),
    ID numbers (18 and 15 digits), WeChat / QQ ids and, unless `keep_address` (for the assigned
    member and the secretary, who must find the place), the numbers of buildings and rooms."""
    text = (text or "").translate(FULL_WIDTH_DIGITS)
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * 8 + m.group(3), text)
    text = ID_NUMBER_15.sub(lambda m: m.group(1) + "*" * 6 + m.group(3), text)
    text = PHONE.sub(lambda m: m.group(1) + "****" + m.group(3), text)
    text = LANDLINE.sub(lambda m: m.group(1) + "-" + "*" * len(m.group(2)) + m.group(3), text)
    text = CHAT_ID.sub(lambda m: m.group(1) + "***", text)
    text = WXID.sub("wxid_***", text)
    return text if keep_address else ADDRESS_NUMBER.sub("*", text)


def mask_address(address: str | None) -> str:
    """Hides building, unit and room numbers of an exact address: 幸福里3号楼501 → 幸福里*号楼*."""
    return DIGITS.sub("*", mask_pii(address or ""))


def mask_name(name: str | None) -> str:
    """Shows a person's surname only: 张三 → 张*."""
    if not name:
        return "待分派"
    return name[0] + "*" * max(1, len(name) - 1)


def mask_openid(openid: str) -> str:
    """Shortens a resident's openid to a tag members can tell apart but not trace."""
    return "居民" + openid[-4:] if len(openid) >= 4 else "居民"


def resident_label(resident) -> str:
    """How members see a resident: a stable label by internal id (居民#12), never the openid."""
    from . import texts
    return texts.RESIDENT_LABEL.format(id=resident.id) if resident is not None else texts.RESIDENT_LABEL.format(id="—")


class MaskingFilter(logging.Filter):
    """Masks phone and ID numbers in every log line."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_pii(message)
        if masked != message:
            record.msg, record.args = masked, ()
        return True


def install_log_masking() -> None:
    """Puts the masking filter on every handler of the root logger (once)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


def _scrub_ticket(session, ticket, data_dir: str) -> None:
    """Removes a ticket's personal fields; text stays for statistics, masked."""
    ticket.text = mask_pii(ticket.text)
    ticket.address, ticket.lat, ticket.lng = None, None, None
    ticket.photos, ticket.photos_pending = [], 0
    shutil.rmtree(os.path.join(data_dir, "media", ticket.no), ignore_errors=True)
    from .participation.proxy import scrub
    scrub(session, ticket)   # #15: a 代录 ticket's phone and name
    for event in session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)):
        if any(key in (event.data or {}) for key in TEXT_KEYS):
            event.data = tombstone(event.data)   # the chain keeps the digest, the words go


def _scrub_member_messages(session, tickets) -> None:
    """Blanks the messages to members about these tickets: cards carry the exact address (#12)."""
    if not tickets:
        return
    since = min(t.created_at for t in tickets)
    numbers = [t.no for t in tickets]
    for row in session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "wecom",
                                                           OutboxMessage.created_at >= since)):
        if any(no in json.dumps(row.body, ensure_ascii=False) for no in numbers):
            row.body = {"erased": True}
            if row.status != "sent":
                row.status = "failed"


def erase_resident(bot, session, resident, now: datetime, actor: str) -> dict:
    """Erases a resident's identity and personal data; the chain records it without breaking."""
    openid = resident.openid
    tickets = session.scalars(select(Ticket).where(Ticket.resident_id == resident.id)).all()
    for ticket in tickets:
        _scrub_ticket(session, ticket, bot.cfg["data_dir"])
        ticket.personal_erased_at = now
    appointments = session.scalars(select(Appointment).where(Appointment.resident_id == resident.id)).all()
    for appointment in appointments:
        appointment.description = ""
    _scrub_member_messages(session, tickets)
    waiting = session.scalars(select(OutboxMessage.id).where(
        OutboxMessage.channel == "wechat", OutboxMessage.recipient == openid)).all()
    if waiting:
        session.execute(delete(OutboxAttempt).where(OutboxAttempt.outbox_id.in_(waiting)))
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(waiting)))
    # #17: the handled callbacks and a draft under way name the resident too.
    session.execute(delete(InboxEntry).where(InboxEntry.channel == "wechat", InboxEntry.user == openid))
    session.execute(delete(FlowDraft).where(FlowDraft.channel == "wechat", FlowDraft.user == openid))
    # A member's stored passive reply may quote what they told this resident (回复 is echoed), and
    # which rows do cannot be told: forget every stored reply. They only answer retries, which
    # come within seconds; a retry after this is answered with nothing instead.
    session.execute(update(InboxEntry).where(InboxEntry.reply.is_not(None)).values(reply=None))
    resident.openid = "erased:" + secrets.token_hex(12)
    resident.grid_id, resident.subscribed, resident.last_inbound_at = None, False, None
    admin_change(session, actor, "resident_erased", now, resident=resident.id, tickets=len(tickets),
                 appointments=len(appointments), messages=len(waiting))
    return {"tickets": len(tickets), "appointments": len(appointments), "messages": len(waiting)}


def apply_retention(bot) -> int:
    """Erases the personal fields of tickets closed longer ago than privacy.retention_days."""
    now = bot.clock.now()
    cutoff = now - timedelta(days=float(bot.cfg["privacy"]["retention_days"]))
    with bot.db.session() as session:
        rows = session.scalars(select(Ticket).where(
            Ticket.closed_at.is_not(None), Ticket.closed_at < cutoff, Ticket.personal_erased_at.is_(None))
            .limit(500)).all()
        for ticket in rows:
            _scrub_ticket(session, ticket, bot.cfg["data_dir"])
            ticket.resident_id, ticket.personal_erased_at = None, now
        if rows:
            admin_change(session, "system:retention", "retention_applied", now,
                         tickets=[t.id for t in rows], before=cutoff.isoformat())
    return len(rows)
