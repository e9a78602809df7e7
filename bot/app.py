"""The app factory and the Bot: settings, clock, database, Redis, wires, clients and flows."""
from __future__ import annotations

import logging
import os
import time
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, redirect
from sqlalchemy import select

from . import kv
from .audit import admin_change, payload_digest
from .clock import Clock
from .config import load_config
from .db import Database, database_url
from .engine import FlowEngine
from .errors import OrgFileError, SchemaError
from .models import AdminChange, Category
from .nlp import OTHER
from .org import load_org, service_config, sync_org
from .platform import Platform
from .tickets import keyword_classifier
from .wire import Wire
from .workcalendar import WorkCalendar

log = logging.getLogger(__name__)


def check_schema(db: Database) -> None:
    """SchemaError naming the command to run unless the database is at this code's schema."""
    current, needed = db.revisions()
    if current != needed:
        raise SchemaError(
            f"the database schema is at {', '.join(sorted(current)) or 'nothing (an empty database)'}, "
            f"this code needs {', '.join(sorted(needed))}: run `python -m bot initdb` and "
            "`python -m bot org sync` once, then start this process again")


class Bot:
    """Everything one process of the bot needs, built once from the settings."""

    def __init__(self, cfg: dict, clock: Clock | None = None):
        self.cfg = cfg
        self.clock = clock or Clock()
        self.tz = ZoneInfo(cfg["timezone"])
        self.calendar = WorkCalendar(cfg)
        self.db = Database(database_url(cfg), float(cfg["database"].get("lock_wait_s", 15)))
        self.redis = kv.connect(cfg)
        from .caching import invalidates

        invalidates(self.db, self.redis)   # #19: cached resident facts follow the database
        self.wires = {channel: Wire.from_config(cfg, channel) for channel in ("wechat", "wecom")}
        self.platform = Platform(cfg, self.redis)
        self.engine = FlowEngine(int(cfg["flows"]["ttl_s"]))
        self.services: dict = {"service_days": [], "service_types": []}
        self.model = None
        self._cache: dict = {}
        import flows
        import handlers

        flows.register_all(self.engine)
        self.engine.freeze()
        handlers.freeze()

    def migrate(self) -> None:
        """Applies pending migrations; one process at a time."""
        with self.redis.lock(kv.key("lock", "migrate"), timeout=300, blocking_timeout=300):
            self.db.migrate()

    def check_schema(self) -> None:
        """Refuses to run on a database another version of the code (or nobody) set up."""
        check_schema(self.db)

    def prepare(self) -> None:
        """Migrates and loads the organisation file, one process of the install at a time."""
        with self.redis.lock(kv.key("lock", "migrate"), timeout=300, blocking_timeout=300):
            self.db.migrate()
            try:
                counts = self.sync_org()
                log.info("organisation loaded: %s", counts)
            except OrgFileError as exc:
                # Keep serving with what the database already holds; say why loudly.
                log.error("organisation file refused, keeping the previous data: %s", exc)

    def sync_org(self) -> dict:
        """Loads the organisation file into the database (a bad file changes nothing)."""
        doc = load_org(self.cfg["org_file"])
        digest = payload_digest(doc)
        with self.db.session() as session:
            counts = sync_org(session, doc)
            last = session.scalar(select(AdminChange.data).where(AdminChange.action == "org_synced")
                                  .order_by(AdminChange.id.desc()).limit(1))
            if not last or last.get("digest") != digest:  # a change of the organisation is recorded
                admin_change(session, "admin:org_sync", "org_synced", self.clock.now(), digest=digest, **counts)
        self.services = service_config(doc)
        self._cache.clear()
        return counts

    def cached(self, name: str, load, ttl_s: float = 30.0):
        """Organisation data every message needs (grids, category keywords), read at most every ttl_s.

        Other processes see an organisation sync within ttl_s; this one at once.
        """
        hit = self._cache.get(name)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        with self.db.session() as session:
            value = load(session)
        self._cache[name] = (time.monotonic() + ttl_s, value)
        return value

    def start(self, prepare: bool = False) -> None:
        """Checks the schema (or, preparing, migrates and syncs the organisation) and loads the model.

        Only `initdb`, `org sync` and `serve` (everything in one process) prepare: web workers,
        the outbox worker and the scheduler started together must not race to create tables
        and organisation rows, so they check the schema and refuse with the command to run.
        """
        if prepare:
            self.prepare()
        else:
            self.check_schema()
            try:
                doc = load_org(self.cfg["org_file"])
                self.services = service_config(doc)
                with self.db.session() as session:
                    last = session.scalar(select(AdminChange.data).where(AdminChange.action == "org_synced")
                                          .order_by(AdminChange.id.desc()).limit(1))
                if not last or last.get("digest") != payload_digest(doc):
                    log.warning("%s differs from what the database holds: run `python -m bot org sync`",
                                self.cfg["org_file"])
            except OrgFileError as exc:
                log.error("organisation file unreadable (service days unknown): %s", exc)
        self.load_model()

    def load_model(self) -> None:
        """Loads nlp.model when set; falls back to the keyword rules (and says so) when unusable."""
        from .classifier import ModelError, load
        from .routing.retrain import learned_model_path

        path = self.model_path = learned_model_path(self.cfg)
        self.model = None
        self.model_stamp = _stamp(path)
        if not self.cfg["nlp"].get("model") and self.model_stamp is None:
            return
        try:
            model = load(path)
        except ModelError as exc:
            log.warning("category model not used, keyword rules instead: %s", exc)
            return
        with self.db.session() as session:
            known = set(session.scalars(select(Category.name)).all()) | {OTHER}
        foreign = sorted(set(model.categories) - known)
        if foreign:
            log.warning("category model %s was trained for other categories (%s); keyword rules instead",
                        path, "、".join(foreign[:5]))
            return
        self.model = model
        log.info("category model loaded: %s (%s examples, %s)", path, model.document["n"],
                 "、".join(model.categories))

    def classify(self, session, text: str) -> tuple[str, str]:
        """The category of a text and what decided it: the model when confident, else the rules."""
        return self.route(session, text)[:2]

    def route(self, session, text: str) -> tuple[str, str, float | None, str | None]:
        """classify, plus the model's confidence in its best guess and its next-best category
        (None, None without a model)."""
        if hasattr(self, "model_path") and self.model_stamp != _stamp(self.model_path):
            self.load_model()     # the retrain (another process) replaced the file
        if self.model is not None:
            ranked = self.model.ranked(text)
            (category, confidence), runner_up = ranked[0], (ranked[1][0] if len(ranked) > 1 else None)
            confidence = round(confidence, 3)
            if confidence >= float(self.cfg["nlp"]["min_confidence"]):
                return category, "model", confidence, runner_up
            chosen = self.cached("keywords", keyword_classifier).classify(text)
            return chosen, "rules", confidence, category if chosen != category else runner_up
        return self.cached("keywords", keyword_classifier).classify(text), "rules", None, None


