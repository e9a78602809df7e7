"""Time-driven work: one active scheduler per install, kept so by a renewed Redis lock.

A second scheduler waits as standby and takes over within a minute if the first dies.
Each job runs inside the app's context; an error is logged and the scheduler goes on.
"""
from __future__ import annotations

import logging
import threading
import uuid

from apscheduler.schedulers.background import BackgroundScheduler

from . import kv

log = logging.getLogger(__name__)
# A line per job run every few seconds drowns the log; failures are logged by _guarded.
logging.getLogger("apscheduler").setLevel(logging.WARNING)
LEASE_S = 45


class Leadership:
    """A Redis lease that only one scheduler holds at a time."""

    def __init__(self, redis, name: str = "scheduler"):
        self.redis = redis
        self.key = kv.key("leader", name)
        self.me = uuid.uuid4().hex

    def try_acquire(self) -> bool:
        """Takes the lease if it is free, or renews it if it is ours."""
        if self.redis.set(self.key, self.me, nx=True, ex=LEASE_S):
            return True
        # Renew only our own lease (compare-and-expire in one script).
        renewed = self.redis.eval(
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end",
            1, self.key, self.me, LEASE_S)
        return bool(renewed)

    def release(self) -> None:
        """Gives the lease up if it is ours."""
        self.redis.eval("if redis.call('get', KEYS[1]) == ARGV[1] then "
                        "return redis.call('del', KEYS[1]) else return 0 end", 1, self.key, self.me)


def jobs(bot) -> list[tuple[str, callable, dict]]:
    """The scheduled jobs: (name, function of bot, APScheduler trigger arguments)."""
    from .aftercare import close_unrated, fetch_photos, score_sentiment
    from .audit import record_anchor, seal_pending
    from .booking import send_reminders
    from .compliance import check_calendar, monitor_compliance
    from .dashboard.summary import summarise
    from .digest import announce_stars, send_weekly_digests
    from .hot import extract_keywords, refresh_hot_topics
    from .outbox import OutboxWorker, index_parked
    from .participation.council import send_candidates, send_summaries
    from .participation.jobs import check_monthly_minimum
    from .privacy import apply_retention
    from .reliability.inbox import prune_inbox
    from .routing.retrain import retrain
    from .sla import sweep_sla
    from .webhook import recover_inflight

    every = lambda **kw: {"trigger": "interval", **kw}  # noqa: E731
    return [
        ("sla", sweep_sla, every(seconds=int(bot.cfg["sla"]["sweep_s"]))),
        ("recover", recover_inflight, every(seconds=15)),
        ("outbox", lambda b: OutboxWorker(b).run_once(), every(seconds=10)),
        ("parked_index", index_parked, every(minutes=10)),
        ("photos", fetch_photos, every(seconds=10)),
        ("sentiment", score_sentiment, every(seconds=15)),
        ("close_unrated", close_unrated, every(minutes=10)),
        # Digests, stars and alerts check every few minutes whether they are due, so a
        # restart at the wrong moment delays them by minutes instead of losing them.
        ("digest", send_weekly_digests, every(minutes=5)),
        ("stars", announce_stars, every(minutes=5)),
        ("compliance", monitor_compliance, every(minutes=5)),
        ("calendar", check_calendar, every(hours=6)),
        ("appointment_reminders", send_reminders, every(minutes=5)),
        ("seal", seal_pending, every(seconds=5)),
        ("audit_anchor", record_anchor, every(hours=1)),
        ("retention", apply_retention, every(hours=6)),
        ("keywords", extract_keywords, every(seconds=30)),
        ("hot_topics", refresh_hot_topics, every(minutes=10)),
        ("inbox_prune", prune_inbox, every(hours=1)),
        ("nlp.retrain", retrain, every(hours=1)),     # runs when nlp.retrain_days have passed
        # #15: the monthly minimum on the 25th, the council's Friday candidates and notices.
        ("monthly_minimum", check_monthly_minimum, every(minutes=5)),
        ("council_candidates", send_candidates, every(minutes=5)),
        ("council_summaries", send_summaries, every(minutes=5)),
        # #14: the dashboard's daily summaries (closed days, and days of tickets changed since).
        ("dashboard_summaries", summarise, every(minutes=int(bot.cfg["dashboard"]["summary_every_min"]))),
    ]


JOB_ERRORS = kv.key("job-errors")


def run_job(bot, name: str, fn) -> bool:
    """Runs one job; a failure is logged and reported (GET /api/v1/health, /metrics), never raised."""
    from .ops.metrics import record_job

    try:
        fn(bot)
    except Exception as exc:  # the job-wrapper edge: log, report, keep the scheduler alive
        log.exception("scheduled job %s failed", name)
        try:
            bot.redis.hset(JOB_ERRORS, name, f"{bot.clock.now().isoformat()} {type(exc).__name__}: {exc}"[:500])
        except Exception:
            log.exception("could not report the failure of %s", name)
        record_job(bot.redis, name, ok=False)
        return False
    record_job(bot.redis, name, ok=True)
    return True


def _guarded(app, name, fn):
    def run():
        with app.app_context():
            run_job(app.extensions["bot"], name, fn)
    return run


def run_scheduler(app, stop: threading.Event) -> None:
    """Runs the jobs while this process holds the leadership; stands by otherwise."""
    bot = app.extensions["bot"]
    leader = Leadership(bot.redis)
    scheduler = BackgroundScheduler(timezone=bot.cfg["timezone"])
    for name, fn, trigger in jobs(bot):
        scheduler.add_job(_guarded(app, name, fn), id=name, name=name, max_instances=1, coalesce=True, **trigger)
    active = False
    try:
        while not stop.is_set():
            try:
                leading = leader.try_acquire()
            except Exception:
                log.exception("scheduler lease check failed")
                leading = False
            if leading and not active:
                log.info("scheduler active")
                scheduler.start() if not scheduler.running else scheduler.resume()
                active = True
            elif not leading and active:
                log.warning("scheduler lost its lease; standing by")
                scheduler.pause()
                active = False
            stop.wait(LEASE_S / 3)
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        leader.release()
