"""Reading short answers: one normalisation, one synonyms table per answer kind (bot/texts.py)."""
from __future__ import annotations

import re
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
    """满意 / 五星 / ５ / 很差 / 还行吧 / 一般般 … as the rating code: satisfied, basic or unsatisfied."""
    said = normalise(raw)
    for form in (said, said.lower(), said.rstrip(texts.TRAILING_PARTICLES)):
        code = texts.RATING_WORDS.get(form)
        if code:
            return code
    return None


def is_ack(raw) -> bool:
    """好的 / 嗯 / 收到 / 知道了 / 谢谢 …: the resident heard, and asks nothing."""
    said = normalise(raw)
    return is_thanks(said) or said.lower() in texts.ACK_WORDS \
        or said.rstrip(texts.TRAILING_PARTICLES) in texts.ACK_WORDS


_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+")
_VOWELS = set("aeiouAEIOU")


def looks_like_words(raw) -> bool:
    """Whether a description reads as words, not keyboard mash ("asdfgh", "啊啊啊啊", "111111").

    Chinese needs at least two different characters; text without Chinese needs a few words
    with vowels (a resident writing in pinyin or English), not one run of letters or digits.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    han = _HAN.findall(text)
    if len(han) >= 2:
        return len(set(han)) >= 2
    latin = [w for w in _LATIN_WORD.findall(text) if len(w) > 1]
    voiced = [w for w in latin if _VOWELS & set(w) and len(set(w.lower())) > 1]
    return len(voiced) >= 3 or (bool(han) and len(voiced) >= 1)


def is_answer_word(raw) -> bool:
    """Whether the words are a stock answer (yes/no/skip/done/rating), not a description."""
    return any(check(raw) for check in (is_yes, is_no, is_skip, is_done, is_cancel, is_back,
                                        is_help)) or rating_code(raw) is not None
