"""Reading short answers: one normalisation, one synonyms table per answer kind (bot/texts.py)."""
from __future__ import annotations

import unicodedata

from bot import texts

_TRAILING = " \t\r\n。.!！~～、,，…"


def normalise(raw: str | None) -> str:
    """What a person typed, comparable with the tables: half-width, no trailing punctuation."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    return text.strip(_TRAILING).strip()


def _in(raw, table) -> bool:
    said = normalise(raw)
    return said in table or said.lower() in table


def is_yes(raw) -> bool:
    """好的 / 嗯 / 对 / 是的 / 可以 / 确认 …"""
    return _in(raw, texts.YES_WORDS)


def is_no(raw) -> bool:
    """不 / 不是 / 不要 …"""
    return _in(raw, texts.NO_WORDS)


def is_skip(raw) -> bool:
    """跳过 / 没有 / 没有照片 / 不用 …"""
    return _in(raw, texts.SKIP_WORDS)


def is_done(raw) -> bool:
    """完成 / 好了 / 就这些 …"""
    return _in(raw, texts.DONE_WORDS)


def is_cancel(raw) -> bool:
    return _in(raw, texts.CANCEL_WORDS)


def is_back(raw) -> bool:
    return _in(raw, texts.BACK_WORDS)


def is_help(raw) -> bool:
    return _in(raw, texts.HELP_WORDS)


def is_greeting(raw) -> bool:
    """你好 / 在吗 …"""
    return _in(raw, texts.GREETING_WORDS)


def is_thanks(raw) -> bool:
    """谢谢 / 辛苦了 …"""
    return _in(raw, texts.THANKS_WORDS)


def rating_code(raw) -> str | None:
    """满意 / 五星 / ５ / 很差 … as the rating code: satisfied, basic or unsatisfied."""
    said = normalise(raw)
    return texts.RATING_WORDS.get(said) or texts.RATING_WORDS.get(said.lower())


def is_answer_word(raw) -> bool:
    """Whether the words are a stock answer (yes/no/skip/done/rating), not a description."""
    return any(check(raw) for check in (is_yes, is_no, is_skip, is_done, is_cancel, is_back,
                                        is_help)) or rating_code(raw) is not None
