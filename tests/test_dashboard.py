"""The secretary's dashboard (#14): sign-in (admin token form, WeCom OAuth2 through the fake
platform), figures equal to ones computed here from the rows, 催办 as an event plus a message,
exports read back with csv and openpyxl, the forecast, the dynamic weights, the digest's links."""
from __future__ import annotations

import csv
import io
import math
import os
import re
import shutil
import threading
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from statistics import median
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from bot import texts
from bot.dashboard import forecast as fc
from bot.dashboard import weights as wt
from bot.fakeplatform import message_view
from bot.models import AdminChange, OutboxMessage, Ticket, TicketEvent
from tests.conftest import free_port

SHANGHAI = timezone(timedelta(hours=8))
SATISFIED = ("satisfied", "basic")   # rating codes since #12


def local(*args):
    return datetime(*args, tzinfo=SHANGHAI)


# -- a fortnight of work in two branches ------------------------------------------------------

SEED = [  # (resident, scene, text)
    ("o-d1", "grid-g1", "东门的路灯坏了好几天，晚上很黑，电话13812345678"),
    ("o-d2", "grid-g1", "楼下垃圾桶满了没人清理，气味很大"),
    ("o-d3", "grid-g2", "楼上邻居半夜噪音太大，吵得睡不着"),
    ("o-d4", "grid-g2", "建议在小区增加健身器材，方便老人锻炼"),
    ("o-d5", "grid-g1", "小区电梯经常停运，老人上下楼困难"),
    ("o-d6", "grid-g3", "光明路的路灯一直不亮，晚上很危险"),
]


def seed(people, clock):
    """Tickets filed over two weeks; some answered fast, some slow, some rated, some overdue."""
    clock.set(local(2026, 11, 2, 9, 0))                          # two Mondays before START's week
    old = people.file_ticket("o-d0", "西门的路灯也坏了，晚上看不见路", "grid-g1")
    zhang = people.member("pm01")
    clock.advance(hours=3)
    zhang.says(f"接单 {old}")
    zhang.says(f"回复 {old} 已报修")
    zhang.says(f"办结 {old} 已修好")
    people.resident("o-d0").says("满意")
    clock.set(local(2026, 11, 16, 9, 0))
    nos = {}
    for openid, scene, text in SEED:
        nos[openid] = people.file_ticket(openid, text, scene)
        clock.advance(minutes=10)
    li, wang = people.member("pm02"), people.member("pm03")
    clock.advance(hours=1)
    zhang.says(f"接单 {nos['o-d1']}")
    zhang.says(f"回复 {nos['o-d1']} 已安排电工")
    zhang.says(f"办结 {nos['o-d1']} 路灯已更换")
    people.resident("o-d1").says("满意")
    clock.advance(hours=30)                                       # slow: beyond 24 h
    li.says(f"接单 {nos['o-d3']}")
    li.says(f"回复 {nos['o-d3']} 已上门调解")
    li.says(f"办结 {nos['o-d3']} 双方达成一致")
    people.resident("o-d3").says("不满意")                        # reopens it
    clock.advance(hours=2)
    wang.says(f"接单 {nos['o-d6']}")
    wang.says(f"回复 {nos['o-d6']} 已报修")
    wang.says(f"办结 {nos['o-d6']} 已修复")
    people.resident("o-d6").says("基本满意")
    clock.set(local(2026, 11, 20, 10, 0))
    return old, nos


@pytest.fixture
def seeded(people, clock):
    return seed(people, clock)


def sign_in_admin(client, token="test-admin-token"):
    res = client.post("/dashboard/login", data={"token": token, "next": "/dashboard/"})
    assert res.status_code == 302, res.data.decode()[:300]
    return res


def sign_in_wecom(client, fake, userid):
    """The whole OAuth2 round: our redirect, WeCom's code (from the fake), our callback."""
    start = client.get("/dashboard/login/wecom?next=/dashboard/")
    assert start.status_code == 302
    target = urlparse(start.headers["Location"])
    query = parse_qs(target.query)
    assert target.path.endswith("/connect/oauth2/authorize") and query["scope"] == ["snsapi_base"]
    assert query["appid"] == ["ww0123456789abcdef"] and query["redirect_uri"][0].endswith("/dashboard/oauth")
    code = fake.oauth_code(userid=userid)
    return client.get(f"/dashboard/oauth?code={code}&state={query['state'][0]}")


def figure(html: str, key: str) -> str:
    return re.search(rf'data-figure="{key}">([^<]*)<', html).group(1)


