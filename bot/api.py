"""Admin JSON API under /api/v1 (read-only): tickets, members, figures. Bearer token from config."""
from __future__ import annotations

import hmac
from datetime import date, datetime, time, timedelta, timezone

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select

from . import points
from .appraisal import appraise
from .figures import ticket_figures
from .hot import cached_hot_topics
from .models import AdminChange, Appointment, Branch, Member, OutboxMessage, PointsEntry, Resident, Ticket, TicketEvent
from .privacy import mask_address, mask_pii
from .texts import STATUS_NAMES
from .tickets import OPEN_STATUSES
from .work import overdue_tickets

bp = Blueprint("api", __name__, url_prefix="/api/v1")
APPOINTMENT_STATUSES = ("booked", "cancelled", "done", "no_show")


class ApiError(Exception):
    """A request the API refuses, with its HTTP status and reason."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return jsonify(error=exc.reason), exc.status


def _token_is(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


@bp.before_request
def _authorise():
    """A bearer token is required; the pii token also unmasks personal data."""
    admin = current_app.extensions["bot"].cfg["admin"]
    header = request.headers.get("Authorization", "")
    given = header[7:] if header.startswith("Bearer ") else ""
    g.pii = _token_is(given, admin.get("pii_api_token") or "")
    if not (g.pii or _token_is(given, admin["api_token"] or "")):
        raise ApiError(401, "a valid bearer token is required")


def _shown(text: str | None) -> str | None:
    """Personal numbers masked unless the token has the pii scope."""
    if text is None:
        return None
    return text if g.pii else mask_pii(text)


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if moment else None


def _time_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 time such as 2026-11-20T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=current_app.extensions["bot"].tz)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ApiError(400, f"{name} must be a whole number from {low} to {high}")
    return int(raw)


def _filters():
    """The ticket filters a request names; unknown values are a 400 with the reason."""
    conditions = []
    status = request.args.get("status")
    if status:
        unknown = [s for s in status.split(",") if s not in STATUS_NAMES]
        if unknown:
            raise ApiError(400, f"unknown status {unknown[0]!r}; one of {', '.join(STATUS_NAMES)}")
        conditions.append(Ticket.status.in_(status.split(",")))
    for arg, column in (("grid", Ticket.grid_id), ("branch", Ticket.branch_id),
                        ("assignee", Ticket.assignee_id), ("category", Ticket.category)):
        if request.args.get(arg):
            conditions.append(column == request.args[arg])
    if request.args.get("resident"):
        conditions.append(Ticket.resident_id == select(Resident.id).where(
            Resident.openid == request.args["resident"]).scalar_subquery())
    since, until = _time_arg("since"), _time_arg("until")
    if since:
        conditions.append(Ticket.created_at >= since)
    if until:
        conditions.append(Ticket.created_at < until)
    if since and until and since >= until:
        raise ApiError(400, "since must be before until")
    return conditions


def ticket_json(ticket: Ticket, openid: str | None) -> dict:
    """A ticket as the API shows it (personal numbers masked)."""
    return {
        "no": ticket.no, "status": ticket.status, "priority": ticket.priority,
        "category": ticket.category, "department": ticket.department_id, "grid": ticket.grid_id,
        "branch": ticket.branch_id, "assignee": ticket.assignee_id, "resident": openid,
        "text": _shown(ticket.text),
        "address": (ticket.address if g.pii else mask_address(ticket.address)) if ticket.address else None,
        "location": [ticket.lat, ticket.lng] if g.pii and ticket.lat is not None else None,
        "photos": len(ticket.photos or []), "rating": ticket.rating,
        "created_at": _iso(ticket.created_at), "response_due_at": _iso(ticket.response_due_at),
        "reply_due_at": _iso(ticket.reply_due_at), "first_response_at": _iso(ticket.first_response_at),
        "first_reply_at": _iso(ticket.first_reply_at), "resolved_at": _iso(ticket.resolved_at),
        "closed_at": _iso(ticket.closed_at),
    }


@bp.get("/tickets")
def list_tickets():
    """Tickets, newest first, filtered and paginated."""
    bot = current_app.extensions["bot"]
    page, per_page = _int_arg("page", 1, 1, 10**6), _int_arg("per_page", 50, 1, 200)
    conditions = _filters()
    with bot.db.session() as session:
        total = session.scalar(select(func.count()).select_from(Ticket).where(*conditions))
        rows = session.execute(
            select(Ticket, Resident.openid).outerjoin(Resident, Resident.id == Ticket.resident_id)
            .where(*conditions).order_by(Ticket.id.desc())
            .limit(per_page).offset((page - 1) * per_page)).all()
        items = [ticket_json(t, openid) for t, openid in rows]
    return jsonify(items=items, page=page, per_page=per_page, total=total)


@bp.get("/tickets/<no>")
def get_ticket(no):
    """One ticket with its events, in order."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        row = session.execute(select(Ticket, Resident.openid)
                              .outerjoin(Resident, Resident.id == Ticket.resident_id)
                              .where(Ticket.no == no)).first()
        if row is None:
            raise ApiError(404, f"no ticket {no}")
        ticket, openid = row
        events = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                 .order_by(TicketEvent.id)).all()
        body = ticket_json(ticket, openid)
        body["events"] = [{"id": e.id, "at": _iso(e.at), "kind": e.kind, "actor": e.actor,
                           "data": {k: _shown(v) if isinstance(v, str) else v for k, v in e.data.items()},
                           "hash": e.hash} for e in events]
    return jsonify(body)


