"""The weekly digest, the stats API (target: ≤ 5 s each) and every dashboard page (target: ≤ 500 ms
on PostgreSQL, ≤ 1 s on SQLite) over a million generated tickets.

    python bench/reports_bench.py [--tickets N] [--database-url URL]

Without --database-url (or DATABASE_URL) it uses a SQLite file in a temporary folder.
The tickets spread over a year in one branch (the worst case for a digest), with realistic
statuses, answer times and ratings. Prints one JSON line and writes bench/results/.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEXTS = ["东门的路灯坏了好几天，晚上很黑", "楼下垃圾桶满了没人清理", "楼上邻居半夜装修噪音很大",
         "小区电梯经常停运，老人上下楼困难", "建议在小区增加健身器材", "停车位被占，消防通道堵塞",
         "自来水发黄，有异味", "物业乱收费，服务差"]
WORDS = [["路灯", "东门"], ["垃圾桶", "清理"], ["噪音", "装修"], ["电梯", "停运"], ["健身器材", "建议"],
         ["消防通道", "停车位"], ["自来水", "异味"], ["物业", "收费"]]
STATUSES = [("closed", 70), ("resolved", 5), ("replied", 5), ("responded", 5), ("assigned", 10), ("reopened", 5)]


def generate(bot, count: int, end: datetime, seed: int = 7) -> None:
    """Writes `count` tickets (and their rating events) spread over the year before `end`."""
    from sqlalchemy import insert, select

    from bot.models import Category, Ticket, TicketEvent

    rnd = random.Random(seed)
    with bot.db.session() as session:
        categories = [(c.name, c.department_id) for c in session.scalars(select(Category))]
    weights = [w for _, w in STATUSES]
    start = end - timedelta(days=365)
    span = (end - start).total_seconds()
    seq = 0
    with bot.db.engine.begin() as conn:
        for base in range(0, count, 20000):
            tickets, events = [], []
            for i in range(base, min(count, base + 20000)):
                created = start + timedelta(seconds=rnd.random() * span)
                status = rnd.choices(STATUSES, weights)[0][0]
                answered = status != "assigned"
                first_response = created + timedelta(hours=rnd.uniform(0.2, 30)) if answered else None
                first_reply = first_response + timedelta(hours=rnd.uniform(0.5, 40)) \
                    if answered and status != "responded" else None
                done = status in ("closed", "resolved")
                category, department = rnd.choice(categories)
                n = rnd.randrange(len(TEXTS))
                tickets.append({
                    "id": i + 1, "no": f"B{i + 1:07d}", "grid_id": rnd.choice(["g1", "g2"]), "branch_id": "b1",
                    "category": category, "department_id": department, "assignee_id": rnd.choice(["pm01", "pm02"]),
                    "status": status, "priority": "urgent" if rnd.random() < 0.05 else "normal", "text": TEXTS[n],
                    "keywords": WORDS[n], "photos": [], "photos_pending": 0, "reopen_count": int(status == "reopened"),
                    "created_at": created, "updated_at": created,
                    "response_due_at": created + timedelta(hours=24), "reply_due_at": created + timedelta(hours=48),
                    "response_remind_at": created + timedelta(hours=18),
                    "reply_remind_at": created + timedelta(hours=36),
                    "first_response_at": first_response, "first_reply_at": first_reply,
                    "resolved_at": first_reply if done else None,
                    "closed_at": first_reply + timedelta(days=1) if status == "closed" else None,
                    "rating": None})
                if status == "closed" and rnd.random() < 0.6:
                    seq += 1
                    rating = rnd.choices(["satisfied", "basic", "unsatisfied"], [80, 12, 8])[0]
                    events.append({"ticket_id": i + 1, "at": first_reply + timedelta(hours=5), "kind": "rated",
                                   "actor": "resident:0", "data": {"rating": rating}, "chain_seq": seq,
                                   "prev_hash": "", "hash": f"{seq:064x}"})
            conn.execute(insert(Ticket), tickets)
            if events:
                conn.execute(insert(TicketEvent), events)
    if bot.db.url.startswith("postgresql"):             # as autovacuum would have done by now
        with bot.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
            conn.exec_driver_sql("VACUUM ANALYZE ticket_events")
    else:
        with bot.db.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


DASHBOARD_PAGES = ("overview", "ledger", "members", "opinion", "forecast", "weights")


def dashboard_timings(client) -> dict:
    """Each dashboard page for branch b1 (the default last 30 days / this month), cold then warm, in ms.

    The forecast is cached in Redis for the week, so its cold figure is the one a first visitor waits.
    """
    signed_in = client.post("/dashboard/login", data={"token": "bench", "next": "/dashboard/"})
    assert signed_in.status_code == 302, signed_in.status_code
    out = {}
    for page in DASHBOARD_PAGES:
        for attempt in ("cold", "warm"):
            started = time.perf_counter()
            res = client.get(f"/dashboard/{page}?branch=b1")
            out[f"page_{page}_ms_{attempt}"] = round(1000 * (time.perf_counter() - started))
            assert res.status_code == 200, (page, res.status_code)
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--reuse", action="store_true",
                        help="keep a store that already holds exactly --tickets tickets (no regeneration)")
    parser.add_argument("--resummarise", action="store_true",
                        help="forget the dashboard summaries first (time the first run's backfill)")
    args = parser.parse_args()
    from bot import create_app, kv
    from bot.clock import FrozenClock
    from bot.digest import render_digest
    from bot.models import Base, Branch

    end = datetime(2026, 11, 16, 0, 30, tzinfo=timezone.utc)       # Monday 08:30 in Shanghai
    with tempfile.TemporaryDirectory() as tmp:
        settings = {"config_file": None, "data_dir": tmp, "org_file": str(ROOT / "org.yaml"),
                    "database": {"url": args.database_url}, "redis": {"url": os.environ.get("REDIS_URL", "")},
                    "wechat": {"token": "t"},
                    "wecom": {"token": "t", "corp_id": "ww", "encoding_aes_key": "a" * 43},
                    "admin": {"api_token": "bench"}}
        app = create_app(settings, clock=FrozenClock(end))
        bot = app.extensions["bot"]
        from sqlalchemy import func, select

        from bot.models import Ticket

        with bot.db.session() as session:
            held = session.scalar(select(func.count()).select_from(Ticket))
        generated_s = None
        if not (args.reuse and held == args.tickets):
            with bot.db.engine.begin() as conn:                     # an empty store
                for table in reversed(Base.metadata.sorted_tables):
                    if table.name not in ("branches", "members", "grids", "departments", "categories"):
                        conn.execute(table.delete())
            started = time.perf_counter()
            generate(bot, args.tickets, end)
            generated_s = round(time.perf_counter() - started, 1)
        from bot.dashboard import summary
        from bot.models import DashMark

        if args.resummarise:
            with bot.db.session() as session:
                session.query(DashMark).delete()
                session.commit()
        with bot.db.session() as session:
            backfill = summary.through(session) is None
        started = time.perf_counter()
        summary.summarise(bot)                   # the first run summarises the whole year
        summarise_s = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        summary.summarise(bot)                   # a later run: yesterday and the changed days
        summarise_again_s = round(time.perf_counter() - started, 2)
        for key in bot.redis.scan_iter(kv.key("dashboard", "forecast", "*")):   # a cold forecast
            bot.redis.delete(key)
        client = app.test_client()
        timings = {}
        for attempt in range(2):                                 # cold, then warm
            started = time.perf_counter()
            stats = client.get("/api/v1/stats", headers={"Authorization": "Bearer bench"})
            timings[f"stats_api_s_{'cold' if attempt == 0 else 'warm'}"] = round(time.perf_counter() - started, 2)
            assert stats.status_code == 200 and stats.get_json()["total"] == args.tickets
            started = time.perf_counter()
            week_end = end - timedelta(hours=8, minutes=30)            # Monday 00:00 in Shanghai
            with bot.db.session() as session:
                body = render_digest(bot, session, session.get(Branch, "b1"), week_end - timedelta(days=7), week_end)
            timings[f"digest_s_{'cold' if attempt == 0 else 'warm'}"] = round(time.perf_counter() - started, 2)
        timings.update(dashboard_timings(client))
        database = "postgresql" if args.database_url.startswith("postgresql") else "sqlite"
        result = {"bench": "reports", "database": database, "load_1min_at_end": round(os.getloadavg()[0], 2),
                  "cores": os.cpu_count(),
                  "tickets": args.tickets, "generate_s": generated_s,
                  ("summarise_backfill_s" if backfill else "summarise_s"): summarise_s,
                  "summarise_again_s": summarise_again_s, **timings,
                  "digest_lines": len(body.splitlines())}
    print(json.dumps(result, ensure_ascii=False))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"reports-{result['database']}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
