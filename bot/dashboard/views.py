"""The dashboard's pages, sign-in routes and exports (one blueprint under /dashboard)."""
from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from pathlib import Path

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, send_from_directory, url_for
from sqlalchemy import select

from .. import kv, outbox, participation, points, texts
from ..appraisal import working_days
from ..models import Branch, Grid, Member, Ticket
from ..outbox import enqueue
from ..privacy import mask_address, mask_pii
from ..replies import to_member
from ..tickets import RUNNING_STATUSES, record_event
from . import auth, exports, forecast, queries, weights

HERE = Path(__file__).resolve().parent
ECHARTS_DIR = HERE / "node_modules" / "echarts" / "dist"
bp = Blueprint("dashboard", __name__, url_prefix="/dashboard", template_folder="templates",
               static_folder="static", static_url_path="/static")
PAGES = texts.DB_PAGES
STATUS_CHOICES = ("open", "new", "assigned", "responded", "replied", "waiting", "transferred", "reopened",
                  "resolved", "rated", "closed", "merged", "closed-unresolved")


@bp.record_once
def _compile_templates(state) -> None:
    """Compiles the dashboard's templates as the app starts, so a worker's first page does not."""
    for path in sorted((HERE / "templates" / "dashboard").glob("*.html")):
        state.app.jinja_env.get_template(f"dashboard/{path.name}")


class PageError(Exception):
    """A request the dashboard refuses with a status and one clear line."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(PageError)
def _page_error(exc: PageError):
    return render_template("dashboard/error.html", message=exc.message, viewer=getattr(g, "viewer", None),
                           pages=PAGES), exc.status


def _bot():
    return current_app.extensions["bot"]


def _local_day(moment: datetime) -> date:
    return moment.astimezone(_bot().tz).date()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=_bot().tz)


def _period() -> tuple[queries.Period, date, date]:
    """The chosen period (from/to, local dates, inclusive); the last 30 days by default."""
    today = _local_day(_bot().clock.now())
    try:
        last = date.fromisoformat(request.args["to"]) if request.args.get("to") else today
        first = date.fromisoformat(request.args["from"]) if request.args.get("from") else last - timedelta(days=29)
    except ValueError:
        raise PageError(400, texts.DB_BAD_INPUT.format(reason=texts.DB_BAD_DATE)) from None
    if first > last or (last - first).days > 3660:
        raise PageError(400, texts.DB_BAD_INPUT.format(reason=texts.DB_BAD_DATE))
    return queries.Period(_midnight(first), _midnight(last + timedelta(days=1))), first, last


def _month() -> str:
    month = request.args.get("month") or _local_day(_bot().clock.now()).strftime("%Y-%m")
    try:
        points.month_bounds(month, _bot().tz)
    except ValueError:
        raise PageError(400, texts.DB_BAD_INPUT.format(reason=texts.DB_BAD_MONTH)) from None
    return month


def _branch(session) -> str | None:
    """The branch the page shows: the secretary's own; the administrator's choice (empty: all)."""
    viewer = g.viewer
    if viewer.kind == "secretary":
        return viewer.branch
    if viewer.kind != "admin":
        raise PageError(403, texts.DB_FORBIDDEN)
    chosen = request.args.get("branch") or None
    if chosen and session.get(Branch, chosen) is None:
        raise PageError(400, texts.DB_BAD_INPUT.format(reason=texts.DB_BAD_BRANCH))
    return chosen


@bp.before_request
def _sign_in_required():
    """Every page but sign-in and assets needs a viewer; without one the browser goes to sign-in."""
    if request.endpoint in ("dashboard.login", "dashboard.login_form", "dashboard.oauth_begin",
                            "dashboard.oauth_callback", "dashboard.static", "dashboard.echarts"):
        return None
    with _bot().db.session() as session:
        g.viewer = auth.current_viewer(session)
    if g.viewer is None:
        target = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("dashboard.login", next=target))
    return None


def _render(template: str, page: str, **context):
    with _bot().db.session() as session:
        branches = session.scalars(select(Branch).order_by(Branch.id)).all() if g.viewer.kind == "admin" else []
        branch_names = {b.id: b.name for b in session.scalars(select(Branch))}
    return render_template(f"dashboard/{template}", viewer=g.viewer, pages=PAGES, page=page, branches=branches,
                           branch_names=branch_names, args=request.args, status_names=texts.STATUS_NAMES, **context)


def _chart(data) -> str:
    """Chart data for the page's script (safe inside a <script type=application/json>)."""
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _shown_text(text: str | None) -> str:
    return (text or "") if g.viewer.pii else mask_pii(text or "")


