"""Themes and slogans: quoted text introduced by a cue phrase ('với chủ đề “…”', 'con el tema: “…”')."""

from __future__ import annotations

import re
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import Mention, Theme

# Opening quote -> the closing quotes that may end it (typographic pairs, and the loose pairs MT produces).
QUOTES: dict[str, str] = {"“": "”“\"", "«": "»", "„": "“”", '"': '"”', "‘": "’", "”": "”"}
_MAX_LEAD = 40  # characters between the cue and the opening quote ("chủ đề thi đua năm 2024 là “")
_MAX_LEN = 300


def _single_open(lead: str, i: int) -> bool:
    """A straight single quote opens a theme only after a space and before a letter (not "province's")."""
    return lead[i] == "'" and (i == 0 or lead[i - 1] in " :") and lead[i + 1 : i + 2].isalpha()


@lru_cache(maxsize=8)
def _cue_pattern(lang: str) -> re.Pattern[str]:
    cues = lx.lexicon()["theme_cues"]
    words = sorted({fold(c) for c in cues.get(lang, []) + cues["vi"] + cues["en"]}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def find_themes(text: str, lang: str) -> list[Theme]:
    """Quoted themes after a cue phrase, in text order, one per distinct wording."""
    folded = fold(text)
    out: dict[str, Theme] = {}
    last_end = -1
    for cue in _cue_pattern(lang).finditer(folded):
        if cue.start() < last_end:
            continue
        lead = text[cue.end() : cue.end() + _MAX_LEAD]
        pos = next((i for i, ch in enumerate(lead) if ch in QUOTES or _single_open(lead, i)), None)
        if pos is None or any(ch in ".;!?\n" for ch in lead[:pos]):
            continue
        open_at = cue.end() + pos
        if text[open_at] == "'":
            close_at = next((i for i in range(open_at + 1, min(len(text), open_at + 1 + _MAX_LEN))
                             if text[i] == "'" and not text[i + 1 : i + 2].isalpha()), None)  # fmt: skip
        else:
            closers = QUOTES[text[open_at]]
            close_at = next(
                (i for i in range(open_at + 1, min(len(text), open_at + 1 + _MAX_LEN)) if text[i] in closers), None
            )
        if close_at is None:
            continue
        start, end = open_at + 1, close_at
        inner = text[start:end]
        stripped = inner.strip(" \t.,")
        if len(stripped) < 3 or "\n" in inner:
            continue
        start += inner.index(stripped)
        end = start + len(stripped)
        last_end = close_at
        key = fold(stripped)
        theme = out.setdefault(key, Theme(text=stripped, text_en=stripped if lang == "en" else None,
                                          kind="slogan", mentions=[]))  # fmt: skip
        theme.mentions.append(Mention(text=stripped, start=start, end=end))
    return list(out.values())