# -- independent figures ----------------------------------------------------------------------

def bucketed(hours: float) -> float:
    """The rule of the summaries' histograms: 0.1-h buckets (b covers ((b-1)/10, b/10]) read at
    their middle up to 72 h, 1-h buckets beyond."""
    if hours <= 0:
        return 0.0
    if hours <= 72:
        return (math.ceil(hours * 10 - 1e-6) - 0.5) / 10
    return 72 + math.ceil(hours - 72 - 1e-6) - 0.5


def bucketed_median(values: list[float]) -> float | None:
    """The median the page shows: within 0.05 h of the exact one below 72 h (asserted here)."""
    if not values:
        return None
    shown = round(median(bucketed(v) for v in values), 2)
    assert abs(shown - median(values)) <= (0.05 if max(values) <= 72 else 0.5) + 1e-9
    return shown


def expected_overview(bot, branch, start, end):
    """The 总览 figures computed here from the rows, without the dashboard's SQL."""
    with bot.db.session() as session:
        tickets = [t for t in session.scalars(select(Ticket)).all() if branch in (None, t.branch_id)]
        events = session.scalars(select(TicketEvent)).all()
    by_id = {t.id: t for t in tickets}
    week = [t for t in tickets if start <= t.created_at < end]
    hours = lambda a, b: (b - a).total_seconds() / 3600
    ratings = [e.data["rating"] for e in events if e.kind == "rated" and e.ticket_id in by_id and start <= e.at < end]
    judged = [t for t in week if t.first_reply_at or t.reply_due_at <= end]
    met = [t for t in judged if t.first_response_at and t.first_reply_at
           and t.first_response_at <= t.response_due_at and t.first_reply_at <= t.reply_due_at]
    pct = lambda a, b: round(100 * a / b, 1) if b else None
    responses = [hours(t.created_at, t.first_response_at) for t in week if t.first_response_at]
    replies = [hours(t.created_at, t.first_reply_at) for t in week if t.first_reply_at]
    return {
        "received": len(week),
        "resolved": len({e.ticket_id for e in events if e.kind == "resolved" and e.ticket_id in by_id
                         and start <= e.at < end}),
        "median_response_h": bucketed_median(responses),
        "median_reply_h": bucketed_median(replies),
        "sla_met_pct": pct(len(met), len(judged)),
        "response_rate": pct(sum(1 for t in week if t.first_response_at), len(week)),
        "resolution_rate": pct(sum(1 for t in week if t.status in ("resolved", "rated", "closed")), len(week)),
        "satisfaction_pct": pct(sum(r in SATISFIED for r in ratings), len(ratings)),
        "buckets": [sum(1 for t in week if t.resolved_at and lo < hours(t.created_at, t.resolved_at) <= hi)
                    for lo, hi in ((-1, 4), (4, 24), (24, 72), (72, 1e9))],
    }


def shown(value) -> str:
    return "—" if value is None else f"{value:g}"


# -- sign-in ------------------------------------------------------------------------------------

def test_pages_need_sign_in_and_the_token_goes_in_a_form_not_a_url(client):
    res = client.get("/dashboard/overview")
    assert res.status_code == 302 and "/dashboard/login" in res.headers["Location"]
    assert client.get("/dashboard/overview?token=test-admin-token").status_code == 302   # a URL token is ignored
    bad = client.post("/dashboard/login", data={"token": "wrong"})
    assert bad.status_code == 403 and texts.DB_LOGIN_BAD_TOKEN in bad.data.decode()
    res = sign_in_admin(client)
    assert "token" not in res.headers["Location"]
    cookie = res.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "test-admin-token" not in cookie
    assert client.get("/dashboard/overview").status_code == 200
    client.post("/dashboard/logout")
    assert client.get("/dashboard/overview").status_code == 302


def test_a_forged_cookie_is_not_a_sign_in(client):
    client.set_cookie("dashboard", "eyJrIjoiYWRtaW4ifQ.forged.sig", path="/dashboard")
    assert client.get("/dashboard/overview").status_code == 302


