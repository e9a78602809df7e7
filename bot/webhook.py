"""The two webhooks. One pipeline, in steps: verify → decrypt → parse → dedupe → lock → dispatch → reply."""
from __future__ import annotations

import json
import logging
import time
import uuid

from flask import Blueprint, Response, current_app, request
from sqlalchemy import exc as sa_exc

from . import caching, kv, outbox, texts
from .context import Context
from .dispatch import dispatch
from .errors import BadRequest, Forbidden
from .inbound import Inbound, to_inbound
from .ops.logs import user_hash
from .ops.metrics import CALLBACKS, LATENCY, callback_metric_fields, metric_kind, queue_callback_metric, record_callback
from .outbox import PARKED
from .reliability import inbox
from .reliability.dberrors import is_duplicate, is_outage
from .reliability.deadline import NO_DEADLINE, Deadline
from .replies import render_passive, split_passive, text

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

PENDING, DONE = "pending:", "done:"
INFLIGHT = kv.key("inflight")
LOCK_TIMEOUT_S = 15    # handling takes well under a second; a dead worker's lock runs out
RECOVER_AFTER_S = 30   # still pending after this: its worker died or the database was down
BUSY = object()        # another message of the same person held the lock past the deadline
KEPT = object()        # the database was unavailable (or locked past the deadline): kept for replay
STILL_PENDING = object()   # a repeated delivery whose first one is still being handled
LATE = object()        # handled, but past the deadline: the answer went to the outbox
# Sets the pending mark and its in-flight entry together, or neither (#17).
_MARK_PENDING = ("if redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then "
                 "redis.call('zadd', KEYS[2], ARGV[3], KEYS[1]) return 1 end return 0")
# The first of a callback's two round trips (#19): the pending mark and its in-flight entry
# (as _MARK_PENDING), then the person's lock, then — only once the lock is held — what the
# message will read: the flow state and the other keys named, and whether replies are parked.
# Returns {0} for a repeated delivery, {1, 0} when the lock is held elsewhere, else
# {1, 1, parked, value of KEYS[5], value of KEYS[6], …}.
_BEGIN = ("if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return {0} end "
          "redis.call('zadd', KEYS[2], ARGV[3], KEYS[1]) "
          "if not redis.call('set', KEYS[3], ARGV[4], 'NX', 'PX', ARGV[5]) then return {1, 0} end "
          "local out = {1, 1, redis.call('sismember', KEYS[4], ARGV[6])} "
          "for i = 5, #KEYS do out[#out + 1] = redis.call('get', KEYS[i]) or '' end "
          "return out")
# The second round trip's last command (#19): the finish mark and the in-flight entry (or the
# entry moved up for the recovery job), the lock freed if still ours, the callback's metrics.
# Returns 1 unlocked, 0 the lock had run out, -1 not held.
_FINISH = ("if ARGV[1] == 'done' then redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
           "redis.call('zrem', KEYS[2], KEYS[1]) "
           "else redis.call('zadd', KEYS[2], 'XX', ARGV[4], KEYS[1]) end "
           "local unlocked = -1 "
           "if ARGV[5] ~= '' then unlocked = 0 if redis.call('get', KEYS[3]) == ARGV[5] then "
           "redis.call('del', KEYS[3]) unlocked = 1 end end "
           "if ARGV[6] ~= '' then redis.call('hincrby', KEYS[4], ARGV[6], 1) "
           "redis.call('hincrby', KEYS[5], ARGV[7], 1) redis.call('hincrbyfloat', KEYS[5], ARGV[8], ARGV[9]) end "
           "return unlocked")
# Frees the person's lock if this request still holds it (as redis-py's Lock does).
_UNLOCK = ("if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end "
           "return 0")


def current_bot():
    """The Bot of the running app."""
    return current_app.extensions["bot"]


def _plain(body: str, status: int = 200) -> Response:
    return Response(body, status=status, content_type="text/plain; charset=utf-8")


