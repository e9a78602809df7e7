"""The trained category model: character n-grams (hashed, so no vocabulary to hold) with TF-IDF
and a calibrated linear SVM, saved as a versioned file.

Character n-grams need no segmenter, so web workers route with it without loading jieba;
scikit-learn is imported only when a model is trained or loaded.
"""
from __future__ import annotations

import csv
import logging
import pickle
import re
import time
from dataclasses import dataclass
from datetime import datetime, timezone

log = logging.getLogger(__name__)
MODEL_FORMAT = 1
DIGITS = re.compile(r"\d+")


class ModelError(Exception):
    """A model file that cannot be used; the message says why."""


def normalise(text: str) -> str:
    """What the model reads: whitespace folded, every number the same."""
    return DIGITS.sub("0", " ".join((text or "").split()))


def build_pipeline():
    """An untrained pipeline: hashed char 1–3-grams → sublinear TF-IDF → calibrated LinearSVC."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        HashingVectorizer(analyzer="char", ngram_range=(1, 3), n_features=2 ** 19,
                          alternate_sign=False, norm=None),
        TfidfTransformer(sublinear_tf=True),
        CalibratedClassifierCV(LinearSVC(C=1.0), cv=3, ensemble=False),
    )


def train(texts: list[str], labels: list[str], source: str) -> dict:
    """Trains a model and returns the document that is saved (format, categories, provenance)."""
    import sklearn

    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ModelError("training needs at least two categories")
    smallest = min(labels.count(c) for c in classes)
    if smallest < 3:
        raise ModelError(f"every category needs at least 3 examples (one has {smallest})")
    pipeline = build_pipeline().fit([normalise(t) for t in texts], labels)
    return {"format": MODEL_FORMAT, "categories": classes, "n": len(texts), "source": source,
            "sklearn": sklearn.__version__, "created_at": datetime.now(timezone.utc).isoformat(),
            "pipeline": pipeline}


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
        """The likeliest category and its calibrated probability."""
        pipeline = self.document["pipeline"]
        probabilities = pipeline.predict_proba([normalise(text)])[0]
        best = int(probabilities.argmax())
        return str(pipeline.classes_[best]), float(probabilities[best])

    def classify(self, text: str) -> str:
        return self.predict(text)[0]


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
    """Texts and labels from a CSV file; rows with an empty text or label are skipped."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in (text_column, label_column) if c not in (reader.fieldnames or [])]
        if missing:
            raise ModelError(f"{path} has no column {missing[0]!r}; it has {reader.fieldnames}")
        pairs = [(row[text_column], row[label_column]) for row in reader
                 if (row[text_column] or "").strip() and (row[label_column] or "").strip()]
    return [t for t, _ in pairs], [lab.strip() for _, lab in pairs]


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
