"""Template notices (模板消息) in the fields of the template the operator chose.

WeChat stopped showing `first` / `remark` in 2023 and each field type has a length limit
(thing ≤ 20 characters, character_string ≤ 32, phrase ≤ 5 …). wechat.notice_fields maps
the template's field names to what goes in them; a value too long for its field is
shortened at a clause boundary, never in the middle of a word, or replaced by a fixed text.
"""
from __future__ import annotations

import re
from datetime import datetime

from .. import texts

# What a field can hold: the source names operators write in wechat.notice_fields.
SOURCES = ("summary", "title", "time", "no", "hint")
# Limits by field type (the name without its number), from the template message docs.
LIMITS = {"thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32,
          "symbol": 5, "car_number": 8, "name": 10, "phone_number": 17, "amount": 10,
          "const": 20, "keyword": 20, "first": 20, "remark": 20}
TICKET_NO = re.compile(r"\d{8}-\d{4}")
CLAUSE_END = re.compile(r"[，。；！？、,.;!?\s：:）)]")
FIELD_NAME = re.compile(r"^[a-z_]+\d*$")
DEFAULT_FIELDS = {"thing1": "summary", "time2": "time"}


def limit_of(field: str) -> int:
    """The length limit of a template field, from its type (thing3 → thing → 20)."""
    return LIMITS.get(field.rstrip("0123456789"), 20)


def shorten(value: str, limit: int, fallback: str) -> str:
    """The value if it fits; else its longest leading clauses that fit; else the fallback."""
    value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = 0
    for match in CLAUSE_END.finditer(value):
        if match.start() > limit - 1:
            break
        cut = match.start()
    if cut:
        return value[:cut] + "…"
    return fallback if len(fallback) <= limit else fallback[:limit]


def notice_body(cfg: dict, content: str, now: datetime, tz) -> dict:
    """The template/send body (without touser) that says a reply is waiting."""
    fields = cfg["wechat"].get("notice_fields") or DEFAULT_FIELDS
    found = TICKET_NO.search(content)
    values = {"summary": content.split(texts.R_PARKED_PREFACE)[-1], "title": texts.NOTICE_FIRST,
              "time": now.astimezone(tz).strftime("%Y-%m-%d %H:%M"), "no": found.group(0) if found else "—",
              "hint": texts.NOTICE_REMARK}
    data = {}
    for field, source in fields.items():
        data[field] = {"value": shorten(values[source], limit_of(field), texts.NOTICE_SHORT)}
    return {"template_id": cfg["wechat"]["notice_template_id"], "data": data}


def check_fields(fields) -> str | None:
    """What is wrong with wechat.notice_fields, or None."""
    if not fields:
        return None
    if not isinstance(fields, dict):
        return "must map the template's field names to one of " + ", ".join(SOURCES)
    for field, source in fields.items():
        if not FIELD_NAME.match(str(field)):
            return f"has {field!r}, which is not a template field name such as thing1"
        if source not in SOURCES:
            return f"{field}: {source!r} is not one of " + ", ".join(SOURCES)
    return None