def test_wecom_sign_in_gives_a_secretary_their_branch_and_a_member_only_their_figures(app, fake, seeded):
    secretary = app.test_client()
    assert sign_in_wecom(secretary, fake, "sec01").status_code == 302
    page = secretary.get("/dashboard/overview").data.decode()
    assert "幸福里社区第一党支部" in page and "光明路网格" not in page          # b1's grids only
    assert secretary.get("/dashboard/ledger").status_code == 200

    member = app.test_client()
    assert sign_in_wecom(member, fake, "pm01").status_code == 302
    for path in ("/dashboard/overview", "/dashboard/ledger", "/dashboard/opinion", "/dashboard/forecast",
                 "/dashboard/weights", "/dashboard/export/tickets.csv", "/dashboard/export/appraisal.xlsx"):
        res = member.get(path)
        assert res.status_code == 403 and texts.DB_FORBIDDEN in res.data.decode(), path
    own = member.get("/dashboard/members").data.decode()
    assert 'data-member="pm01"' in own and 'data-member="pm02"' not in own and "月度之星" not in own
    assert member.post(f"/dashboard/ledger/{seeded[1]['o-d2']}/urge").status_code == 403


def test_wecom_sign_in_refuses_a_bad_code_a_stale_state_and_an_outsider(app, fake):
    client = app.test_client()
    start = client.get("/dashboard/login/wecom")
    state = parse_qs(urlparse(start.headers["Location"]).query)["state"][0]
    res = client.get(f"/dashboard/oauth?code=nonsense&state={state}")
    assert res.status_code == 403 and "40029" in res.data.decode()
    code = fake.oauth_code(userid="sec01")
    assert app.test_client().get(f"/dashboard/oauth?code={code}&state={state}").status_code == 403   # no state cookie
    assert client.get(f"/dashboard/oauth?code={code}&state=other").status_code == 403
    outsider = fake.oauth_code(openid="o-someone")
    res = client.get(f"/dashboard/oauth?code={outsider}&state={state}")
    assert res.status_code == 403 and texts.DB_NOT_A_MEMBER in res.data.decode()
    unknown = fake.oauth_code(userid="nobody")
    assert client.get(f"/dashboard/oauth?code={unknown}&state={state}").status_code == 403
    assert client.get("/dashboard/overview").status_code == 302                       # still signed out


def test_bad_parameters_get_one_line_and_400(client):
    sign_in_admin(client)
    for path in ("/dashboard/overview?from=yesterday", "/dashboard/overview?from=2026-11-20&to=2026-11-01",
                 "/dashboard/members?month=2026-13", "/dashboard/overview?branch=nope",
                 "/dashboard/export/tickets.pdf", "/dashboard/ledger?sort=drop"):
        res = client.get(path)
        assert res.status_code == 400 and "参数有误" in res.data.decode(), path


# -- figures ------------------------------------------------------------------------------------

def test_overview_figures_equal_the_rows(app, bot, seeded):
    client = app.test_client()
    sign_in_admin(client)
    for branch in ("b1", None):
        html = client.get("/dashboard/overview?from=2026-11-16&to=2026-11-20"
                          + (f"&branch={branch}" if branch else "")).data.decode()
        expected = expected_overview(bot, branch, local(2026, 11, 16), local(2026, 11, 21))
        for key, value in expected.items():
            if key != "buckets":
                assert figure(html, key) == shown(value), (branch, key)
        assert [int(n) for n in re.findall(r'data-bucket="\d">(\d+)<', html)] == expected["buckets"]
    assert expected["received"] == 6 and expected["resolved"] == 3


def test_ledger_lists_overdue_and_near_tickets_and_urging_records_and_messages(app, bot, seeded, fake, deliver):
    _, nos = seeded
    client = app.test_client()
    sign_in_wecom(client, fake, "sec01")
    html = client.get("/dashboard/ledger").data.decode()
    with bot.db.session() as session:
        now = bot.clock.now()
        late = [t.no for t in session.scalars(select(Ticket).where(Ticket.branch_id == "b1")).all()
                if t.status in ("new", "assigned", "responded", "replied", "reopened", "transferred")
                and ((t.first_response_at is None and t.response_due_at < now)
                     or (t.first_reply_at is None and t.reply_due_at < now)
                     or (t.status == "reopened" and t.reply_due_at < now))]
    assert sorted(re.findall(r'<tr data-no="([^"]+)" class="late"', html)) == sorted(late)
    assert re.search(r'id="overdue-count">(\d+)<', html).group(1) == str(len(late))
    assert "13812345678" not in html
    target = nos["o-d2"]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', html).group(1)
    assert client.post(f"/dashboard/ledger/{target}/urge").status_code == 403      # no CSRF token
    res = client.post(f"/dashboard/ledger/{target}/urge", data={"csrf": token})
    assert res.status_code == 302
    assert "已催办" in client.get(res.headers["Location"]).data.decode()
    with bot.db.session() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.no == target))
        [event] = session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                            TicketEvent.kind == "urged")).all()
        assert event.actor == "member:sec01" and ticket.status == "assigned"
        assignee = ticket.assignee_id
    deliver()
    [message] = [message_view(c["json"])["text"] for c in fake.sent("wecom", assignee)
                 if "【催办】" in message_view(c["json"])["text"]]
    assert target in message and "王书记" in message and "13812345678" not in message
    other = app.test_client()
    sign_in_wecom(other, fake, "sec02")
    page = other.get("/dashboard/ledger").data.decode()
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    token = token.group(1) if token else "x"
    assert other.post(f"/dashboard/ledger/{target}/urge", data={"csrf": token}).status_code in (403, 404)


