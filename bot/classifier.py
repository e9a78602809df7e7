"""The trained category model: what residents write, read as character 1–2-grams, words and the
opening sentence, weighted by TF-IDF and naive-Bayes log-count ratios (NB-SVM), scored by linear
SVMs and folded into one sparse linear model that is saved as a versioned file.

Words come from a forward-maximum-matching segmenter over a lexicon learnt (with jieba) when the
model is trained, so a web worker splits words with a set lookup and never imports jieba.
Features are hashed, so no vocabulary is held; scikit-learn is imported only to train or load.
"""
from __future__ import annotations

import csv
import logging
import math
import pickle
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

log = logging.getLogger(__name__)
MODEL_FORMAT = 2
DIGITS = re.compile(r"\d+")
HASH_BITS = 20
HASH_MASK = 2 ** HASH_BITS - 1
CHAR_ID = 2 ** 32           # word ids below, single characters above
GOLDEN = 0x9E3779B97F4A7C15     # Fibonacci hashing: 2**64 / golden ratio, odd
MAX_CHARS = 1000          # routing time grows with length; the topic is stated early
HEAD_CHARS = 120          # the opening of a message usually says what it is about
LONGEST_WORD = 4
# Block name, weight. Weights and the rest were chosen by bench/nlp_bench.py's 5-fold evaluation.
BLOCKS = (("chars", 1.0), ("words", 1.0), ("head", 0.7))
SVM_C = 1.0
NB_ALPHA = 1.0
# Confidence is a softmax of the summed margins at this sharpness (fitted on the benchmark's
# cross-validated margins; see bench/results/nlp.json "confidence").
SHARPNESS = 3.0


class ModelError(Exception):
    """A model file that cannot be used; the message says why."""


def normalise(text: str) -> str:
    """What the model reads: whitespace folded, every number the same, the first MAX_CHARS."""
    return DIGITS.sub("0", " ".join((text or "").split()))[:MAX_CHARS]


def segment(text: str, lexicon: dict) -> list[int]:
    """Words of a text by forward maximum matching against the lexicon (words of 2–4 characters,
    each with its number); other characters alone. Returns word numbers, characters as code points
    above 2**32."""
    ids: list[int] = []
    append, find, i, n = ids.append, lexicon.get, 0, len(text)
    while i < n:
        for size in (4, 3, 2):
            number = find(text[i:i + size])
            if number is not None:
                append(number)
                i += size
                break
        else:
            append(CHAR_ID + ord(text[i]))
            i += 1
    return ids


