"""Category guessing on the shared residents' messages: keyword rules vs the trained model.

Fixed 5-fold stratified split (seed 42) on teddy2020/messages_train.csv (`text`) and
titles_train.csv (`title`); micro / macro F1 and ms per message for each; model load time;
resident set size of a web worker with the model loaded and of a worker process with
snownlp and jieba. Prints one JSON line and writes bench/results/nlp.json.
Skips with a message when ../shared/data is not there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "teddy2020"
sys.path.insert(0, str(ROOT))


def rss_mb_of(code: str) -> dict:
    """Runs code in a fresh interpreter and returns what it prints (JSON) plus its RSS."""
    script = code + "\nimport json;print(json.dumps({**RESULT, 'rss_mb': round(int([l for l in " \
        "open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]) / 1024, 1)}))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    if not (DATA / "messages_train.csv").exists():
        print(json.dumps({"bench": "nlp", "skipped": f"no shared data at {DATA}"}))
        return 0
    import numpy as np
    import yaml
    from sklearn.model_selection import StratifiedKFold

    from bot.classifier import ModelClassifier, read_csv, save, scores, train
    from bot.nlp import KeywordClassifier

    rules = KeywordClassifier([(c["name"], c["keywords"]) for c in
                               yaml.safe_load((ROOT / "bench" / "teddy_rules.yaml").read_text(encoding="utf-8"))])
    results = {"bench": "nlp", "folds": 5, "seed": 42}
    for name, path, column in (("texts", DATA / "messages_train.csv", "text"),
                               ("titles", DATA / "titles_train.csv", "title")):
        texts, labels = read_csv(str(path), column, "label")
        texts, labels = np.array(texts, dtype=object), np.array(labels)
        folds = StratifiedKFold(5, shuffle=True, random_state=42).split(texts, labels)
        guesses = {"rules": np.empty(len(labels), dtype=object), "model": np.empty(len(labels), dtype=object)}
        ms = {"rules": 0.0, "model": 0.0}
        train_s = 0.0
        for train_idx, test_idx in folds:
            started = time.perf_counter()
            model = train(list(texts[train_idx]), list(labels[train_idx]), "bench")
            train_s += time.perf_counter() - started
            classify = ModelClassifier(model).classify
            for kind, fn in (("rules", rules.classify), ("model", classify)):
                started = time.perf_counter()
                guesses[kind][test_idx] = [fn(t) for t in texts[test_idx]]
                ms[kind] += time.perf_counter() - started
        for kind in ("rules", "model"):
            scored = scores(list(labels), list(guesses[kind]))
            scored["ms_per_message"] = round(1000 * ms[kind] / len(labels), 3)
            results[f"{name}_{kind}"] = scored
        results[f"{name}_train_s_per_fold"] = round(train_s / 5, 1)
    # Load time and memory, with a model trained on all message texts.
    texts, labels = read_csv(str(DATA / "messages_train.csv"), "text", "label")
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "model.pkl")
        save(train(texts, labels, "bench"), model_path)
        results["model_file_mb"] = round(os.path.getsize(model_path) / 2 ** 20, 1)
        results["web_worker"] = rss_mb_of(
            "import time\nfrom flask import Flask\nimport wechatpy, sqlalchemy, redis\nimport bot.app\n"
            f"t = time.perf_counter()\nfrom bot.classifier import load\nm = load({model_path!r})\n"
            "load_s = time.perf_counter() - t\nm.predict('小区路灯坏了')\n"
            "t = time.perf_counter()\nfor _ in range(500): m.predict('小区门口的路灯坏了一个多星期，晚上很黑')\n"
            "RESULT = {'model_load_s': round(load_s, 2), 'ms_per_message_warm': "
            "round((time.perf_counter() - t) * 2, 3), 'snownlp_loaded': 'snownlp' in __import__('sys').modules}")
        results["worker"] = rss_mb_of(
            "import bot.app\nfrom bot.classifier import load\n"
            f"load({model_path!r})\nfrom snownlp import SnowNLP\nSnowNLP('测试').sentiments\n"
            "import jieba.analyse\njieba.analyse.extract_tags('小区路灯坏了')\nRESULT = {}")
    print(json.dumps(results, ensure_ascii=False))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "nlp.json").write_text(json.dumps(results, ensure_ascii=False, indent=1),
                                                          encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
