"""Settings in layers: defaults → config.yaml (or $BOT_CONFIG) → BOT_* environment → a mapping.

The key names are a public contract (operators' scripts rely on them): add keys, rename none.
"""
from __future__ import annotations

import base64
import binascii
import copy
import os
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .errors import ConfigError
from .workcalendar import is_hhmm, parse_hhmm

DEFAULTS: dict = {
    "timezone": "Asia/Shanghai",
    "data_dir": "./var",
    "database": {"url": "", "lock_wait_s": 15},
    "redis": {"url": "", "timeout_s": 5},
    "org_file": "org.yaml",
    "wechat": {
        "app_id": "",
        "app_secret": "",
        "token": "",
        "encoding_aes_key": "",
        "api_base_url": "https://api.weixin.qq.com/cgi-bin/",
        # QR images are served from another host than the API.
        "qrcode_url": "https://mp.weixin.qq.com/cgi-bin/showqrcode",
        # A template notice sent when a reply cannot reach the resident (outside 48 h); "" = none.
        "notice_template_id": "",
        # The notice template's fields and what goes in each: summary (the reply, shortened
        # at a clause), title, time, no (ticket number), hint. Copy the names from the template;
        # empty: {thing1: summary, time2: time}.
        "notice_fields": {},
    },
    "wecom": {
        "corp_id": "",
        "agent_id": 0,
        "secret": "",
        "token": "",
        "encoding_aes_key": "",
        "api_base_url": "https://qyapi.weixin.qq.com/cgi-bin/",
    },
    "admin": {"api_token": "", "pii_api_token": ""},
    "security": {"replay_window_s": 300, "max_body_bytes": 65536},
    "sla": {
        "response_h": 24,
        "reply_h": 48,
        "urgent_response_h": 4,
        "urgent_reply_h": 24,
        "remind_at": 0.75,
        "sweep_s": 60,
        "working_hours": None,
        "quiet_hours": ["22:00", "07:00"],
        # A link to a ticket in batched reminders, e.g. https://bot.example.org/t/{no}; "" = none.
        "ticket_link": "",
    },
    "nlp": {
        "model": "",
        # Below this calibrated probability the model's guess gives way to the keyword rules.
        "min_confidence": 0.5,
        # #18: below this confidence the member's card says the category is a guess.
        "guess_below": 0.7,
        # #18: the nlp.retrain job learns from history every this many days (0: never), once
        # this many tickets per category carry a label people set or confirmed.
        "retrain_days": 7,
        "retrain_min_per_category": 20,
        "hot_window_days": 7,
        "urgent_words": ["燃气", "煤气", "漏水", "着火", "失火", "火灾", "触电", "漏电",
                         "老人摔倒", "紧急", "急需", "救命", "坍塌", "爆炸"],
        # snownlp reads almost every complaint as negative: a priority rises only when the
        # score is this low *and* the resident uses words of escalation.
        "negative_below": 0.01,
        "anger_words": ["忍无可忍", "无人理睬", "没人管", "不管不问", "多次投诉", "反复投诉", "失职",
                        "气死", "恶心", "愤怒", "太过分", "欺人太甚", "要曝光"],
    },
    "leave_message": {
        "max_photos": 3,
        "min_chars": 4,
        "max_chars": 2000,
        "offer_ticket_chars": 20,
        "max_tickets_per_day": 5,
        # A shared location farther than this from every grid centre is refused (0: accept any).
        "max_km_from_grid": 20,
    },
    # Safety advice sent before the summary of an urgent message (#13): which words call for
    # which advice; the advice texts are in bot/texts.py SAFETY_ADVICE unless advice: {kind: text}.
    "safety": {
        "words": {
            "gas": ["燃气", "煤气", "天然气", "漏气", "液化气"],
            "fire": ["着火", "失火", "火灾", "冒烟", "起火"],
            "electric": ["触电", "漏电", "电线掉", "电线断"],
            "person": ["老人摔倒", "摔倒", "晕倒", "昏迷", "被困", "救命", "受伤"],
        },
        "advice": {},
    },
    "flows": {"ttl_s": 1800},
    "rating": {"expire_days": 7},
    # #12: a member's photos sent within this many minutes after 办结 go to the resident.
    "lifecycle": {"resolution_photo_minutes": 30},
    # #12: the member's ticket page linked from the card; secret "" derives one from the WeCom secrets.
    "ticket_page": {"base_url": "http://127.0.0.1:8000/", "secret": "", "ttl_days": 7},
    "points": {"checkin": 1, "resolved_min": 5, "resolved_max": 20, "urgent_weight": 2.0,
               "category_weights": {"矛盾纠纷": 2.0, "民生服务": 1.5, "环境卫生": 1.2},
               "praised": 5, "appointment_done": 5, "innovation_min": 10, "innovation_max": 30},
    "appraisal": {"participation": 0.3, "quality": 0.4, "satisfaction": 0.3,
                  # Dynamic weights (#14): an indicator below its target over the last periods gains
                  # weight, one above loses it, each by at most max_shift, then all are normalised.
                  "dynamic": False, "periods": 3, "max_shift": 0.1,
                  "targets": {"participation": 80, "quality": 85, "satisfaction": 90}},
    "privacy": {"retention_days": 365},
    "booking": {"days_ahead": 4, "look_ahead_days": 60, "max_open_per_resident": 2,
                "remind_time": "18:00", "min_description_chars": 2},
    # Holidays and make-up working days for years chinese-calendar does not know yet.
    "calendar": {"holidays": [], "workdays": []},
    "digest": {"weekday": 0, "time": "08:30", "top_members": 5, "top_keywords": 8},
    "stars": {"day": 1, "time": "09:00", "share": 0.1},
    "compliance": {"response_h": 48, "satisfaction_pct": 85, "participation_pct": 70,
                   "period_days": 30, "time": "09:00", "high_gap": 20},
    # A message is `failed` after max_attempts tries or max_age_h hours; WeCom takes at most
    # 30 messages a minute and 1000 an hour for one member (extra ones are dropped).
    "outbox": {"poll_s": 1.0, "lease_s": 60, "max_backoff_s": 600, "batch": 20,
               "max_attempts": 12, "max_age_h": 48, "per_member_per_minute": 30,
               "per_member_per_hour": 1000},
    "dedupe": {"ttl_s": 600},
    # #17 exactly once: one deadline per webhook request (every wait comes out of it), how
    # long a repeated delivery waits for the first, how long handled callbacks are kept,
    # when a WeChat message whose send timed out is sent once more, and how long photo
    # downloads are retried (WeChat keeps media three days).
    "reliability": {"deadline_s": 4.0, "duplicate_wait_s": 1.0, "inbox_keep_days": 7,
                    "in_doubt_resend_s": 60, "media_retry_h": 72, "photos_per_pass": 200},
    # GET /metrics (Prometheus) answers only with this bearer token; "" turns it off.
    "metrics": {"token": ""},
    # format: text, or json (one JSON object per line for a log collector); level: INFO, DEBUG …
    "log": {"format": "text", "level": "INFO"},
    # The custom menus `python -m bot menu create [--wecom]` sends (3 buttons, 5 sub-buttons
    # each at most); a button has a key the bot answers, or a url.
    "menu": {
        "wechat": [{"name": "我要留言", "key": "LEAVE_MESSAGE"},
                   {"name": "预约服务", "key": "BOOK_SERVICE"},
                   {"name": "我的", "sub_button": [{"name": "办理进度", "key": "MY_TICKETS"},
                                                  {"name": "评价", "key": "RATE"}]}],
        "wecom": [{"name": "我的工单", "key": "MY_QUEUE"},
                  {"name": "督办台账", "key": "OVERDUE"},
                  {"name": "我的", "sub_button": [{"name": "签到", "key": "CHECKIN"},
                                                 {"name": "积分", "key": "POINTS"},
                                                 {"name": "帮助", "key": "HELP"}]}],
    },
    # #15: members' offline work (points per kind), the monthly minimum, the council, the public page.
    "worklog": {"kinds": {"民意收集": 2, "矛盾调解": 3, "政策宣传": 2, "走访": 2}, "daily_cap": 5,
                "attach_minutes": 10},
    "members": {"monthly_min_handled": 5, "monthly_check_day": 25, "monthly_check_time": "09:00"},
    "council": {"candidates_weekday": 4, "candidates_time": "09:00", "notice_days": 3,
                "meeting_time": "09:30", "followup_days": 14, "max_candidates": 10},
    "dev": {"console": False, "fake_platform": False},
    # The secretary's dashboard (#14): base_url is how members' phones reach the bot (links in
    # the digest and alerts; empty: no links); secret_key signs the sign-in cookie (empty: derived
    # from wecom.secret and wecom.token, the same in every worker). summary_every_min: how often the
    # summary job adds closed days and recomputes days of changed tickets (pages read today live).
    "dashboard": {"base_url": "", "secret_key": "", "session_hours": 12, "near_due_h": 4, "summary_every_min": 5,
                  "oauth_authorize_url": "https://open.weixin.qq.com/connect/oauth2/authorize"},
}

