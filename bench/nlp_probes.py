"""Variants of the category model, each scored by the same 5-fold evaluation as bench/nlp_bench.py.

Each probe changes one thing in bot.classifier for the length of its run (a setting, or the
features a block reads) and cross-validates the shipped training path (`cross_validate`: every
fold learns its own lexicon). Titles by default; `--texts` adds the message texts (slow: about
two minutes per probe on an idle core), `--no-titles` leaves the titles out; name probes to run
only those. Prints one JSON line per probe and updates bench/results/nlp_probes.json (earlier
figures of other probes stay). Skips with a message when ../shared/data is not there.

The probes recorded in README that need other packages or data (fastText, self-training on the
unlabelled messages, LSA, nearest neighbours) are not repeated here.
"""
from __future__ import annotations

import csv
import json
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "teddy2020"
sys.path.insert(0, str(ROOT))


def _char_ids_with(extra: str):
    """Characters and pairs, plus character triples ("triples") or pairs two apart ("skips")."""
    import numpy as np

    def char_ids(text: str):
        p = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype("uint64")
        parts = [p, (p[:-1] << np.uint64(21)) | p[1:] | np.uint64(1 << 42)]
        if len(p) > 2 and extra == "triples":
            parts.append(((p[:-2] << np.uint64(42)) ^ (p[1:-1] << np.uint64(21)) ^ p[2:]) * np.uint64(3) + np.uint64(7))
        if len(p) > 2 and extra == "skips":
            parts.append((p[:-2] << np.uint64(21)) | p[2:] | np.uint64(1 << 43))
        return np.concatenate(parts)
    return char_ids


def _words_with_pairs(bc):
    import numpy as np

    def block_counts(text: str, lexicon):
        ids = np.array(bc.segment(text, lexicon), dtype="uint64")
        pairs = ((ids[:-1] * np.uint64(1000003)) ^ (ids[1:] + np.uint64(0x5BD1E995))) | np.uint64(1 << 60)
        return [bc._counts(bc._char_ids(text)), bc._counts(np.concatenate([ids, pairs])),
                bc._counts(bc._char_ids(text[:bc.HEAD_CHARS]))]
    return block_counts


def _with_taxonomy_terms(bc, original):
    """The words block also counts the taxonomy's second- and third-level names found in the text."""
    import numpy as np

    with open(DATA / "taxonomy.csv", encoding="utf-8-sig", newline="") as fh:
        names = sorted({v.strip() for row in csv.DictReader(fh) for v in (row["二级分类"], row["三级分类"])
                        if len(v.strip()) >= 2 and v.strip() != "其他"})

    def block_counts(text: str, lexicon):
        blocks = original(text, lexicon)
        hits = [i for i, name in enumerate(names) if name in text]
        if hits:
            keys, counts = bc._counts(np.array(hits, dtype="uint64") + np.uint64(7 << 50))
            blocks[1] = (np.concatenate([blocks[1][0], keys]), np.concatenate([blocks[1][1], counts]))
        return blocks
    return block_counts


PROBES = {
    "shipped": {},
    "svm_c_0.5": {"SVM_C": 0.5},
    "svm_c_2": {"SVM_C": 2.0},
    "nb_alpha_0.5": {"NB_ALPHA": 0.5},
    "no_head_block": {"BLOCKS": (("chars", 1.0), ("words", 1.0), ("head", 1e-4))},
    "hash_bits_22": {"HASH_BITS": 22, "HASH_MASK": 2 ** 22 - 1},
    "char_triples": {"_char_ids": lambda bc: _char_ids_with("triples")},
    "char_skip_pairs": {"_char_ids": lambda bc: _char_ids_with("skips")},
    "word_pairs": {"block_counts": _words_with_pairs},
    "taxonomy_terms": {"block_counts": lambda bc: _with_taxonomy_terms(bc, bc.block_counts)},
}


@contextmanager
def changed(bc, changes: dict):
    """bot.classifier with the probe's changes, restored afterwards."""
    saved = {name: getattr(bc, name) for name in changes}
    try:
        for name, value in changes.items():
            setattr(bc, name, value(bc) if callable(value) and not isinstance(value, type) else value)
        yield
    finally:
        for name, value in saved.items():
            setattr(bc, name, value)


def main(argv: list[str]) -> int:
    if not (DATA / "titles_train.csv").exists():
        print(json.dumps({"bench": "nlp_probes", "skipped": f"no shared data at {DATA}"}))
        return 0
    import bot.classifier as bc

    sets = [] if "--no-titles" in argv else [("titles", "titles_train.csv", "title")]
    if "--texts" in argv:
        sets.append(("texts", "messages_train.csv", "title+text"))
    chosen = [a for a in argv if not a.startswith("--")] or list(PROBES)
    out = ROOT / "bench" / "results" / "nlp_probes.json"
    results: dict = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    results.update({"bench": "nlp_probes", "folds": 5, "seed": 42})
    for name, file, column in sets:
        texts, labels = bc.read_csv(str(DATA / file), column, "label")
        for probe in chosen:
            with changed(bc, PROBES[probe]):
                r = bc.cross_validate(texts, labels, folds=5, seed=42)
            results.setdefault(probe, {})[name] = {"micro_f1": r["micro_f1"], "macro_f1": r["macro_f1"]}
            print(json.dumps({"probe": probe, "set": name, **results[probe][name]}), flush=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