@bp.get("/members")
def list_members():
    """Members with their open ticket counts."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        open_counts = dict(session.execute(
            select(Ticket.assignee_id, func.count()).where(Ticket.status.in_(OPEN_STATUSES))
            .group_by(Ticket.assignee_id)).all())
        members = session.scalars(select(Member).order_by(Member.userid)).all()
        items = [{"userid": m.userid, "name": m.name, "branch": m.branch_id, "role": m.role,
                  "skills": m.skills, "away": m.away, "active": m.active,
                  "open_tickets": open_counts.get(m.userid, 0)} for m in members]
    return jsonify(items=items)


@bp.get("/stats")
def stats():
    """Counts by status and category, median response and reply hours, SLA met %, satisfaction %."""
    bot = current_app.extensions["bot"]
    conditions = _filters()
    now = bot.clock.now()
    with bot.db.session() as session:
        figures = ticket_figures(session, conditions, now).as_dict()
    return jsonify(**figures, as_of=_iso(now))


@bp.get("/overdue")
def overdue():
    """督办台账: open tickets past their due time, per branch (all branches without a filter)."""
    bot = current_app.extensions["bot"]
    now = bot.clock.now()
    with bot.db.session() as session:
        branches = [request.args["branch"]] if request.args.get("branch") else \
            session.scalars(select(Branch.id).order_by(Branch.id)).all()
        items = []
        for branch_id in branches:
            for ticket in overdue_tickets(session, branch_id, now):
                due = ticket.response_due_at if ticket.first_response_at is None else ticket.reply_due_at
                items.append({**ticket_json(ticket, None), "overdue_stage":
                              "response" if ticket.first_response_at is None else "reply",
                              "overdue_h": round((now - due).total_seconds() / 3600, 1)})
    return jsonify(items=items, as_of=_iso(now))


@bp.get("/appointments")
def appointments():
    """Appointments, filtered by day (local date), branch, member and status."""
    bot = current_app.extensions["bot"]
    conditions = []
    if request.args.get("day"):
        try:
            day = date.fromisoformat(request.args["day"])
        except ValueError:
            raise ApiError(400, "day must be a date such as 2026-11-28") from None
        start = datetime.combine(day, time(0), tzinfo=bot.tz)
        conditions += [Appointment.slot_start >= start, Appointment.slot_start < start + timedelta(days=1)]
    for arg, column in (("branch", Appointment.branch_id), ("member", Appointment.member_id)):
        if request.args.get(arg):
            conditions.append(column == request.args[arg])
    status = request.args.get("status")
    if status:
        if status not in APPOINTMENT_STATUSES:
            raise ApiError(400, f"unknown status {status!r}; one of {', '.join(APPOINTMENT_STATUSES)}")
        conditions.append(Appointment.status == status)
    with bot.db.session() as session:
        rows = session.execute(select(Appointment, Resident.openid)
                               .join(Resident, Resident.id == Appointment.resident_id)
                               .where(*conditions).order_by(Appointment.slot_start, Appointment.id)).all()
        items = [{"id": a.id, "branch": a.branch_id, "member": a.member_id, "resident": openid,
                  "service_type": a.service_type, "slot_start": _iso(a.slot_start), "slot_end": _iso(a.slot_end),
                  "place": a.place, "seat": a.seat, "status": a.status, "description": _shown(a.description),
                  "created_at": _iso(a.created_at), "marked_at": _iso(a.marked_at)} for a, openid in rows]
    return jsonify(items=items)


def _month_arg(bot) -> str:
    month = request.args.get("month") or bot.clock.now().astimezone(bot.tz).strftime("%Y-%m")
    try:
        points.month_bounds(month, bot.tz)
    except ValueError:
        raise ApiError(400, "month must look like 2026-11") from None
    return month


@bp.get("/points")
def points_report():
    """Points per member and per branch for a month (default: this month)."""
    bot = current_app.extensions["bot"]
    month = _month_arg(bot)
    start, end = points.month_bounds(month, bot.tz)
    with bot.db.session() as session:
        ranked = points.totals(session, start, end)
        members = [{"userid": m.userid, "name": m.name, "branch": m.branch_id, "points": p,
                    "rank_in_branch": points.rank_of([r for r in ranked if r[0].branch_id == m.branch_id], m.userid)}
                   for m, p in ranked]
    branches: dict = {}
    for item in members:
        branches[item["branch"]] = branches.get(item["branch"], 0) + item["points"]
    return jsonify(month=month, members=members,
                   branches=[{"branch": b, "points": p} for b, p in sorted(branches.items(), key=lambda x: str(x[0]))])


@bp.get("/appraisal")
def appraisal_report():
    """The month's appraisal of members and branches (default: this month)."""
    bot = current_app.extensions["bot"]
    month = _month_arg(bot)
    with bot.db.session() as session:
        return jsonify(appraise(bot, session, month))


@bp.get("/hot-topics")
def hot_topics_report():
    """The hot topics of the configured window, as the scheduler last computed them."""
    return jsonify(cached_hot_topics(current_app.extensions["bot"]))


@bp.get("/health")
def health():
    """What an operator watches: outbox backlog, callbacks in flight, unsealed records, job failures."""
    from .outbox import failures
    from .scheduler import JOB_ERRORS, Leadership
    from .webhook import INFLIGHT

    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        outbox = dict(session.execute(select(OutboxMessage.status, func.count())
                                      .group_by(OutboxMessage.status)).all())
        unsealed = sum(session.scalar(select(func.count()).select_from(model).where(model.chain_seq.is_(None))) or 0
                       for model in (TicketEvent, PointsEntry, AdminChange))
        failed = failures(session)
    return jsonify(outbox=outbox, outbox_failed=failed, inflight=bot.redis.zcard(INFLIGHT), unsealed_records=unsealed,
                   scheduler_leader=bool(bot.redis.exists(Leadership(bot.redis).key)),
                   job_errors=bot.redis.hgetall(JOB_ERRORS), as_of=_iso(bot.clock.now()))
