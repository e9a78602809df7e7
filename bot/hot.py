"""Hot topics (热点): what many residents raise in one place lately.

Tickets of a window are grouped by keyword (jieba's TF-IDF tags) and place (grid, else the
first words of the address); a group ranks by how many different residents raised it, then
by recency (each ticket counts e^(−age/3 days)). jieba runs in the scheduler process: the
result is stored in Redis for the API, so web workers never load it.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from sqlalchemy import select

from . import kv
from .models import Grid, Ticket
from .privacy import mask_pii

HALF_LIFE_DAYS = 3.0
CACHE_KEY = kv.key("hot-topics")


def _place(ticket, grids: dict) -> str:
    if ticket.grid_id and ticket.grid_id in grids:
        return grids[ticket.grid_id]
    if ticket.address:
        return mask_pii(ticket.address)[:6]
    return "未定位"


def hot_topics(session, start: datetime, end: datetime, branch_id: str | None = None,
               limit: int = 10, words_per_ticket: int = 5) -> list[dict]:
    """The hottest (keyword, place) groups of the tickets created in a period."""
    import jieba.analyse

    query = select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)
    if branch_id:
        query = query.where(Ticket.branch_id == branch_id)
    grids = {g.id: f"{g.community}{g.name}" for g in session.scalars(select(Grid))}
    groups: dict = {}
    for ticket in session.scalars(query):
        age_days = max(0.0, (end - ticket.created_at).total_seconds() / 86400)
        weight = math.exp(-age_days / HALF_LIFE_DAYS)
        place = _place(ticket, grids)
        for word in jieba.analyse.extract_tags(mask_pii(ticket.text), topK=words_per_ticket):
            if len(word) < 2 or any(ch.isdigit() for ch in word):
                continue
            group = groups.setdefault((word, place), {"residents": set(), "tickets": [], "score": 0.0,
                                                      "latest": ticket.created_at})
            group["residents"].add(ticket.resident_id)
            group["tickets"].append(ticket.no)
            group["score"] += weight
            group["latest"] = max(group["latest"], ticket.created_at)
    # Words that name exactly the same tickets in the same place are one topic.
    topics: dict = {}
    for (word, place), group in groups.items():
        topic = topics.setdefault((place, frozenset(group["tickets"])), {**group, "keywords": []})
        topic["keywords"].append(word)
    ranked = sorted(topics.items(), key=lambda t: (-len(t[1]["residents"]), -t[1]["score"], t[1]["keywords"]))
    return [{"keyword": "、".join(t["keywords"][:3]), "keywords": t["keywords"], "place": place,
             "residents": len(t["residents"]), "tickets": len(t["tickets"]), "score": round(t["score"], 3),
             "latest": t["latest"].isoformat(), "examples": t["tickets"][:3]}
            for (place, _), t in ranked[:limit]]


def refresh_hot_topics(bot) -> int:
    """Recomputes the window's hot topics and stores them for the API."""
    now = bot.clock.now()
    days = float(bot.cfg["nlp"]["hot_window_days"])
    with bot.db.session() as session:
        topics = hot_topics(session, now - timedelta(days=days), now)
    bot.redis.set(CACHE_KEY, json.dumps({"computed_at": now.isoformat(), "window_days": days,
                                         "topics": topics}, ensure_ascii=False), ex=86400)
    return len(topics)


def cached_hot_topics(bot) -> dict:
    """What the scheduler last computed ({'topics': []} before the first run)."""
    raw = bot.redis.get(CACHE_KEY)
    return json.loads(raw) if raw else {"computed_at": None, "window_days": None, "topics": []}
