"""The outbox: messages written in the same transaction as their cause, delivered by a worker.

A message is claimed with a lease (FOR UPDATE SKIP LOCKED where the database has it, and
a conditional update everywhere), so a dead worker's messages are taken up again when the
lease runs out. It goes out twice only if a worker dies between the platform accepting it
and the record of that; WeCom's duplicate check closes even that gap for members.
"""
from __future__ import annotations

import logging
import random
import threading
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from . import kv, texts
from .errors import PlatformError, SendInDoubt
from .models import OutboxAttempt, OutboxMessage
from .platform import OUTSIDE_WINDOW, OVER_WINDOW_COUNT, PERMANENT_ERRORS, TASK_ID_TAKEN
from .replies import Reply

log = logging.getLogger(__name__)
# Residents with parked messages: a message from them releases the messages (see dispatch).
PARKED = kv.key("parked")


def enqueue(session: Session, replies, now: datetime) -> list[OutboxMessage]:
    """Adds messages to the outbox in the caller's transaction."""
    rows = [OutboxMessage(channel=r.channel, recipient=r.to, kind=r.kind, body=r.body,
                          status="pending", attempts=0, next_attempt_at=now, created_at=now)
            for r in replies]
    session.add_all(rows)
    return rows


def release_parked(session: Session, channel: str, recipient: str, now: datetime) -> int:
    """Frees messages parked outside a resident's 48-hour window: they have just written.

    Each goes out with a short preface, since it answers something said days ago.
    """
    rows = session.scalars(select(OutboxMessage).where(
        OutboxMessage.channel == channel, OutboxMessage.recipient == recipient,
        OutboxMessage.status == "parked")).all()
    for row in rows:
        if row.kind == "text" and not row.body.get("content", "").startswith(texts.R_PARKED_PREFACE):
            row.body = {**row.body, "content": texts.R_PARKED_PREFACE + row.body.get("content", "")}
        row.status, row.next_attempt_at, row.lease_until = "pending", now, None
        # The attempt and age limits count from now: it could not be sent before. (When it
        # was first queued stays in its attempts' record.)
        row.attempts, row.created_at = 0, now
    return len(rows)


def index_parked(bot) -> int:
    """Rebuilds the set of residents with parked messages (after Redis lost it, say)."""
    with bot.db.session() as session:
        recipients = session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.status == "parked").distinct()).all()
    if recipients:
        bot.redis.sadd(PARKED, *recipients)
    return len(recipients)


def backoff(attempts: int, cap_s: float) -> float:
    """Seconds to wait before the next try: doubling from 5 s, capped, with a little jitter."""
    return min(cap_s, 5 * 2 ** max(0, attempts - 1)) * random.uniform(0.9, 1.1)


def given_up(msg: OutboxMessage, now: datetime, max_attempts: int, max_age: timedelta) -> str | None:
    """Why a message is not tried again (too many tries, too old), or None."""
    if msg.attempts >= max_attempts:
        return f"gave up after {msg.attempts} attempts"
    if msg.created_at is not None and now - msg.created_at > max_age:
        return f"gave up: older than {max_age.total_seconds() / 3600:g} h"
    return None


def pace(redis, msg: OutboxMessage, now: datetime, per_minute: int, per_hour: int) -> datetime | None:
    """Counts a send to one member against WeCom's limits; when over, the time to try again.

    The platform drops messages over its per-member limits silently, so the outbox holds
    them back itself (a batch of reminders to one secretary must not lose the last ones).
    """
    if msg.channel != "wecom":
        return None
    stamp = int(now.timestamp())
    for window, limit in ((60, per_minute), (3600, per_hour)):
        if not limit:
            continue
        bucket = stamp - stamp % window
        name = kv.key("pace", msg.channel, msg.recipient, window, bucket)
        count = redis.incr(name)
        if count == 1:
            redis.expire(name, window * 2)
        if count > limit:
            redis.decr(name)
            return datetime.fromtimestamp(bucket + window, tz=now.tzinfo)
    return None


def failures(session: Session, limit: int = 20) -> dict:
    """Failed messages for the operator: counts by error code and the latest with their reason."""
    counts = dict(session.execute(select(OutboxMessage.last_errcode, func.count())
                                  .where(OutboxMessage.status == "failed")
                                  .group_by(OutboxMessage.last_errcode)).all())
    latest = session.scalars(select(OutboxMessage).where(OutboxMessage.status == "failed")
                             .order_by(OutboxMessage.id.desc()).limit(limit)).all()
    return {"by_errcode": {str(k if k is not None else "none"): v for k, v in counts.items()},
            "latest": [{"id": m.id, "channel": m.channel, "kind": m.kind, "errcode": m.last_errcode,
                        "reason": m.last_error, "created_at": m.created_at.isoformat()} for m in latest]}


