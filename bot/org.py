"""The organisation file (org.yaml): branches, members, grids, departments, categories, service days.

Loaded and checked as a whole before anything is written, so a bad file is refused with
its line and reason and the old data stays; syncing twice gives the same database.
"""
from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from .errors import OrgFileError
from .models import Branch, Category, Department, Grid, Member
from .workcalendar import is_hhmm, parse_hhmm

log = logging.getLogger(__name__)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping."""


def _mapping_with_line(loader, node, deep=False):
    mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


class _Checker:
    def __init__(self, path: str):
        self.path = path

    def fail(self, item, where: str, reason: str):
        line = item.get("__line__", "?") if isinstance(item, dict) else "?"
        raise OrgFileError(f"{self.path}:{line}: {where}: {reason}")

    def items(self, doc: dict, section: str) -> list[dict]:
        value = doc.get(section) or []
        if not isinstance(value, list):
            self.fail(doc, section, "must be a list")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.fail(doc, f"{section}[{i}]", "must be a mapping like {id: ..., name: ...}")
        return value

    def text(self, item, where, key, required=True, max_len=200) -> str | None:
        value = item.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(item, where, f"{key} is required")
            return None
        if not isinstance(value, (str, int)) or len(str(value)) > max_len:
            self.fail(item, where, f"{key} must be text of at most {max_len} characters")
        return str(value).strip()

    def unique(self, items, where, key):
        seen = set()
        for i, item in enumerate(items):
            value = self.text(item, f"{where}[{i}]", key)
            if value in seen:
                self.fail(item, f"{where}[{i}]", f"{key} {value!r} appears twice")
            seen.add(value)
        return seen


def load_org(path: str) -> dict:
    """Reads and checks the organisation file; raises OrgFileError naming the line and reason."""
    file = Path(path)
    if not file.exists():
        raise OrgFileError(f"{path}: the organisation file does not exist (org_file in config.yaml)")
    try:
        doc = yaml.load(file.read_text(encoding="utf-8"), Loader=_LineLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else "?"
        raise OrgFileError(f"{path}:{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise OrgFileError(f"{path}:1: the file must be a mapping with branches, members, grids …")
    c = _Checker(path)
    branches = c.items(doc, "branches")
    members = c.items(doc, "members")
    grids = c.items(doc, "grids")
    departments = c.items(doc, "departments")
    categories = c.items(doc, "categories")
    service_days = c.items(doc, "service_days")
    service_types = c.items(doc, "service_types")

    branch_ids = c.unique(branches, "branches", "id")
    member_ids = c.unique(members, "members", "userid")
    dept_ids = c.unique(departments, "departments", "id")
    c.unique(grids, "grids", "id")
    c.unique(categories, "categories", "name")
    for i, b in enumerate(branches):
        c.text(b, f"branches[{i}]", "name")
        sec = c.text(b, f"branches[{i}]", "secretary", required=False)
        if sec and sec not in member_ids:
            c.fail(b, f"branches[{i}]", f"secretary {sec!r} is not among members")
    for i, m in enumerate(members):
        where = f"members[{i}]"
        c.text(m, where, "name")
        if c.text(m, where, "branch", required=False) not in branch_ids | {None}:
            c.fail(m, where, f"branch {m['branch']!r} is not among branches")
        if m.get("role", "member") not in ("member", "secretary"):
            c.fail(m, where, "role must be member or secretary")
        skills = m.get("skills", [])
        if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
            c.fail(m, where, "skills must be a list of words")
    scenes = set()
    for i, g in enumerate(grids):
        where = f"grids[{i}]"
        c.text(g, where, "name")
        if c.text(g, where, "branch", required=False) not in branch_ids | {None}:
            c.fail(g, where, f"branch {g['branch']!r} is not among branches")
        for key in ("member", "backup"):
            who = c.text(g, where, key, required=False)
            if who and who not in member_ids:
                c.fail(g, where, f"{key} {who!r} is not among members")
        scene = c.text(g, where, "qr_scene", required=False, max_len=64)
        if scene in scenes:
            c.fail(g, where, f"qr_scene {scene!r} is used by another grid")
        if scene:
            scenes.add(scene)
        households = g.get("households", 0)
        if not isinstance(households, int) or households < 0:
            c.fail(g, where, "households must be a whole number")
        centre = g.get("centre")
        if centre is not None and not (
                isinstance(centre, list) and len(centre) == 2
                and all(isinstance(x, (int, float)) for x in centre)
                and -90 <= centre[0] <= 90 and -180 <= centre[1] <= 180):
            c.fail(g, where, "centre must be [latitude, longitude]")
    for i, d in enumerate(departments):
        where = f"departments[{i}]"
        c.text(d, where, "name")
        handlers = d.get("handlers", [])
        if not isinstance(handlers, list) or not all(isinstance(h, str) for h in handlers):
            c.fail(d, where, "handlers must be a list of member userids, like [pm01, pm02]")
        for who in handlers:
            if who not in member_ids:
                c.fail(d, where, f"handler {who!r} is not among members")
        duty = c.text(d, where, "duty", required=False)
        if duty and duty not in member_ids:
            c.fail(d, where, f"duty {duty!r} is not among members")
    for i, cat in enumerate(categories):
        where = f"categories[{i}]"
        words = cat.get("keywords", [])
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            c.fail(cat, where, "keywords must be a list of words")
        dept = c.text(cat, where, "department", required=False)
        if dept and dept not in dept_ids:
            c.fail(cat, where, f"department {dept!r} is not among departments")
        sla = cat.get("sla") or {}
        if not isinstance(sla, dict) or any(
                not isinstance(sla.get(k), (int, float)) or sla[k] <= 0
                for k in ("response_h", "reply_h") if k in sla):
            c.fail(cat, where, "sla must be {response_h: hours, reply_h: hours}")
    for i, day in enumerate(service_days):
        where = f"service_days[{i}]"
        if c.text(day, where, "branch") not in branch_ids:
            c.fail(day, where, f"branch {day['branch']!r} is not among branches")
        weekly, dates = day.get("weekly"), day.get("dates")
        if (weekly is None) == (dates is None):
            c.fail(day, where, "give either weekly: <weekday or workdays> or dates: [2026-12-05, …]")
        if weekly is not None and str(weekly).lower() not in (*WEEKDAYS, "workdays"):
            c.fail(day, where, "weekly must be a weekday name such as saturday, or workdays")
        if dates is not None and (not isinstance(dates, list) or not all(_is_date(d) for d in dates)):
            c.fail(day, where, "dates must be a list of dates like 2026-12-05")
        for key in ("start", "end"):
            if not is_hhmm(day.get(key)):
                c.fail(day, where, f"{key} must be a time like \"09:00\"")
        if parse_hhmm(day["start"]) >= parse_hhmm(day["end"]):
            c.fail(day, where, "start must be before end")
        for key in ("slot_minutes", "capacity"):
            if not isinstance(day.get(key), int) or day[key] <= 0:
                c.fail(day, where, f"{key} must be a positive whole number")
    c.unique(service_types, "service_types", "name")
    for i, t in enumerate(service_types):
        skills = t.get("skills", [])
        if not isinstance(skills, list) or not all(isinstance(x, str) for x in skills):
            c.fail(t, f"service_types[{i}]", "skills must be a list of words")
    return doc


def _is_date(value) -> bool:
    try:
        date.fromisoformat(str(value))
        return True
    except ValueError:
        return False


def _clean(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "__line__"}


def sync_org(session, doc: dict) -> dict:
    """Writes a checked organisation into the database; members and grids left out are deactivated."""
    counts = {}
    for b in doc.get("branches") or []:
        row = session.get(Branch, str(b["id"])) or Branch(id=str(b["id"]))
        row.name, row.secretary_id = b["name"], b.get("secretary")
        session.add(row)
    counts["branches"] = len(doc.get("branches") or [])
    for d in doc.get("departments") or []:
        row = session.get(Department, str(d["id"])) or Department(id=str(d["id"]))
        row.name = d["name"]
        duty = d.get("duty")
        row.duty_id = str(duty) if duty else None
        # The duty member handles too, even when not listed among the handlers.
        row.handlers = list(dict.fromkeys([*(d.get("handlers") or []), *([row.duty_id] if duty else [])]))
        session.add(row)
    listed = set()
    for m in doc.get("members") or []:
        row = session.get(Member, str(m["userid"])) or Member(userid=str(m["userid"]))
        row.name, row.branch_id = m["name"], m.get("branch")
        row.role, row.skills = m.get("role", "member"), list(m.get("skills") or [])
        row.away, row.active = bool(m.get("away", False)), True
        session.add(row)
        listed.add(row.userid)
    for row in session.scalars(select(Member).where(Member.userid.not_in(listed or {""}))):
        row.active = False
    counts["members"] = len(listed)
    listed = set()
    for g in doc.get("grids") or []:
        row = session.get(Grid, str(g["id"])) or Grid(id=str(g["id"]))
        centre = g.get("centre") or [None, None]
        row.name, row.community = g["name"], g.get("community", "")
        row.branch_id, row.households = g.get("branch"), int(g.get("households") or 0)
        row.member_id, row.backup_id = g.get("member"), g.get("backup")
        row.qr_scene, row.lat, row.lng, row.active = g.get("qr_scene"), centre[0], centre[1], True
        session.add(row)
        listed.add(row.id)
    for row in session.scalars(select(Grid).where(Grid.id.not_in(listed or {""}))):
        row.active, row.qr_scene = False, None
    counts["grids"] = len(listed)
    names = []
    for position, cat in enumerate(doc.get("categories") or []):
        row = session.get(Category, cat["name"]) or Category(name=cat["name"])
        sla = cat.get("sla") or {}
        row.position, row.keywords = position, list(cat.get("keywords") or [])
        row.department_id = cat.get("department")
        row.response_h, row.reply_h = sla.get("response_h"), sla.get("reply_h")
        session.add(row)
        names.append(row.name)
    for row in session.scalars(select(Category).where(Category.name.not_in(names or [""]))):
        session.delete(row)
    counts["categories"] = len(names)
    session.flush()
    return counts


def service_config(doc: dict) -> dict:
    """The service days and types, as plain data for the booking flow."""
    return {"service_days": [_clean(d) for d in doc.get("service_days") or []],
            "service_types": [_clean(t) for t in doc.get("service_types") or []]}