# Top-level keys that hold secrets or paths and may come from BOT_<KEY>.
_ENV_PREFIX = "BOT_"


def _merge(base: dict, override: dict) -> dict:
    """Deep-merges override into a copy of base."""
    out = copy.deepcopy(base)
    for key, value in (override or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _coerce(raw: str, like):
    """Turns an environment string into the type of the default it replaces."""
    if isinstance(like, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(like, int):
        try:
            return int(raw)
        except ValueError:
            return raw  # validation names the key
    if isinstance(like, float):
        try:
            return float(raw)
        except ValueError:
            return raw
    if isinstance(like, list) or like is None:
        try:
            return yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw
    return raw


def _from_env(environ, base: dict) -> dict:
    """Reads BOT_<SECTION>__<KEY> and BOT_<KEY> variables into a nested mapping."""
    out: dict = {}
    for name, raw in environ.items():
        if not name.startswith(_ENV_PREFIX) or name == "BOT_CONFIG":
            continue
        path = [p.lower() for p in name[len(_ENV_PREFIX):].split("__") if p]
        if not path:
            continue
        like = base
        for part in path:
            like = like.get(part) if isinstance(like, dict) else None
        node = out
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = _coerce(raw, like)
    return out


def load_config(overrides: dict | None = None, environ=None) -> dict:
    """Builds the settings from all layers, validates them and resolves paths."""
    environ = os.environ if environ is None else environ
    overrides = overrides or {}
    cfg = copy.deepcopy(DEFAULTS)
    if "config_file" in overrides:  # tests: an explicit file, or None for none at all
        path = overrides["config_file"]
    else:
        path = environ.get("BOT_CONFIG") or ("config.yaml" if Path("config.yaml").exists() else None)
    base_dir = Path.cwd()
    if path:
        file = Path(path)
        if not file.exists():
            raise ConfigError(f"config file {path} does not exist; create it or unset BOT_CONFIG")
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path} must be a mapping of settings")
        cfg = _merge(cfg, loaded)
        base_dir = file.resolve().parent
    cfg = _merge(cfg, _from_env(environ, cfg))
    cfg = _merge(cfg, {k: v for k, v in overrides.items() if k != "config_file"})
    cfg["base_dir"] = str(base_dir)
    validate(cfg)
    cfg["data_dir"] = str((base_dir / cfg["data_dir"]).resolve())
    cfg["org_file"] = str((base_dir / cfg["org_file"]).resolve())
    if cfg["nlp"].get("model"):
        cfg["nlp"]["model"] = str((base_dir / cfg["nlp"]["model"]).resolve())
    return cfg


def _aes_key_ok(key: str) -> bool:
    if len(key) != 43:
        return False
    try:
        return len(base64.b64decode(key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


def _require(cfg: dict, dotted: str, fix: str):
    section, key = dotted.split(".")
    if not str(cfg[section].get(key) or "").strip():
        raise ConfigError(f"{dotted} is empty; {fix}")


def _number(cfg: dict, dotted: str, minimum: float, kind=int):
    section, key = dotted.split(".")
    value = cfg[section].get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < minimum \
            or (kind is int and not float(value).is_integer()):
        raise ConfigError(f"{dotted} must be a {'whole ' if kind is int else ''}number "
                          f">= {minimum}, not {value!r}")


def validate(cfg: dict) -> None:
    """Stops start-up with one line naming the key and the fix."""
    from .ops.settings import check

    check(cfg, DEFAULTS)   # every section, typed from DEFAULTS; the particular checks follow
    try:
        ZoneInfo(str(cfg["timezone"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone {cfg['timezone']!r} is unknown; use an IANA name such as "
                          "Asia/Shanghai") from None
    for section in ("wechat", "wecom", "security", "sla", "database", "redis", "dev"):
        if not isinstance(cfg.get(section), dict):
            raise ConfigError(f"{section} must be a mapping of settings")
    _require(cfg, "wechat.token", "set it in config.yaml or BOT_WECHAT__TOKEN (the Token on "
             "the Official Account's server settings page)")
    _require(cfg, "wecom.token", "set it in config.yaml or BOT_WECOM__TOKEN (the Token of the "
             "self-built app's API receive settings)")
    _require(cfg, "wecom.corp_id", "set it in config.yaml or BOT_WECOM__CORP_ID (ww...)")
    _require(cfg, "wecom.encoding_aes_key", "WeCom callbacks are always encrypted: set "
             "BOT_WECOM__ENCODING_AES_KEY to the app's 43-character EncodingAESKey")
    for section in ("wechat", "wecom"):
        key = str(cfg[section].get("encoding_aes_key") or "")
        if key and not _aes_key_ok(key):
            raise ConfigError(f"{section}.encoding_aes_key must be the 43-character EncodingAESKey "
                              f"from the platform (got {len(key)} characters)")
        base = str(cfg[section].get("api_base_url") or "")
        if not base.startswith(("http://", "https://")) or not base.endswith("/"):
            raise ConfigError(f"{section}.api_base_url must be an http(s) URL ending in '/', "
                              f"not {base!r}")
    if not str(cfg["wechat"].get("qrcode_url") or "").startswith(("http://", "https://")):
        raise ConfigError("wechat.qrcode_url must be an http(s) URL (showqrcode)")
    if cfg["wechat"].get("notice_template_id"):
        from .ops.notice import check_fields

        problem = check_fields(cfg["wechat"].get("notice_fields"))
        if problem:
            raise ConfigError(f"wechat.notice_fields {problem} (see the template's detail page)")
    if cfg["wechat"].get("encoding_aes_key"):
        _require(cfg, "wechat.app_id", "safe mode needs the Official Account's AppID (wx...)")
    _number(cfg, "security.replay_window_s", 0)
    _number(cfg, "nlp.retrain_days", 0, float)
    _number(cfg, "nlp.retrain_min_per_category", 2)
    _number(cfg, "nlp.guess_below", 0, float)
    _number(cfg, "security.max_body_bytes", 1)
    for key in ("response_h", "reply_h", "urgent_response_h", "urgent_reply_h"):
        _number(cfg, f"sla.{key}", 0.01, float)
    remind = cfg["sla"].get("remind_at")
    if not isinstance(remind, (int, float)) or not 0 < remind < 1:
        raise ConfigError(f"sla.remind_at must be a share of the window between 0 and 1, "
                          f"not {remind!r}")
    quiet = cfg["sla"].get("quiet_hours")
    if quiet is not None and (not isinstance(quiet, list) or len(quiet) != 2
                              or not all(is_hhmm(x) for x in quiet)):
        raise ConfigError("sla.quiet_hours must be null or two times like [\"22:00\", \"07:00\"]")
    hours = cfg["sla"].get("working_hours")
    if hours is not None and (not isinstance(hours, list) or len(hours) != 2
                              or not all(is_hhmm(x) for x in hours) or parse_hhmm(hours[0]) >= parse_hhmm(hours[1])):
        raise ConfigError("sla.working_hours must be null or [start, end] like [\"09:00\", \"17:30\"]")
    for key in ("holidays", "workdays"):
        for day in (cfg.get("calendar") or {}).get(key) or []:
            try:
                date.fromisoformat(str(day))
            except ValueError:
                raise ConfigError(f"calendar.{key} has {day!r}; write dates as 2027-01-01") from None
    for dotted in ("digest.time", "stars.time", "compliance.time", "booking.remind_time"):
        section, key = dotted.split(".")
        if not is_hhmm(cfg[section].get(key)):
            raise ConfigError(f"{dotted} must be a time like \"08:30\"")
    if cfg["digest"].get("weekday") not in range(7):
        raise ConfigError("digest.weekday must be 0 (Monday) to 6 (Sunday)")
    if cfg["stars"].get("day") not in range(1, 29):
        raise ConfigError("stars.day must be a day of the month from 1 to 28")
    for key in ("response_h", "satisfaction_pct", "participation_pct", "period_days", "high_gap"):
        _number(cfg, f"compliance.{key}", 0, float)
    _number(cfg, "lifecycle.resolution_photo_minutes", 1)
    _number(cfg, "ticket_page.ttl_days", 0.01, float)
    page_base = str(cfg["ticket_page"].get("base_url") or "")
    if not page_base.startswith(("http://", "https://")) or not page_base.endswith("/"):
        raise ConfigError(f"ticket_page.base_url must be the bot's public http(s) URL ending in '/' "
                          f"(members' cards link to it), not {page_base!r}")
    page_secret = cfg["ticket_page"].get("secret") or ""
    if not isinstance(page_secret, str) or (page_secret and len(page_secret) < 16):
        raise ConfigError("ticket_page.secret must be empty (derived from the WeCom secrets) or at least "
                          "16 random characters; set BOT_TICKET_PAGE__SECRET")
    _validate_dashboard(cfg)
    if not isinstance(cfg.get("reliability"), dict):
        raise ConfigError("reliability must be a mapping of settings")
    _number(cfg, "redis.timeout_s", 0.1, float)
    _number(cfg, "reliability.deadline_s", 0.5, float)
    if cfg["reliability"]["deadline_s"] > 4.5:
        raise ConfigError("reliability.deadline_s must be at most 4.5: WeChat hangs up after 5 seconds")
    _number(cfg, "reliability.duplicate_wait_s", 0, float)
    _number(cfg, "reliability.inbox_keep_days", 1, float)
    _number(cfg, "reliability.in_doubt_resend_s", 0, float)
    _number(cfg, "reliability.media_retry_h", 0, float)
    _number(cfg, "reliability.photos_per_pass", 1)
    if (cfg.get("log") or {}).get("format") not in ("text", "json"):
        raise ConfigError("log.format must be text or json")
    if str((cfg.get("log") or {}).get("level") or "").upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("log.level must be DEBUG, INFO, WARNING or ERROR")
    _number(cfg, "leave_message.max_km_from_grid", 0, float)
    from .talk import safety
    problem = safety.check(cfg)
    if problem:
        raise ConfigError(problem)
    _validate_participation(cfg)
    for dotted in ("database.url", "redis.url"):
        section, key = dotted.split(".")
        if not isinstance(cfg[section].get(key) or "", str):
            raise ConfigError(f"{dotted} must be a URL string (empty for the embedded default)")



def _validate_dashboard(cfg: dict) -> None:
    """The dashboard's and the dynamic appraisal's settings (#14)."""
    board = cfg.get("dashboard")
    if not isinstance(board, dict):
        raise ConfigError("dashboard must be a mapping of settings")
    base = str(board.get("base_url") or "")
    if base and not base.startswith(("http://", "https://")):
        raise ConfigError(f"dashboard.base_url must be an http(s) URL such as https://bot.example.org, not {base!r}")
    if not str(board.get("oauth_authorize_url") or "").startswith(("http://", "https://")):
        raise ConfigError("dashboard.oauth_authorize_url must be an http(s) URL "
                          "(WeCom's https://open.weixin.qq.com/connect/oauth2/authorize)")
    _number(cfg, "dashboard.session_hours", 0.1, float)
    _number(cfg, "dashboard.near_due_h", 0, float)
    _number(cfg, "dashboard.summary_every_min", 1)
    appraisal = cfg["appraisal"]
    for key in ("participation", "quality", "satisfaction"):
        _number(cfg, f"appraisal.{key}", 0, float)
    if not isinstance(appraisal.get("dynamic"), bool):
        raise ConfigError("appraisal.dynamic must be true or false")
    _number(cfg, "appraisal.periods", 2)
    value = appraisal.get("max_shift")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise ConfigError(f"appraisal.max_shift must be a share between 0 and 1 such as 0.1, not {value!r}")
    targets = appraisal.get("targets")
    if not isinstance(targets, dict) or any(
            isinstance(targets.get(k), bool) or not isinstance(targets.get(k), (int, float))
            or not 0 < targets.get(k) <= 100 for k in ("participation", "quality", "satisfaction")):
        raise ConfigError("appraisal.targets must give participation, quality and satisfaction "
                          "as percentages from 1 to 100, e.g. {participation: 80, quality: 85, satisfaction: 90}")
def _validate_participation(cfg: dict) -> None:
    """#15: work-log kinds and points, the daily cap, the monthly minimum and the council's timing."""
    kinds = cfg["worklog"].get("kinds")
    if not isinstance(kinds, dict) or not kinds or not all(
            isinstance(k, str) and k.strip() and " " not in k and isinstance(v, int) and not isinstance(v, bool)
            and v >= 0 for k, v in kinds.items()):
        raise ConfigError("worklog.kinds must map each kind (one word, e.g. 走访) to whole points >= 0, "
                          f"not {kinds!r}")
    _number(cfg, "worklog.daily_cap", 1)
    _number(cfg, "worklog.attach_minutes", 1)
    _number(cfg, "members.monthly_min_handled", 0)
    if cfg["members"].get("monthly_check_day") not in range(1, 29):
        raise ConfigError("members.monthly_check_day must be a day of the month from 1 to 28")
    if cfg["council"].get("candidates_weekday") not in range(7):
        raise ConfigError("council.candidates_weekday must be 0 (Monday) to 6 (Sunday); 4 is Friday")
    for dotted in ("members.monthly_check_time", "council.candidates_time", "council.meeting_time"):
        section, key = dotted.split(".")
        if not is_hhmm(cfg[section].get(key)):
            raise ConfigError(f"{dotted} must be a time like \"09:30\"")
    for key in ("notice_days", "followup_days", "max_candidates"):
        _number(cfg, f"council.{key}", 1)


# -- #20: local addresses follow the port served ------------------------------------------------
SHIPPED_PORT = 8000          # the port config.yaml's sample addresses and DEFAULTS name
_FOLLOWING_URLS = (("dashboard", "base_url"), ("dashboard", "oauth_authorize_url"), ("ticket_page", "base_url"))


def follow_port(cfg: dict, host: str, port: int) -> None:
    """Links the bot hands out on this machine follow the port served (`make run PORT=8002`).

    Only local addresses (127.0.0.1 / localhost) on the shipped port 8000 move; an address
    set to any other host or port is the operator's and stays as written.
    """
    from urllib.parse import urlsplit, urlunsplit

    if port == SHIPPED_PORT:
        return
    here = f"{'127.0.0.1' if host in ('0.0.0.0', '::', '') else host}:{port}"
    for section, key in _FOLLOWING_URLS:
        url = str(cfg.get(section, {}).get(key) or "")
        try:
            parts = urlsplit(url)
            local = parts.hostname in ("127.0.0.1", "localhost") and parts.port == SHIPPED_PORT
        except ValueError:
            continue
        if local:
            cfg[section][key] = urlunsplit(parts._replace(netloc=here))
