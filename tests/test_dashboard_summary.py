"""The dashboard's daily summaries (#14 performance): the figures read from summary rows equal
the ones computed live from tickets, re-running the job changes nothing, and a late change to
an old ticket reaches its day at the job's next run."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from bot.dashboard import queries, summary
from bot.models import DashDaily, DashHours, DashMark, DashMember, DashWord
from tests.test_dashboard import expected_overview, figure, local, seed, shown, sign_in_admin


@pytest.fixture
def seeded(people, clock):
    return seed(people, clock)


PAGES = ["/dashboard/overview?from=2026-11-16&to=2026-11-20&branch=b1",
         "/dashboard/overview?from=2026-11-01&to=2026-11-20",
         "/dashboard/opinion?from=2026-11-01&to=2026-11-20",
         "/dashboard/members?month=2026-11",
         "/dashboard/members?month=2026-11&branch=b1",
         "/dashboard/weights?month=2026-12"]


def rows(bot) -> dict:
    """Every summary row, as plain tuples (to compare two runs)."""
    with bot.db.session() as session:
        return {model.__tablename__: sorted(tuple(getattr(r, c.key) for c in model.__table__.columns)
                                            for r in session.scalars(select(model)))
                for model in (DashDaily, DashHours, DashWord, DashMember)}


def pages(client) -> dict[str, str]:
    out = {}
    for url in PAGES:
        res = client.get(url)
        assert res.status_code == 200, url
        # The overdue counts' time (from the job's snapshot) is the one thing allowed to differ.
        out[url] = re.sub(r'<span class="small" data-overdue-at>[^<]*</span>', "", res.data.decode())
    return out


def test_pages_read_from_summaries_equal_the_live_ones_and_a_rerun_changes_nothing(app, bot, seeded, clock):
    client = app.test_client()
    sign_in_admin(client)
    live = pages(client)                       # the job has not run: every day is read live
    with bot.db.session() as session:
        assert summary.through(session) is None
    done = summary.summarise(bot)
    assert done["days"] == 18 and done["rows"] > 0       # 2 Nov … 19 Nov; today (20 Nov) stays live
    with bot.db.session() as session:
        assert summary.through(session) == date(2026, 11, 20)
        # The summarised part really is read from the rows: they hold the seeded tickets.
        assert sum(r.received for r in session.scalars(select(DashDaily))) == 7
    first = rows(bot)
    assert pages(client) == live
    summary.summarise(bot)                     # again: nothing changes
    assert rows(bot) == first
    clock.advance(days=3)                      # three more closed days, nothing new in them
    summary.summarise(bot)
    assert rows(bot) == first


def test_a_late_resolution_and_rating_of_an_old_ticket_reach_its_day_at_the_next_run(app, bot, seeded, people,
                                                                                       clock):
    old, nos = seeded
    client = app.test_client()
    sign_in_admin(client)
    summary.summarise(bot)
    clock.set(local(2026, 11, 23, 9, 0))       # a Monday: 16–22 Nov are closed days now
    summary.summarise(bot)
    url = "/dashboard/overview?from=2026-11-16&to=2026-11-23&branch=b1"
    before = client.get(url).data.decode()
    # 不满意 reopened 20261116-0003 on 17 Nov; it is resolved again and rated today (23 Nov),
    # which changes its creation day's 解决率 (16 Nov) — a summarised day.
    li = people.member("pm02")
    li.says(f"办结 {nos['o-d3']} 再次上门，已解决")
    people.resident("o-d3").says("满意")
    end = local(2026, 11, 24)
    expected = expected_overview(bot, "b1", local(2026, 11, 16), end)
    assert figure(before, "resolution_rate") != shown(expected["resolution_rate"])
    summary.summarise(bot)                     # the ticket's updated_at marks 16 Nov (and 17 Nov) to redo
    after = client.get(url).data.decode()
    for key, value in expected.items():
        if key != "buckets":
            assert figure(after, key) == shown(value), key
    clock.set(local(2026, 11, 24, 9, 0))       # the next day: 23 Nov is summarised too
    summary.summarise(bot)
    assert client.get(url).data.decode() == after
    with bot.db.session() as session:
        mark = session.get(DashMark, "daily")
        assert mark.through == date(2026, 11, 24)


def test_summary_rows_equal_a_direct_computation_for_every_day(app, bot, seeded):
    summary.summarise(bot)
    tz = bot.tz
    with bot.db.session() as session:
        direct = summary.compute(session, tz, date(2026, 11, 1), date(2026, 11, 20))
        stored = {(r.day, r.branch_id, r.grid_id, r.category): {k: getattr(r, k) for k in summary.DAILY_COUNTS}
                  for r in session.scalars(select(DashDaily))}
        assert stored == direct["daily"]
        by_day = summary.daily(session, tz, None, date(2026, 11, 1), date(2026, 11, 21), ("day",))
        assert sum(v["received"] for v in by_day.values()) == 7
        assert sum(v["rated"] for v in by_day.values()) == 4
        histogram = summary.hours(session, tz, "b1", date(2026, 11, 16), date(2026, 11, 21))
        assert sum(histogram["response"].values()) == 2 and "handling" in histogram
    # A median read from buckets: middle of the bucket, mean of the middle two.
    assert summary.median_of({}) is None
    assert summary.median_of({10: 1}) == 0.95
    assert summary.median_of({10: 1, 30: 1}) == 1.95
    assert summary.median_of({721: 3}) == 72.5
    assert queries.handling_buckets(None, None, None, {40: 2, 41: 1, 240: 1, 720: 1, 721: 4}) == [2, 2, 1, 4]


def test_dynamic_weights_are_one_source_for_the_members_page_its_export_and_the_api(people_factory, settings,
                                                                                     clock):
    import csv
    import io
    import re

    from bot.dashboard import weights

    settings["appraisal"] = {"dynamic": True}
    app, people = people_factory(settings)
    bot = app.extensions["bot"]
    old, nos = seed(people, clock)
    clock.set(local(2026, 12, 7, 9, 0))                    # December: work on the month appraised
    no = people.file_ticket("o-d7", "小区门口的井盖松动了，很危险", "grid-g1")
    zhang = people.member("pm01")
    clock.advance(hours=1)
    zhang.says(f"接单 {no}")
    zhang.says(f"回复 {no} 已联系维修")
    zhang.says(f"办结 {no} 井盖已固定")
    people.resident("o-d7").says("满意")
    clock.set(local(2026, 12, 10, 9, 0))
    summary.summarise(bot)
    with bot.db.session() as session:
        dynamic = weights.in_force(bot, session, "b1", "2026-12")
    assert dynamic != weights.base_weights(bot.cfg)          # November's figures moved them
    client = app.test_client()
    sign_in_admin(client)
    api = client.get("/api/v1/appraisal?month=2026-12", headers={"Authorization": "Bearer test-admin-token"}).get_json()
    export = list(csv.reader(io.StringIO(client.get("/dashboard/export/appraisal.csv?month=2026-12&branch=b1")
                                         .data.decode("utf-8-sig"))))
    for branch in ("b1", None):
        html = client.get("/dashboard/members?month=2026-12" + (f"&branch={branch}" if branch else "")).data.decode()
        for member in api["members"]:
            if branch and member["branch"] != branch:
                continue
            row = re.search(rf'<tr data-member="{member["userid"]}">(.*?)</tr>', html, re.S).group(1)
            assert re.search(r'class="total">([^<]*)<', row).group(1) == shown(member["total"]), member["userid"]
    zhang_api = next(m for m in api["members"] if m["userid"] == "pm01")
    static = weights.total(zhang_api, weights.base_weights(bot.cfg))
    assert zhang_api["total"] == weights.total(zhang_api, dynamic) != static
    assert next(r for r in export if r[0] == "pm01")[-1] == str(zhang_api["total"])


def test_the_forecast_model_in_closed_form_equals_scikit_learns_ridge():
    import random

    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from bot.dashboard.forecast import _ridge

    rnd = random.Random(3)
    for _ in range(10):
        xs = [[rnd.random() * 10, 5.0, rnd.random(), float(i), rnd.random() * 100] for i in range(12)]
        ys = [rnd.random() * 50 for _ in xs]
        row = [rnd.random() * 10, 5.0, rnd.random(), 13.0, 40.0]
        expected = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(xs, ys).predict([row])[0]
        assert _ridge(xs, ys)(row) == pytest.approx(expected, abs=1e-9)


def test_the_ledger_index_names_the_running_statuses():
    from bot.models import LEDGER_STATUSES
    from bot.tickets import RUNNING_STATUSES

    assert tuple(sorted(LEDGER_STATUSES)) == tuple(sorted(RUNNING_STATUSES))


def test_the_overview_shows_participation_and_messages_that_could_not_be_delivered(app, bot, seeded, clock):
    import re

    from sqlalchemy import insert

    from bot import participation
    from bot.models import OutboxMessage, WorkLog

    at = local(2026, 11, 18, 15, 0)
    with bot.db.session() as session:
        session.execute(insert(WorkLog).values(member_id="pm01", kind="走访", text="走访独居老人", day="2026-11-18",
                                               points=1, at=at))
        session.execute(insert(OutboxMessage), [
            {"channel": "wecom", "recipient": "pm02", "kind": "text", "body": {"text": "x"}, "status": "failed",
             "attempts": 8, "next_attempt_at": at, "created_at": at, "last_errcode": 81013,
             "last_error": "user not found"},
            {"channel": "wecom", "recipient": "pm02", "kind": "text", "body": {"text": "y"}, "status": "sent",
             "attempts": 1, "next_attempt_at": at, "created_at": at, "sent_at": at}])
    client = app.test_client()
    sign_in_admin(client)
    html = client.get("/dashboard/overview?from=2026-11-16&to=2026-11-20&branch=b1").data.decode()
    with bot.db.session() as session:
        expected = participation.figures(session, local(2026, 11, 16), local(2026, 11, 21), "b1")
    assert expected["work_logs"] == 1
    for key, value in expected.items():
        shown_value = re.search(rf'data-part="{key}">([^<]*)<', html).group(1)
        assert shown_value == ("—" if value is None else f"{value:g}" + ("%" if key.endswith("pct") else "")), key
    row = re.search(r'<tr data-undelivered="([^"]+)"><td>[^<]*</td><td class="failed">(\d+)<', html)
    assert row.groups() == ("李四", "1")
    everything = client.get("/dashboard/overview?from=2026-11-16&to=2026-11-20").data.decode()
    assert re.search(r'<tr data-errcode="81013"><td>81013</td><td class="failed">1<', everything)
    earlier = client.get("/dashboard/overview?from=2026-11-01&to=2026-11-10&branch=b1").data.decode()
    assert "data-undelivered-none" in earlier


def test_the_grid_table_uses_the_jobs_overdue_snapshot_while_it_is_fresh(app, bot, seeded, clock):
    import re

    from sqlalchemy import update

    from bot.dashboard import queries
    from bot.models import Ticket

    client = app.test_client()
    sign_in_admin(client)
    url = "/dashboard/overview?from=2026-11-16&to=2026-11-20&branch=b1"

    def overdue(html):
        return {g: int(n) for g, n in re.findall(r'<tr data-grid="([^"]*)">.*?<td class="overdue">(\d+)<', html, re.S)}

    live = client.get(url).data.decode()
    assert "data-overdue-at" not in live
    summary.summarise(bot)
    snap = client.get(url).data.decode()
    assert overdue(snap) == overdue(live) and "（截至10:00）" in snap
    with bot.db.session() as session:
        counted = queries.overdue_by_grid(session, "b1", clock.now())
    assert sum(overdue(snap).values()) == sum(counted.values()) > 0
    # A ticket answered after the snapshot still counts until the next run (at most two intervals) …
    with bot.db.session() as session:
        session.execute(update(Ticket).values(first_response_at=clock.now(), first_reply_at=clock.now()))
    assert overdue(client.get(url).data.decode()) == overdue(snap)
    with bot.db.session() as session:
        now_counted = queries.overdue_by_grid(session, "b1", clock.now())
    assert sum(now_counted.values()) < sum(counted.values())        # only the reopened one is left
    summary.summarise(bot)
    assert sum(overdue(client.get(url).data.decode()).values()) == sum(now_counted.values())
    # … and a snapshot older than two intervals is not used: the page counts.
    clock.advance(minutes=11)
    with bot.db.session() as session:
        later = queries.overdue_by_grid(session, "b1", clock.now())
    page = client.get(url).data.decode()
    assert "data-overdue-at" not in page and sum(overdue(page).values()) == sum(later.values())


@pytest.mark.parametrize("value", [0, "often", 2.5])
def test_a_bad_summary_interval_stops_start_up_naming_the_key(value):
    from bot.config import load_config
    from bot.errors import ConfigError
    from tests.test_config import minimal

    with pytest.raises(ConfigError, match=r"dashboard\.summary_every_min"):
        load_config(minimal(dashboard={"summary_every_min": value}), environ={})
