"""The tamper-evident record: ticket events, points entries and administrative changes in one
hash chain.

Records are written unsealed, in the transaction that causes them; the sealer (a scheduler
job, every few seconds) takes the single head row, which serialises sealers so the chain
never forks, and gives each new record the next sequence number and SHA-256 over a
canonical encoding of its fields, a digest of its payload, and the previous record's hash.
Sealing outside the webhook's transaction keeps one global lock off every request (it
halved throughput); a record is tamper-evident from its sealing, seconds after it is
written. Erasing personal data replaces a payload with a tombstone that keeps the original
digest, so the chain still verifies and the erasure is itself a record. A daily anchor of
the head catches a tail rewritten with fresh hashes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal, select, union_all, update

from .db import insert_ignore
from .models import AdminChange, AuditAnchor, AuditHead, PointsEntry, TicketEvent

GENESIS = "0" * 64


def canonical(value) -> bytes:
    """The one byte encoding hashes are taken over."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def payload_digest(data: dict | None) -> str:
    """A payload's digest; a tombstone carries the digest of what it replaced."""
    data = data or {}
    if data.get("erased") and isinstance(data.get("digest"), str):
        return data["digest"]
    return hashlib.sha256(canonical(data)).hexdigest()


def tombstone(data: dict | None) -> dict:
    """What an erased payload becomes: nothing personal, the chain intact."""
    return {"erased": True, "digest": payload_digest(data)}


def _iso(moment: datetime) -> str:
    return moment.isoformat()


# The fields each kind of record is sealed over (besides seq and prev).
def _fields(kind: str, row) -> dict:
    if kind == "ticket_event":
        return {"id": row.id, "ticket": row.ticket_id, "at": _iso(row.at), "kind": row.kind,
                "actor": row.actor, "payload": payload_digest(row.data)}
    if kind == "points":
        return {"id": row.id, "member": row.member_id, "points": row.points, "reason": row.reason,
                "ticket": row.ticket_id, "appointment": row.appointment_id, "key": row.award_key,
                "at": _iso(row.at)}
    return {"id": row.id, "at": _iso(row.at), "actor": row.actor, "action": row.action,
            "payload": payload_digest(row.data)}


def link_hash(kind: str, fields: dict, seq: int, prev: str) -> str:
    """The hash of one link of the chain."""
    return hashlib.sha256(canonical({"type": kind, "seq": seq, "prev": prev, **fields})).hexdigest()


KINDS = {TicketEvent: "ticket_event", PointsEntry: "points", AdminChange: "admin"}


def seal_pending(bot, limit: int = 5000) -> int:
    """Seals the records written since the last run, oldest first; returns how many."""
    with bot.db.session() as session:
        insert_ignore(session, AuditHead, id=1, seq=0, hash=GENESIS)
        # Writing the head first takes its lock: a second sealer waits, then sees fresh rows.
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
        head = session.get(AuditHead, 1)
        session.refresh(head)
        pending = []
        for order, (model, kind) in enumerate(KINDS.items()):
            for row in session.scalars(select(model).where(model.chain_seq.is_(None))
                                       .order_by(model.id).limit(limit)):
                pending.append((row.at, order, row.id, kind, row))
        pending.sort(key=lambda item: item[:3])
        seq, prev = head.seq, head.hash
        for _, _, _, kind, row in pending[:limit]:
            seq += 1
            row.chain_seq, row.prev_hash = seq, prev
            row.hash = prev = link_hash(kind, _fields(kind, row), seq, prev)
        head.seq, head.hash = seq, prev
    return min(len(pending), limit)


def admin_change(session, actor: str, action: str, now: datetime, **data) -> AdminChange:
    """Records an administrative change (sealed into the chain by the sealer)."""
    change = AdminChange(at=now, actor=actor, action=action, data=data)
    session.add(change)
    return change


@dataclass
class Verdict:
    """What `audit verify` found."""

    ok: bool
    checked: int
    head_seq: int
    broken: dict | None = None
    unsealed: int = 0


def _stream(session):
    """Every chained record, in chain order, without loading them all."""
    parts = []
    for model, kind in KINDS.items():
        parts.append(select(literal(kind).label("kind"), model.id.label("id"), model.chain_seq.label("seq"))
                     .where(model.chain_seq.is_not(None)))
    ordered = union_all(*parts).order_by("seq")
    return session.execute(ordered.execution_options(stream_results=True, yield_per=2000))


def verify(session, batch: int = 2000) -> Verdict:
    """Walks the chain and reports the first broken link: an edit, a deletion or a reordering."""
    models = {kind: model for model, kind in KINDS.items()}
    prev, expected_seq, checked = GENESIS, 1, 0
    anchors = {a.seq: a for a in session.scalars(select(AuditAnchor))}
    pending = []

    def check(rows):
        nonlocal prev, expected_seq, checked
        by_kind: dict = {}
        for kind, row_id, _ in rows:
            by_kind.setdefault(kind, []).append(row_id)
        loaded = {}
        for kind, ids in by_kind.items():
            for rec in session.scalars(select(models[kind]).where(models[kind].id.in_(ids))):
                loaded[(kind, rec.id)] = rec
        for kind, row_id, seq in rows:
            rec = loaded[(kind, row_id)]
            where = {"table": models[kind].__tablename__, "id": row_id, "seq": seq}
            if seq != expected_seq:
                return {**where, "reason": f"sequence jumps from {expected_seq - 1} to {seq}: "
                                           "a record before it was deleted or moved"}
            if rec.prev_hash != prev:
                return {**where, "reason": "previous hash does not match: records were reordered or removed"}
            if link_hash(kind, _fields(kind, rec), seq, prev) != rec.hash:
                return {**where, "reason": "content does not match its hash: the record was edited"}
            anchor = anchors.get(seq)
            if anchor is not None and anchor.hash != rec.hash:
                return {**where, "reason": f"differs from the head recorded on {anchor.day}: the chain was rewritten"}
            prev, expected_seq, checked = rec.hash, seq + 1, checked + 1
            session.expunge(rec)
        return None

    for row in _stream(session):
        pending.append(tuple(row))
        if len(pending) >= batch:
            broken = check(pending)
            if broken:
                return Verdict(False, checked, expected_seq - 1, broken)
            pending = []
    broken = check(pending) if pending else None
    if broken:
        return Verdict(False, checked, expected_seq - 1, broken)
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev):
        return Verdict(False, checked, expected_seq - 1,
                       {"table": "audit_head", "id": 1, "seq": head.seq,
                        "reason": "the newest records were deleted (the head points past the chain)"})
    unsealed = sum(session.scalar(select(func.count()).select_from(model).where(model.chain_seq.is_(None))) or 0
                   for model in KINDS)
    return Verdict(True, checked, expected_seq - 1, unsealed=unsealed)


def record_anchor(bot) -> bool:
    """Records today's head (once a day), so a rewritten tail no longer matches it."""
    now = bot.clock.now()
    with bot.db.session() as session:
        head = session.get(AuditHead, 1)
        if head is None or head.seq == 0:
            return False
        return insert_ignore(session, AuditAnchor, day=now.astimezone(bot.tz).date().isoformat(),
                             seq=head.seq, hash=head.hash, at=now)