def test_members_page_equals_the_appraisal(app, bot, seeded):
    client = app.test_client()
    sign_in_admin(client)
    html = client.get("/dashboard/members?month=2026-11&branch=b1").data.decode()
    api = client.get("/api/v1/appraisal?month=2026-11",
                     headers={"Authorization": "Bearer test-admin-token"}).get_json()
    pts = client.get("/api/v1/points?month=2026-11", headers={"Authorization": "Bearer test-admin-token"}).get_json()
    points = {m["userid"]: m["points"] for m in pts["members"]}
    for member in [m for m in api["members"] if m["branch"] == "b1"]:
        row = re.search(rf'<tr data-member="{member["userid"]}">(.*?)</tr>', html, re.S).group(1)
        cell = lambda name, row=row: re.search(rf'class="{name}">([^<]*)<', row).group(1)  # noqa: E731
        pct = lambda v: "—" if v is None else f"{v:g}%"  # noqa: E731
        assert cell("handled") == str(member["resolved"])
        assert cell("on-time") == pct(member["quality"])
        assert cell("satisfaction") == pct(member["satisfaction"])
        assert cell("participation") == pct(member["participation"])
        assert cell("total") == shown(member["total"])
        assert cell("points") == str(points[member["userid"]])
    assert "月度之星" in html and "张三" in html


# -- exports ------------------------------------------------------------------------------------

def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def read_xlsx(data: bytes) -> list[list]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


def test_exports_open_in_csv_and_openpyxl_and_match_the_api(app, bot, seeded, settings):
    client = app.test_client()
    sign_in_admin(client)
    bearer = {"Authorization": "Bearer test-admin-token"}
    query = "from=2026-11-01&to=2026-11-20&branch=b1"
    api = client.get("/api/v1/tickets?branch=b1&per_page=200", headers=bearer).get_json()["items"]
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        res = client.get(f"/dashboard/export/tickets.{fmt}?{query}")
        assert res.status_code == 200 and "attachment" in res.headers["Content-Disposition"]
        rows = read(res.data)
        assert tuple(rows[0]) == texts.DB_EXPORT_TICKET_COLUMNS
        assert sorted((r[0], r[2], r[4]) for r in rows[1:]) == sorted((t["no"], t["status"], t["category"])
                                                                      for t in api)
        assert not any("13812345678" in str(c) for r in rows for c in r)          # masked without the right
        assert any("138****5678" in str(c) for r in rows for c in r)
    open_only = read_csv(client.get(f"/dashboard/export/tickets.csv?{query}&status=open").data)
    assert sorted(r[0] for r in open_only[1:]) == sorted(t["no"] for t in api if t["status"] in (
        "new", "assigned", "responded", "replied", "waiting", "transferred", "reopened"))

    overdue = client.get("/api/v1/overdue?branch=b1", headers=bearer).get_json()["items"]
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = read(client.get(f"/dashboard/export/ledger.{fmt}?branch=b1").data)
        assert [(r[0], float(r[6])) for r in rows[1:]] == [(t["no"], t["overdue_h"]) for t in overdue]

    appraisal = client.get("/api/v1/appraisal?month=2026-11", headers=bearer).get_json()["members"]
    for fmt, read in (("csv", read_csv), ("xlsx", read_xlsx)):
        rows = read(client.get(f"/dashboard/export/appraisal.{fmt}?month=2026-11").data)
        got = {r[0]: [None if v in ("", None) else float(v) for v in (r[7], r[8], r[9], r[10])] for r in rows[1:]}
        assert got == {m["userid"]: [m["participation"], m["quality"], m["satisfaction"], m["total"]]
                       for m in appraisal}

    with bot.db.session() as session:
        assert not session.scalars(select(AdminChange).where(AdminChange.action == "export_unmasked")).all()