# -- sign-in -------------------------------------------------------------------------------

def _safe_next(raw: str | None) -> str:
    target = raw or url_for("dashboard.home")
    return target if target.startswith("/dashboard") and not target.startswith("//") else url_for("dashboard.home")


@bp.get("/login")
def login():
    """The sign-in page: WeCom for members and secretaries, the token form for administrators."""
    return render_template("dashboard/login.html", next=_safe_next(request.args.get("next")), error=None,
                           viewer=None, pages=PAGES)


@bp.post("/login")
def login_form():
    """Checks the administrator's token (from the form body) and sets the signed cookie."""
    admin = _bot().cfg["admin"]
    given = str(request.form.get("token", ""))
    target = _safe_next(request.form.get("next"))
    if not (admin.get("api_token") or admin.get("pii_api_token")):
        error = texts.DB_LOGIN_NO_TOKEN
    elif auth.token_matches(given, admin.get("pii_api_token")) or auth.token_matches(given, admin.get("api_token")):
        response = redirect(target)
        auth.issue(response, _bot().cfg, "admin", pii=auth.token_matches(given, admin.get("pii_api_token")))
        return response
    else:
        error = texts.DB_LOGIN_BAD_TOKEN
    return render_template("dashboard/login.html", next=target, error=error, viewer=None, pages=PAGES), 403


@bp.get("/login/wecom")
def oauth_begin():
    """Starts WeCom OAuth2: to the authorize page, which comes back to /dashboard/oauth with a code."""
    cfg = _bot().cfg
    base = str(cfg["dashboard"].get("base_url") or "").rstrip("/")
    redirect_uri = f"{base}{url_for('dashboard.oauth_callback')}" if base else \
        url_for("dashboard.oauth_callback", _external=True)
    return auth.oauth_start(redirect, cfg, redirect_uri, _safe_next(request.args.get("next")))


@bp.get("/oauth")
def oauth_callback():
    """WeCom's redirect with `code`: who it is, then the signed cookie."""
    bot = _bot()
    remembered = auth.oauth_state(bot.cfg)
    code, state = request.args.get("code", ""), request.args.get("state", "")
    if remembered is None or not state or state != remembered.get("s"):
        raise PageError(403, texts.DB_OAUTH_STATE)
    if not code or len(code) > 512:
        raise PageError(400, texts.DB_OAUTH_FAILED.format(reason="code"))
    userid, why = auth.userid_for_code(bot, code)
    if userid is None:
        raise PageError(403, texts.DB_NOT_A_MEMBER if why == "not a member" else
                        texts.DB_OAUTH_FAILED.format(reason=why))
    with bot.db.session() as session:
        member = session.get(Member, userid)
        if member is None or not member.active:
            raise PageError(403, texts.DB_NOT_A_MEMBER)
    response = redirect(_safe_next(remembered.get("n")))
    auth.issue(response, bot.cfg, "member", userid=userid)
    response.delete_cookie(auth.OAUTH_COOKIE, path="/dashboard")
    return response


@bp.post("/logout")
def logout():
    """Signs out."""
    response = redirect(url_for("dashboard.login"))
    auth.forget(response)
    return response


@bp.get("/assets/echarts.min.js")
def echarts():
    """The pinned ECharts copy installed by `make install` (no CDN)."""
    if not (ECHARTS_DIR / "echarts.min.js").exists():
        return Response("echarts is not installed: run make install", status=404)
    response = send_from_directory(ECHARTS_DIR, "echarts.min.js", max_age=86400)
    return response


# -- pages -----------------------------------------------------------------------------------

@bp.get("/")
def home():
    """Secretaries and administrators start at 总览; a member at their own figures."""
    return redirect(url_for("dashboard.overview" if g.viewer.sees_branches else "dashboard.members"))


