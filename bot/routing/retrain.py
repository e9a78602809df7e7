"""The weekly retrain (`nlp.retrain` job) and the labels it learns from."""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import kv
from ..models import Ticket, TicketEvent
from ..nlp import OTHER

log = logging.getLogger(__name__)
OUTCOME = kv.key("nlp", "retrain")
LABEL_EVENTS = ("recategorised", "transferred")
HANDLED = ("resolved", "rated", "closed")


def labelled_history(session) -> tuple[list[str], list[str]]:
    """Texts and categories people set or confirmed: tickets recategorised or transferred to a
    category by hand, and tickets handled to the end in their category. In ticket order, so the
    retrain's folds (and so its decision) are the same on every database."""
    relabelled = {row.ticket_id for row in session.execute(
        select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.data).where(TicketEvent.kind.in_(LABEL_EVENTS)))
        if row.kind == "recategorised" or "category_to" in (row.data or {})}
    rows = session.execute(select(Ticket.id, Ticket.text, Ticket.category, Ticket.status).where(
        Ticket.category != OTHER, Ticket.personal_erased_at.is_(None)).order_by(Ticket.id)).all()
    pairs = [(r.text, r.category) for r in rows if r.id in relabelled or r.status in HANDLED]
    return [t for t, _ in pairs], [c for _, c in pairs]


def learned_model_path(cfg: dict) -> str:
    """The model file the bot routes with and the retrain replaces: nlp.model, or
    data_dir/category-model.pkl when nlp.model names none."""
    return cfg["nlp"].get("model") or os.path.join(cfg["data_dir"], "category-model.pkl")


def _current_classify(bot, session):
    """What routes now, as one function: the model when confident, else the keyword rules."""
    return lambda text: bot.classify(session, text)[0]


def retrain(bot, force: bool = False) -> dict | None:
    """Trains a candidate from history when due and keeps it only if it beats what routes now.

    Due: nlp.retrain_days after the last run (0 turns it off). Needs nlp.retrain_min_per_category
    labelled tickets in at least two categories (categories with fewer are left to the rules).
    Returns the outcome (also kept in Redis for the digest), or None when nothing was due.
    """
    from ..classifier import ModelClassifier, cross_validate, save, scores, train

    cfg = bot.cfg["nlp"]
    days = float(cfg["retrain_days"])
    now = bot.clock.now()
    last = outcome(bot)
    if not force and (days <= 0 or (last and datetime.fromisoformat(last["at"]) > now - timedelta(days=days))):
        return None
    with bot.db.session() as session:
        texts, labels = labelled_history(session)
        enough = {c for c, n in Counter(labels).items() if n >= int(cfg["retrain_min_per_category"])}
        pairs = [(t, c) for t, c in zip(texts, labels) if c in enough]
        result = {"at": now.isoformat(), "n": len(pairs), "categories": len(enough), "kept": False}
        if len(enough) < 2:
            result["reason"] = "too_few_labels"
        else:
            texts, labels = [t for t, _ in pairs], [c for _, c in pairs]
            folds = min(5, int(cfg["retrain_min_per_category"]))
            candidate = cross_validate(texts, labels, folds=max(2, folds))["micro_f1"]
            current = scores(labels, [_current_classify(bot, session)(t) for t in texts])["micro_f1"]
            result.update(candidate_f1=candidate, current_f1=current)
            if candidate > current:
                path = learned_model_path(bot.cfg)
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                save(train(texts, labels, "history"), path + ".new")
                os.replace(path + ".new", path)
                result["kept"] = True
                bot.load_model()
                if not isinstance(bot.model, ModelClassifier):
                    result.update(kept=False, reason="not_loaded")
    bot.redis.set(OUTCOME, json.dumps(result))
    log.info("category model retrain: %s", result)
    return result


def outcome(bot) -> dict | None:
    """The last retrain's outcome, if any."""
    raw = bot.redis.get(OUTCOME)
    return json.loads(raw) if raw else None
