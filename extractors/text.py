"""Small text utilities shared by the extractors."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def one_line(text: str, limit: int | None = None) -> str:
    """`text` on one line (each run of whitespace, newlines too, is one space), cut to `limit` characters with
    "..." when longer: a reason or a name as an error line or a log field shows it."""
    line = " ".join(text.split())
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."


_CACHED_FOLD_LENGTH = 64  # words and names repeat across articles; whole texts never do


def fold(text: str) -> str:
    """Lowercase and strip diacritics ('Tiền Giang' -> 'tien giang', 'Đồng' -> 'dong').

    Keeps the length of a single token unchanged for the scripts we fold, so offsets stay valid.
    """
    # Many short strings are cached, and only the last few whole texts (the entity rules fold the same article
    # seven times): caching every article kept every text of a run in memory (issue 7).
    return _fold_short(text) if len(text) <= _CACHED_FOLD_LENGTH else _fold_long(text)


@lru_cache(maxsize=200_000)
def _fold_short(text: str) -> str:
    return _fold(text)


@lru_cache(maxsize=4)
def _fold_long(text: str) -> str:
    return _fold(text)


def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    low = unicodedata.normalize("NFD", ch)[0].lower()
    # One char in, one char out: offsets into the folded text are offsets into the original.
    return low if len(low) == 1 else ch


class _FoldTable(dict[int, str]):
    """str.translate table filled on first sight of each character (a text repeats few distinct ones)."""

    def __missing__(self, codepoint: int) -> str:
        folded = self[codepoint] = _fold_char(chr(codepoint))
        return folded


_FOLD_TABLE = _FoldTable()


def _fold(text: str) -> str:
    # str.translate runs in C: a loop over characters here took 40% of the whole pipeline's time.
    return text.translate(_FOLD_TABLE)


def ascii_name(text: str) -> str:
    """The name without diacritics, case kept ('Võ Minh Thành' -> 'Vo Minh Thanh')."""
    out = []
    for ch in text:
        if ch == "đ":
            out.append("d")
        elif ch == "Đ":
            out.append("D")
        else:
            out.append(unicodedata.normalize("NFD", ch)[0])
    return "".join(out)


def slug(text: str) -> str:
    """An ascii id fragment ('Tiền Giang' -> 'tien-giang')."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def normalize_text(text: str) -> str:
    """Unicode NFC, unified spaces and line ends, at most one blank line between paragraphs."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
