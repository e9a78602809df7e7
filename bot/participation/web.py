"""The public 公示 page of a branch's communities (no login, no personal data) and /api/v1/cases."""
from __future__ import annotations

import re

from flask import Blueprint, Response, current_app, jsonify, render_template, send_file
from sqlalchemy import select

from .. import texts
from ..lifecycle.page import resolution_photo_file
from ..models import Branch, Case, CouncilMeeting, CouncilTopic, Grid, Member, Publicity, Ticket, TicketEvent
from ..privacy import mask_pii
from ..tickets import local_time
from . import publicity

bp = Blueprint("participation_web", __name__, template_folder="templates")


def public_url(cfg: dict, branch_id: str) -> str:
    """The public page's address for a branch."""
    return f"{cfg['ticket_page']['base_url']}public/{branch_id}"


def public_link(ctx, resident) -> str:
    """公示: the link to the resident's community page."""
    grid = ctx.session.get(Grid, resident.grid_id) if resident is not None and resident.grid_id else None
    if grid is None or not grid.branch_id:
        return texts.PUBLIC_NO_BRANCH
    return texts.PUBLIC_LINK.format(url=public_url(ctx.cfg, grid.branch_id))


# A surname followed by how people are addressed: 王师傅, 刘女士, 张大爷 → *师傅 …
ADDRESSED = re.compile(r"[\u4e00-\u9fa5](?=(?:师傅|先生|女士|小姐|阿姨|大爷|大妈|奶奶|爷爷|老师|书记|主任|经理|同志))")


def _clean(text: str | None, limit: int = 300, names: tuple = ()) -> str:
    """Shown to anyone: numbers of phones, ids, buildings and rooms masked; members' names and
    addressed surnames hidden (free text can still name someone: secretaries can hide an entry)."""
    text = ADDRESSED.sub("*", mask_pii(text or ""))
    for name in names:
        text = text.replace(name, "*" * len(name))
    return text[:limit]


def _grid_label(grids: dict, grid_id: str | None) -> str:
    grid = grids.get(grid_id)
    return f"{grid.community}{grid.name}" if grid else ""


def resolutions(session, branch_id: str, bot, names: tuple = ()) -> list[dict]:
    """The branch's council meetings with a resolution, newest first, as the page shows them."""
    out = []
    for meeting in session.scalars(select(CouncilMeeting).where(
            CouncilMeeting.branch_id == branch_id, CouncilMeeting.resolution.is_not(None))
            .order_by(CouncilMeeting.starts_at.desc()).limit(20)):
        topics = session.scalars(select(CouncilTopic).where(CouncilTopic.meeting_id == meeting.id)).all()
        out.append({"when": local_time(meeting.starts_at, bot.tz), "place": _clean(meeting.place, 60),
                    "topics": "、".join(_topic_title(session, t) for t in topics),
                    "resolution": _clean(meeting.resolution, 1000, names)})
    return out


def _topic_title(session, topic: CouncilTopic) -> str:
    if topic.keyword:
        return topic.keyword
    ticket = session.get(Ticket, topic.ticket_id) if topic.ticket_id else None
    return ticket.category if ticket else ""


@bp.get("/public/<branch_id>")
def public_page(branch_id: str):
    """A branch's communities' published results, 金点子 and council resolutions (read-only, no login)."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        branch = session.get(Branch, branch_id)
        if branch is None:
            return Response(texts.PUBLIC_NOT_FOUND, status=404, content_type="text/plain; charset=utf-8")
        grids = {g.id: g for g in session.scalars(select(Grid).where(Grid.branch_id == branch_id))}
        communities = "、".join(dict.fromkeys(g.community for g in grids.values() if g.community)) or branch.name
        names = tuple(sorted((n for n in session.scalars(select(Member.name)) if n and len(n) >= 2),
                             key=len, reverse=True))
        items, golden = [], []
        for ticket in publicity.published(session, branch_id):
            row = session.scalar(select(Publicity).where(Publicity.ticket_id == ticket.id))
            item = {"day": local_time(ticket.resolved_at or ticket.updated_at, bot.tz).split(" ")[0],
                    "category": ticket.category, "place": _grid_label(grids, ticket.grid_id),
                    "result": _clean(publicity.resolution_summary(session, ticket), names=names),
                    "photos": [f"/public/{branch_id}/photo/{i}" for i in publicity.resolution_photos(session, ticket)]}
            if row.golden_at is not None:
                # The member's words of what was adopted: a resident's own text may name people.
                golden.append({**item, "text": item["result"]})
            items.append(item)
        return render_template("public_page.html", t=texts, title=texts.PUBLIC_TITLE.format(community=communities),
                               items=items, golden=golden, resolutions=resolutions(session, branch_id, bot, names))


@bp.get("/public/<branch_id>/photo/<int:event_id>")
def public_photo(branch_id: str, event_id: int):
    """A member's resolution photo of a published ticket (fetched from WeCom once, then kept with the ticket)."""
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        event = session.get(TicketEvent, event_id)
        ticket = session.get(Ticket, event.ticket_id) if event is not None and event.kind == "resolution_photo" \
            else None
        if ticket is None or ticket.branch_id != branch_id or not publicity.is_published(session, ticket):
            return Response(status=404)
        path = resolution_photo_file(bot, ticket, event)
        if path is None:
            return Response(status=404)
        return send_file(path, mimetype="image/jpeg", max_age=0)


@bp.get("/api/v1/cases")
def cases_api():
    """The case library (创新案例库): handled tickets a secretary chose, with the resolution (masked)."""
    from ..api import ApiError, _authorise
    try:
        _authorise()
    except ApiError as refused:
        return jsonify(error=refused.reason), refused.status
    bot = current_app.extensions["bot"]
    with bot.db.session() as session:
        rows = session.execute(select(Case, Ticket).join(Ticket, Ticket.id == Case.ticket_id)
                               .order_by(Case.at.desc(), Case.id.desc())).all()
        return jsonify(cases=[{
            "id": case.id, "ticket": ticket.no, "title": case.title, "branch": case.branch_id,
            "category": ticket.category, "grid": ticket.grid_id, "added_by": case.added_by,
            "added_at": case.at.isoformat().replace("+00:00", "Z"),
            "resolution": mask_pii(publicity.resolution_summary(session, ticket))} for case, ticket in rows])


from . import voice  # noqa: E402,F401  (registers /t/<no>/voice on this blueprint)
