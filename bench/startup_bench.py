"""Start time and memory of a web worker (target: ≤ 3 s, ≤ 300 MB RSS after start).

Runs `create_app()` in fresh interpreters: with the embedded defaults (SQLite + an embedded
Redis, which starts a server) and, when REDIS_URL is set, against that Redis as production
web workers do. Prints one JSON line and writes bench/results/startup.json.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys, time
started = time.perf_counter()
from bot import create_app
app = create_app(json.loads(sys.argv[1]))
elapsed = time.perf_counter() - started
rss = int([l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]) / 1024
print(json.dumps({"start_s": round(elapsed, 2), "rss_mb": round(rss, 1),
                  "heavy": sorted(m for m in ("snownlp", "jieba", "sklearn") if m in sys.modules)}))
"""


def measure(settings: dict, runs: int = 3) -> dict:
    results = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(settings)], capture_output=True, text=True,
                             cwd=ROOT, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"start_s_median": statistics.median(r["start_s"] for r in results),
            "rss_mb_median": statistics.median(r["rss_mb"] for r in results), "heavy_modules": results[0]["heavy"]}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        base = {"config_file": None, "data_dir": tmp, "org_file": str(ROOT / "org.yaml"),
                "wechat": {"token": "t"}, "wecom": {"token": "t", "corp_id": "ww", "encoding_aes_key": "a" * 43}}
        result = {"bench": "startup", "embedded": measure(base)}
        if os.environ.get("REDIS_URL"):
            result["external_redis"] = measure({**base, "redis": {"url": os.environ["REDIS_URL"]},
                                                "database": {"url": os.environ.get("DATABASE_URL", "")}})
    print(json.dumps(result))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "startup.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
