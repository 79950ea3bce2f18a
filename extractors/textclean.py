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