def test_an_unmasked_export_needs_the_pii_token_and_is_audited(people_factory, settings, clock):
    settings["admin"] = {"api_token": "test-admin-token", "pii_api_token": "test-pii-token"}
    app, people = people_factory(settings)
    seed(people, clock)
    client = app.test_client()
    sign_in_admin(client, "test-pii-token")
    rows = read_csv(client.get("/dashboard/export/tickets.csv?from=2026-11-01&to=2026-11-20").data)
    assert any("13812345678" in c for r in rows for c in r)
    bot = app.extensions["bot"]
    with bot.db.session() as session:
        [change] = session.scalars(select(AdminChange).where(AdminChange.action == "export_unmasked")).all()
        assert change.actor == "admin:dashboard-pii" and change.data["export"] == "tickets"
        assert change.data["rows"] == len(rows) - 1


# -- forecast -----------------------------------------------------------------------------------

def weekday_calendar(day: date) -> bool:
    """Monday to Friday, except two holiday weeks in the synthetic year."""
    return day.weekday() < 5 and not (date(2026, 10, 1) <= day <= date(2026, 10, 7)
                                       or date(2026, 5, 1) <= day <= date(2026, 5, 5))


def test_the_forecast_learns_a_known_weekly_pattern_within_the_stated_bound():
    first = date(2026, 3, 2)                       # a Monday; 36 weeks to mid-November
    weeks = 36
    counts = {"民生服务": [], "环境卫生": []}
    for i in range(weeks):
        workdays, holidays, *_ = fc.week_features(first + timedelta(weeks=i), weekday_calendar)
        counts["民生服务"].append(int(12 * workdays + 4 + i // 6))          # workdays drive it, a slow rise
        counts["环境卫生"].append(int(6 * workdays + 10))
    result = fc.forecast(counts, first, weekday_calendar)
    assert result["enough"] and result["backtest_weeks"] == 8
    by = {r["category"]: r for r in result["rows"]}
    assert by["民生服务"]["mape"] < 10 and by["环境卫生"]["mape"] < 10        # the stated bound: 10 %
    assert result["total_mape"] < 10
    next_workdays = fc.week_features(first + timedelta(weeks=weeks), weekday_calendar)[0]
    assert abs(by["环境卫生"]["next_week"] - (6 * next_workdays + 10)) < 4
    # Two weeks ahead (the dashboard's horizon: this week is under way), the same bound holds.
    later = fc.forecast(counts, first, weekday_calendar, ahead=2)
    assert later["next_week"] == (first + timedelta(weeks=weeks + 1)).isoformat()
    assert later["backtest_weeks"] == 8 and later["total_mape"] < 10


def test_the_forecast_says_not_enough_history_below_eight_weeks(app, bot, seeded):
    result = fc.forecast({"民生服务": [3, 4, 5, 4, 3, 4, 5]}, date(2026, 9, 7), weekday_calendar)
    assert result == {"enough": False, "weeks": 7, "min_weeks": 8, "rows": []}
    client = app.test_client()
    sign_in_admin(client)
    html = client.get("/dashboard/forecast").data.decode()
    assert 'id="not-enough"' in html and "至少 8 个完整周" in html


def test_the_forecast_page_reads_weekly_counts_from_the_database(app, bot, clock, people):
    clock.set(local(2025, 12, 1, 10, 0))
    with bot.db.session() as session:
        for week in range(12):
            for n in range(3 + week % 2):
                at = local(2025, 12, 1, 10, 0) + timedelta(weeks=week, days=2 * n, hours=n)  # late in the week too
                session.execute(insert(Ticket).values(
                    no=f"F{week:02d}{n}", branch_id="b1", grid_id="g1", category="民生服务",
                    text="路灯坏了", status="closed", created_at=at, updated_at=at))
    clock.set(local(2026, 2, 24, 10, 0))               # the Tuesday after the 12th week
    client = app.test_client()
    sign_in_admin(client)
    html = client.get("/dashboard/forecast?branch=b1").data.decode()
    assert 'id="forecast-total"' in html
    assert re.search(r'data-category="民生服务">.*?class="last">(\d+)<', html, re.S).group(1) == "4"


# -- weights ------------------------------------------------------------------------------------

def test_dynamic_weights_move_toward_lagging_indicators_bounded_and_normalised(settings):
    cfg = {"appraisal": {"participation": 0.3, "quality": 0.4, "satisfaction": 0.3, "dynamic": True,
                         "periods": 3, "max_shift": 0.1,
                         "targets": {"participation": 80, "quality": 85, "satisfaction": 90}}}
    rows = wt.dynamic_weights(cfg, {"participation": [40, 50, 60], "quality": [86, 85, 87],
                                    "satisfaction": [99, 98, 100]})
    assert rows["participation"]["shift"] == 0.1                      # 30 points below: capped at +0.1
    assert rows["quality"]["shift"] == pytest.approx(-0.01)
    assert rows["satisfaction"]["shift"] == pytest.approx(-0.09)
    assert sum(r["weight"] for r in rows.values()) == pytest.approx(1.0, abs=0.002)
    assert rows["participation"]["weight"] > 0.3 > rows["satisfaction"]["weight"]
    assert "低于目标 80%" in rows["participation"]["reason"] and "呈上升" in rows["participation"]["reason"]
    assert "高于目标 90%" in rows["satisfaction"]["reason"]
    static = wt.weights_in_force({"appraisal": {**cfg["appraisal"], "dynamic": False}}, {"participation": [1]})
    assert static == pytest.approx({"participation": 0.3, "quality": 0.4, "satisfaction": 0.3})
    assert wt.dynamic_weights(cfg, {})["quality"]["reason"] == texts.DB_WEIGHT_NO_DATA


def test_the_weights_page_shows_the_reasons_and_the_member_totals_use_them(people_factory, settings, clock):
    settings["appraisal"] = {"dynamic": True}
    app, people = people_factory(settings)
    seed(people, clock)
    clock.set(local(2026, 12, 3, 10, 0))
    client = app.test_client()
    sign_in_admin(client)
    html = client.get("/dashboard/weights?month=2026-12&branch=b1").data.decode()
    assert "动态权重已开启" in html
    reasons = re.findall(r'class="reason">([^<]*)<', html)
    assert len(reasons) == 3 and all("目标" in r or r == texts.DB_WEIGHT_NO_DATA for r in reasons)
    weights = [float(w) for w in re.findall(r'class="weight">([\d.]+)%<', html)]
    assert sum(weights) == pytest.approx(100, abs=0.3) and weights != [30.0, 40.0, 30.0]


# -- digest and alerts link to the dashboard ---------------------------------------------------

def test_the_digest_and_alerts_link_to_the_dashboard(people_factory, settings, clock):
    from bot.compliance import monitor_compliance
    from bot.digest import send_weekly_digests

    settings["dashboard"] = {"base_url": "https://bot.example.org"}
    app, people = people_factory(settings)
    seed(people, clock)
    bot = app.extensions["bot"]
    clock.set(local(2026, 11, 23, 9, 0))
    assert send_weekly_digests(bot) == 2
    assert monitor_compliance(bot) >= 1
    with bot.db.session() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == "sec01")
                               .order_by(OutboxMessage.id)).all()
    digest = next(r.body["content"] for r in rows if r.kind == "markdown")
    assert "https://bot.example.org/dashboard/overview?" in digest and "from=2026-11-16" in digest
    assert re.search(r"\[[^\]]+\]\(https://bot\.example\.org/dashboard/overview\?[^)]+\)", digest)
    cards = [r.body for r in rows if r.kind == "textcard"]
    assert cards and all(c["url"].startswith("https://bot.example.org/dashboard/") for c in cards)
    assert all("**" not in c["description"] and "**" not in c["title"] for c in cards)
    assert any("群众满意率" in c["description"] for c in cards)