def _stamp(path: str):
    """A model file's modification time and size, or None when there is no file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def create_app(config: dict | None = None, clock: Clock | None = None, prepare: bool | None = None) -> Flask:
    """Builds the Flask app; `config` overrides every other settings layer (tests).

    prepare: migrate and sync the organisation first (see Bot.start); by default only when
    the settings are given as a mapping (tests, embedding), never in gunicorn's workers.
    """
    cfg = load_config(config)
    from .ops.logs import setup_logging

    setup_logging(cfg)   # every process, gunicorn's workers included
    bot = Bot(cfg, clock)
    bot.start(prepare=config is not None if prepare is None else prepare)
    app = Flask("bot")
    app.extensions["bot"] = bot
    from .api import bp as api_bp
    from .dashboard import blueprint as dashboard_blueprint
    from .lifecycle.page import bp as ticket_page_bp
    from .ops.metrics import bp as metrics_bp
    from .webhook import bp as webhook_bp

    app.register_blueprint(webhook_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(ticket_page_bp)
    app.register_blueprint(dashboard_blueprint())
    app.register_blueprint(metrics_bp)
    from .participation.web import bp as participation_bp  # #15: the public page, /api/v1/cases

    app.register_blueprint(participation_bp)
    if cfg["dev"]["fake_platform"]:
        from .fakeplatform import FakePlatform

        app.extensions["fake_platform"] = FakePlatform()
        app.register_blueprint(app.extensions["fake_platform"].blueprint(), url_prefix="/_fake")

    if cfg["dev"]["console"]:
        from .console import bp as console_bp

        app.register_blueprint(console_bp)

    if cfg["dev"]["console"]:
        @app.get("/")
        def home():
            """Dev mode: the front page is the console."""
            return redirect("/dev/")

    @app.get("/healthz")
    def healthz():
        """Liveness for the proxy: the process answers."""
        return jsonify(ok=True)

    @app.errorhandler(404)
    def not_found(_exc):
        return jsonify(error="not found"), 404

    @app.errorhandler(405)
    def not_allowed(_exc):
        return jsonify(error="method not allowed"), 405

    @app.errorhandler(Exception)
    def internal(exc):  # no stack trace ever reaches a client
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return jsonify(error=exc.name), exc.code
        log.exception("unhandled error")
        return jsonify(error="internal error"), 500

    return app
