"""Category guessing on the shared residents' messages: keyword rules vs the trained model.

Fixed 5-fold stratified split (seed 42) on teddy2020/messages_train.csv (`title` + `text`) and
titles_train.csv (`title`); the model is bot.classifier.cross_validate (each fold learns its own
lexicon; character counts are hashed once for all folds); micro / macro F1, per-class F1 and ms
per message for each; how the confidence behaves; model load time;
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


def confidence_report(margins, classes, labels, sharpness, np) -> dict:
    """How the confidence behaves on held-out texts: share below each threshold and accuracy on
    each side of it (the card calls a category a guess below nlp.guess_below)."""
    z = sharpness * (margins - margins.max(1, keepdims=True))
    confidence = (1.0 / np.exp(z).sum(1))
    right = np.array([classes[i] for i in margins.argmax(1)]) == np.array(labels)
    report = {"sharpness": sharpness}
    for threshold in (0.5, 0.7, 0.9):
        low = confidence < threshold
        report[f"below_{threshold}"] = {"share": round(float(low.mean()), 3),
                                        "accuracy_below": round(float(right[low].mean()), 3) if low.any() else None,
                                        "accuracy_above": round(float(right[~low].mean()), 3) if (~low).any() else None}
    return report


def main() -> int:
    if not (DATA / "messages_train.csv").exists():
        print(json.dumps({"bench": "nlp", "skipped": f"no shared data at {DATA}"}))
        return 0
    import numpy as np
    import yaml

    from bot.classifier import SHARPNESS, cross_validate, read_csv, save, scores, train
    from bot.nlp import KeywordClassifier

    rules = KeywordClassifier([(c["name"], c["keywords"]) for c in
                               yaml.safe_load((ROOT / "bench" / "teddy_rules.yaml").read_text(encoding="utf-8"))])
    results = {"bench": "nlp", "folds": 5, "seed": 42}
    for name, path, column in (("texts", DATA / "messages_train.csv", "title+text"),
                               ("titles", DATA / "titles_train.csv", "title")):
        texts, labels = read_csv(str(path), column, "label")
        started = time.perf_counter()
        rule_guesses = [rules.classify(t) for t in texts]
        results[f"{name}_rules"] = {**scores(labels, rule_guesses),
                                    "ms_per_message": round(1000 * (time.perf_counter() - started) / len(texts), 3)}
        model = cross_validate(texts, labels, folds=5, seed=42)
        margins, classes = model.pop("margins"), model.pop("classes")
        results[f"{name}_train_s_per_fold"] = model.pop("train_s_per_fold")
        results[f"{name}_model"] = model
        results[f"{name}_confidence"] = confidence_report(margins, classes, labels, SHARPNESS, np)
    # Load time and memory, with a model trained on all message texts.
    texts, labels = read_csv(str(DATA / "messages_train.csv"), "title+text", "label")
    with tempfile.TemporaryDirectory() as tmp:
        model_path = os.path.join(tmp, "model.pkl")
        save(train(texts, labels, "bench"), model_path)
        results["model_file_mb"] = round(os.path.getsize(model_path) / 2 ** 20, 1)
        results["web_worker"] = rss_mb_of(
            "import time\nfrom flask import Flask\nimport wechatpy, sqlalchemy, redis\nimport bot.app\n"
            f"t = time.perf_counter()\nfrom bot.classifier import load\nm = load({model_path!r})\n"
            "load_s = time.perf_counter() - t\nm.predict('小区路灯坏了')\n"
            "t = time.process_time()\nfor _ in range(500): m.predict('小区门口的路灯坏了一个多星期，晚上很黑')\n"
            "RESULT = {'model_load_s': round(load_s, 2), 'ms_per_message_warm': "
            "round((time.process_time() - t) * 2, 3), 'snownlp_loaded': 'snownlp' in __import__('sys').modules, "
            "'jieba_loaded': 'jieba' in __import__('sys').modules}")
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
