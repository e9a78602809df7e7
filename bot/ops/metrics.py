"""Prometheus metrics at /metrics, in the text format, behind their own token (metrics.token).

Counts live in Redis, not in the process, so every gunicorn worker, the outbox worker and the
scheduler add to the same numbers and any one of them answers a scrape with the whole
install's figures. Backlogs and ticket counts are read from the database at scrape time.
"""
from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, current_app, request
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import func, select

from .. import kv

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

CALLBACKS = kv.key("metrics", "callbacks")
LATENCY = kv.key("metrics", "latency")
JOBS = kv.key("metrics", "jobs")
# Seconds; WeChat gives a callback five.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def metric_kind(inbound) -> str:
    """The kind label: the inbound kind, or the platform's event name for events the bot has no kind for."""
    if inbound.kind == "unknown" and inbound.event:
        return ("event." + inbound.event)[:48]
    return inbound.kind


def callback_metric_fields(channel: str, kind: str, outcome: str, seconds: float) -> list:
    """The hash fields one callback adds 1 to (count, latency bucket), the sum field and the seconds."""
    bucket = next((str(b) for b in BUCKETS if seconds <= b), "+Inf")
    return [f"{channel}|{kind}|{outcome}", f"{channel}|{bucket}", f"{channel}|sum", seconds]


def queue_callback_metric(pipe, channel: str, kind: str, outcome: str, seconds: float) -> None:
    """Adds one callback's count and handling time to a pipeline (three commands)."""
    count, bucket, total, seconds = callback_metric_fields(channel, kind, outcome, seconds)
    pipe.hincrby(CALLBACKS, count, 1)
    pipe.hincrby(LATENCY, bucket, 1)
    pipe.hincrbyfloat(LATENCY, total, seconds)


def record_callback(redis, channel: str, kind: str, outcome: str, seconds: float) -> None:
    """Counts one callback and its handling time; a Redis hiccup never fails the callback.

    A handled callback's figures ride on the webhook's last Redis round trip instead (#19).
    """
    try:
        pipe = redis.pipeline(transaction=False)
        queue_callback_metric(pipe, channel, kind, outcome, seconds)
        pipe.execute()
    except Exception:  # metrics are never worth an apology to a resident
        log.debug("callback metric not recorded", exc_info=True)


def record_job(redis, name: str, ok: bool) -> None:
    """Counts one scheduled job run, and its failure."""
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(JOBS, f"{name}|runs", 1)
        if not ok:
            pipe.hincrby(JOBS, f"{name}|failures", 1)
        pipe.execute()
    except Exception:
        log.debug("job metric not recorded", exc_info=True)


class BotCollector:
    """Reads the install's figures from Redis and the database at each scrape."""

    def __init__(self, bot):
        self.bot = bot

    def collect(self):
        from ..models import OutboxMessage, Ticket

        redis = self.bot.redis
        callbacks = CounterMetricFamily("bot_callbacks", "Callbacks received, by channel, kind and outcome",
                                        labels=["channel", "kind", "outcome"])
        for field, value in sorted(redis.hgetall(CALLBACKS).items()):
            callbacks.add_metric(field.split("|", 2), float(value))
        yield callbacks
        latency = HistogramMetricFamily("bot_callback_seconds", "Time to handle a callback",
                                        labels=["channel"])
        raw = redis.hgetall(LATENCY)
        for channel in sorted({f.split("|")[0] for f in raw}):
            running, buckets = 0.0, []
            for bound in [*(str(b) for b in BUCKETS), "+Inf"]:
                running += float(raw.get(f"{channel}|{bound}", 0))
                buckets.append((bound, running))
            latency.add_metric([channel], buckets, float(raw.get(f"{channel}|sum", 0)))
        yield latency
        runs = CounterMetricFamily("bot_job_runs", "Scheduled job runs", labels=["job"])
        failures = CounterMetricFamily("bot_job_failures", "Scheduled job runs that failed", labels=["job"])
        for field, value in sorted(redis.hgetall(JOBS).items()):
            name, what = field.rsplit("|", 1)
            (runs if what == "runs" else failures).add_metric([name], float(value))
        yield runs
        yield failures
        with self.bot.db.session() as session:
            by_status = session.execute(select(OutboxMessage.status, func.count())
                                        .group_by(OutboxMessage.status)).all()
            failed = session.execute(select(OutboxMessage.last_errcode, func.count())
                                     .where(OutboxMessage.status == "failed")
                                     .group_by(OutboxMessage.last_errcode)).all()
            tickets = session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
        backlog = GaugeMetricFamily("bot_outbox_messages", "Outbox messages by status", labels=["status"])
        for status, count in sorted(by_status):
            backlog.add_metric([status], count)
        yield backlog
        errors = GaugeMetricFamily("bot_outbox_failed", "Failed outbox messages by the platform's error code",
                                   labels=["errcode"])
        for code, count in sorted(failed, key=lambda row: str(row[0])):
            errors.add_metric(["none" if code is None else str(code)], count)
        yield errors
        by_ticket = GaugeMetricFamily("bot_tickets", "Tickets by status", labels=["status"])
        for status, count in sorted(tickets):
            by_ticket.add_metric([status], count)
        yield by_ticket


@bp.get("/metrics")
def metrics():
    """The Prometheus text format; 404 when metrics.token is unset, 401 without it."""
    bot = current_app.extensions["bot"]
    token = str(bot.cfg["metrics"].get("token") or "")
    if not token:
        return Response("not found\n", status=404, content_type="text/plain")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("unauthorized\n", status=401, content_type="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BotCollector(bot))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
