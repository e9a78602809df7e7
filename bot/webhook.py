"""The two webhooks. One pipeline, in steps: verify → decrypt → parse → dedupe → lock → dispatch → reply."""
from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, Response, current_app, request
from redis.exceptions import LockError
from sqlalchemy.exc import DBAPIError

from . import kv, outbox, texts
from .context import Context
from .dispatch import dispatch
from .errors import BadRequest, Forbidden
from .inbound import Inbound, to_inbound
from .ops.logs import user_hash
from .ops.metrics import metric_kind, record_callback
from .replies import render_passive, split_passive, text

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

PENDING, DONE = "pending:", "done:"
INFLIGHT = kv.key("inflight")
LOCK_TIMEOUT_S = 15    # handling takes well under a second; a dead worker's lock runs out
RECOVER_AFTER_S = 30   # still pending after this: its worker died or the database was down
BUSY = object()        # another message of the same person held the lock too long
KEPT = object()        # the database was unavailable: kept for the recovery job


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


def run(bot, inbound: Inbound, replay: bool = False):
    """Dispatches inside one transaction: state change and outbox rows commit together.

    A replay (the recovery job) has no HTTP response to ride on: every reply is queued.
    """
    now = bot.clock.now()
    try:
        with bot.db.session() as session:
            ctx = Context(bot, session, inbound, now)
            replies = dispatch(ctx)
            passive, queued = (None, replies) if replay else split_passive(replies, inbound.channel, inbound.user)
            outbox.enqueue(session, queued, now)
        for after in ctx.after_commit:
            after()
        return passive
    except DBAPIError:
        log.warning("database unavailable for %s %s from %s: kept for replay",
                    inbound.channel, inbound.kind, inbound.user, exc_info=True)
        return KEPT
    except Exception:  # the webhook edge: log with user and kind, apologise, answer 200
        log.exception("handling %s %s from %s failed", inbound.channel, inbound.kind, inbound.user)
        return None if replay else text(inbound.channel, inbound.user, texts.APOLOGY)


def run_locked(bot, inbound: Inbound, replay: bool = False):
    """Takes the per-person lock (before any flow state is read), then runs; BUSY if it cannot."""
    # Poll every 10 ms: redis-py's default 100 ms sleep turns any wait into a long tail.
    lock = bot.redis.lock(kv.key("lock", inbound.channel, inbound.user), timeout=LOCK_TIMEOUT_S,
                          blocking_timeout=8, sleep=0.01)
    if not lock.acquire():
        return BUSY
    try:
        return run(bot, inbound, replay)
    finally:
        try:
            lock.release()
        except LockError:
            log.warning("lock for %s expired while handling", inbound.user)


def passive_xml(bot, inbound: Inbound, content: str) -> str:
    """Renders a text answer to the sender as passive-reply XML."""
    return render_passive(text(inbound.channel, inbound.user, content),
                          inbound.fields.get("ToUserName", ""), bot.clock.timestamp())


def wait_for_first(bot, mark: str, seconds: float = 4.0) -> str | None:
    """A repeated delivery: wait briefly for the first one's reply and answer the same."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = bot.redis.get(mark)
        if value is None or value.startswith(DONE):
            return (value or DONE)[len(DONE):] or None
        time.sleep(0.05)
    # Still pending: if its worker died, the recovery job answers through the outbox.
    return None


def _finish(bot, mark: str, xml: str) -> None:
    pipe = bot.redis.pipeline(transaction=False)   # one round trip for both
    pipe.set(mark, DONE + xml, ex=int(bot.cfg["dedupe"]["ttl_s"]))
    pipe.zrem(INFLIGHT, mark)
    pipe.execute()


def handle_once(bot, inbound: Inbound) -> str | None:
    """Handles a callback once however often it is delivered; returns the passive reply XML.

    The decrypted callback waits beside its mark until it is handled, so a worker killed
    mid-request or a database outage loses nothing: the recovery job replays it.
    """
    mark = kv.key("seen", inbound.channel, inbound.user, inbound.dedupe_id)
    record = json.dumps({"channel": inbound.channel, "fields": inbound.fields}, ensure_ascii=False)
    if not bot.redis.set(mark, PENDING + record, nx=True, ex=int(bot.cfg["dedupe"]["ttl_s"])):
        return wait_for_first(bot, mark)
    bot.redis.zadd(INFLIGHT, {mark: bot.clock.timestamp()})
    passive = run_locked(bot, inbound)
    if passive is BUSY:
        # Another message of this person held the lock too long: not handled, so forget
        # the mark and ask them to send it again.
        bot.redis.delete(mark)
        bot.redis.zrem(INFLIGHT, mark)
        return passive_xml(bot, inbound, texts.BUSY)
    if passive is KEPT:
        return passive_xml(bot, inbound, texts.KEPT_FOR_LATER)
    xml = passive_xml(bot, inbound, passive.body["content"]) if passive else ""
    _finish(bot, mark, xml)
    return xml or None


def recover_inflight(bot, limit: int = 100) -> int:
    """Replays callbacks left pending (a dead worker, a database outage); replies go to the outbox."""
    cutoff = bot.clock.timestamp() - RECOVER_AFTER_S
    done = 0
    for mark in bot.redis.zrangebyscore(INFLIGHT, 0, cutoff, start=0, num=limit):
        value = bot.redis.get(mark)
        if not value or not value.startswith(PENDING):
            bot.redis.zrem(INFLIGHT, mark)
            continue
        record = json.loads(value[len(PENDING):])
        inbound = to_inbound(record["channel"], record["fields"])
        result = run_locked(bot, inbound, replay=True)
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
        xml = handle_once(bot, inbound)
    except Exception:  # Redis unreachable and the like: still never a 500 to the platform
        log.exception("pipeline failed for %s %s from %s", channel, inbound.kind, inbound.user)
        xml, outcome = passive_xml(bot, inbound, texts.APOLOGY), "error"
    seconds = time.monotonic() - started
    record_callback(bot.redis, channel, metric_kind(inbound), outcome, seconds)
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
