"""`python -m bot org pull`: members and departments from WeCom's contacts API (department/list,
user/list), merged into org.yaml. WeCom gives who exists and their names; org.yaml keeps what
only the Party organisation knows: roles, branches, grids and skills. A new WeCom member joins
the branch whose `wecom_department` is one of their departments. Members who left WeCom are
reported, not removed (a grid or branch may still name them). A dry run prints the diff."""
from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import yaml

from ..org import load_org

ACTIVE = 1   # user/list status: 1 active, 2 disabled, 4 not yet activated, 5 left


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def fetch_contacts(bot, root: int = 1) -> tuple[list[dict], list[dict]]:
    """The departments under root and their active members, as WeCom lists them."""
    client = bot.platform.clients["wecom"]
    departments = client.call("get", "department/list", params={"id": root}).get("department") or []
    users = client.call("get", "user/list", params={"department_id": root, "fetch_child": 1}).get("userlist") or []
    return departments, [u for u in users if int(u.get("status", ACTIVE)) == ACTIVE]


def merge(doc: dict, departments: list[dict], users: list[dict], root: int = 1) -> tuple[dict, list[str]]:
    """org.yaml's document with WeCom's members and departments merged in, and what changed."""
    doc = _plain(doc)
    notes = []
    members = doc.setdefault("members", [])
    by_id = {str(m["userid"]): m for m in members}
    branch_of = {int(b["wecom_department"]): b["id"] for b in doc.get("branches") or []
                 if str(b.get("wecom_department", "")).isdigit()}
    seen = set()
    for user in users:
        userid, name = str(user["userid"]), str(user.get("name") or user["userid"])
        seen.add(userid)
        known = by_id.get(userid)
        if known is None:
            branch = next((branch_of[d] for d in user.get("department") or [] if d in branch_of), None)
            entry = {"userid": userid, "name": name, **({"branch": branch} if branch else {})}
            members.append(entry)
            notes.append(f"+ member {userid} {name}" + (f" (branch {branch})" if branch else " (no branch)"))
        elif known.get("name") != name:
            notes.append(f"~ member {userid}: name {known.get('name')} → {name}")
            known["name"] = name
    for userid in sorted(set(by_id) - seen):
        notes.append(f"! member {userid} {by_id[userid].get('name')} is not active in WeCom (kept; "
                     "remove from org.yaml when their work is handed over)")
    ours = doc.setdefault("departments", [])
    names = {d["name"] for d in ours}
    for dept in departments:
        if int(dept["id"]) == root or dept["name"] in names:
            continue
        ours.append({"id": f"wecom-{dept['id']}", "name": dept["name"]})
        names.add(dept["name"])
        notes.append(f"+ department wecom-{dept['id']} {dept['name']}")
    return doc, notes


def pull(bot, dry_run: bool, root: int = 1) -> tuple[list[str], str]:
    """Fetches, merges and (unless dry_run) writes org.yaml and syncs it; returns notes and the diff."""
    path = Path(bot.cfg["org_file"])
    before = path.read_text(encoding="utf-8")
    departments, users = fetch_contacts(bot, root)
    doc, notes = merge(load_org(str(path)), departments, users, root)
    after = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    diff = "".join(difflib.unified_diff(yaml.safe_dump(_plain(load_org(str(path))), allow_unicode=True,
                                                       sort_keys=False, width=120).splitlines(True),
                                        after.splitlines(True), "org.yaml", "org.yaml (pulled)"))
    if not dry_run and notes:
        shutil.copyfile(path, str(path) + ".bak")
        path.write_text(after, encoding="utf-8")
        try:
            load_org(str(path))          # the merged file must pass the same checks
        except Exception:
            path.write_text(before, encoding="utf-8")
            raise
        bot.sync_org()
    return notes, diff
