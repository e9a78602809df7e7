"""Logging for every process (serve, web, gunicorn workers, worker, scheduler, the commands):
one handler on the root logger, plain text or JSON lines (log.format), with the masking filter
that hides phone and ID numbers; gunicorn's own handlers get the filter too."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import sys
from datetime import datetime, timezone

from ..privacy import MaskingFilter, install_log_masking

TICKET_NO = re.compile(r"\b\d{8}-\d{4}\b")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Fields a log call may pass with extra={...}; they become keys of the JSON line.
EXTRA_FIELDS = ("channel", "kind", "outcome", "user", "ticket", "duration_ms")


def user_hash(user: str) -> str:
    """A short stable tag for a person in logs: the same person, not their openid."""
    return hashlib.sha256(user.encode("utf-8")).hexdigest()[:12]


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event = {"ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": message}
        for name in EXTRA_FIELDS:
            if getattr(record, name, None) is not None:
                event[name] = getattr(record, name)
        if "ticket" not in event:
            found = TICKET_NO.search(message)
            if found:
                event["ticket"] = found.group(0)
        if record.exc_info:
            event["error"] = self.formatException(record.exc_info)
        return json.dumps(event, ensure_ascii=False)


class _BotHandler(logging.StreamHandler):
    """The handler setup_logging installs (so a second call replaces rather than adds)."""


def setup_logging(cfg: dict, stream=None) -> logging.Handler:
    """Sends the root logger's records to stderr in the configured format, masked."""
    options = cfg.get("log") or {}
    root = logging.getLogger()
    for handler in list(root.handlers):
        # Ours from before, or basicConfig's default: replaced. Others (pytest's) stay.
        if isinstance(handler, _BotHandler) or type(handler) is logging.StreamHandler:
            root.removeHandler(handler)
    handler = _BotHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if options.get("format") == "json" else logging.Formatter(PLAIN))
    handler.addFilter(MaskingFilter())
    root.addHandler(handler)
    root.setLevel(str(options.get("level") or "INFO").upper())
    install_log_masking()
    for name in ("gunicorn.error", "gunicorn.access"):
        for other in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in other.filters):
                other.addFilter(MaskingFilter())
    return handler
