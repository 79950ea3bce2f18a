"""Dates as received, and the one rule that gives a date without a timezone its zone.

Every entry point (HTML metadata, JSON inputs, feeds, sitemaps, PDF/DOCX metadata) reads its date strings
with `parse_date` (or `parse_iso` where only ISO 8601 is allowed) and keeps what it found, zone or not.
`with_zone` then decides, the same way everywhere:

* a value with an offset keeps it (never converted: the day a page states is the day it was published);
* a value without one gets the site's zone: +07:00 for a Vietnamese site (a `.vn` host, or a page in
  Vietnamese); elsewhere the offset the page's other dates carry, if any; else UTC. A note says so, and the
  pipeline puts it in the record's `pipeline.warnings`;
* a date alone is 00:00 of that day in that zone.

So a date never costs an article: at worst it is a few hours off, and the record says it was assumed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

VIETNAM = timezone(timedelta(hours=7))

__all__ = ["VIETNAM", "SiteZone", "as_aware", "parse_date", "parse_iso", "site_zone", "with_zone"]


@dataclass(frozen=True)
class SiteZone:
    """The zone a date without one is read in, and why (the warning says it)."""

    tz: tzinfo
    basis: str


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "//" in url else f"//{url}").hostname
    except ValueError:  # a bad IPv6 literal: no host to judge by
        return None
    return host.rstrip(".").lower() if host else None


def site_zone(url: str | None = None, language: str | None = None, hints: Iterable[datetime | None] = ()) -> SiteZone:
    """The zone of a site: Vietnamese (`url`'s host under .vn, or `language` vi) +07:00; else the most common
    offset among `hints` (the page's other dates that carry one); else UTC. `url` may also be a bare host."""
    host = _host(url)
    if host and (host == "vn" or host.endswith(".vn")):
        return SiteZone(VIETNAM, "Vietnamese site")
    if language and re.split(r"[-_]", language.strip().lower(), maxsplit=1)[0] == "vi":
        return SiteZone(VIETNAM, "in Vietnamese")
    offsets = Counter(h.utcoffset() for h in hints if isinstance(h, datetime) and h.utcoffset() is not None)
    if offsets:
        offset = offsets.most_common(1)[0][0]
        assert offset is not None  # filtered above; for the type checker
        return SiteZone(timezone(offset) if offset else UTC, "the offset of the page's other dates")
    return SiteZone(UTC, "no zone known for the site")


def _offset_text(tz: tzinfo) -> str:
    offset = datetime(2000, 1, 1, tzinfo=tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def with_zone(value: datetime | date, zone: SiteZone, what: str = "published date") -> tuple[datetime, str | None]:
    """`value` as an aware datetime, and the note to record when the zone (or the time) was assumed."""
    if isinstance(value, datetime):
        if value.utcoffset() is not None:
            return value, None
        note = f"{what} {value.isoformat()} has no timezone: read as {_offset_text(zone.tz)} ({zone.basis})"
        return value.replace(tzinfo=zone.tz), note
    note = f"{what} {value.isoformat()} has no time: read as 00:00 {_offset_text(zone.tz)} ({zone.basis})"
    return datetime.combine(value, time(0), tzinfo=zone.tz), note


def as_aware(value: datetime | date, zone: SiteZone) -> datetime:
    """`with_zone` without the note, for comparisons (is a feed entry newer than what is stored?)."""
    return with_zone(value, zone)[0]


# --- parsing -------------------------------------------------------------------------------------------

# ISO 8601 / W3C-DTF as pages really write it: "T" or a space, any fraction, "Z", "+07:00", "+0700", "+07", and
# sometimes a space before the offset ("2026-03-07T08:52:11.000 +07:00") or a trailing "UTC"/"GMT".
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]\s*(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
# PDF date strings (ISO 32000 7.9.4): D:YYYYMMDDHHmmSSOHH'mm', every part after the year optional.
_PDF = re.compile(
    r"D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:(Z)(?:00'?(?:00'?)?)?|([+-])(\d{2})'?(?:(\d{2})'?)?)?"
)
# Vietnamese pages: "07/03/2026 08:06", "07/03/2026 - 08:06", "08:06 07/03/2026" (day first).
_DMY = re.compile(r"(?:(\d{1,2})[:h](\d{2})\D{0,5})?(\d{1,2})/(\d{1,2})/(\d{4})(?:\D{1,5}(\d{1,2})[:h](\d{2}))?")


def _zone(sign: str, hours: str, minutes: str | None) -> tzinfo:
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset >= timedelta(hours=24):
        raise ValueError("offset out of range")
    return timezone(-offset if sign == "-" else offset) if offset else UTC


def _iso_zone(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    return _zone(text[0], digits[:2], digits[2:4] or None)


def parse_iso(value: str) -> datetime | date | None:
    """An ISO 8601 date or date-time (with or without an offset); a `date` when it has no time; None when
    `value` is not one (or names an impossible day)."""
    match = _ISO.fullmatch(value.strip())
    if match is None:
        try:  # forms the pattern leaves out (week dates, "20240105T1000"): Python's own reader
            return datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        if hour is None:
            if offset:  # "2024-03-05Z": a day in a zone is that day's start there
                return datetime(int(year), int(month), int(day), tzinfo=_iso_zone(offset))
            return date(int(year), int(month), int(day))
        micro = int((fraction or "0")[:6].ljust(6, "0"))
        return datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=_iso_zone(offset)
        )
    except ValueError:
        return None


def _parse_pdf(text: str) -> datetime | date | None:
    match = _PDF.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, zulu, sign, off_h, off_m = match.groups()
    try:
        tz = UTC if zulu else (_zone(sign, off_h, off_m) if sign else None)
        if hour is None and tz is None:
            return date(int(year), int(month or 1), int(day or 1))
        return datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz
        )
    except ValueError:
        return None


def _parse_dmy(text: str) -> datetime | date | None:
    match = _DMY.fullmatch(text)
    if match is None:
        return None
    hour_first, minute_first, day, month, year, hour, minute = match.groups()
    hour, minute = hour or hour_first, minute or minute_first
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute or 0))
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    if not re.search(r"[A-Za-z]{3}", text):  # RFC 822 names its month; anything else is not this format
        return None
    try:
        return parsedate_to_datetime(text)  # naive when the string has no zone (or "-0000")
    except (TypeError, ValueError, IndexError):
        return None


def parse_date(value: str | None) -> datetime | date | None:
    """A date as sites, feeds and documents write it: ISO 8601 / W3C-DTF, RFC 822 (RSS), PDF `D:` strings and
    day-first "dd/mm/yyyy [HH:MM]". Kept as found: naive when it has no zone, a `date` when it has no time.
    None when the text is none of these."""
    if not value:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    if text.startswith("D:"):
        return _parse_pdf(text)
    for parse in (parse_iso, _parse_dmy, _parse_rfc822):
        found = parse(text)
        if found is not None:
            return found
    return None