def read_body(limit: int) -> bytes:
    """Reads the request body, refusing one larger than the limit."""
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest("body too large")
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        raise BadRequest("body too large")
    return body


def check_fresh(bot, args) -> None:
    """Refuses a timestamp outside the replay window (0 turns the check off)."""
    try:
        timestamp = int(args.get("timestamp", ""))
    except ValueError:
        raise BadRequest("timestamp is not a number") from None
    window = bot.cfg["security"]["replay_window_s"]
    if window and abs(bot.clock.timestamp() - timestamp) > window:
        raise Forbidden("timestamp outside the replay window")


def run(bot, inbound: Inbound, replay: bool = False, deadline: Deadline = NO_DEADLINE,
        prefetched: dict | None = None, pipe=None):
    """Dispatches inside one transaction: inbox row, state change and outbox rows commit together.

    The inbox row decides whether the callback was handled before: then nothing happens
    again and the stored answer is given (#17). A replay (the recovery job) has no HTTP
    response to ride on, and neither has an answer ready past the deadline: those are queued.
    `prefetched`: Redis values read with the lock (see _BEGIN); `pipe`: where the Redis writes
    that follow the commit are queued, to go out with the unlock in one round trip (#19).
    """
    for attempt in (1, 2):
        try:
            return _run_once(bot, inbound, replay, deadline, prefetched if attempt == 1 else None, pipe)
        except sa_exc.SQLAlchemyError as exc:
            if is_outage(exc):
                cause = type(getattr(exc, "orig", None) or exc).__name__
                log.warning("database unavailable for %s %s from %s: kept for replay (%s)",
                            inbound.channel, inbound.kind, inbound.user, cause)
                return KEPT
            if is_duplicate(exc) and attempt == 1:
                # A unique key refused a row: someone else's transaction made it first. Once
                # more, now that their row is visible, this callback finds it and answers.
                log.info("duplicate key handling %s %s from %s; trying once more",
                         inbound.channel, inbound.kind, inbound.user)
                continue
            log.exception("database error handling %s %s from %s (not an outage: not replayed)",
                          inbound.channel, inbound.kind, inbound.user)
            break
        except Exception:  # the webhook edge: log with user and kind, apologise, answer 200
            log.exception("handling %s %s from %s failed", inbound.channel, inbound.kind, inbound.user)
            break
    return None if replay else text(inbound.channel, inbound.user, texts.APOLOGY)


def _run_once(bot, inbound: Inbound, replay: bool, deadline: Deadline, prefetched=None, pipe=None):
    now = bot.clock.now()
    late = False
    inbox.count_writes(bot.db.engine)
    try:
        with bot.db.session(lock_wait_s=deadline.left(cap=bot.db.lock_wait_s)) as session:
            claim = inbox.start_claim(session, inbound, now)   # made before the first write, if any
            if inbound.channel == "wechat":
                session.info[caching.OWN] = inbound.user
            ctx = Context(bot, session, inbound, now, prefetched=dict(prefetched or {}))
            replies = dispatch(ctx)
            passive, queued = (None, replies) if replay else split_passive(replies, inbound.channel, inbound.user)
            if passive is not None and deadline.passed():
                # The platform hangs up about now: the answer goes out as a message instead.
                queued, passive, late = [passive, *queued], None, True
            reply = passive.body["content"] if passive is not None else None
            outbox.enqueue(session, queued, now)
            session.flush()
            if claim.wrote(session):
                claim.store_reply(session, reply)
                inbox.relax_if_nothing_else(session)
        handled = None if claim.claimed else claim.claim_alone(bot, reply, deadline.left(cap=bot.db.lock_wait_s))
    except inbox.HandledBefore as exc:     # raised at the first write: rolled back, nothing happened
        handled = exc.handled
    if handled is not None:   # handled before: the same answer, no effect
        log.info("%s %s from %s was handled before", inbound.channel, inbound.kind, inbound.user)
        if replay or not handled.reply:
            return None
        return text(inbound.channel, inbound.user, handled.reply)
    if pipe is not None:      # queued; they go out with the finish and the unlock
        ctx.writes_to(pipe)
    ctx.after_commit.append(lambda: caching.after(ctx, ctx.redis, claim.claimed))
    for after in ctx.after_commit:
        try:
            after()
        except Exception:  # Redis failing after the commit: the database already holds the truth
            log.warning("a step after the commit failed for %s %s from %s", inbound.channel,
                        inbound.kind, inbound.user, exc_info=True)
    ctx.writes_to(None)
    return LATE if late else passive


