"""Safety advice for urgent problems (gas, fire, electric shock, a person in danger).

Which words call for which advice comes from config (safety.words); the advice itself is in
bot/texts.py (SAFETY_ADVICE) unless config safety.advice gives another text for a kind.
"""
from __future__ import annotations

from bot import texts


def kinds_in(cfg: dict, text: str) -> list[tuple[str, str]]:
    """(kind, advice) for each kind of danger the text mentions, in config order, each advice once."""
    rules = cfg.get("safety") or {}
    overrides = rules.get("advice") or {}
    found: list[tuple[str, str]] = []
    for kind, kind_words in (rules.get("words") or {}).items():
        if any(w and w in (text or "") for w in kind_words or ()):
            advice = overrides.get(kind) or texts.SAFETY_ADVICE.get(kind)
            if advice and advice not in [a for _, a in found]:
                found.append((kind, advice))
    return found


def advice_for(cfg: dict, text: str) -> list[str]:
    """The advice for each kind of danger the text mentions, in config order, each once."""
    return [advice for _, advice in kinds_in(cfg, text)]


def advise_once(cfg: dict, data: dict, text: str) -> list[str]:
    """Advice for dangers in `text` not yet given in this conversation (remembered in `data`)."""
    given = data.setdefault("advised", [])
    fresh = [(kind, advice) for kind, advice in kinds_in(cfg, text) if kind not in given]
    given.extend(kind for kind, _ in fresh)
    return [advice for _, advice in fresh]


def check(cfg: dict) -> str | None:
    """A start-up error naming the key and the fix, or None."""
    rules = cfg.get("safety")
    if not isinstance(rules, dict) or not isinstance(rules.get("words", {}), dict) \
            or not isinstance(rules.get("advice", {}) or {}, dict):
        return "safety must be a mapping with words: {kind: [words]} and advice: {kind: text}"
    for kind, kind_words in rules["words"].items():
        if not isinstance(kind_words, list) or not all(isinstance(w, str) and w for w in kind_words):
            return f"safety.words.{kind} must be a list of words"
        if not (rules.get("advice") or {}).get(kind) and kind not in texts.SAFETY_ADVICE:
            return (f"safety.words.{kind} has no advice: add safety.advice.{kind} with the text to send, "
                    f"or use one of {', '.join(texts.SAFETY_ADVICE)}")
    return None