@bp.get("/overview")
def overview():
    """总览: the period's figures and their change, category pie, handling-time buckets, weekly trend, grids."""
    bot = _bot()
    period, first, last = _period()
    now = bot.clock.now()
    with bot.db.session() as session:
        branch = _branch(session)
        ratings = queries.ratings_by_grid(session, branch, period)
        figures = queries.overview(session, branch, period, ratings)
        buckets = queries.handling_buckets(session, branch, period, figures["now"]["handling"])
        this_monday = _local_day(now) - timedelta(days=_local_day(now).weekday())
        trend = queries.weekly_trend(session, branch, _midnight(this_monday - timedelta(weeks=11)), 12)
        overdue, overdue_at = queries.overdue_counts(bot, session, branch, now)
        grids = queries.grid_table(session, branch, period, now, ratings, overdue)
        # #15's participation figures and #16's messages that could not be delivered.
        taking_part = participation.figures(session, period.start, period.end, branch)
        undelivered = outbox.failed_to_members(session, branch, period.start, period.end) if branch else {}
        failed = outbox.failures(session, limit=10) if g.viewer.kind == "admin" and not branch else None
    charts = {"category": [{"name": k, "value": v} for k, v in sorted(figures["now"]["by_category"].items(),
                                                                       key=lambda kv: (-kv[1], kv[0] or ""))],
              "buckets": {"labels": list(texts.DB_BUCKETS), "values": buckets},
              "trend": trend}
    return _render("overview.html", "overview", figures=figures, buckets=buckets, trend=trend, grids=grids,
                   first=first, last=last, branch=branch, charts=_chart(charts), taking_part=taking_part,
                   undelivered=undelivered, failed=failed,
                   overdue_at=overdue_at.astimezone(bot.tz).strftime("%H:%M") if overdue_at else None)


@bp.get("/ledger")
def ledger():
    """督办台账: overdue and nearly-due tickets, sortable, with 催办."""
    bot = _bot()
    now = bot.clock.now()
    sort = request.args.get("sort", "late")
    if sort not in queries.LEDGER_SORTS:
        raise PageError(400, texts.DB_BAD_INPUT.format(reason="sort"))
    with bot.db.session() as session:
        branch = _branch(session)
        rows = queries.ledger(session, branch, now, float(bot.cfg["dashboard"]["near_due_h"]), sort)
    for row in rows:
        row["text"] = _shown_text(row["text"])[:60]
        row["due_local"] = row["due"].astimezone(bot.tz).strftime("%m-%d %H:%M") if row["due"] else ""
    return _render("ledger.html", "ledger", rows=rows, sort=sort, branch=branch,
                   overdue=sum(r["overdue"] for r in rows), near=sum(not r["overdue"] for r in rows),
                   urged=request.args.get("urged"))