def failed_to_members(session: Session, branch_id: str, start: datetime, end: datetime) -> dict[str, int]:
    """Messages to a branch's members queued in [start, end) that ended `failed`: name → count."""
    from .models import Member

    rows = session.execute(select(Member.name, func.count()).join(
        OutboxMessage, (OutboxMessage.recipient == Member.userid) & (OutboxMessage.channel == "wecom"))
        .where(Member.branch_id == branch_id, OutboxMessage.status == "failed",
               OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
        .group_by(Member.name).order_by(Member.name)).all()
    return dict(rows)


class OutboxWorker:
    """Delivers due outbox messages through the platform clients."""

    def __init__(self, bot):
        self.bot = bot
        opts = bot.cfg["outbox"]
        self.lease = timedelta(seconds=opts["lease_s"])
        self.max_backoff = float(opts["max_backoff_s"])
        self.batch = int(opts["batch"])
        self.poll_s = float(opts["poll_s"])
        self.max_attempts = int(opts["max_attempts"])
        self.max_age = timedelta(hours=float(opts["max_age_h"]))
        self.per_minute = int(opts["per_member_per_minute"])
        self.per_hour = int(opts["per_member_per_hour"])
        self._stop = threading.Event()

    def claim(self) -> list[OutboxMessage]:
        """Takes a lease on up to a batch of due messages; returns those this worker won."""
        now = self.bot.clock.now()
        due = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < now)
        won = []
        with self.bot.db.session() as session:
            ids = session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now, due)
                .order_by(OutboxMessage.id).limit(self.batch)
                .with_for_update(skip_locked=True)).all()
            for msg_id in ids:
                taken = session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == msg_id, OutboxMessage.status == "pending", due)
                    .values(lease_until=now + self.lease, attempts=OutboxMessage.attempts + 1))
                if taken.rowcount == 1:
                    won.append(msg_id)
        if not won:
            return []
        with self.bot.db.session() as session:
            return list(session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(won))
                                        .order_by(OutboxMessage.id)))

    # -- #17: sends that may have reached the platform ----------------------------------

    def _unrecorded_attempt(self, msg: OutboxMessage) -> bool:
        """Whether an earlier attempt left no record: its worker died, perhaps mid-send."""
        if msg.attempts <= 1:
            return False
        with self.bot.db.session() as session:
            recorded = session.scalar(select(func.count()).select_from(OutboxAttempt)
                                      .where(OutboxAttempt.outbox_id == msg.id)) or 0
        return recorded < msg.attempts - 1

    def _in_doubt(self, msg: OutboxMessage, now: datetime) -> tuple[str, dict]:
        """What follows a send that may have been taken: status and fields to write.

        WeCom drops a repeat itself (duplicate check), so it is sent again. A WeChat
        customer-service message is sent once more after reliability.in_doubt_resend_s;
        in doubt a second time it stays `in-doubt` (counted, never a burst of duplicates).
        """
        count = (msg.in_doubt or 0) + 1
        if msg.channel == "wecom":
            return "pending", {"in_doubt": count,
                               "next_attempt_at": now + timedelta(seconds=backoff(msg.attempts, self.max_backoff))}
        if count == 1:
            delay = float(self.bot.cfg["reliability"]["in_doubt_resend_s"])
            return "pending", {"in_doubt": count, "next_attempt_at": now + timedelta(seconds=delay)}
        return "in-doubt", {"in_doubt": count}

    def _settle_unrecorded(self, msg: OutboxMessage) -> bool:
        """Before sending again after a dead worker: True if the message may go now.

        Its lease running out was the delay; a WeChat message in doubt before is not sent again.
        """
        if msg.channel == "wecom" or not self._unrecorded_attempt(msg):
            return True
        now = self.bot.clock.now()
        status, values = self._in_doubt(msg, now)
        if status == "pending":
            values["next_attempt_at"] = now     # the lease was the wait
        with self.bot.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(
                **values, **({"status": status, "lease_until": None} if status != "pending" else {})))
            if status != "pending":
                session.add(OutboxAttempt(outbox_id=msg.id, at=now, ok=False, errcode=None,
                                          detail="in doubt: its worker died mid-send"))
        msg.in_doubt = values["in_doubt"]
        if status != "pending":
            log.warning("outbox %s to %s: in doubt twice; not sent again", msg.id, msg.recipient)
        return status == "pending"

    # -- #16: limits and pacing ---------------------------------------------------------

    def hold_back(self, msg: OutboxMessage, until: datetime) -> str:
        """Puts a claimed message back untried until the member's sending budget allows it."""
        with self.bot.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(
                lease_until=None, next_attempt_at=until, attempts=OutboxMessage.attempts - 1))
        return "pending"

    def give_up(self, msg: OutboxMessage, reason: str) -> str:
        """Marks a message `failed` with its reason, untried (too old) or after its last try."""
        with self.bot.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(
                status="failed", lease_until=None,
                last_error=f"{reason}; last error: {msg.last_error or 'none'}"[:500]))
        log.warning("outbox %s to %s:%s failed: %s", msg.id, msg.channel, msg.recipient, reason)
        return "failed"

    def deliver(self, msg: OutboxMessage) -> str:
        """Sends one claimed message and records the attempt; returns its new status."""
        now = self.bot.clock.now()
        # Too old after failing before: give up untried. A first try always goes out (an
        # install whose worker was stopped for days still delivers what it queued).
        if msg.attempts > 1 and msg.created_at is not None and now - msg.created_at > self.max_age:
            return self.give_up(msg, f"gave up: older than {self.max_age.total_seconds() / 3600:g} h")
        if not self._settle_unrecorded(msg):
            return "in-doubt"
        wait = pace(self.bot.redis, msg, now, self.per_minute, self.per_hour)
        if wait is not None:
            return self.hold_back(msg, wait)
        reply = Reply(msg.channel, msg.recipient, msg.kind, msg.body)
        errcode, detail, status = None, None, "sent"
        extra: dict = {}
        try:
            self.bot.platform.send(reply)
        except SendInDoubt as exc:
            errcode, detail = None, str(exc)[:500]
            status, extra = self._in_doubt(msg, self.bot.clock.now())
        except PlatformError as exc:
            errcode, detail = exc.errcode, str(exc)[:500]
            if msg.channel == "wechat" and exc.errcode in (OUTSIDE_WINDOW, OVER_WINDOW_COUNT):
                status = "parked"
            elif exc.errcode == TASK_ID_TAKEN and msg.in_doubt:
                # A card resent after a send in doubt: WeCom already has its task id, so the
                # first send arrived.
                status = "sent"
            elif exc.errcode in PERMANENT_ERRORS:
                status = "failed"
            else:
                status = "pending"
                reason = given_up(msg, now, self.max_attempts, self.max_age)
                if reason:
                    status, detail = "failed", f"{reason}; last error: {detail}"[:500]
        now = self.bot.clock.now()
        values = {"status": status, "lease_until": None, "last_errcode": errcode,
                  "last_error": detail}
        if status == "sent":
            values["sent_at"] = now
        elif status == "pending" and "next_attempt_at" not in extra:
            values["next_attempt_at"] = now + timedelta(seconds=backoff(msg.attempts, self.max_backoff))
        values.update(extra)
        with self.bot.db.session() as session:
            session.execute(update(OutboxMessage).where(OutboxMessage.id == msg.id).values(**values))
            session.add(OutboxAttempt(outbox_id=msg.id, at=now, ok=status == "sent",
                                      errcode=errcode, detail=detail))
            template = self.bot.cfg["wechat"].get("notice_template_id")
            if status == "parked" and template and msg.kind == "text":
                # Outside the window only a template notice gets through: say there is news.
                from .ops.notice import notice_body

                enqueue(session, [Reply("wechat", msg.recipient, "template", notice_body(
                    self.bot.cfg, msg.body.get("content", ""), now, self.bot.tz))], now)
        if status == "parked":
            self.bot.redis.sadd(PARKED, msg.recipient)
        if status != "sent":
            log.warning("outbox %s to %s:%s: %s (%s)", msg.id, msg.channel, msg.recipient,
                        status, detail)
        return status

    def run_once(self) -> int:
        """Delivers every message due now; returns how many were attempted."""
        count = 0
        while True:
            batch = self.claim()
            if not batch:
                return count
            for msg in batch:
                self.deliver(msg)
            count += len(batch)

    def run_forever(self) -> None:
        """Polls the outbox until stopped; an error is logged and the loop goes on."""
        log.info("outbox worker started")
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the job-wrapper edge: log and keep the worker alive
                log.exception("outbox worker pass failed")
            self._stop.wait(self.poll_s)

    def stop(self) -> None:
        """Asks the polling loop to end."""
        self._stop.set()