def tokenise(texts: list[str]) -> list[set]:
    """The set of jieba words of each text (training only: jieba stays out of web workers)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return [set(jieba.lcut(text)) for text in texts]


def learn_lexicon(word_sets, min_count: int = 2) -> dict[str, int]:
    """The words (2–4 Chinese characters) found in at least `min_count` of the texts, numbered."""
    counts: dict[str, int] = {}
    for words in word_sets:
        for word in words:
            if 2 <= len(word) <= LONGEST_WORD and not word.isascii():
                counts[word] = counts.get(word, 0) + 1
    return {w: i for i, w in enumerate(sorted(w for w, c in counts.items() if c >= min_count))}


def _counts(ids):
    """Hashed counts of integer ids (Fibonacci hashing: the same in every process, vectorised)."""
    import numpy as np

    return np.unique((ids * np.uint64(GOLDEN)) >> np.uint64(64 - HASH_BITS), return_counts=True)


def _char_ids(text: str):
    """Characters (code points) and character pairs of a text as integer ids."""
    import numpy as np

    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype("uint64")
    return np.concatenate([points, (points[:-1] << np.uint64(21)) | points[1:] | np.uint64(1 << 42)])


def block_counts(text: str, lexicon) -> list:
    """(hashed indices, counts) of each block: characters and pairs, words, and the opening's
    characters and pairs."""
    import numpy as np

    return [_counts(_char_ids(text)), _counts(np.array(segment(text, lexicon), dtype="uint64")),
            _counts(_char_ids(text[:HEAD_CHARS]))]


def count_blocks(texts: list[str], lexicon) -> list:
    """One sparse count matrix (texts × 2**HASH_BITS) per block."""
    import numpy as np
    import scipy.sparse as sp

    parts: list[tuple[list, list, list]] = [([0], [], []) for _ in BLOCKS]
    for text in texts:
        for (indptr, indices, data), (keys, counts) in zip(parts, block_counts(text, lexicon)):
            indices.append(keys.astype("int32"))
            data.append(counts.astype("float32"))
            indptr.append(indptr[-1] + len(keys))
    return [sp.csr_matrix((np.concatenate(data) if data else np.zeros(0, "float32"),
                           np.concatenate(indices) if indices else np.zeros(0, "int32"),
                           np.array(indptr, dtype="int64")), shape=(len(texts), 2 ** HASH_BITS))
            for indptr, indices, data in parts]


@dataclass
class LinearModel:
    """What routing needs: the lexicon, which hashed features are kept (and where), their IDF,
    and one weight per kept feature and category."""

    classes: list
    lexicon: dict
    rows: object            # int32 per (block, hashed index): the kept feature's row, or -1
    idf: object             # float32 per kept feature
    weights: object         # float32, kept features × categories
    intercept: object       # float32 per category

    def weigh(self, blocks: list):
        """Texts' count blocks → sublinear TF × IDF over the kept features, each block unit length
        and weighted, the whole unit length (a sparse texts × kept matrix)."""
        import numpy as np
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize

        total = None
        for b, (x, (_, weight)) in enumerate(zip(blocks, BLOCKS)):
            x = x.tocoo()
            cols = self.rows[b * 2 ** HASH_BITS + x.col]
            kept = cols >= 0
            values = (1.0 + np.log(x.data[kept])) * self.idf[cols[kept]]
            part = normalize(sp.csr_matrix((values, (x.row[kept], cols[kept])),
                                           shape=(x.shape[0], len(self.idf)))) * weight
            total = part if total is None else total + part
        return normalize(total)

    def margins(self, text: str):
        """The margin of each category for one normalised text (the routing path: no sparse matrices)."""
        import numpy as np

        keys, values = [], []
        for b, ((hashes, counts), (_, weight)) in enumerate(zip(block_counts(text, self.lexicon), BLOCKS)):
            cols = self.rows[hashes.astype("int64") + b * 2 ** HASH_BITS]
            kept = cols >= 0
            if not kept.any():
                continue
            cols = cols[kept]
            v = (1.0 + np.log(counts[kept].astype("float32"))) * self.idf[cols]
            keys.append(cols)
            values.append(v * (weight / float(np.sqrt(v @ v))))
        if not keys:
            return self.intercept.copy()
        v = np.concatenate(values)
        return (v / float(np.sqrt(v @ v))) @ self.weights[np.concatenate(keys)] + self.intercept


def fit_blocks(blocks: list, labels, lexicon) -> LinearModel:
    """NB-SVM on the weighted blocks: one linear SVM per category on features scaled by their
    naive-Bayes log-count ratio, folded back into one plain linear model."""
    import numpy as np
    from sklearn.svm import LinearSVC

    y = np.asarray(labels)
    n = len(y)
    classes = sorted(set(y.tolist()))
    min_df = 2 if n >= 200 else 1
    dfs = [np.bincount(x.indices, minlength=x.shape[1]) for x in blocks]
    df = np.concatenate(dfs)
    kept = df >= min_df
    rows = np.full(len(df), -1, dtype="int32")
    rows[kept] = np.arange(int(kept.sum()), dtype="int32")
    idf = (np.log((1 + n) / (1 + df[kept])) + 1).astype("float32")
    model = LinearModel(classes, lexicon, rows, idf, None, None)
    x = model.weigh(blocks)
    seen = x.copy()
    seen.data[:] = 1
    weights, intercepts = [], []
    for c in classes:
        mine = y == c
        p = np.asarray(seen[mine].sum(0)).ravel() + NB_ALPHA
        q = np.asarray(seen[~mine].sum(0)).ravel() + NB_ALPHA
        ratio = np.log((p / p.sum()) / (q / q.sum())).astype("float32")
        scaled = x.copy()
        scaled.data *= ratio[scaled.indices]
        svm = LinearSVC(C=SVM_C).fit(scaled, mine.astype(int))
        weights.append(svm.coef_.ravel().astype("float32") * ratio)
        intercepts.append(float(svm.intercept_[0]))
    model.weights = np.ascontiguousarray(np.column_stack(weights))
    model.intercept = np.array(intercepts, dtype="float32")
    return model


def fit(texts: list[str], labels: list[str]) -> LinearModel:
    """A model from texts and their categories."""
    texts = [normalise(t) for t in texts]
    lexicon = learn_lexicon(tokenise(texts), 2 if len(texts) >= 200 else 1)
    return fit_blocks(count_blocks(texts, lexicon), labels, lexicon)


def cross_validate(texts: list[str], labels: list[str], folds: int = 5, seed: int = 42) -> dict:
    """Stratified k-fold scores of the model (each fold learns its own lexicon), with the margins
    of every text when it was held out, training seconds per fold and CPU ms per message."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    texts = [normalise(t) for t in texts]
    y = np.asarray(labels)
    word_sets = tokenise(texts)
    chars, _, head = count_blocks(texts, {})   # the same in every fold: counted once
    margins = np.zeros((len(y), len(set(labels))), dtype="float32")
    train_s = route_s = 0.0
    routed = 0
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y):
        started = time.perf_counter()
        lexicon = learn_lexicon([word_sets[i] for i in train_idx], 2 if len(train_idx) >= 200 else 1)
        words = count_blocks(texts, lexicon)[1]
        model = fit_blocks([chars[train_idx], words[train_idx], head[train_idx]], y[train_idx], lexicon)
        train_s += time.perf_counter() - started
        held_out = model.weigh([chars[test_idx], words[test_idx], head[test_idx]])
        margins[test_idx] = held_out @ model.weights + model.intercept
        sample = [texts[i] for i in test_idx[:200]]
        started = time.process_time()    # CPU time: the shared machine's load does not count
        for text in sample:       # one at a time, the way a web worker routes
            model.margins(text)
        route_s += time.process_time() - started
        routed += len(sample)
    classes = sorted(set(labels))
    guesses = [classes[i] for i in margins.argmax(1)]
    return {**scores(list(y), guesses), "folds": folds, "seed": seed,
            "train_s_per_fold": round(train_s / folds, 1),
            "ms_per_message": round(1000 * route_s / max(1, routed), 3),
            "margins": margins, "classes": classes}