def lock_key(inbound: Inbound) -> str:
    """The per-person lock: one message of a person handled at a time."""
    return kv.key("lock", inbound.channel, inbound.user)


def wait_for_lock(bot, key: str, token: str, seconds: float) -> bool:
    """Takes the person's lock, polling every 10 ms for up to `seconds`; False if it stayed taken.

    (redis-py's default 100 ms sleep turns any wait into a long tail.)
    """
    until = time.monotonic() + seconds
    while not bot.redis.set(key, token, nx=True, px=LOCK_TIMEOUT_S * 1000):
        if time.monotonic() >= until:
            return False
        time.sleep(0.01)
    return True


def unlock(redis_or_pipe, key: str, token: str):
    """Frees the lock if still ours (a lock that ran out may be someone else's by now)."""
    return redis_or_pipe.eval(_UNLOCK, 1, key, token)


def run_locked(bot, inbound: Inbound, replay: bool = False, deadline: Deadline = NO_DEADLINE):
    """Takes the per-person lock (before any flow state is read), then runs; BUSY if it cannot.

    The lock wait comes out of the request's deadline.
    """
    key, token = lock_key(inbound), uuid.uuid4().hex
    if not wait_for_lock(bot, key, token, deadline.left(cap=8)):
        return BUSY
    try:
        return run(bot, inbound, replay, deadline)
    finally:
        try:
            if not unlock(bot.redis, key, token):
                log.warning("lock for %s expired while handling", inbound.user)
        except Exception:
            log.warning("could not release the lock for %s (it runs out by itself)", inbound.user,
                        exc_info=True)


def passive_xml(bot, inbound: Inbound, content: str) -> str:
    """Renders a text answer to the sender as passive-reply XML."""
    return render_passive(text(inbound.channel, inbound.user, content),
                          inbound.fields.get("ToUserName", ""), bot.clock.timestamp())


def wait_for_first(bot, mark: str, seconds: float) -> str | None:
    """A repeated delivery: wait briefly for the first one's reply and answer the same.

    Still pending after that: the first one (or the recovery job) answers through the
    outbox, and this one says it is being handled, holding no web thread for long.
    """
    deadline = time.monotonic() + seconds
    while True:
        value = bot.redis.get(mark)
        if value is None or value.startswith(DONE):
            return (value or DONE)[len(DONE):] or None
        if time.monotonic() >= deadline:
            return STILL_PENDING
        time.sleep(0.02)


def _finish(bot, mark: str, xml: str) -> None:
    pipe = bot.redis.pipeline(transaction=True)   # one round trip, both or neither
    pipe.set(mark, DONE + xml, ex=int(bot.cfg["dedupe"]["ttl_s"]))
    pipe.zrem(INFLIGHT, mark)
    pipe.execute()


def mark_pending(bot, mark: str, record: str, replay_at: float) -> bool:
    """Sets the pending mark and its in-flight entry atomically; False if the mark was there."""
    return bool(bot.redis.eval(_MARK_PENDING, 2, mark, INFLIGHT, PENDING + record,
                               int(bot.cfg["dedupe"]["ttl_s"]), replay_at))


