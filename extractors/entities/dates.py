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
# A day and month without a year, as Vietnamese news dates what happened ("Sáng 10-2, …", "Ngày 14/3, tại …",
# "chiều thứ Hai, ngày 5/3", "ngày 10 tháng 2"): only after a word of the day, so "tỷ lệ 3/4" is no date.
_VI_DAY_MONTH = re.compile(
    r"\b(?:ngay|sang|chieu|toi|trua|dem|hom|rang sang)(?:\s+nay)?\s+(?:(?:thu\s+\w+|chu nhat)\s*,?\s*(?:\(\s*)?"
    r"(?:ngay\s+)?)?(\d{1,2})[/-](\d{1,2})(?![\d/.-]|\s*[/-]\s*\d)"
)
_VI_DAY_MONTH_WORDS = re.compile(r"\bngay\s+(\d{1,2})\s+thang\s+(\d{1,2})\b(?!\s*(?:nam|/|,\s*nam)\s*\d)")
# Languages that write the day before the month's name ("5 de marzo de 2024", "5. März 2024", "5 marca 2024").
_DAY_MONTH_LANGS = ("es", "fr", "de", "pt", "it", "pl", "id")
_AHEAD = 45  # days a year-less date may lie after the article's date before it is read as last year's


@lru_cache(maxsize=8)
def _patterns(lang: str) -> list[tuple[re.Pattern[str], str]]:
    """Word-month and year patterns for one language, over folded text."""
    out: list[tuple[re.Pattern[str], str]] = []
    names = _month_names(lang)
    alt = "|".join(re.escape(n) for n in names)
    if lang == "en":
        out.append((re.compile(rf"\b({alt})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{{2}})\b"), "mdy"))
        out.append((re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({alt}),?\s+((?:19|20)\d{{2}})\b"), "dmy"))
        out.append((re.compile(rf"\b({alt}),?\s+((?:19|20)\d{{2}})\b"), "my"))
    elif lang in _DAY_MONTH_LANGS:
        de = _day_month_joiner(lang)
        out.append((re.compile(rf"\b(\d{{1,2}})(?:er|º|o|\.)?{de}({alt}){de}((?:19|20)\d{{2}})\b"), "dmy"))
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


def _year_less(folded: str, text: str, lang: str) -> list[tuple[int, int, int, int]]:
    """Days written without a year: (start, end, month, day)."""
    out: list[tuple[int, int, int, int]] = []
    if lang == "vi":
        for pattern in (_VI_DAY_MONTH, _VI_DAY_MONTH_WORDS):
            out += [(m.start(1), m.end(), int(m.group(2)), int(m.group(1))) for m in pattern.finditer(folded)]
        return out
    worded = _year_less_pattern(lang)
    if worded is None:
        return out
    names = _month_names(lang)
    for m in worded.finditer(folded):
        if lang != "en":
            out.append((m.start(), m.end(), names.index(m.group(2)) + 1, int(m.group(1))))
        elif text[m.start()].isupper():  # "May 5", not "may 5 …"
            out.append((m.start(), m.end(), names.index(m.group(1)) + 1, int(m.group(2))))
    return out


def _month_names(lang: str) -> list[str]:
    return [fold(m) for m in lx.lexicon()["months"].get(lang, lx.lexicon()["months"]["en"])]


def _day_month_joiner(lang: str) -> str:
    """What stands between a day, its month's name and the year: "5 de marzo de 2024", "5 marzo 2024"."""
    return r"\s+(?:de\s+)?" if lang in ("es", "pt") else r"\s+"


@lru_cache(maxsize=16)
def _year_less_pattern(lang: str) -> re.Pattern[str] | None:
    """A day and its month's name with no year after them: "March 5" (en), "5 de marzo", "5. März", "5 marca"."""
    alt = "|".join(re.escape(n) for n in _month_names(lang))
    no_year = r"(?!,?\s+(?:de\s+|of\s+)?(?:19|20)\d{2})"
    if lang == "en":
        return re.compile(rf"\b({alt})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b{no_year}")
    if lang in _DAY_MONTH_LANGS:
        return re.compile(rf"\b(\d{{1,2}})(?:er|º|o|\.)?{_day_month_joiner(lang)}({alt})\b{no_year}")
    return None


def find_dates(text: str, lang: str, published: date | None = None) -> list[DateEntity]:
    """Dates with their granularity; the longest reading of overlapping matches wins.

    A day written without a year ("Sáng 10-2", "el 5 de marzo") takes the year of the article's date (`published`),
    else of the latest full date or year the text names; a day more than a few weeks after the article's date is
    last year's ("ngày 28/12" in a report of 3 January). Without either, it is left out.
    """
    folded = fold(text)
    cands = _full_dates(folded, lang)
    anchor, is_published = (published, True) if published is not None else (_latest(cands), False)
    if anchor is not None:
        for start, end, mo, d in _year_less(folded, text, lang):
            y = anchor.year
            if is_published and _valid(y, mo, d) and (date(y, mo, d) - anchor).days > _AHEAD:
                y -= 1
            if _valid(y, mo, d):
                cands.append((start, end, f"{y:04d}-{mo:02d}-{d:02d}", "day"))
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


def _latest(cands: list[tuple[int, int, str, str]]) -> date | None:
    """The latest full date the text names, else the latest year it names (as its 30 June)."""
    days = [date.fromisoformat(v) for _, _, v, g in cands if g == "day"]
    if days:
        return max(days)
    years = [int(v[:4]) for _, _, v, _ in cands]
    return date(max(years), 6, 30) if years else None


def _full_dates(folded: str, lang: str) -> list[tuple[int, int, str, str]]:
    """Dates written with their year: (start, end, value, granularity)."""
    cands: list[tuple[int, int, str, str]] = []  # start, end, value, granularity
    month_names = _month_names(lang)
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
    return cands
