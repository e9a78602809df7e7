"""Work on a ticket after it exists, outside the 5-second webhook: sentiment and photos.

Runs in the scheduler/worker process, which may afford snownlp's memory; web workers
never import it.
"""
from __future__ import annotations

import logging
import os
from datetime import timedelta

from sqlalchemy import select

from . import lifecycle, texts
from .errors import PlatformError
from .models import Resident, Ticket
from .nlp import sentiment, words_in
from .outbox import enqueue
from .replies import to_member, to_resident
from .tickets import OPEN_STATUSES, due_times, record_event

log = logging.getLogger(__name__)


def score_sentiment(bot, limit: int = 50) -> int:
    """Scores new tickets; a strongly negative one becomes urgent and its assignee is told."""
    done = 0
    with bot.db.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.sentiment.is_(None))
                               .order_by(Ticket.id).limit(limit).with_for_update(skip_locked=True)).all()
        for ticket in rows:
            try:
                ticket.sentiment = sentiment(ticket.text)
            except Exception:  # a text snownlp cannot read must not block the others
                log.exception("sentiment failed for ticket %s", ticket.no)
                ticket.sentiment = 0.5
            done += 1
            nlp = bot.cfg["nlp"]
            angry = words_in(ticket.text, nlp["anger_words"])
            if (ticket.sentiment < float(nlp["negative_below"]) and angry
                    and ticket.priority != "urgent" and ticket.status in OPEN_STATUSES):
                now = bot.clock.now()
                ticket.priority = "urgent"
                sooner = due_times(bot, session, ticket, ticket.created_at)
                # Only ever bring a due time closer.
                due = {k: min(v, getattr(ticket, k)) if getattr(ticket, k) else v for k, v in sooner.items()}
                lifecycle.apply(session, ticket, "priority_raised", "system", now, due=due,
                                reason="negative_sentiment", sentiment=round(ticket.sentiment, 4),
                                words=angry)
                if ticket.assignee_id:
                    enqueue(session, [to_member(ticket.assignee_id, texts.PRIORITY_RAISED.format(no=ticket.no))], now)
    return done


MEDIA_GONE = {40007}    # invalid media_id: no retry brings it back


def photo_retry_at(bot, ticket: Ticket, photo: dict, error: PlatformError, now):
    """When to try a failed download again (#17), or None when the photo is lost for good.

    WeChat keeps media three days (reliability.media_retry_h): until then a platform error
    or an outage is retried with a doubling wait from 10 s, capped at 30 minutes.
    """
    if error.errcode in MEDIA_GONE:
        return None
    window = timedelta(hours=float(bot.cfg["reliability"]["media_retry_h"]))
    tries = int(photo.get("tries", 0)) + 1
    photo["tries"] = tries
    at = now + timedelta(seconds=min(1800, 10 * 2 ** (tries - 1)))
    return at if at < ticket.created_at + window else None


def fetch_photos(bot, limit: int | None = None) -> int:
    """Downloads the photos of new tickets from the platform and keeps them with the ticket."""
    done = 0
    limit = int(limit or bot.cfg["reliability"]["photos_per_pass"])
    now = bot.clock.now()
    with bot.db.session() as session:
        due = (Ticket.photos_due_at.is_(None)) | (Ticket.photos_due_at <= now)
        rows = session.scalars(select(Ticket).where(Ticket.photos_pending > 0, due).order_by(Ticket.id)
                               .limit(limit).with_for_update(skip_locked=True)).all()
        for ticket in rows:
            photos = [dict(p) for p in ticket.photos]
            folder = os.path.join(bot.cfg["data_dir"], "media", ticket.no)
            os.makedirs(folder, exist_ok=True)
            retry_at = None
            for index, photo in enumerate(photos, start=1):
                if photo.get("path") or photo.get("error"):
                    continue
                now = bot.clock.now()
                try:
                    data = bot.platform.clients["wechat"].download_media(photo["media_id"])
                except PlatformError as exc:
                    again = photo_retry_at(bot, ticket, photo, exc, now)
                    if again is not None:
                        log.info("photo %s of ticket %s: %s; trying again at %s", index, ticket.no, exc, again)
                        retry_at = min(retry_at or again, again)
                        continue
                    photo["error"] = str(exc.errcode or exc.http_status or "unreachable")
                    record_event(session, ticket, "photo_lost", "system", now, n=index,
                                 error=photo["error"])
                    resident = session.get(Resident, ticket.resident_id) if ticket.resident_id else None
                    if resident is not None:
                        lost = texts.PHOTO_LOST.format(no=ticket.no, n=index)
                        enqueue(session, [to_resident(resident.openid, lost)], now)
                    continue
                path = os.path.join(folder, f"{index}.jpg")
                with open(path, "wb") as fh:
                    fh.write(data)
                photo["path"] = os.path.relpath(path, bot.cfg["data_dir"])
                record_event(session, ticket, "photo_saved", "system", now, n=index)
                done += 1
            ticket.photos = photos  # a new list, so the JSON column is written
            ticket.photos_pending = sum(1 for p in photos if not p.get("path") and not p.get("error"))
            ticket.photos_due_at = retry_at
    return done


def close_unrated(bot) -> int:
    """Closes resolved tickets the resident did not rate within rating.expire_days."""
    now = bot.clock.now()
    cutoff = now - timedelta(days=float(bot.cfg["rating"]["expire_days"]))
    with bot.db.session() as session:
        rows = session.scalars(select(Ticket).where(Ticket.status == "resolved", Ticket.resolved_at < cutoff)
                               .with_for_update(skip_locked=True)).all()
        for ticket in rows:
            ticket.closed_at = now
            lifecycle.apply(session, ticket, "closed_unrated", "system", now)
    return len(rows)
