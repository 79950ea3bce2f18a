"""Topics: the one to three things an article is about, from a curated taxonomy (`extractors/data/topics.json`).

Each topic has cue words per language. A topic is scored by where its cues fall, not by how often they repeat:
per paragraph (a line; the first line is the headline, weighed `headline_weight`, the closing paragraph weighs
`closing_weight`) its first cue counts 1 and each further one `repeat_weight`, up to `paragraph_cap`. A cue inside
a body's name (a department or ministry) counts `name_weight`: a department's name alone does not make a topic.
An article keeps the topics that reach `min_score` and `min_share` of the best one's score, at most `max_topics`
(see `_scoring` in the data). Vietnamese cues are whole syllables matched with their diacritics when the text has
them ('mỏ' is a mine, 'mở' is to open); other languages match on folded text as whole words with a plural ending,
or as stems ('farm*'). Topics have no mentions.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import Theme

# A text "has diacritics" when this share of its characters is not ASCII (Vietnamese prose: about a quarter).
_MARKED_SHARE = 0.03
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_WORD = re.compile(r"\w+")
# Sentence ends, to split a long article that came as one line (no headline, no paragraphs).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)]*\s+")
# Vietnamese writes the tone of 'oa', 'oe', 'uy' ending a syllable on either vowel ('hóa'/'hoá', 'thủy'/'thuỷ').
_TONES = "\u0300\u0301\u0303\u0309\u0323"
_TONE_PAIR = re.compile(rf"(?<!q)([ou])([{_TONES}]?)([aey])([{_TONES}]?)(?![\w{_TONES}\u0302\u0306\u031b])")


def _rules() -> dict[str, Any]:
    return lx.load("topics")


@lru_cache(maxsize=65536)
def _toned(word: str) -> str:
    """A Vietnamese syllable with a final 'oa'/'oe'/'uy' toned on its first vowel ('hoá' -> 'hóa')."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFD", word)

    def moved(m: re.Match[str]) -> str:
        return m.group(1) + m.group(4) + m.group(3) if m.group(4) and not m.group(2) else m.group(0)

    return unicodedata.normalize("NFC", _TONE_PAIR.sub(moved, decomposed))


class _Cues:
    """The cues of one language as words: single words (with their plurals), stems, and phrases by first word."""

    def __init__(self, lang: str, marked: bool) -> None:
        single: dict[str, set[str]] = {}
        stems: dict[str, set[str]] = {}
        phrases: dict[tuple[str, ...], tuple[bool, set[str]]] = {}
        for key, row in _rules()["topics"].items():
            for cue in row.get(lang) or row["en"]:
                stem = cue.endswith("*")
                form = cue.rstrip("*").lower() if lang == "vi" and marked else fold(cue.rstrip("*"))
                words = tuple(_toned(w) for w in _WORD.findall(form)) if marked else tuple(_WORD.findall(form))
                # Folded, one Vietnamese syllable is many words ('mo': mỏ, mô, mở): only longer cues are safe.
                if not words or (lang == "vi" and not marked and len(words) < 2):
                    continue
                if len(words) > 1:
                    phrases.setdefault(words, (stem, set()))[1].add(key)
                elif stem:
                    stems.setdefault(words[0], set()).add(key)
                else:
                    for w in self._forms(words[0], lang):
                        single.setdefault(w, set()).add(key)
        self.single = {w: tuple(sorted(k)) for w, k in single.items()}
        self.stems = {w: tuple(sorted(k)) for w, k in stems.items()}
        self.stem_lengths = sorted({len(w) for w in stems}, reverse=True)
        self.stem_heads = frozenset(w[:3] for w in stems)
        by_first: dict[str, list[tuple[tuple[str, ...], frozenset[str], str, tuple[str, ...]]]] = {}
        for words, (stem, keys) in phrases.items():
            last = frozenset() if stem else frozenset(self._forms(words[-1], lang))
            by_first.setdefault(words[0], []).append(
                (words[1:-1], last, words[-1] if stem else "", tuple(sorted(keys)))
            )
        # The longest phrase first: 'rừng ngập mặn' (mangrove forest) before 'ngập' ... 'mặn' (salinity).
        self.phrases = {w: sorted(rows, key=lambda r: -len(r[0])) for w, rows in by_first.items()}

    @staticmethod
    def _forms(word: str, lang: str) -> tuple[str, ...]:
        return (word,) if lang == "vi" else (word, word + "s", word + "es", word + "x")

    def _stem(self, word: str) -> tuple[str, ...]:
        if word[:3] not in self.stem_heads:
            return ()
        for n in self.stem_lengths:
            if n <= len(word) and word[:n] in self.stems:
                return self.stems[word[:n]]
        return ()

    def _phrase(self, words: list[str], gaps: list[bool], i: int) -> tuple[int, tuple[str, ...]]:
        """The longest phrase at word `i` as (number of words, topics), or (0, ()): its words on one line."""
        n = len(words)
        for middle, last, stem, topics in self.phrases.get(words[i], ()):
            j = i + len(middle) + 1
            if j >= n or any(gaps[i:j]):
                continue
            if all(words[i + 1 + k] == m for k, m in enumerate(middle)) and (
                words[j].startswith(stem) if stem else words[j] in last
            ):
                return j - i + 1, topics
        return 0, ()

    def scan(self, haystack: str, marked: bool) -> list[tuple[int, int, tuple[str, ...]]]:
        """Each cue found as (start, end, topics), the longest cue at a word first."""
        spans = [m.span() for m in _WORD.finditer(haystack)]
        words = [haystack[a:b] for a, b in spans]
        if marked:
            words = [_toned(w) for w in words]
        # gaps[k]: a line break between word k and the next one (a phrase does not cross it).
        gaps = [("\n" in haystack[spans[k][1] : spans[k + 1][0]]) for k in range(len(spans) - 1)] + [True]
        found: list[tuple[int, int, tuple[str, ...]]] = []
        i, n = 0, len(words)
        while i < n:
            size, keys = self._phrase(words, gaps, i)
            k = i + 1
            # Phrases of one topic that overlap are one cue: 'trồng rừng' + 'rừng ngập mặn' (not 'mặn', salinity).
            while size and k < i + size:
                more, same = self._phrase(words, gaps, k)
                if same == keys and k + more > i + size:
                    size = k + more - i
                k += 1
            if not size:
                size, keys = 1, self.single.get(words[i]) or self._stem(words[i])
            if keys:
                found.append((spans[i][0], spans[i + size - 1][1], keys))
            i += size
        return found


