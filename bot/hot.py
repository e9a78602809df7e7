"""Hot topics (热点): what many residents raise in one place lately.

Each ticket's keywords (jieba's TF-IDF tags) are extracted once, by the worker, after the
ticket exists; hot topics then group a window's tickets by keyword and place (grid, else
the first words of the address) and rank a group by how many different residents raised
it, then by recency (each ticket counts e^(−age/3 days)). The result is stored in Redis
for the API, so web workers never load jieba.
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
WORDS_PER_TICKET = 5
CACHE_KEY = kv.key("hot-topics")


def _place(ticket, grids: dict) -> str:
    if ticket.grid_id and ticket.grid_id in grids:
        return grids[ticket.grid_id]
    if ticket.address:
        return mask_pii(ticket.address)[:6]
    return "未定位"


def keywords_of(text: str, count: int = WORDS_PER_TICKET) -> list[str]:
    """A text's telling words (jieba TF-IDF), without numbers or single characters."""
    import jieba.analyse

    return [w for w in jieba.analyse.extract_tags(mask_pii(text), topK=count + 3)
            if len(w) >= 2 and not any(ch.isdigit() for ch in w)][:count]


def extract_keywords(bot, limit: int = 500) -> int:
    """Fills the keywords of tickets that have none yet (the worker's job)."""
    with bot.db.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.keywords.is_(None)).order_by(Ticket.id)
                               .limit(limit).with_for_update(skip_locked=True)).all()
        for ticket in rows:
            ticket.keywords = keywords_of(ticket.text)
    return len(rows)


def hot_topics(session, start: datetime, end: datetime, branch_id: str | None = None,
               limit: int = 10) -> list[dict]:
    """The hottest (keyword, place) groups of the tickets created in a period."""
    columns = (Ticket.no, Ticket.text, Ticket.keywords, Ticket.resident_id, Ticket.grid_id, Ticket.address,
               Ticket.created_at)
    query = select(*columns).where(Ticket.created_at >= start, Ticket.created_at < end)
    if branch_id:
        query = query.where(Ticket.branch_id == branch_id)
    grids = {g.id: f"{g.community}{g.name}" for g in session.scalars(select(Grid))}
    groups: dict = {}
    for ticket in session.execute(query):
        age_days = max(0.0, (end - ticket.created_at).total_seconds() / 86400)
        weight = math.exp(-age_days / HALF_LIFE_DAYS)
        place = _place(ticket, grids)
        words = ticket.keywords if ticket.keywords is not None else keywords_of(ticket.text)
        for word in words:
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