# -- in the browser -------------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
CANVAS_INK = """(selector) => Array.from(document.querySelectorAll(selector)).map(box => {
  const canvas = box.querySelector('canvas');
  if (!canvas) return 0;
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let ink = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
  return ink;
})"""


def seed_history(bot, weeks: int = 12):
    """Closed tickets over the weeks before 2026-11-16 (enough history for the forecast)."""
    start = local(2026, 11, 16) - timedelta(weeks=weeks)
    with bot.db.session() as session:
        for week in range(weeks):
            for n in range(4 + week % 3):
                at = start + timedelta(weeks=week, days=n % 5, hours=9 + n)
                category = "民生服务" if n % 2 else "环境卫生"
                session.execute(insert(Ticket).values(
                    no=f"H{week:02d}{n}", branch_id="b1", grid_id="g1" if n % 2 else "g2", category=category,
                    text="路灯坏了" if n % 2 else "垃圾没人清理", status="closed", assignee_id="pm01",
                    created_at=at, updated_at=at, response_due_at=at + timedelta(hours=24),
                    reply_due_at=at + timedelta(hours=48), first_response_at=at + timedelta(hours=1 + n),
                    first_reply_at=at + timedelta(hours=3 + 10 * n), resolved_at=at + timedelta(hours=3 + 10 * n),
                    closed_at=at + timedelta(days=3), sentiment=0.2 * (n % 5)))