@bp.post("/ledger/<no>/urge")
def urge(no: str):
    """催办: records the reminder as a ticket event and messages the assignee, in one transaction."""
    bot = _bot()
    viewer = g.viewer
    if not viewer.sees_branches:
        raise PageError(403, texts.DB_FORBIDDEN)
    if not auth.csrf_ok(viewer):
        raise PageError(403, texts.DB_OAUTH_STATE)
    now = bot.clock.now()
    with bot.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == no[:32]).with_for_update())
        if ticket is None or (viewer.kind == "secretary" and ticket.branch_id != viewer.branch):
            raise PageError(404, texts.DB_NOT_FOUND.format(no=no[:32]))
        if ticket.status not in RUNNING_STATUSES:
            raise PageError(409, texts.DB_URGE_CLOSED.format(no=ticket.no))
        if not ticket.assignee_id:
            raise PageError(409, texts.DB_URGE_NO_ASSIGNEE.format(no=ticket.no))
        due = ticket.response_due_at if ticket.first_response_at is None else ticket.reply_due_at
        due_text = texts.DB_URGE_DUE_PAST.format(hours=int((now - due).total_seconds() // 3600)) \
            if due and due < now else texts.DB_URGE_DUE_SOON.format(
                due=due.astimezone(bot.tz).strftime("%m-%d %H:%M") if due else "")
        actor = f"member:{viewer.userid}" if viewer.userid else "admin:dashboard"
        record_event(session, ticket, "urged", actor, now, assignee=ticket.assignee_id)
        assignee = session.get(Member, ticket.assignee_id)
        enqueue(session, [to_member(ticket.assignee_id, texts.DB_URGE_MESSAGE.format(
            who=viewer.name if viewer.kind != "admin" else texts.DB_ADMIN_NAME, no=ticket.no,
            category=ticket.category, due_text=due_text, text=mask_pii(ticket.text)[:80]))], now)
        message = texts.DB_URGED.format(no=ticket.no, assignee=assignee.name if assignee else ticket.assignee_id)
    return redirect(url_for("dashboard.ledger", urged=message, sort=request.form.get("sort") or None,
                            branch=request.form.get("branch") or None))


def _member_rows(session, branch, month: str, only: str | None = None):
    bot = _bot()
    start, end = points.month_bounds(month, bot.tz)
    days = working_days(bot, start, min(end, bot.clock.now()))
    weighing = branch
    if only:
        member = session.get(Member, only)
        weighing = member.branch_id if member else None
    in_force = weights.in_force(bot, session, weighing, month)
    rows = queries.member_table(session, branch, start, end, days, in_force, only=only)
    if branch is None and not only and bot.cfg["appraisal"].get("dynamic"):
        # Every branch: each member weighed with their own branch's weights, as appraise() does.
        by_branch = {b: weights.in_force(bot, session, b, month) for b in {r["branch"] for r in rows}}
        for row in rows:
            row["total"] = weights.total(row, by_branch[row["branch"]])
    return rows, in_force, start, end


@bp.get("/members")
def members():
    """党员: per member handled, on-time %, satisfaction, points, appraisal for a month; 月度之星."""
    bot = _bot()
    month = _month()
    with bot.db.session() as session:
        if g.viewer.sees_branches:
            branch = _branch(session)
            rows, in_force, start, end = _member_rows(session, branch, month)
        else:                                     # a member sees their own figures only
            branch = g.viewer.branch
            rows, in_force, start, end = _member_rows(session, None, month, only=g.viewer.userid)
        ranked = points.totals(session, start, end, branch)
        stars = [{"userid": m.userid, "name": m.name, "points": p}
                 for m, p in points.stars(ranked, float(bot.cfg["stars"]["share"]))] if g.viewer.sees_branches else []
    chart = {"names": [r["name"] for r in rows], "totals": [r["total"] for r in rows],
             "points": [r["points"] for r in rows]}
    return _render("members.html", "members", rows=rows, month=month, stars=stars, weights=in_force,
                   branch=branch, charts=_chart(chart))


@bp.get("/opinion")
def opinion():
    """民情: hot topics, the sentiment distribution and the urgent / angry cases of the period."""
    bot = _bot()
    period, first, last = _period()
    with bot.db.session() as session:
        branch = _branch(session)
        split = queries.sentiment_split(session, branch, period)
        cases = queries.urgent_cases(session, branch, period, float(bot.cfg["nlp"]["negative_below"]))
        grids = {gr.id: f"{gr.community}{gr.name}" for gr in session.scalars(select(Grid))}
        topics = [{**t, "place": grids.get(t["grid"], t["grid"] or texts.DB_NO_GRID)}
                  for t in queries.hot_words(session, branch, period, limit=10)]
    rows = [{"no": c.no, "status": texts.STATUS_NAMES.get(c.status, c.status), "priority": c.priority,
             "category": c.category,
             "text": _shown_text(c.text)[:80], "sentiment": None if c.sentiment is None else round(c.sentiment, 3),
             "grid": grids.get(c.grid_id, c.grid_id or ""),
             "created": c.created_at.astimezone(bot.tz).strftime("%m-%d %H:%M")} for c in cases]
    chart = {"sentiment": [{"name": n, "value": split[k]} for k, n in texts.DB_SENTIMENTS.items() if split[k]],
             "topics": [{"name": f"{t['keyword']}·{t['place']}", "value": t["residents"]} for t in topics]}
    return _render("opinion.html", "opinion", split=split, cases=rows, topics=topics, first=first, last=last,
                   branch=branch, charts=_chart(chart))


FORECAST_HISTORY_WEEKS = 52


def forecast_for(bot, session, branch: str | None) -> dict:
    """The forecast of next week from up to a year of full weeks (cached in Redis for the week)."""
    now = bot.clock.now()
    this_monday = _local_day(now) - timedelta(days=_local_day(now).weekday())
    key = kv.key("dashboard", "forecast", branch or "*", this_monday.isoformat())
    cached = bot.redis.get(key)
    if cached:
        return json.loads(cached)
    since = queries.first_ticket_at(session, branch)
    if since is None:
        weeks = 0
    else:
        first_day = _local_day(since)
        weeks = min(FORECAST_HISTORY_WEEKS, (this_monday - (first_day - timedelta(days=first_day.weekday()))).days // 7)
        # The first week counts only when it is whole: a partial week would read as a dip.
        if weeks and first_day.weekday() != 0 and weeks < FORECAST_HISTORY_WEEKS:
            weeks -= 1
    first_monday = this_monday - timedelta(weeks=weeks)
    counts = queries.weekly_counts(session, branch, _midnight(first_monday), weeks) if weeks else {}
    result = forecast.forecast(counts, first_monday, bot.calendar.is_workday, ahead=2) if counts else \
        {"enough": False, "weeks": weeks, "min_weeks": forecast.MIN_WEEKS, "rows": []}
    result["history"] = {"first_monday": first_monday.isoformat(), "counts": counts}
    bot.redis.set(key, json.dumps(result, ensure_ascii=False), ex=3600)
    return result


@bp.get("/forecast")
def forecast_page():
    """预测: next week's expected tickets per category with the backtest error beside it."""
    bot = _bot()
    with bot.db.session() as session:
        branch = _branch(session)
        result = forecast_for(bot, session, branch)
    chart = {"categories": [r["category"] for r in result["rows"]],
             "next_week": [r["next_week"] for r in result["rows"]],
             "last_week": [r["last_week"] for r in result["rows"]]}
    return _render("forecast.html", "forecast", result=result, branch=branch, charts=_chart(chart))


@bp.get("/weights")
def weights_page():
    """考核权重: the static weights and, with appraisal.dynamic, the adjusted ones and why."""
    bot = _bot()
    month = _month()
    with bot.db.session() as session:
        branch = _branch(session)
        history = weights.history(bot, session, branch, month)
    rows = weights.dynamic_weights(bot.cfg, history)
    return _render("weights.html", "weights", rows=rows, history=history, month=month, branch=branch,
                   dynamic=bool(bot.cfg["appraisal"].get("dynamic")), base=weights.base_weights(bot.cfg),
                   charts=_chart({"parts": [texts.DB_PARTS[k] for k in weights.PARTS],
                                  "base": [rows[k]["base"] for k in weights.PARTS],
                                  "dynamic": [rows[k]["weight"] for k in weights.PARTS]}))


# -- exports ---------------------------------------------------------------------------------

@bp.get("/export/<what>.<fmt>")
def export(what: str, fmt: str):
    """Tickets (with filters), the overdue ledger or the month's appraisal as CSV or XLSX."""
    bot = _bot()
    if fmt not in ("csv", "xlsx"):
        raise PageError(400, texts.DB_BAD_INPUT.format(reason=texts.DB_BAD_FORMAT))
    if what not in ("tickets", "ledger", "appraisal"):
        raise PageError(404, texts.DB_BAD_INPUT.format(reason=what))
    viewer = g.viewer
    now = bot.clock.now()
    with bot.db.session() as session:
        branch = _branch(session)
        if what == "tickets":
            period, first, last = _period()
            status = request.args.get("status") or None
            if status and status not in STATUS_CHOICES:
                raise PageError(400, texts.DB_BAD_INPUT.format(reason="status"))
            rows = queries.tickets_for_export(session, branch, period, status, request.args.get("category") or None,
                                              request.args.get("grid") or None)
            header = texts.DB_EXPORT_TICKET_COLUMNS
            show = lambda m: m.astimezone(bot.tz).strftime("%Y-%m-%d %H:%M") if m else ""  # noqa: E731
            body = [[r.no, show(r.created_at), r.status, r.priority, r.category, r.grid_id or "", r.assignee_id or "",
                     r.text if viewer.pii else mask_pii(r.text),
                     (r.address or "") if viewer.pii else mask_address(r.address) if r.address else "",
                     show(r.first_response_at), show(r.first_reply_at), show(r.resolved_at), r.rating or ""]
                    for r in rows]
            name = f"tickets-{first.isoformat()}-{last.isoformat()}"
        elif what == "ledger":
            rows = queries.ledger(session, branch, now, 0.0, "late", limit=100_000)
            header = texts.DB_EXPORT_LEDGER_COLUMNS
            body = [[r["no"], r["status"], r["category"], r["grid"] or "", r["assignee"] or "",
                     r["due"].astimezone(bot.tz).strftime("%Y-%m-%d %H:%M") if r["due"] else "", r["late_h"],
                     r["text"] if viewer.pii else mask_pii(r["text"])] for r in rows]
            name = f"ledger-{_local_day(now).isoformat()}"
        else:
            month = _month()
            rows, _, _, _ = _member_rows(session, branch, month)
            header = texts.DB_EXPORT_APPRAISAL_COLUMNS
            body = [[r["userid"], r["name"], r["branch"] or "", r["handled"], r["on_time_pct"], r["satisfaction_pct"],
                     r["points"], r["participation"], r["quality"], r["satisfaction"], r["total"]] for r in rows]
            name = f"appraisal-{month}"
        if viewer.pii and what != "appraisal":
            exports.audit_unmasked(session, viewer, what, now, rows=len(body), branch=branch,
                                   query=request.query_string.decode()[:500])
    return exports.respond(name, fmt, header, body)