@lru_cache(maxsize=16)
def _cues(lang: str, marked: bool) -> _Cues:
    return _Cues(lang, marked)


@lru_cache(maxsize=1)
def _sector_names() -> re.Pattern[str] | None:
    """Sector names of three or more words, folded ('tai nguyen va moi truong', 'agricultura y medio ambiente').

    Shorter ones ('y te', 'du lich') are the sector's own word: only a name the engine found makes them a name.
    """
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
                    if len(name.split()) >= 3:
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


def _paragraph_starts(text: str, split_chars: int) -> list[int]:
    """Where each paragraph starts: its lines; a long text on one line is split into sentences."""
    starts = [m.start() for m in re.finditer(r"^[ \t]*\S", text, re.M)]
    if len(starts) == 1 and len(text) > split_chars:
        starts += [m.end() for m in _SENTENCE_END.finditer(text) if m.end() < len(text)]
    return starts or [0]


def _closing(text: str, paragraphs: list[int], min_words: int) -> int | None:
    """The closing paragraph: the last one of `min_words` words or more (not a byline), when the body has two."""
    ends = [*paragraphs[1:], len(text)]
    body = [i for i in range(1, len(paragraphs)) if len(text[paragraphs[i] : ends[i]].split()) >= min_words]
    return body[-1] if len(body) >= 2 else None


def _merged(spans: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Overlapping spans merged, as sorted starts and their ends (for a bisect)."""
    starts: list[int] = []
    ends: list[int] = []
    for a, b in sorted(spans):
        if starts and a <= ends[-1]:
            ends[-1] = max(ends[-1], b)
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


def _scored(text: str, lang: str, names: Sequence[tuple[int, int]]) -> tuple[dict[str, float], dict[str, int]]:
    """Each cued topic's score and the offset of its first cue."""
    rules = _rules()
    folded = fold(text)
    lowered = text.lower()
    # Diacritic-exact matching needs offsets that agree with the folded text (lower() may change a length).
    marked = lang == "vi" and len(lowered) == len(text) and _has_marks(text)
    cues = _cues(lang, marked)
    name_weight = float(rules["name_weight"])
    sectors = _sector_names() if name_weight != 1.0 else None
    spans = list(names)
    if sectors is not None:
        spans += [(m.start(), m.end()) for m in sectors.finditer(folded)]
    name_starts, name_ends = _merged(spans)
    paragraphs = _paragraph_starts(text, int(rules["sentence_split_chars"]))
    # (topic, paragraph) -> [cues outside names, cues inside names]
    hits: dict[tuple[str, int], list[int]] = {}
    first: dict[str, int] = {}
    for start, end, keys in cues.scan(lowered if marked else folded, marked):
        i = bisect_right(name_starts, start) - 1
        inside = i >= 0 and end <= name_ends[i]
        para = bisect_right(paragraphs, start) - 1
        for key in keys:
            hits.setdefault((key, para), [0, 0])[inside] += 1
            first.setdefault(key, start)
    repeat, cap = float(rules["repeat_weight"]), float(rules["paragraph_cap"])
    weights = [1.0] * len(paragraphs)
    weights[0] = float(rules["headline_weight"])
    closing = _closing(text, paragraphs, int(rules["closing_min_words"]))
    if closing is not None:
        weights[closing] = float(rules["closing_weight"])
    scores: dict[str, float] = {}
    for (key, para), (out, named) in hits.items():
        weight = out + name_weight * named
        # A paragraph says a topic once; repeating it there adds less than another paragraph saying it.
        part = min(cap, 1.0 + repeat * (weight - 1.0)) if out else min(cap, weight)
        scores[key] = scores.get(key, 0.0) + part * weights[max(para, 0)]
    # Rounded: 1 + 0.5 must reach a threshold of 1.5 whatever the float arithmetic.
    return {k: round(v, 6) for k, v in scores.items() if v > 0}, first


def topic_scores(text: str, lang: str, names: Sequence[tuple[int, int]] = ()) -> dict[str, float]:
    """Each topic's score in one text; cues inside `names` (character spans of bodies' names) weigh less."""
    return _scored(text, lang, names)[0]


def find_topics(text: str, lang: str, names: Sequence[tuple[int, int]] = ()) -> list[Theme]:
    """The taxonomy topics of one article, the most present first (`names`: spans of bodies' names in `text`)."""
    rules = _rules()
    scores, first = _scored(text, lang, names)
    if not scores:
        return []
    # A passing mention is no topic, nor a minor one beside a topic that runs through the whole article.
    need = max(float(rules["min_score"]), float(rules["min_share"]) * max(scores.values()))
    kept = [k for k, s in scores.items() if s >= need]
    kept.sort(key=lambda k: (-scores[k], first[k]))
    labels = {key: row["label"] for key, row in rules["topics"].items()}
    return [
        Theme(text=labels[k], text_en=labels[k], kind="topic", mentions=[]) for k in kept[: int(rules["max_topics"])]
    ]