WORDS = ("路灯", "垃圾", "噪音", "电梯", "健身器材", "晚上")


def set_sentiments(bot):
    """The scores and keywords the worker would have given (snownlp and jieba are not loaded here)."""
    with bot.db.session() as session:
        for i, ticket in enumerate(session.scalars(select(Ticket).order_by(Ticket.id))):
            ticket.keywords = [w for w in WORDS if w in ticket.text]
            if not ticket.no.startswith("H"):
                ticket.sentiment = (0.001, 0.2, 0.5, 0.9)[i % 4]


def expected_topics(bot, branch, start, end):
    """(keyword, grid) → residents who raised it, counted here from the rows."""
    groups: dict = {}
    with bot.db.session() as session:
        for t in session.scalars(select(Ticket).where(Ticket.created_at >= start, Ticket.created_at < end)):
            if branch in (None, t.branch_id):
                for word in t.keywords or []:
                    who = groups.setdefault((word, t.grid_id), set())
                    if t.resident_id is not None:            # generated history has no resident
                        who.add(t.resident_id)
    return {key: len(who) for key, who in groups.items()}


def test_hot_topics_are_counted_in_sql_per_keyword_and_grid(app, bot, seeded):
    set_sentiments(bot)
    from bot.dashboard import queries

    period = queries.Period(local(2026, 11, 1), local(2026, 11, 21))
    with bot.db.session() as session:
        got = queries.hot_words(session, "b1", period, limit=50)
    expected = expected_topics(bot, "b1", *period.__dict__.values())
    assert {(t["keyword"], t["grid"]): t["residents"] for t in got} == expected
    assert got[0]["keyword"] in ("路灯", "晚上") and got[0]["residents"] == max(expected.values()) == 2


