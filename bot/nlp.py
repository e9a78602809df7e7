"""Reading residents' text: category, urgency, similarity, sentiment.

Web workers stay lean: the keyword classifier and character n-gram similarity need no
model. snownlp (about 400 MB at import) is loaded only by the scheduler/worker that
scores sentiment after a ticket exists.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Protocol

OTHER = "其他"
# Greetings and thanks make snownlp read a complaint as positive: score the other clauses.
CLAUSES = re.compile(r"[，。！？；：,.!?;:\n\r]+")
POLITE = re.compile(r"尊敬|您好|你好|领导好|谢谢|感谢|多谢|辛苦|麻烦|百忙|打扰|此致|敬礼")
STOP_CHARS = set("的了是在我们你他她它和与及或也就都而且但吗呢吧啊呀哦嗯，。！？、；：“”‘’（）()《》,.!?;: \n\t")


class Classifier(Protocol):
    """Guesses a message's category; a trained model can replace the keyword rules."""

    def classify(self, text: str) -> str: ...


class KeywordClassifier:
    """The seed's rules: categories in order, the first whose keyword appears wins."""

    def __init__(self, categories: list[tuple[str, list[str]]]):
        self.categories = categories

    def classify(self, text: str) -> str:
        for name, keywords in self.categories:
            if any(word and word in text for word in keywords):
                return name
        return OTHER


def is_meaningful(text: str) -> bool:
    """Whether text has any letters, digits or Chinese characters (not only emoji/punctuation)."""
    return any(unicodedata.category(ch)[0] in ("L", "N") for ch in text)


def words_in(text: str, words) -> list[str]:
    """The configured words (urgent, angry …) that the text contains."""
    return [w for w in words if w in text]


def _grams(text: str) -> set[str]:
    chars = [c for c in text.lower() if c not in STOP_CHARS]
    if len(chars) < 2:
        return set(chars)
    return {a + b for a, b in zip(chars, chars[1:])}


def similarity(a: str, b: str) -> float:
    """Overlap of character bigrams (stop characters removed), 0…1."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


def similarities(text: str, others) -> list[float]:
    """similarity(text, other) for each of the others, the text's bigrams taken once (#19)."""
    ga = _grams(text)
    out = []
    for other in others:
        gb = _grams(other)
        out.append(len(ga & gb) / min(len(ga), len(gb)) if ga and gb else 0.0)
    return out


def complaint_part(text: str) -> str:
    """The text without its polite clauses (greetings, thanks), or the text if nothing else is left."""
    kept = [c.strip() for c in CLAUSES.split(text or "") if c.strip() and not POLITE.search(c)]
    return "，".join(kept) or text


def sentiment(text: str) -> float:
    """Positive probability 0…1 of the complaint part (snownlp; imported here, on demand)."""
    from snownlp import SnowNLP

    return float(SnowNLP(complaint_part(text)).sentiments)