def repeated(bot, inbound: Inbound, mark: str, deadline: Deadline) -> str | None:
    """A delivery whose mark was there: the first one's answer, or the database's."""
    xml = wait_for_first(bot, mark, deadline.left(cap=float(bot.cfg["reliability"]["duplicate_wait_s"])))
    if xml is not STILL_PENDING:
        return xml
    # Redis says pending; the database may know better (Redis restored from a snapshot).
    handled = inbox.answer_of(bot, inbound)
    if handled is None:
        return passive_xml(bot, inbound, texts.RECEIVED)
    xml = passive_xml(bot, inbound, handled.reply) if handled.reply else ""
    _finish(bot, mark, xml)
    return xml or None


def prefetch_keys(bot, inbound: Inbound) -> list[str]:
    """The Redis keys every message of this person reads: read with the lock, in the same round trip."""
    keys = [bot.engine.state_key(inbound)]
    if inbound.channel == "wechat":
        keys += [kv.key("offer", inbound.user), caching.key(inbound.user), caching.GEN]   # offer: flows.leave_message
    return keys


def handle_once(bot, inbound: Inbound, metric=None) -> str | None:
    """Handles a callback once however often it is delivered; returns the passive reply XML.

    The decrypted callback waits beside its mark until it is handled, so a worker killed
    mid-request or a database outage loses nothing: the recovery job replays it. Every
    wait comes out of one deadline (reliability.deadline_s); past it the answer is
    "received" and the real reply follows through the outbox.

    Redis is asked twice (#19): one script sets the mark, takes the lock and reads the
    person's keys; one transaction writes what the message changed, the finish mark, the
    unlock and the metrics (`metric`: channel, kind, outcome, start time).
    """
    opts = bot.cfg["reliability"]
    deadline = Deadline(float(opts["deadline_s"]))
    ttl = int(bot.cfg["dedupe"]["ttl_s"])
    mark = kv.key("seen", inbound.channel, inbound.user, inbound.dedupe_id)
    record = json.dumps({"channel": inbound.channel, "fields": inbound.fields}, ensure_ascii=False)
    key, token = lock_key(inbound), uuid.uuid4().hex
    keys = prefetch_keys(bot, inbound)
    begun = bot.redis.eval(_BEGIN, 4 + len(keys), mark, INFLIGHT, key, PARKED, *keys,
                           PENDING + record, ttl, bot.clock.timestamp(), token, LOCK_TIMEOUT_S * 1000,
                           inbound.user)
    if not begun[0]:
        xml = repeated(bot, inbound, mark, deadline)
        _record(bot.redis, metric)
        return xml
    prefetched = None
    if begun[1]:
        prefetched = {PARKED: bool(begun[2]), **{k: (v or None) for k, v in zip(keys, begun[3:])}}
        locked = True
    else:
        locked = wait_for_lock(bot, key, token, deadline.left(cap=8))
    pipe = bot.redis.pipeline(transaction=False)   # what the message writes, then _FINISH: in order
    if locked:
        passive = run(bot, inbound, deadline=deadline, prefetched=prefetched, pipe=pipe)
    else:
        passive = BUSY
    deferred = passive is BUSY or passive is KEPT
    if deferred or passive is LATE:
        # Not handled in time (the person's lock or the database): the recovery job
        # handles it at its next pass. Handled late: its answer is in the outbox already.
        xml = passive_xml(bot, inbound, texts.RECEIVED)
    else:
        xml = passive_xml(bot, inbound, passive.body["content"]) if passive else ""
    metric_args = ["", "", "", 0]
    if metric is not None:
        channel, kind, outcome, started = metric
        metric_args = callback_metric_fields(channel, kind, outcome, time.monotonic() - started)
    finish = (_FINISH, 5, mark, INFLIGHT, key, CALLBACKS, LATENCY, "replay" if deferred else "done",
              DONE + ("" if passive is LATE else xml), ttl, bot.clock.timestamp() - RECOVER_AFTER_S,
              token if locked else "", *metric_args)
    try:
        if len(pipe):
            pipe.eval(*finish)
            results = pipe.execute(raise_on_error=False)
            for result in results:
                if isinstance(result, Exception):
                    log.warning("a Redis write after handling %s %s from %s failed: %s", inbound.channel,
                                inbound.kind, inbound.user, result)
            unlocked = results[-1]
        else:
            unlocked = bot.redis.eval(*finish)
        if unlocked == 0:
            log.warning("lock for %s expired while handling", inbound.user)
    except Exception:  # Redis failing now: the inbox row answers any retry; the mark and lock run out
        log.warning("could not update %s in Redis", mark, exc_info=True)
    return xml or None


