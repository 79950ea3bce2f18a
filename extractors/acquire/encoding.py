"""Bytes -> text for fetched pages: declared, sniffed and wrong-declared charsets, then mojibake repair.

Order (the first that decodes strictly wins):

1. a byte-order mark;
2. the charset the HTTP header declares, except that a single-byte declaration (ISO-8859-1, Windows-1252,
   ASCII: the usual server default) loses to UTF-8 when the bytes are valid UTF-8 with non-ASCII in them;
3. the charset the document declares (`<meta charset>`, `<meta http-equiv>`, `<?xml encoding?>`);
4. UTF-8, then Windows-1258 (Vietnamese) when nothing is declared or the declaration is wrong.

Windows-1258 writes tones as combining marks, so the text is NFC-normalised afterwards; finally UTF-8 that
was decoded as Windows-1252/Latin-1 somewhere upstream (in the page itself) is repaired when detectable.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from extractors.textclean import repair_mojibake

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""")
_SINGLE_BYTE_DEFAULTS = {"latin-1", "iso8859-1", "cp1252", "ascii"}


class DecodeError(ValueError):
    """The bytes are text in no encoding we could establish."""


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    note: str | None = None  # e.g. "declared iso-8859-1 but the body is UTF-8"


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _try(data: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def sniff_declared(data: bytes) -> str | None:
    """The charset the document itself declares in its first 4 KiB, if any."""
    head = data[:4096]
    match = _XML_ENCODING.match(head.lstrip()) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii", "replace") if match else None


def decode_body(data: bytes, declared: str | None = None) -> Decoded:
    """Decode a response body; see the module docstring for the order. Raises DecodeError."""
    if b"\x00" in data[:8192] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise DecodeError("binary content (NUL bytes), not text")
    text: str | None = None
    encoding = ""
    note: str | None = None
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text, encoding = _try(data, codec), codec
            break
    header = _codec(declared)
    if text is None and header:
        if header in _SINGLE_BYTE_DEFAULTS and re.search(rb"[\x80-\xff]", data) and _try(data, "utf-8"):
            text, encoding, note = data.decode("utf-8"), "utf-8", f"declared {declared} but the body is UTF-8"
        else:
            text, encoding = _try(data, header), header
            if text is None:
                note = f"declared {declared} but the body does not decode as {header}"
    if text is None:
        inner = _codec(sniff_declared(data))
        text, encoding = _try(data, inner), inner or ""
    for codec in ("utf-8", "cp1258"):
        if text is None:
            text, encoding = _try(data, codec), codec
    if text is None:
        raise DecodeError("not decodable as the declared charset, UTF-8 or Windows-1258")
    text = unicodedata.normalize("NFC", text)
    text, repaired = repair_mojibake(text)
    if repaired:
        note = (note + "; " if note else "") + "mojibake (UTF-8 read as Windows-1252) repaired"
    return Decoded(text=text, encoding=encoding, note=note)
