"""The typed settings schema: dataclasses derived from config.DEFAULTS, checked at start-up.

Each key's type is its default's (a number, a whole number, yes/no, text, a list, a section),
so a key added to DEFAULTS with a default is checked with no further line; a range or a set
of choices takes one line in RULES. Every section is checked before anything starts, so a
wrong `leave_message.max_photos` stops start-up with the key and the fix instead of failing
in the middle of a resident's conversation.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rule:
    """A range (and whether only whole numbers) or a set of choices for one key."""

    minimum: float | None = None
    maximum: float | None = None
    whole: bool = False
    choices: tuple = ()


# One line per key that needs more than its default's type ("section.*": every number there).
RULES: dict[str, Rule] = {
    "database.lock_wait_s": Rule(0.1),
    "wecom.agent_id": Rule(0, whole=True),
    "nlp.min_confidence": Rule(0, 1),
    "nlp.hot_window_days": Rule(1),
    "nlp.negative_below": Rule(0, 1),
    "leave_message.max_photos": Rule(0, 9, whole=True),
    "leave_message.min_chars": Rule(1, whole=True),
    "leave_message.max_chars": Rule(10, 10000, whole=True),
    "leave_message.offer_ticket_chars": Rule(1, whole=True),
    "leave_message.max_tickets_per_day": Rule(1, whole=True),
    "flows.ttl_s": Rule(60),
    "rating.expire_days": Rule(1),
    "points.*": Rule(0),
    "appraisal.participation": Rule(0, 1),
    "appraisal.quality": Rule(0, 1),
    "appraisal.satisfaction": Rule(0, 1),
    "appraisal.periods": Rule(2, whole=True),
    "appraisal.max_shift": Rule(0, 1),
    "appraisal.targets.*": Rule(0, 100),
    "privacy.retention_days": Rule(1),
    "booking.days_ahead": Rule(0, whole=True),
    "booking.look_ahead_days": Rule(1, whole=True),
    "booking.max_open_per_resident": Rule(1, whole=True),
    "booking.min_description_chars": Rule(0, whole=True),
    "digest.top_members": Rule(0, whole=True),
    "digest.top_keywords": Rule(0, whole=True),
    "stars.share": Rule(0.01, 1),
    "outbox.poll_s": Rule(0.05),
    "outbox.lease_s": Rule(5),
    "outbox.max_backoff_s": Rule(1),
    "outbox.batch": Rule(1, 1000, whole=True),
    "outbox.max_attempts": Rule(1, whole=True),
    "outbox.max_age_h": Rule(0.1),
    "outbox.per_member_per_minute": Rule(0, whole=True),
    "outbox.per_member_per_hour": Rule(0, whole=True),
    "dedupe.ttl_s": Rule(10),
    "sla.sweep_s": Rule(5),
    "log.format": Rule(choices=("text", "json")),
    "log.level": Rule(choices=("DEBUG", "INFO", "WARNING", "ERROR", "debug", "info", "warning", "error")),
}
# Mappings whose keys are the operator's own (category names, template fields, channels).
OPEN_MAPPINGS = {"points.category_weights", "wechat.notice_fields", "menu"}
# Lists that may also be null.
NULLABLE = {"sla.quiet_hours", "sla.working_hours"}


def _kind(default) -> Any:
    if isinstance(default, bool):
        return bool
    if isinstance(default, (int, float)):
        return float
    if isinstance(default, str):
        return str
    if isinstance(default, list):
        return list
    if isinstance(default, dict):
        return dict
    return Any


def schema(defaults: dict, path: str = "") -> type:
    """A dataclass for a section of DEFAULTS: one typed field per key, sections nested."""
    fields = []
    for key, default in defaults.items():
        dotted = f"{path}{key}"
        if isinstance(default, dict) and default and dotted not in OPEN_MAPPINGS:
            fields.append((key, schema(default, dotted + "."), dataclasses.field(default=None)))
        else:
            fields.append((key, _kind(default), dataclasses.field(default=None, metadata={"default": default})))
    name = "".join(p.title() for p in path.strip(".").split(".") if p) or "Settings"
    return dataclasses.make_dataclass(name.replace("_", "") + "Settings" if path else "Settings", fields,
                                      frozen=True)


def _describe(kind, rule: Rule | None) -> str:
    if kind is float:
        what = "a whole number" if rule and rule.whole else "a number"
        if rule and rule.minimum is not None and rule.maximum is not None:
            return f"{what} from {rule.minimum:g} to {rule.maximum:g}"
        if rule and rule.minimum is not None:
            return f"{what} >= {rule.minimum:g}"
        return what
    return {bool: "true or false", str: "text", list: "a list", dict: "a mapping"}.get(kind, "a value")


def _check_value(dotted: str, kind, value, default, section: dict, key: str) -> None:
    rule = RULES.get(dotted) or RULES.get(dotted.rsplit(".", 1)[0] + ".*")
    if value is None and (kind is Any or dotted in NULLABLE):
        return
    fix = f"(default: {default!r})"
    if kind is bool and not isinstance(value, bool):
        raise ConfigError(f"{dotted} must be true or false, not {value!r} {fix}")
    if kind is str and not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            section[key] = str(value)      # a numeric token or secret written without quotes
            return
        raise ConfigError(f"{dotted} must be text, not {value!r} {fix}")
    if kind is list and not isinstance(value, list):
        raise ConfigError(f"{dotted} must be a list, not {value!r} {fix}")
    if kind is dict and not isinstance(value, dict):
        raise ConfigError(f"{dotted} must be a mapping, not {value!r} {fix}")
    if kind is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and rule:
            ok = (rule.minimum is None or value >= rule.minimum) and (rule.maximum is None or value <= rule.maximum) \
                and (not rule.whole or float(value).is_integer())
        if not ok:
            raise ConfigError(f"{dotted} must be {_describe(kind, rule)}, not {value!r} {fix}")
    if rule and rule.choices and value not in rule.choices:
        raise ConfigError(f"{dotted} must be one of {', '.join(dict.fromkeys(c.lower() for c in rule.choices))}, "
                          f"not {value!r}")


def check(cfg: dict, defaults: dict, path: str = "", kind: type | None = None) -> None:
    """Checks every key of every section against the schema; ConfigError names the key and the fix."""
    kind = kind or schema(defaults, path)
    for f in dataclasses.fields(kind):
        dotted = f"{path}{f.name}"
        value = cfg.get(f.name)
        if dataclasses.is_dataclass(f.type):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted} must be a mapping of settings, not {value!r}")
            check(value, defaults[f.name], dotted + ".", f.type)
        else:
            _check_value(dotted, f.type, value, f.metadata.get("default"), cfg, f.name)
    unknown = sorted(set(cfg) - {f.name for f in dataclasses.fields(kind)} - {"base_dir", "config_file"})
    for key in unknown:   # a typo is worth a line in the log; refusing would break newer files
        log.warning("unknown setting %s%s is ignored", path, key)