@pytest.fixture
def served(settings, people_factory, clock):
    fake_base = settings["wecom"]["api_base_url"].rsplit("/wecom/", 1)[0]
    settings["dashboard"] = {"oauth_authorize_url": f"{fake_base}/wecom/connect/oauth2/authorize"}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    seed(people, clock)
    seed_history(bot)
    set_sentiments(bot)
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{port}", app
    server.shutdown()


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_every_page_in_the_browser_for_a_secretary_an_administrator_and_a_member(served, fake):
    from playwright.sync_api import expect, sync_playwright

    base, app = served
    bot = app.extensions["bot"]
    out = ROOT / "test-output"
    out.mkdir(exist_ok=True)
    period = (local(2026, 10, 22), local(2026, 11, 21))              # the default: the last 30 days
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])

        def charts_drawn(page, count):
            page.wait_for_function(f"document.querySelectorAll('[data-rendered]').length >= {count}")
            ink = page.evaluate(CANVAS_INK, ".chart")
            assert len(ink) == count and all(n > 500 for n in ink), ink

        def check_overview(page, branch):
            expected = expected_overview(bot, branch, *period)
            for key, value in expected.items():
                if key == "buckets":
                    got = [int(page.locator(f'[data-bucket="{i}"]').inner_text()) for i in range(4)]
                    assert got == value
                else:
                    assert page.locator(f'[data-figure="{key}"]').inner_text() == shown(value), key
            charts_drawn(page, 3)

        # -- the secretary of b1, through WeCom OAuth2 (the fake's authorize page) --
        fake.sign_in_as("sec01")
        page = browser.new_page(viewport={"width": 390, "height": 844})     # a phone inside WeCom
        page.goto(f"{base}/dashboard/")
        page.click("#wecom-login")
        expect(page.locator("#viewer")).to_contain_text("王书记", timeout=15000)
        check_overview(page, "b1")
        assert page.locator("#grids tr[data-grid]").count() == 2
        page.screenshot(path=str(out / "dashboard-overview-phone.png"), full_page=True)

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/dashboard/ledger")
        with bot.db.session() as session:
            from bot.work import overdue_tickets
            late = [t.no for t in overdue_tickets(session, "b1", bot.clock.now())]
        assert page.locator("tr.late").count() == len(late) and page.locator("#overdue-count").inner_text() == str(
            len(late))
        first = page.locator("tr.late").first
        no = first.get_attribute("data-no")
        first.get_by_role("button", name="催办").click()
        expect(page.locator("#notice")).to_contain_text(f"已催办工单 {no}")
        page.screenshot(path=str(out / "dashboard-ledger.png"), full_page=True)

        page.goto(f"{base}/dashboard/members?month=2026-11")
        api = app.test_client().get("/api/v1/appraisal?month=2026-11",
                                    headers={"Authorization": "Bearer test-admin-token"}).get_json()
        for member in [m for m in api["members"] if m["branch"] == "b1"]:
            row = page.locator(f'tr[data-member="{member["userid"]}"]')
            assert row.locator(".total").inner_text() == shown(member["total"])
            assert row.locator(".handled").inner_text() == str(member["resolved"])
        expect(page.locator("#stars")).to_contain_text("张三")
        charts_drawn(page, 1)
        page.screenshot(path=str(out / "dashboard-members.png"), full_page=True)

        page.goto(f"{base}/dashboard/opinion")
        with bot.db.session() as session:
            scores = [t.sentiment for t in session.scalars(select(Ticket).where(
                Ticket.branch_id == "b1", Ticket.created_at >= period[0], Ticket.created_at < period[1]))]
        for label, test in (("negative", lambda s: s < 0.4), ("neutral", lambda s: 0.4 <= s < 0.6),
                            ("positive", lambda s: s >= 0.6)):
            assert page.locator(f'[data-sentiment="{label}"]').inner_text() == str(sum(map(test, scores))), label
        assert page.locator("#cases tr[data-no]").count() >= 1
        topics = expected_topics(bot, "b1", *period)
        shown_topics = page.locator("#topics tbody tr")
        assert shown_topics.count() == min(10, len(topics))
        assert int(shown_topics.first.locator(".residents").inner_text()) == max(topics.values())
        charts_drawn(page, 2)
        page.screenshot(path=str(out / "dashboard-opinion.png"), full_page=True)

        page.goto(f"{base}/dashboard/forecast")
        with bot.db.session() as session:
            week = [t.category for t in session.scalars(select(Ticket).where(
                Ticket.branch_id == "b1", Ticket.created_at >= local(2026, 11, 9),
                Ticket.created_at < local(2026, 11, 16)))]
        for category in ("民生服务", "环境卫生"):
            assert page.locator(f'tr[data-category="{category}"] .last').inner_text() == str(week.count(category))
        expect(page.locator("#forecast-mape")).to_contain_text("%")
        charts_drawn(page, 1)
        page.screenshot(path=str(out / "dashboard-forecast.png"), full_page=True)

        page.goto(f"{base}/dashboard/weights")
        assert [page.locator(f'tr[data-part="{k}"] .base').inner_text() for k in wt.PARTS] == ["30%", "40%", "30%"]
        charts_drawn(page, 1)
        page.screenshot(path=str(out / "dashboard-weights.png"), full_page=True)

        # -- a member who is not a secretary: 403 on branch pages, their own row only --
        fake.sign_in_as("pm02")
        member = browser.new_page()
        member.goto(f"{base}/dashboard/login")
        member.click("#wecom-login")
        expect(member.locator("#viewer")).to_contain_text("李四", timeout=15000)
        assert member.locator("tr[data-member]").count() == 1
        for path in ("overview", "ledger", "opinion", "forecast", "weights"):
            res = member.goto(f"{base}/dashboard/{path}")
            assert res.status == 403 and texts.DB_FORBIDDEN in member.locator("#error").inner_text(), path
        member.close()

        # -- the administrator, with the token typed into the form --
        admin = browser.new_page(viewport={"width": 1280, "height": 900})
        admin.goto(f"{base}/dashboard/overview")
        assert "/dashboard/login" in admin.url
        admin.fill("#token", "test-admin-token")
        admin.click("#token-login")
        expect(admin.locator("#viewer")).to_contain_text("管理员")
        assert "test-admin-token" not in admin.url
        check_overview(admin, None)
        assert admin.locator("#grids tr[data-grid]").count() == 3
        admin.screenshot(path=str(out / "dashboard-overview.png"), full_page=True)
        admin.select_option('select[name="branch"]', "b2")
        admin.click('.filters button[type="submit"]')
        expect(admin).to_have_url(re.compile(r"branch=b2"))
        check_overview(admin, "b2")
        for path in ("ledger", "members", "opinion", "forecast", "weights"):
            assert admin.goto(f"{base}/dashboard/{path}").status == 200, path
        browser.close()
    for name in ("overview", "overview-phone", "ledger", "members", "opinion", "forecast", "weights"):
        assert (out / f"dashboard-{name}.png").stat().st_size > 10_000, name
