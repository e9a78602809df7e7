"""The dev console at /dev: a resident in WeChat and a member in WeCom, side by side.

Every message the page sends goes to the bot's own webhooks as a real signed, encrypted
callback (through the simulator); what the bot pushes is read back from the local fake
platform; the side panel shows the resident's latest ticket as the database holds it.
Mounted only when dev.console is on (make run); a 404 in production.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request
from sqlalchemy import select

from .fakeplatform import message_view
from .models import Grid, Member, Resident, Ticket, TicketEvent
from .simulator import Person
from .texts import RATING_NAMES

bp = Blueprint("console", __name__, url_prefix="/dev", template_folder="templates", static_folder="static")
ROLES = {"resident": "wechat", "member": "wecom"}


def _person(role: str, user: str) -> Person:
    app = current_app._get_current_object()
    bot = app.extensions["bot"]

    def post(path, query, body):
        res = app.test_client().post(path, query_string=query, data=body)
        return res.status_code, res.data

    return Person(bot.cfg, ROLES[role], user, post, now=bot.clock.timestamp)


@bp.get("/")
def page():
    """The console page."""
    from .ops.menu import console_buttons

    return render_template("console.html", menu=console_buttons(current_app.extensions["bot"].cfg))


@bp.get("/api/directory")
def directory():
    """Grids (for the QR-code picker) and members (for the member pane)."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        grids = [{"id": g.id, "name": f"{g.community}{g.name}", "scene": g.qr_scene,
                  "centre": [g.lat, g.lng] if g.lat is not None else None}
                 for g in session.scalars(select(Grid).where(Grid.active).order_by(Grid.id))]
        members = [{"userid": m.userid, "name": m.name, "role": m.role}
                   for m in session.scalars(select(Member).where(Member.active).order_by(Member.userid))]
    return jsonify(grids=grids, members=members, fake_platform=bool(current_app.extensions.get("fake_platform")))


@bp.post("/api/send")
def send():
    """Sends one message or event as a resident or member; returns the passive reply."""
    spec = request.get_json(silent=True) or {}
    role, user, kind = spec.get("role"), str(spec.get("user") or "").strip(), spec.get("kind")
    value = spec.get("value")
    if role not in ROLES or not user or len(user) > 64:
        return jsonify(error="role must be resident or member, and user an id"), 400
    person = _person(role, user)
    try:
        if kind == "text":
            reply = person.says(str(value or ""))
        elif kind == "voice":
            reply = person.speaks(value or None)
        elif kind == "click":
            reply = person.clicks(str(value))
        elif kind == "scan":
            reply = person.subscribes(str(value) if value else None)
        elif kind == "photo":
            reply = person.sends_photo()
        elif kind == "location":
            reply = person.shares_location(float(value[0]), float(value[1]), str(value[2]) if len(value) > 2 else "")
        elif kind == "card":
            reply = person.event("template_card_event", str(value), TaskId="console", CardType="button_interaction")
        else:
            return jsonify(error=f"unknown kind {kind!r}"), 400
    except (TypeError, ValueError, IndexError):
        return jsonify(error="bad value for this kind"), 400
    except AssertionError as exc:  # the webhook refused the callback: show the status
        return jsonify(error=str(exc)), 502
    return jsonify(reply=reply)


@bp.get("/api/pushes")
def pushes():
    """Messages the bot pushed to a person through the fake platform, after a sequence number."""
    fake = current_app.extensions.get("fake_platform")
    user, since = request.args.get("user", ""), request.args.get("since", 0, type=int)
    if fake is None:
        return jsonify(items=[], note="dev.fake_platform is off: pushes go to the real platform")
    return jsonify(items=[{"seq": call["seq"], **message_view(call["json"])}
                          for call in fake.sent(to=user) if call["seq"] > since])


@bp.get("/api/ticket")
def ticket():
    """The resident's latest ticket and its events, as the database holds them."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        resident = session.scalar(select(Resident).where(Resident.openid == request.args.get("resident", "")))
        row = resident and session.scalar(select(Ticket).where(Ticket.resident_id == resident.id)
                                          .order_by(Ticket.id.desc()).limit(1))
        if not row:
            return jsonify(ticket=None)
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == row.id)
                                 .order_by(TicketEvent.id)).all()
        show = lambda moment: moment.astimezone(bot.tz).strftime("%m-%d %H:%M") if moment else None  # noqa: E731
        return jsonify(ticket={
            "no": row.no, "status": row.status, "priority": row.priority, "category": row.category,
            "department": row.department_id, "grid": row.grid_id, "assignee": row.assignee_id,
            "rating": RATING_NAMES.get(row.rating, row.rating), "text": row.text, "photos": len(row.photos or []),
            "response_due": show(row.response_due_at), "reply_due": show(row.reply_due_at),
            "events": [{"at": show(e.at), "kind": e.kind, "actor": e.actor} for e in events]})
