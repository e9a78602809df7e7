"""Webhook throughput, latency and CPU per callback: the bot under gunicorn (2 workers) beside a floor app.

    python bench/webhook_bench.py [--seconds 10] [--connections 16] [--runs 1] [--database-url URL]

Workloads, each on a fresh store with fresh pre-signed, encrypted callbacks (each wrk
connection replays its own people in order):

- `texts`: distinct short texts outside any flow from residents the bot knows (each resident's
  first text makes them known; 40 residents per connection take turns, 40 texts each);
- `mix`: the 留言 mix — residents who scan a grid's code and leave a message through the whole
  留言 flow (a ticket each), and members asking for their queue (我的工单);
- `mix_half`: the 留言 mix again at half the rate `mix` reached, for the p99 target.

The floor is a minimal Flask + wechatpy app (verify, decrypt, parse, reply) on the same
gunicorn settings, measured in the same run. For each: req/s, p50, p99, non-2xx and socket
errors as wrk reports them, and CPU milliseconds per callback summed over every server process
(psutil): `cpu_ms_web` over gunicorn's master and workers (the embedded Redis included when it
is their child), `cpu_ms_all` adding the Redis server and the PostgreSQL backends of the
bench's database. A run whose wrk saw socket errors or non-2xx answers is marked `broken`.
Needs Debian's wrk. Database: --database-url / DATABASE_URL (its public schema is dropped and
made again), else SQLite; Redis: REDIS_URL (flushed: give the bench a private server or db),
else embedded. Prints one JSON line and writes bench/results/webhook-<database>.json.
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

import psutil
import requests
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STEPS = [("event", "subscribe", "qrscene_grid-g1"), ("text", "留言"),
         ("text", "{n}号楼的路灯坏了一个多星期，晚上出门很不方便"), ("text", "跳过"), ("text", "不变"),
         ("text", "确认")]
# Short, distinct, not a command and not long enough to be offered as a ticket.
PLAIN = "请问{n}号楼活动室第{k}次开放"
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


def _write(folder: Path, conn: int, lines: list) -> None:
    with open(folder / f"reqs-{conn}.txt", "w", encoding="utf-8") as fh:
        for query, body, path in lines:
            fh.write(f"{path}?{urlencode(query)}\t{body.decode('utf-8')}\n")


def write_requests(folder: Path, cfg: dict, connections: int, workload: str, size: int, tag: str,
                   warmup: Path | None = None) -> int:
    """Signs the callbacks of one workload, one file per wrk connection; returns how many.

    `warmup`: for `texts`, where each resident's first text goes (sent before the measurement,
    so that the measured texts are those of residents the bot knows).
    """
    from bot.simulator import Person

    folder.mkdir(parents=True, exist_ok=True)
    if warmup is not None:
        warmup.mkdir(parents=True, exist_ok=True)
    total = 0
    for conn in range(1, connections + 1):
        lines = []
        if workload == "floor":
            person = Person(cfg, "wechat", f"f{conn}", None)
            for _ in range(size):
                query, body = person.deliver({"MsgType": "text", "Content": "你好"})
                lines.append((query, body, "/wechat"))
        elif workload == "texts":
            people = [Person(cfg, "wechat", f"{tag}t{conn}-{r}", None) for r in range(40)]
            first = []
            for k in range(max(1, size // 40) + 1):
                for r, person in enumerate(people):
                    query, body = person.deliver({"MsgType": "text", "Content": PLAIN.format(n=r, k=k)})
                    (first if k == 0 and warmup is not None else lines).append((query, body, "/wechat"))
            if warmup is not None:
                _write(warmup, conn, first)
        else:
            for r in range(max(1, size // (len(STEPS) + 1))):
                person = Person(cfg, "wechat", f"{tag}r{conn}-{r}", None)
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
        _write(folder, conn, lines)
        total += len(lines)
    return total


def start_gunicorn(app: str, port: int, env: dict) -> subprocess.Popen:
    conf = [] if app == "wsgi:app" else ["-c", os.devnull]   # the floor has no schema to check
    log_path = Path(env["BENCH_LOG"] + f".{port}")
    with open(log_path, "w") as log:     # a file, not a pipe: a full pipe would stop the workers
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", *conf, "-w", "2", "-k", "gthread",
                                 "--threads", str(THREADS), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
                                 app], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{app} did not start: {log_path.read_text(errors='replace')[-2000:]}")
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return proc
        except requests.RequestException:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{app} did not start")


class CpuMeter:
    """CPU seconds (user + system) of the server's processes, read before and after a load."""

    def __init__(self, server: subprocess.Popen, store_pids):
        self.server, self.store_pids = server, store_pids

    def _tree(self) -> dict:
        procs = {}
        try:
            root = psutil.Process(self.server.pid)
            for p in [root, *root.children(recursive=True)]:
                procs[p.pid] = p
        except psutil.NoSuchProcess:
            pass
        return procs

    @staticmethod
    def _cpu(procs: dict) -> dict:
        out = {}
        for pid, p in procs.items():
            try:
                t = p.cpu_times()
                out[pid] = t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return out

    def read(self) -> tuple[dict, dict]:
        web = self._tree()
        store = {}
        for pid in self.store_pids():
            if pid not in web:
                try:
                    store[pid] = psutil.Process(pid)
                except psutil.NoSuchProcess:
                    pass
        return self._cpu(web), self._cpu(store)

    @staticmethod
    def spent(before: dict, after: dict) -> float:
        return sum(v - before.get(pid, 0.0) for pid, v in after.items())


