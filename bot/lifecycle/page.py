"""The member's mobile ticket page: photos, the place on a map, the full history.

Opened from the assignment card inside WeCom's in-app browser. Access is by a signed,
expiring link made for one member (HMAC-SHA256 with `ticket_page.secret`); the link works
only while that member may act on the ticket. Anyone else, a forged link or an expired one
gets 403. The assigned member and the branch secretary see the exact address; others in
scope see it masked.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from urllib.parse import quote, urlencode

from flask import Blueprint, Response, current_app, render_template, request, send_file
from sqlalchemy import select

from .. import texts
from ..models import Department, Grid, Member, TicketEvent, TicketFollower
from ..privacy import mask_pii

bp = Blueprint("ticket_page", __name__, template_folder="templates")


def _secret(cfg: dict) -> bytes:
    """The configured page secret, or one derived from the WeCom app's secrets."""
    configured = str(cfg["ticket_page"].get("secret") or "")
    if configured:
        return configured.encode()
    wecom = cfg["wecom"]
    seed = f"{wecom.get('secret', '')}|{wecom.get('encoding_aes_key', '')}|{wecom.get('token', '')}"
    return hmac.new(seed.encode(), b"ticket-page", hashlib.sha256).digest()


def signature(cfg: dict, no: str, userid: str, expires: int) -> str:
    """The HMAC of a link: ticket, member and expiry together."""
    return hmac.new(_secret(cfg), f"{no}|{userid}|{expires}".encode(), hashlib.sha256).hexdigest()


def page_query(cfg: dict, no: str, userid: str, now) -> dict:
    """The signed query of a member's link to a ticket, valid for ticket_page.ttl_days."""
    expires = int(now.timestamp() + float(cfg["ticket_page"]["ttl_days"]) * 86400)
    return {"u": userid, "e": expires, "s": signature(cfg, no, userid, expires)}


def page_url(cfg: dict, no: str, userid: str, now) -> str:
    """The absolute link a member's card opens."""
    return f"{cfg['ticket_page']['base_url']}t/{quote(no)}?{urlencode(page_query(cfg, no, userid, now))}"


def _forbidden() -> Response:
    return Response(texts.PAGE_FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")


def _check(session, bot, no: str):
    """The ticket and member a valid link names; None when the link is forged, expired or out of scope."""
    from ..tickets import ticket_by_no
    from ..work import in_scope

    userid, raw_expires, sig = request.args.get("u", ""), request.args.get("e", ""), request.args.get("s", "")
    if not raw_expires.isdigit() or len(sig) != 64:
        return None
    expires = int(raw_expires)
    if not hmac.compare_digest(signature(bot.cfg, no, userid, expires), sig):
        return None
    if expires < bot.clock.now().timestamp():
        return None
    member = session.get(Member, userid)
    ticket = ticket_by_no(session, no)
    if member is None or not member.active or ticket is None or not in_scope(session, member, ticket):
        return None
    return ticket, member


def map_links(lat: float, lng: float, label: str) -> dict:
    """A geo: URI (any map app) and an AMap URL (works in WeCom's browser) for a point."""
    return {"geo": f"geo:{lat},{lng}?q={lat},{lng}",
            "amap": f"https://uri.amap.com/marker?position={lng},{lat}&name={quote(label or '')}&coordinate=gaode"}


@bp.get("/t/<no>")
def ticket_page(no: str):
    """The ticket as its member needs it on the spot."""
    from ..tickets import local_time, place_of
    from ..work import event_line, member_names, sees_full_address

    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        found = _check(session, bot, no)
        if found is None:
            return _forbidden()
        ticket, member = found
        full = sees_full_address(session, member, ticket)
        grid = session.get(Grid, ticket.grid_id) if ticket.grid_id else None
        department = session.get(Department, ticket.department_id) if ticket.department_id else None
        assignee = session.get(Member, ticket.assignee_id) if ticket.assignee_id else None
        query = urlencode({k: request.args[k] for k in ("u", "e", "s")})
        photos = [{"n": i, "url": f"/t/{quote(no)}/photo/{i}?{query}" if p.get("path") else None}
                  for i, p in enumerate(ticket.photos or [], start=1)]
        place = place_of(ticket, grid, full=full)
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id)).all()
        names = member_names(session)
        history = [{"at": local_time(e.at, bot.tz), "what": event_line(e, full, names)} for e in events]
        done_photos = [{"n": i, "url": f"/t/{quote(no)}/done/{event_id}?{query}"}
                       for i, event_id in enumerate(_resolution_photo_ids(session, ticket), start=1)]
        ratings = session.scalars(select(TicketFollower.rating).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.rating.is_not(None))).all()
        return render_template(
            "ticket_page.html", t=texts, no=ticket.no,
            status=texts.STATUS_NAMES.get(ticket.status, ticket.status),
            category=f"{ticket.category}｜{department.name if department else '—'}",
            assignee=assignee.name if assignee else "—", place=place,
            text=mask_pii(ticket.text, keep_address=full), photos=photos, history=history,
            done_photos=done_photos,
            maps=map_links(ticket.lat, ticket.lng, place) if ticket.lat is not None else None,
            follower_ratings=[texts.RATING_NAMES.get(r, r) for r in ratings])


@bp.get("/t/<no>/photo/<int:n>")
def ticket_photo(no: str, n: int):
    """One of the resident's photos, for the same signed link."""
    def locate(_session, bot, ticket):
        photos = ticket.photos or []
        if not 1 <= n <= len(photos) or not photos[n - 1].get("path"):
            return None
        root = os.path.realpath(os.path.join(bot.cfg["data_dir"], "media"))
        path = os.path.realpath(os.path.join(bot.cfg["data_dir"], photos[n - 1]["path"]))
        return path if path.startswith(root + os.sep) and os.path.exists(path) else None
    return _send_photo(no, locate)


def _send_photo(no: str, locate):
    """A photo of the ticket a valid link names: 403 for a bad link, 404 when `locate` finds no file."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        found = _check(session, bot, no)
        if found is None:
            return _forbidden()
        path = locate(session, bot, found[0])
        if path is None:
            return Response(status=404)
        return send_file(path, mimetype="image/jpeg", max_age=0)


def _resolution_photo_ids(session, ticket) -> list[int]:
    """The events of the photos members sent after 办结, in order."""
    return list(session.scalars(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "resolution_photo").order_by(TicketEvent.id)))


def resolution_photo_file(bot, ticket, event) -> str | None:
    """The local file of a member's resolution photo: fetched from WeCom once, then kept with the ticket."""
    from ..errors import PlatformError
    folder = os.path.join(bot.cfg["data_dir"], "media", ticket.no)
    path = os.path.join(folder, f"resolution-{event.id}.jpg")
    if not os.path.exists(path):
        try:
            data = bot.platform.clients["wecom"].download_media((event.data or {}).get("media_id", ""))
        except PlatformError:
            return None
        os.makedirs(folder, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
    return path


@bp.get("/t/<no>/done/<int:event_id>")
def ticket_resolution_photo(no: str, event_id: int):
    """A member's photo of the finished work, for the same signed link."""
    def locate(session, bot, ticket):
        event = session.get(TicketEvent, event_id)
        if event is None or event.ticket_id != ticket.id or event.kind != "resolution_photo":
            return None
        return resolution_photo_file(bot, ticket, event)
    return _send_photo(no, locate)
