"""Webhook throughput and latency: the bot under gunicorn (2 workers) beside a floor app.

    python bench/webhook_bench.py [--seconds 10] [--connections 16] [--database-url URL]

The bot gets a realistic mix of pre-signed, encrypted callbacks: residents who scan a grid's
code and leave a message through the whole 留言 flow (a ticket each), and members asking for
their queue. Each wrk connection replays its own residents in order. The floor is a minimal
Flask + wechatpy app (verify, decrypt, parse, reply) on the same gunicorn settings. Then the
bot runs again at half its measured capacity for the p99 target. Needs Debian's wrk.
Database: --database-url / DATABASE_URL, else SQLite; Redis: REDIS_URL, else embedded.
Prints one JSON line and writes bench/results/webhook.json.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STEPS = [("event", "subscribe", "qrscene_grid-g1"), ("text", "留言"),
         ("text", "{n}号楼的路灯坏了一个多星期，晚上出门很不方便"), ("text", "跳过"), ("text", "不变"),
         ("text", "确认")]
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def to_ms(value: str) -> float:
    """wrk's latency (12.3ms, 950.1us, 1.2s) in milliseconds."""
    number, unit = re.match(r"([\d.]+)([a-z]+)", value).groups()
    return float(number) * UNITS_MS[unit]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_requests(folder: Path, cfg: dict, connections: int, residents_per_connection: int, floor: bool) -> int:
    """Signs the callbacks, one file per wrk connection; returns how many."""
    from bot.simulator import Person

    total = 0
    for conn in range(1, connections + 1):
        lines = []
        for r in range(residents_per_connection):
            if floor:
                person = Person(cfg, "wechat", f"f{conn}-{r}", None)
                for _ in range(len(STEPS)):
                    query, body = person.deliver({"MsgType": "text", "Content": "你好"})
                    lines.append((query, body, "/wechat"))
                continue
            person = Person(cfg, "wechat", f"r{conn}-{r}", None)
            for step in STEPS:
                if step[0] == "event":
                    query, body = person.deliver({"MsgType": "event", "Event": step[1], "EventKey": step[2]},
                                                 msg_id=False)
                else:
                    query, body = person.deliver({"MsgType": "text", "Content": step[1].format(n=r)})
                lines.append((query, body, "/wechat"))
            member = Person(cfg, "wecom", ("pm01", "pm02", "sec01")[(conn + r) % 3], None)
            query, body = member.deliver({"MsgType": "text", "Content": "我的工单"})
            lines.append((query, body, "/wecom"))
        with open(folder / f"reqs-{conn}.txt", "w", encoding="utf-8") as fh:
            for query, body, path in lines:
                fh.write(f"{path}?{urlencode(query)}\t{body.decode('utf-8')}\n")
        total += len(lines)
    return total


def gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", str(THREADS),
                             "-b", f"127.0.0.1:{port}", "--log-level", "warning", app],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


def wrk(port: int, folder: Path, seconds: int, connections: int, rate: float | None = None) -> dict:
    args = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "-s", str(ROOT / "bench" / "wrk_replay.lua"), f"http://127.0.0.1:{port}", "--", str(folder)]
    if rate:
        args += [str(rate), str(connections)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_ms": round(to_ms(latency["50"]), 2), "p99_ms": round(to_ms(latency["99"]), 2),
            "non_2xx": int(errors.group(1)) if errors else 0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--residents", type=int, default=250, help="residents per connection")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print(json.dumps({"bench": "webhook", "skipped": "wrk is not installed (apt-get install wrk)"}))
        return 0
    from bot.config import load_config

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = {"data_dir": str(folder / "var"), "org_file": str(ROOT / "org.yaml"),
                    "database": {"url": args.database_url}, "redis": {"url": os.environ.get("REDIS_URL", "")},
                    "security": {"replay_window_s": 0},
                    "wechat": {"app_id": "wxbench", "app_secret": "s", "token": "bench", "encoding_aes_key": KEY},
                    "wecom": {"corp_id": "wwbench", "secret": "s", "token": "bench", "encoding_aes_key": KEY,
                              "agent_id": 1000002},
                    "leave_message": {"max_tickets_per_day": 0}}
        (folder / "config.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        cfg = load_config({**settings, "config_file": None}, environ={})
        if args.database_url:                                    # an empty store for a fair run
            from sqlalchemy import create_engine, text
            engine = create_engine(args.database_url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))  # fresh
        env = {**os.environ, "BOT_CONFIG": str(folder / "config.yaml"), "PYTHONPATH": str(ROOT),
               "FLOOR_TOKEN": "bench", "FLOOR_AES_KEY": KEY, "FLOOR_APP_ID": "wxbench"}
        bot_dir, floor_dir = folder / "bot", folder / "floor"
        bot_dir.mkdir()
        floor_dir.mkdir()
        signed = write_requests(bot_dir, cfg, args.connections, args.residents, floor=False)
        write_requests(floor_dir, cfg, args.connections, args.residents, floor=True)
        result = {"bench": "webhook", "gunicorn": f"2 workers × {THREADS} threads", "connections": args.connections,
                  "seconds": args.seconds, "signed_requests": signed,
                  "database": "postgresql" if args.database_url else "sqlite",
                  "redis": "redis-server" if os.environ.get("REDIS_URL") else "embedded"}
        port = free_port()
        floor = gunicorn("bench.floor_app:app", port, env)
        try:
            result["floor"] = wrk(port, floor_dir, args.seconds, args.connections)
        finally:
            floor.send_signal(signal.SIGTERM)
            floor.wait()
        port = free_port()
        server = gunicorn("wsgi:app", port, env)
        try:
            result["bot"] = wrk(port, bot_dir, args.seconds, args.connections)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait()
        # Half the measured capacity, on a fresh store and fresh callbacks.
        for name in list(os.listdir(bot_dir)):
            os.remove(bot_dir / name)
        cfg2 = load_config({**settings, "config_file": None}, environ={})
        write_requests(bot_dir, cfg2, args.connections, args.residents, floor=False)
        port = free_port()
        server = gunicorn("wsgi:app", port, env)
        try:
            result["bot_at_half_capacity"] = wrk(port, bot_dir, args.seconds, args.connections,
                                                 rate=result["bot"]["rps"] / 2)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait()
        result["bot_vs_floor"] = round(result["bot"]["rps"] / result["floor"]["rps"], 3)
        from sqlalchemy import create_engine, func, select

        from bot.db import database_url
        from bot.models import Ticket
        with create_engine(database_url(cfg)).connect() as conn:
            result["tickets_created"] = conn.execute(select(func.count()).select_from(Ticket)).scalar()
    print(json.dumps(result, ensure_ascii=False))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "webhook.json").write_text(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