def store_pids_for(cfg: dict, database_url: str):
    """A function naming the store's server processes now: Redis's, and the bench database's backends."""
    from bot import kv

    client = kv.connect(cfg)
    pg = None
    if database_url:
        from sqlalchemy import create_engine
        pg = create_engine(database_url, poolclass=__import__("sqlalchemy.pool", fromlist=["NullPool"]).NullPool)

    def pids() -> list[int]:
        found = []
        try:
            found.append(int(client.info("server")["process_id"]))
        except Exception:  # noqa: BLE001 - a bench reading what it can
            pass
        if pg is not None:
            from sqlalchemy import text
            with pg.connect() as conn:
                found += [r[0] for r in conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"))]
        return found
    return pids, client


def wrk(port: int, folder: Path, seconds: int, connections: int, rate: float | None = None) -> dict:
    args = ["wrk", "-t", str(connections), "-c", str(connections), "-d", f"{seconds}s", "--latency",
            "-s", str(ROOT / "bench" / "wrk_replay.lua"), f"http://127.0.0.1:{port}", "--", str(folder)]
    if rate:
        args += [str(rate), str(connections)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    latency = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    wrapped = re.search(r"wrapped (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_ms": round(to_ms(latency["50"]), 2), "p99_ms": round(to_ms(latency["99"]), 2),
            "non_2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": dict(zip(("connect", "read", "write", "timeout"),
                                      map(int, sockets.groups()))) if sockets else {},
            "replayed_again": int(wrapped.group(1)) if wrapped else 0}


def fresh_store(cfg: dict, database_url: str, env: dict, redis_client) -> None:
    """An empty database at the current schema and an empty Redis, for a fair run."""
    if database_url:
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool
        engine = create_engine(database_url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
    else:
        db = Path(cfg["data_dir"]) / "bot.db"
        for suffix in ("", "-wal", "-shm"):
            Path(str(db) + suffix).unlink(missing_ok=True)
    redis_client.flushdb()
    subprocess.run([sys.executable, "-m", "bot", "initdb"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def settle(meter: CpuMeter, timeout_s: float = 20) -> None:
    """Waits until the workers have booted and gone idle (their start-up is not a callback's cost)."""
    deadline = time.monotonic() + timeout_s
    before = sum(meter.read()[0].values())
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sum(meter.read()[0].values())
        if now - before < 0.02 and len(meter.read()[0]) >= 3:
            return
        before = now


def measure(app: str, folder: Path, env: dict, args, store_pids, rate: float | None = None,
            warmup: Path | None = None, warmup_s: int = 2) -> dict:
    port = free_port()
    server = start_gunicorn(app, port, env)
    try:
        meter = CpuMeter(server, store_pids)
        settle(meter)
        if warmup is not None:       # the first callbacks load what each worker loads lazily
            wrk(port, warmup, warmup_s, args.connections)
            settle(meter)
        web0, store0 = meter.read()
        spies = []
        if os.environ.get("BENCH_PYSPY") and app == "wsgi:app":    # a profile of each worker (py-spy)
            for n, child in enumerate(psutil.Process(server.pid).children()):
                spies.append(subprocess.Popen(["py-spy", "record", "--format", "raw", "-r", "200", "-d",
                                               str(args.seconds), "-o", f"{os.environ['BENCH_PYSPY']}-{n}.txt",
                                               "-p", str(child.pid)], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
        result = wrk(port, folder, args.seconds, args.connections, rate)
        for spy in spies:
            spy.wait()
        web1, store1 = meter.read()
        labels = {}
        for pid in [*web1, *store1]:
            try:
                labels[pid] = "gunicorn master" if pid == server.pid else \
                    " ".join(psutil.Process(pid).cmdline())[:60]
            except psutil.NoSuchProcess:
                labels[pid] = str(pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait()
    n = max(1, result["requests"])
    web, store = meter.spent(web0, web1), meter.spent(store0, store1)
    names = {}
    for pid, spent in [*((p, v - web0.get(p, 0.0)) for p, v in web1.items()),
                       *((p, v - store0.get(p, 0.0)) for p, v in store1.items())]:
        names[f"{pid} {labels.get(pid, '')}"] = round(1000 * spent / n, 3)
    result["cpu_ms_by_process"] = names
    result["cpu_ms_web"] = round(1000 * web / n, 3)
    result["cpu_ms_all"] = round(1000 * (web + store) / n, 3)
    result["broken"] = bool(result["non_2xx"] or any(result["socket_errors"].values()))
    return result


def measure_queue(settings: dict, database_url: str, env: dict, redis_client, tickets: int = 1000) -> dict:
    """我的工单 of a member with `tickets` open tickets, in process through the webhook: ms per call."""
    from datetime import datetime, timedelta, timezone
    from statistics import median

    from sqlalchemy import insert

    from bot.app import create_app
    from bot.models import Ticket
    from bot.simulator import Person

    fresh_store(load_config_for(settings), database_url, env, redis_client)
    app = create_app({**settings, "config_file": None}, prepare=False)
    bot = app.extensions["bot"]
    now = datetime.now(timezone.utc)
    rows = [{"no": f"20261120-{n:05d}", "text": f"第{n}号楼的问题", "status": "assigned", "category": "城乡建设",
             "assignee_id": "pm01", "created_at": now, "updated_at": now,
             "response_due_at": now + timedelta(minutes=(n * 37) % 5000 - 600)} for n in range(tickets)]
    with bot.db.session() as session:
        session.execute(insert(Ticket), rows)
    client = app.test_client()
    member = Person(bot.cfg, "wecom", "pm01", None)
    walls, cpus = [], []
    for _ in range(40):
        query, body = member.deliver({"MsgType": "text", "Content": "我的工单"})
        w0, c0 = time.perf_counter(), time.process_time()
        assert client.post("/wecom", query_string=query, data=body).status_code == 200
        walls.append(1000 * (time.perf_counter() - w0))
        cpus.append(1000 * (time.process_time() - c0))
    walls, cpus = walls[5:], cpus[5:]
    return {"open_tickets": tickets, "median_ms": round(median(walls), 2), "cpu_ms": round(median(cpus), 2)}


def load_config_for(settings: dict) -> dict:
    from bot.config import load_config
    return load_config({**settings, "config_file": None}, environ={})


def spread(values: list[float]) -> str:
    return f"{min(values):g}–{max(values):g}" if len(values) > 1 else f"{values[0]:g}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1, help="floor and bot measured this many times in turn")
    parser.add_argument("--size", type=int, default=2400, help="callbacks signed per connection and workload")
    parser.add_argument("--workloads", default="texts,mix,mix_half")
    parser.add_argument("--extra", default="queue", help="also measure: queue (我的工单, 1,000 open tickets)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print(json.dumps({"bench": "webhook", "skipped": "wrk is not installed (apt-get install wrk)"}))
        return 0
    from bot.config import load_config

    workloads = [w for w in args.workloads.split(",") if w]
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        settings = {"data_dir": str(folder / "var"), "org_file": str(ROOT / "org.yaml"),
                    "database": {"url": args.database_url}, "redis": {"url": os.environ.get("REDIS_URL", "")},
                    "security": {"replay_window_s": 0},
                    "wechat": {"app_id": "wxbench", "app_secret": "s", "token": "bench", "encoding_aes_key": KEY},
                    "wecom": {"corp_id": "wwbench", "secret": "s", "token": "bench", "encoding_aes_key": KEY,
                              "agent_id": 1000002},
                    "leave_message": {"max_tickets_per_day": 1000000}}
        (folder / "config.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
        cfg = load_config({**settings, "config_file": None}, environ={})
        env = {**os.environ, "BOT_CONFIG": str(folder / "config.yaml"), "PYTHONPATH": str(ROOT),
               "FLOOR_TOKEN": "bench", "FLOOR_AES_KEY": KEY, "FLOOR_APP_ID": "wxbench",
               "BENCH_LOG": str(folder / "server.log")}
        store_pids, redis_client = store_pids_for(cfg, args.database_url)
        result = {"bench": "webhook", "gunicorn": f"2 workers × {THREADS} threads", "connections": args.connections,
                  "seconds": args.seconds, "runs": args.runs,
                  "database": "postgresql" if args.database_url else "sqlite",
                  "redis": "redis-server" if os.environ.get("REDIS_URL") else "embedded",
                  "floor": [], **{w: [] for w in workloads}}
        write_requests(folder / "floor", cfg, args.connections, "floor", args.size * 3, "")
        for run in range(args.runs):
            result["floor"].append(measure("bench.floor_app:app", folder / "floor", env, args, lambda: []))
            mix_rps = None
            for workload in workloads:
                kind = "mix" if workload.startswith("mix") else workload
                fresh_store(cfg, args.database_url, env, redis_client)
                path = folder / f"{workload}-{run}"
                if kind != "texts":
                    write_requests(path, cfg, args.connections, kind, args.size, f"{run}{workload[:2]}")
                rate = mix_rps / 2 if workload == "mix_half" and mix_rps else None
                warm = folder / f"warm-{workload}-{run}"
                if kind == "texts":
                    write_requests(path, cfg, args.connections, kind, args.size, f"{run}{workload[:2]}", warm)
                else:
                    write_requests(warm, cfg, args.connections, kind, 80, f"w{run}{workload[:2]}")
                measured = measure("wsgi:app", path, env, args, store_pids, rate, warm, 8 if kind == "texts" else 2)
                shutil.rmtree(warm)
                measured["vs_floor"] = round(measured["rps"] / result["floor"][-1]["rps"], 3)
                result[workload].append(measured)
                if workload == "mix":
                    mix_rps = measured["rps"]
                shutil.rmtree(path)
        if "queue" in args.extra:
            result["my_queue"] = measure_queue(settings, args.database_url, env, redis_client)
        summary = {}
        for name in ["floor", *workloads]:
            rows = result[name]
            summary[name] = {k: spread([r[k] for r in rows])
                             for k in ("rps", "p50_ms", "p99_ms", "cpu_ms_web", "cpu_ms_all")}
            if name != "floor":
                summary[name]["vs_floor"] = spread([r["vs_floor"] for r in rows])
            summary[name]["broken_runs"] = sum(r["broken"] for r in rows)
        result["summary"] = summary
    print(json.dumps(result, ensure_ascii=False))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / f"webhook-{result['database']}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
