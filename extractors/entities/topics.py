"""Topics: a small curated taxonomy scored per article from cue words (`extractors/data/topics.json`).

Each topic has cue words per language; an article gets the topics whose cues occur at least `min_hits` times.
Optional knobs in the data, off by default (see its `_scoring`): a discount for cues repeated inside a body's
name, a share of the best topic's score, a cap on the number of topics. Vietnamese cues are whole syllables
matched with their diacritics when the text has them ('mỏ' is a mine, 'mở' is to open, 'một' is one); other
languages match on folded text and accept longer word endings. Topics are article-level labels without mentions.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import Theme

# A text "has diacritics" when this share of its characters is not ASCII (Vietnamese prose: about a quarter).
_MARKED_SHARE = 0.03
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _rules() -> dict[str, Any]:
    return lx.load("topics")


@lru_cache(maxsize=16)
def _patterns(lang: str, marked: bool) -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    data = _rules()["topics"]
    out: list[tuple[str, str, re.Pattern[str]]] = []
    for key, row in data.items():
        cues = row.get(lang) or row["en"]
        if lang == "vi":
            # Whole syllables; with diacritics when the text has them.
            words = sorted({c.lower() if marked else fold(c) for c in cues}, key=len, reverse=True)
            end = r"(?!\w)"
        else:
            words = sorted({fold(c) for c in cues}, key=len, reverse=True)
            end = ""
        out.append((key, row["label"], re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + ")" + end)))
    return tuple(out)


@lru_cache(maxsize=1)
def _sector_names() -> re.Pattern[str] | None:
    """Sector names of two or more words, folded ('tai nguyen va moi truong', 'agricultura y medio ambiente')."""
    heads = _rules().get("body_heads", {})
    phrases: set[str] = set()
    for row in lx.departments().values():
        for table in (row, row.get("ministry") or {}):
            for lang in lx.LANGUAGES:
                lang_heads = sorted((fold(h) for h in heads.get(lang, [])), key=len, reverse=True)
                for form in table.get(lang, []):
                    name = fold(form)
                    for head in lang_heads:
                        if name.startswith(head + " ") or (head.endswith("'") and name.startswith(head)):
                            name = name[len(head) :].strip()
                            break
                        if name.endswith(" " + head):
                            name = name[: -len(head)].strip()
                            break
                    if len(name.split()) >= 2:
                        phrases.add(name)
    if not phrases:
        return None
    alt = "|".join(re.escape(p) for p in sorted(phrases, key=len, reverse=True))
    return re.compile(r"(?<!\w)(?:" + alt + r")(?!\w)")


@lru_cache(maxsize=1)
def _labels() -> dict[str, str]:
    return {fold(row["label"]): key for key, row in _rules()["topics"].items()}


def key_of(label: str) -> str:
    """The taxonomy key of a topic label ('Land' -> 'land'); an unknown label is its own key."""
    return _labels().get(fold(label), label)


def _has_marks(text: str) -> bool:
    # Letters beyond ASCII stand for Vietnamese diacritics here (counted by the regex engine, not a Python loop).
    return len(_NON_ASCII.findall(text)) >= _MARKED_SHARE * len(text)


def topic_scores(text: str, lang: str, names: Sequence[tuple[int, int]] = ()) -> dict[str, float]:
    """Each topic's cue score in one text; cues inside `names` (character spans of bodies' names) weigh less."""
    folded = fold(text)
    lowered = text.lower()
    # Diacritic-exact matching needs offsets that agree with the folded text (lower() may change a length).
    marked = lang == "vi" and len(lowered) == len(text) and _has_marks(text)
    haystack = lowered if marked else folded
    weight = float(_rules().get("name_weight", 1.0))
    sectors = _sector_names() if weight != 1.0 else None
    if sectors is not None:
        names = [*names, *((m.start(), m.end()) for m in sectors.finditer(folded))]
    scores: dict[str, float] = {}
    for key, _label, pattern in _patterns(lang, marked):
        if not names or weight == 1.0:
            hits = len(pattern.findall(haystack))
            if hits:
                scores[key] = float(hits)
            continue
        score = 0.0
        seen: set[str] = set()
        for m in pattern.finditer(haystack):
            inside = any(a <= m.start() and m.end() <= b for a, b in names)
            # A body's name says once what the article deals with; repeating the name adds little.
            first = m.group() not in seen
            if inside:
                seen.add(m.group())
            score += weight if inside and not first else 1.0
        if score:
            scores[key] = score
    return scores


def find_topics(text: str, lang: str, names: Sequence[tuple[int, int]] = ()) -> list[Theme]:
    """The taxonomy topics of one article, most cued first (`names`: spans of bodies' names in `text`)."""
    rules = _rules()
    labels = {key: row["label"] for key, row in rules["topics"].items()}
    scores = topic_scores(text, lang, names)
    if not scores:
        return []
    best = max(scores.values())
    need = max(float(rules["min_hits"]), float(rules.get("min_share", 0.0)) * best)
    # Every article is about something: its best topic needs only `min_best` (one cue, even in a body's name).
    floor = float(rules.get("min_best", rules["min_hits"]))
    kept = sorted(((s, k) for k, s in scores.items() if s >= need or (s == best and s >= floor)), key=lambda x: -x[0])
    kept = kept[: int(rules.get("max_topics", len(kept)))]
    return [Theme(text=labels[k], text_en=labels[k], kind="topic", mentions=[]) for _, k in kept]
