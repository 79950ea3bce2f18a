"""Topics: a small curated taxonomy scored per article from cue words (`extractors/data/topics.json`).

Each topic has cue words per language; an article gets the topic when its cues occur at least `min_hits`
times. Topics are article-level labels, so they carry no mentions (`Theme(kind="topic", mentions=[])`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import Theme


@lru_cache(maxsize=8)
def _patterns(lang: str) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    data = lx.load("topics")["topics"]
    out: list[tuple[str, str, re.Pattern[str]]] = []
    for key, row in data.items():
        cues = row.get(lang) or row["en"]
        words = sorted({fold(c) for c in cues}, key=len, reverse=True)
        out.append((key, row["label"], re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")")))
    return tuple(out)


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    return {fold(row["label"]): key for key, row in lx.load("topics")["topics"].items()}


def key_of(label: str) -> str:
    """The taxonomy key of a topic label ('Land' -> 'land'); an unknown label is its own key."""
    return _labels().get(fold(label), label)


def find_topics(text: str, lang: str) -> list[Theme]:
    """The taxonomy topics of one article, most cued first."""
    folded = fold(text)
    need = int(lx.load("topics")["min_hits"])
    scored: list[tuple[int, str]] = []
    for _key, label, pattern in _patterns(lang):
        hits = len(pattern.findall(folded))
        if hits >= need:
            scored.append((hits, label))
    scored.sort(key=lambda x: -x[0])
    return [Theme(text=label, text_en=label, kind="topic", mentions=[]) for _, label in scored]
