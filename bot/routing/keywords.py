"""Keyword suggestions for the rules: the words that most set each category apart in the
labelled history (or a labelled CSV), for an operator to copy into org.yaml."""
from __future__ import annotations

import math
from collections import Counter

from ..classifier import normalise, tokenise

STOP_WORDS = frozenset("我们 你们 他们 这个 那个 什么 怎么 为什么 没有 一个 可以 已经 现在 问题 领导 请问 "
                       "您好 你好 谢谢 希望 是否 能否 如何 相关 情况 反映 要求 处理 解决 部门 尽快".split())


def suggest(texts: list[str], labels: list[str], top: int = 10, min_count: int = 3) -> dict[str, list[str]]:
    """Per category, the `top` words (2+ characters, in at least `min_count` of its texts) with the
    highest smoothed log-odds of the category against all others; words mostly seen elsewhere are left out."""
    word_sets = [{w for w in words if len(w) >= 2 and not w.isascii() and w not in STOP_WORDS}
                 for words in tokenise([normalise(t) for t in texts])]
    total = len(texts)
    in_all = Counter(w for words in word_sets for w in words)
    suggestions = {}
    for category in sorted(set(labels)):
        mine = [words for words, label in zip(word_sets, labels) if label == category]
        size = len(mine)
        in_mine = Counter(w for words in mine for w in words)
        scored = []
        for word, n in in_mine.items():
            elsewhere = in_all[word] - n
            if n < min_count or n <= elsewhere:      # a rule fires first-match: it must mostly be right
                continue
            odds = math.log((n + 0.5) / (size - n + 0.5)) - math.log(
                (elsewhere + 0.5) / (total - size - elsewhere + 0.5))
            scored.append((odds * math.log(1 + n), word))
        suggestions[category] = [w for _, w in sorted(scored, reverse=True)[:top]]
    return suggestions
