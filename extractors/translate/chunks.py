"""Chunking: a text cut into requests under a provider's size limit, with the whitespace to put it back."""

from __future__ import annotations

import re
from typing import NamedTuple


class Chunk(NamedTuple):
    """One request's worth of text; `sep` is the original whitespace that followed it."""

    text: str
    sep: str
    parts: tuple[tuple[str, str], ...]  # (piece, whitespace after it); text == the pieces joined


_PARAGRAPH_BREAK = re.compile(r"\s*\n\s*")  # any whitespace run holding a line break
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")
_WHITESPACE = re.compile(r"\s+")
_FINER_LEVELS = (_SENTENCE_END, _WHITESPACE)


def _split_keep(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """`text` cut at `pattern`, each piece paired with the separator that followed it."""
    out: list[tuple[str, str]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == pos and out:  # no text between two separators: merge them
            out[-1] = (out[-1][0], out[-1][1] + match.group())
        else:
            out.append((text[pos : match.start()], match.group()))
        pos = match.end()
    out.append((text[pos:], ""))
    return out


def _pieces(text: str, limit: int, level: int) -> list[tuple[str, str]]:
    """`text` (no line breaks) cut at the coarsest boundary that makes every piece fit `limit`."""
    if len(text) <= limit:
        return [(text, "")]
    if level == len(_FINER_LEVELS):  # one unbroken token longer than the limit: cut it anywhere
        return [(text[i : i + limit], "") for i in range(0, len(text), limit)]
    out: list[tuple[str, str]] = []
    for piece, sep in _split_keep(text, _FINER_LEVELS[level]):
        sub = _pieces(piece, limit, level + 1)
        sub[-1] = (sub[-1][0], sep)
        out.extend(sub)
    return out


def _make_chunk(parts: list[tuple[str, str]]) -> Chunk:
    inner = [*parts[:-1], (parts[-1][0], "")]
    return Chunk("".join(p + s for p, s in inner), parts[-1][1], tuple(inner))


def split_into_chunks(text: str, limit: int) -> list[Chunk]:
    """Cut `text` (stripped) into chunks of at most `limit` characters.

    Paragraphs are packed whole while they fit; only a paragraph longer than `limit` is cut, at sentence
    ends, then at whitespace, then anywhere. Joining `chunk.text + chunk.sep` gives back the text.
    """
    text = text.strip()
    if not text:
        return []
    pieces: list[tuple[str, str]] = []
    for paragraph, sep in _split_keep(text, _PARAGRAPH_BREAK):
        sub = _pieces(paragraph, limit, 0)
        sub[-1] = (sub[-1][0], sep)
        pieces.extend(sub)
    chunks: list[Chunk] = []
    current: list[tuple[str, str]] = []
    size = 0
    for piece, sep in pieces:
        if current and size + len(current[-1][1]) + len(piece) <= limit:
            size += len(current[-1][1]) + len(piece)
            current.append((piece, sep))
            continue
        if current:
            chunks.append(_make_chunk(current))
        current, size = [(piece, sep)], len(piece)
    chunks.append(_make_chunk(current))
    return chunks


def has_words(text: str) -> bool:
    """Whether `text` holds a letter or digit (punctuation and whitespace alone are never sent)."""
    return any(ch.isalnum() for ch in text)