def train(texts: list[str], labels: list[str], source: str) -> dict:
    """Trains a model and returns the document that is saved (format, categories, provenance)."""
    import sklearn

    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ModelError("training needs at least two categories")
    smallest = min(labels.count(c) for c in classes)
    if smallest < 3:
        raise ModelError(f"every category needs at least 3 examples (one has {smallest})")
    model = fit(texts, labels)
    return {"format": MODEL_FORMAT, "categories": classes, "n": len(texts), "source": source,
            "sklearn": sklearn.__version__, "created_at": datetime.now(timezone.utc).isoformat(),
            "model": model}


def save(document: dict, path: str) -> None:
    """Writes a model file."""
    with open(path, "wb") as fh:
        pickle.dump(document, fh, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class ModelClassifier:
    """A loaded model: guesses a category with a confidence (0…1)."""

    document: dict

    @property
    def categories(self) -> list[str]:
        return self.document["categories"]

    def predict(self, text: str) -> tuple[str, float]:
        """The likeliest category and how sure the model is (0…1)."""
        model: LinearModel = self.document["model"]
        margins = model.margins(normalise(text))
        best = int(margins.argmax())
        return str(model.classes[best]), confidence(margins)

    def ranked(self, text: str) -> list[tuple[str, float]]:
        """Every category with its confidence, likeliest first."""
        model: LinearModel = self.document["model"]
        margins = model.margins(normalise(text))
        shares = [math.exp(SHARPNESS * (float(m) - float(margins.max()))) for m in margins]
        total = sum(shares)
        return sorted(((str(c), s / total) for c, s in zip(model.classes, shares)), key=lambda p: -p[1])

    def classify(self, text: str) -> str:
        return self.predict(text)[0]


def confidence(margins) -> float:
    """The softmax share of the best category at SHARPNESS."""
    top = float(margins.max())
    return 1.0 / sum(math.exp(SHARPNESS * (float(m) - top)) for m in margins)


def load(path: str) -> ModelClassifier:
    """Reads a model file (only files this bot wrote: pickle runs code); ModelError says why not."""
    try:
        with open(path, "rb") as fh:
            document = pickle.load(fh)
    except FileNotFoundError:
        raise ModelError(f"model file {path} does not exist") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as exc:
        raise ModelError(f"model file {path} cannot be read: {type(exc).__name__}") from None
    if not isinstance(document, dict) or document.get("format") != MODEL_FORMAT:
        raise ModelError(f"model file {path} is not a format-{MODEL_FORMAT} model; train it again")
    return ModelClassifier(document)


def read_csv(path: str, text_column: str, label_column: str) -> tuple[list[str], list[str]]:
    """Texts and labels from a CSV file; rows with an empty text or label are skipped.

    `text_column` may join several columns with "+" (e.g. "title+text"): their non-empty values
    are joined with a full stop, the way a title and a message read together.
    """
    columns = [c.strip() for c in text_column.split("+")]
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (*columns, label_column) if c not in (reader.fieldnames or [])]
        if missing:
            raise ModelError(f"{path} has no column {missing[0]!r}; it has {reader.fieldnames}")
        pairs = [("。".join(v.strip() for v in (row[c] or "" for c in columns) if v.strip()), row[label_column])
                 for row in reader]
    pairs = [(t, lab.strip()) for t, lab in pairs if t and (lab or "").strip()]
    return [t for t, _ in pairs], [lab for _, lab in pairs]


def scores(labels: list[str], guesses: list[str]) -> dict:
    """Micro and macro F1, per-class F1 and n of guesses against labels."""
    from sklearn.metrics import f1_score

    classes = sorted(set(labels))
    per_class = f1_score(labels, guesses, labels=classes, average=None, zero_division=0)
    return {"micro_f1": round(float(f1_score(labels, guesses, average="micro")), 4),
            "macro_f1": round(float(f1_score(labels, guesses, labels=classes, average="macro", zero_division=0)), 4),
            "per_class": {c: round(float(f), 4) for c, f in zip(classes, per_class)}, "n": len(labels)}


def evaluate(classify, texts: list[str], labels: list[str]) -> dict:
    """The scores of a classify function, with milliseconds per message."""
    started = time.perf_counter()
    guesses = [classify(t) for t in texts]
    elapsed = time.perf_counter() - started
    return {**scores(labels, guesses), "ms_per_message": round(1000 * elapsed / max(1, len(texts)), 3)}
