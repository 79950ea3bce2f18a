"""Dates written the ways Vietnamese news and its editions write them."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import DateEntity, Mention

_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})[/.-](\d{1,2})[/.-]((?:19|20)\d{2})(?![\d/])")
_ISO = re.compile(r"(?<![\d-])((?:19|20)\d{2})-(\d{2})-(\d{2})(?![\d])")
_VI_FULL = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\s+nam\s+((?:19|20)\d{2})\b")
_VI_MONTH = re.compile(r"\bthang\s+(\d{1,2})\s*(?:/|nam)\s*((?:19|20)\d{2})\b")


@lru_cache(maxsize=8)
def _patterns(lang: str) -> list[tuple[re.Pattern[str], str]]:
    """Word-month and year patterns for one language, over folded text."""
    months = lx.lexicon()["months"]
    out: list[tuple[re.Pattern[str], str]] = []
    names = [fold(m) for m in months.get(lang, months["en"])]
    alt = "|".join(re.escape(n) for n in names)
    if lang == "en":
        out.append((re.compile(rf"\b({alt})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b"), "mdy"))
        out.append((re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({alt}),?\s+((?:19|20)\d{{2}})\b"), "dmy"))
        out.append((re.compile(rf"\b({alt}),?\s+((?:19|20)\d{{2}})\b"), "my"))
    elif lang in ("es", "fr"):
        de = r"\s+(?:de\s+)?" if lang == "es" else r"\s+"
        out.append((re.compile(rf"\b(\d{{1,2}})(?:er|º|o)?{de}({alt}){de}((?:19|20)\d{{2}})\b"), "dmy"))
        out.append((re.compile(rf"\b({alt}){de}((?:19|20)\d{{2}})\b"), "my"))
    cues = "|".join(re.escape(fold(c)) for c in lx.lexicon()["year_cues"].get(lang, []))
    if cues:
        out.append((re.compile(rf"\b(?:{cues})\s+((?:19|20)\d{{2}})\b"), "y"))
    return out


def _valid(y: int, m: int, d: int) -> bool:
    try:
        date(y, m, d)
    except ValueError:
        return False
    return True


def find_dates(text: str, lang: str) -> list[DateEntity]:
    """Dates with their granularity; the longest reading of overlapping matches wins."""
    folded = fold(text)
    cands: list[tuple[int, int, str, str]] = []  # start, end, value, granularity
    month_names = [fold(m) for m in lx.lexicon()["months"].get(lang, lx.lexicon()["months"]["en"])]
    for m in _NUMERIC.finditer(folded):
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid(y, mo, d):
            cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "day"))
    for m in _ISO.finditer(folded):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if _valid(y, mo, d):
            cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "day"))
    if lang == "vi":
        for m in _VI_FULL.finditer(folded):
            d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if _valid(y, mo, d):
                cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "day"))
        for m in _VI_MONTH.finditer(folded):
            mo, y = int(m.group(1)), int(m.group(2))
            if 1 <= mo <= 12:
                cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}", "month"))
    for pattern, order in _patterns(lang):
        for m in pattern.finditer(folded):
            g = m.groups()
            if order == "y":
                cands.append((m.start(1), m.end(), g[0], "year"))
                continue
            if order == "my":
                mo, y = month_names.index(g[0]) + 1, int(g[1])
                cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}", "month"))
                continue
            day, mon = (g[1], g[0]) if order == "mdy" else (g[0], g[1])
            mo, d, y = month_names.index(mon) + 1, int(day), int(g[2])
            if _valid(y, mo, d):
                cands.append((m.start(), m.end(), f"{y:04d}-{mo:02d}-{d:02d}", "day"))
    # Keep the longest non-overlapping readings ("5 de marzo de 2024" over "marzo de 2024").
    cands.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
    taken: list[tuple[int, int, str, str]] = []
    for c in cands:
        if all(c[1] <= t[0] or c[0] >= t[1] for t in taken):
            taken.append(c)
    by_value: dict[tuple[str, str], DateEntity] = {}
    for start, end, value, gran in sorted(taken):
        ent = by_value.setdefault((value, gran), DateEntity(value=value, granularity=gran, mentions=[]))  # type: ignore[arg-type]
        ent.mentions.append(Mention(text=text[start:end], start=start, end=end))
    return list(by_value.values())