def _record(redis_or_pipe, metric) -> None:
    if metric is not None:
        channel, kind, outcome, started = metric
        queue_callback_metric(redis_or_pipe, channel, kind, outcome, time.monotonic() - started)


def recover_inflight(bot, limit: int = 100) -> int:
    """Replays callbacks left pending (a dead worker, a database outage); replies go to the outbox.

    A callback the database already handled (Redis restored from an older snapshot, say)
    has no second effect: the inbox row decides.
    """
    cutoff = bot.clock.timestamp() - RECOVER_AFTER_S
    done = 0
    for mark in bot.redis.zrangebyscore(INFLIGHT, 0, cutoff, start=0, num=limit):
        value = bot.redis.get(mark)
        if not value or not value.startswith(PENDING):
            bot.redis.zrem(INFLIGHT, mark)
            continue
        record = json.loads(value[len(PENDING):])
        inbound = to_inbound(record["channel"], record["fields"])
        result = run_locked(bot, inbound, replay=True)   # no platform waits: the usual lock waits
        if result is BUSY or result is KEPT:
            continue  # next pass
        _finish(bot, mark, "")
        log.info("replayed %s %s from %s", inbound.channel, inbound.kind, inbound.user)
        done += 1
    return done


def callback(channel: str) -> Response:
    """Verify → decrypt → parse → dedupe → lock → dispatch → encrypted passive reply."""
    bot = current_bot()
    wire = bot.wires[channel]
    started = time.monotonic()
    try:
        if request.method == "GET":
            return _plain(wire.verify_url(request.args))
        body = read_body(int(bot.cfg["security"]["max_body_bytes"]))
        check_fresh(bot, request.args)
        inbound = to_inbound(channel, wire.open(request.args, body))
    except BadRequest as exc:
        log.info("%s callback refused (400): %s", channel, exc)
        record_callback(bot.redis, channel, "-", "bad_request", time.monotonic() - started)
        return _plain("bad request", 400)
    except Forbidden as exc:
        log.info("%s callback refused (403): %s", channel, exc)
        record_callback(bot.redis, channel, "-", "forbidden", time.monotonic() - started)
        return _plain("forbidden", 403)
    outcome = "handled" if inbound.by_person else "ignored"
    try:
        xml = handle_once(bot, inbound, (channel, metric_kind(inbound), outcome, started))
    except Exception:  # Redis unreachable and the like: still never a 500 to the platform
        log.exception("pipeline failed for %s %s from %s", channel, inbound.kind, inbound.user)
        xml, outcome = passive_xml(bot, inbound, texts.APOLOGY), "error"
        record_callback(bot.redis, channel, metric_kind(inbound), outcome, time.monotonic() - started)
    seconds = time.monotonic() - started
    log.info("%s %s %s in %.0f ms", channel, metric_kind(inbound), outcome, seconds * 1000,
             extra={"channel": channel, "kind": metric_kind(inbound), "outcome": outcome,
                    "user": user_hash(inbound.user), "duration_ms": round(seconds * 1000, 1)})
    if not xml:
        return _plain("success")
    sealed = wire.seal(xml, request.args.get("nonce", ""), bot.clock.timestamp())
    return Response(sealed, content_type="application/xml; charset=utf-8")


@bp.route("/wechat", methods=["GET", "POST"])
def wechat():
    """The Official Account's callback URL (residents)."""
    return callback("wechat")


@bp.route("/wecom", methods=["GET", "POST"])
def wecom():
    """The WeCom self-built app's callback URL (members)."""
    return callback("wecom")
