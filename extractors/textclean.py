"""Cleaning a main text: the page furniture that survives extraction, and the byline at the end."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractors.text import fold

# Lines that close an article on the portals' editions: a source line and a comment counter
# ("Source", "Fuente", "Nguồn", "Comment (0)", "Kommentar (0)", "Комментарий (0)").
_TRAILER = re.compile(
    r"^(?:source|fuente|nguon|quelle|источник|स्रोत|(?:comment|kommentar|commentaire|comentario|"
    r"комментарий|टिप्पणी|binh luan)s?\s*\(\d+\)|(?:source|fuente|nguon)\s*:?\s*https?://\S+)$",
    re.IGNORECASE,
)
_BYLINE = re.compile(r"^(?:(?:by|por|par|theo)\s+)?([^\W\d_]+(?:[ -][^\W\d_]+){0,3})$", re.IGNORECASE)
_VI_DATE_GLUE = re.compile(r"^(.{3,80}?)\1\d{1,2}/\d{1,2}/\d{4}$")  # "Báo Yên BáiBáo Yên Bái16/05/2023"


@dataclass
class Cleaned:
    text: str
    authors: list[str] = field(default_factory=list)


def clean_main_text(text: str, title: str | None = None) -> Cleaned:
    """Drop trailing source/comment lines, a repeated title and a glued 'PaperPaper05/03/2024' line;
    move a final byline ('Thanh My', 'By Minh Anh') to `authors`."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or _TRAILER.match(fold(lines[-1].strip()))):
        lines.pop()
    authors: list[str] = []
    if len(lines) > 1:
        last = lines[-1].strip()
        m = _BYLINE.match(last)
        words = last.split()
        if m and 1 <= len(words) <= 5 and all(w[:1].isupper() for w in m.group(1).split()):
            authors.append(m.group(1))
            lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if title and lines and fold(lines[0].strip()) == fold(title.strip()):
        lines.pop(0)
    while lines and (not lines[0].strip() or _VI_DATE_GLUE.match(lines[0].strip())):
        lines.pop(0)
    return Cleaned(text="\n".join(lines).strip(), authors=authors)


# A UTF-8 lead byte read as Windows-1252/Latin-1 ('Ã', 'á', 'Æ', ...) followed by a continuation byte read
# the same way: the signature of UTF-8 decoded with the wrong single-byte codec ("Tiá»n Giang").
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)


def _as_single_bytes(text: str) -> bytes | None:
    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1252")
        except UnicodeEncodeError:
            if ord(char) > 0xFF:
                return None
            out.append(ord(char))  # bytes cp1252 leaves undefined come through Latin-1 as C1 controls
    return bytes(out)


_SEPARATORS = " \t\n\r<>"  # ASCII whitespace only: NBSP is a UTF-8 continuation byte here
_SEPARATOR = re.compile(r"[ \t\n\r<>]")


def _repair_word(word: str) -> str:
    hits = len(_MOJIBAKE.findall(word))
    if not hits:
        return word
    data = _as_single_bytes(word)
    if data is None:
        return word
    try:
        fixed = data.decode("utf-8")
    except UnicodeDecodeError:
        return word
    return fixed if len(_MOJIBAKE.findall(fixed)) < hits else word


def repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo UTF-8 text decoded as Windows-1252/Latin-1 ("Tiá»\x81n Giang" -> "Tiền Giang"), word by word.

    Only where it is detectable: a word carries the mojibake signature, its characters all map back to
    single bytes, those bytes are valid UTF-8 and the result has fewer signatures; other words (and pages
    whose template is fine while the body is broken) are left alone. Returns (text, repaired).
    """
    # Only the words (runs between ASCII spaces and angle brackets) holding a signature are looked at: a call per
    # word of the page cost more than the rest of decoding.
    parts: list[str] = []
    done = 0  # the text before `done` is in `parts`
    for hit in _MOJIBAKE.finditer(text):
        if hit.start() < done:  # in the word just repaired
            continue
        start = max(text.rfind(c, done, hit.start()) for c in _SEPARATORS) + 1
        start = max(start, done)
        after = _SEPARATOR.search(text, hit.end())
        end = after.start() if after else len(text)
        parts += [text[done:start], _repair_word(text[start:end])]
        done = end
    if not parts:
        return text, False
    fixed = "".join(parts) + text[done:]
    return fixed, fixed != text
