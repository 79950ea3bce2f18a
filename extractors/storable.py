"""Characters that no store or JSON reader can hold, replaced the same way whatever the database.

PostgreSQL's text type refuses NUL (U+0000: "cannot contain NUL (0x00) bytes"), and a JSON reader may cut a
string there. A lone UTF-16 surrogate (U+D800-U+DFFF, which a JSON input may write as an escape, "\\ud800")
has no UTF-8 form at all, so neither SQLite, PostgreSQL nor a JSON file can take it. Each such character is
replaced by U+FFFD, one character for one, so offsets into a text (mentions, page spans) stay valid.

Light on purpose (no spaCy, no SQLAlchemy): the pipeline and the store both use it.
"""

from __future__ import annotations

import re

from schemas.models import RawArticle

__all__ = ["REPLACEMENT", "storable", "storable_raw", "unstorable_count", "unstorable_note"]

REPLACEMENT = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable_count(text: str) -> int:
    """How many characters of `text` cannot be stored (0 for almost every text, found in one scan)."""
    return 0 if _UNSTORABLE.search(text) is None else len(_UNSTORABLE.findall(text))


def storable(text: str) -> str:
    """`text` with NUL and lone surrogates replaced by U+FFFD (`text` itself when it has none)."""
    return text if _UNSTORABLE.search(text) is None else _UNSTORABLE.sub(REPLACEMENT, text)


def unstorable_note(count: int, fields: list[str]) -> str:
    """The record warning for `count` characters replaced in `fields`."""
    return (
        f"{count} character(s) that no database or JSON file can hold (NUL, lone surrogates) replaced by U+FFFD "
        f"in {', '.join(fields)}"
    )


def storable_raw(raw: RawArticle) -> tuple[RawArticle, int, list[str]]:
    """`raw` with every text field storable, how many characters were replaced and in which fields.

    `raw` itself (same object, private attributes and all) when nothing had to change; otherwise a copy
    (`model_copy`, which keeps private attributes such as acquisition's duplicate link).
    """
    update: dict[str, object] = {}
    fields: list[str] = []
    count = 0
    for name in ("content", "url", "title", "language_hint"):
        value = getattr(raw, name)
        found = unstorable_count(value) if isinstance(value, str) else 0
        if found:
            update[name], count = storable(value), count + found
            fields.append(name)
    found = sum(unstorable_count(author) for author in raw.authors)
    if found:
        update["authors"], count = [storable(author) for author in raw.authors], count + found
        fields.append("authors")
    source: dict[str, object] = {}
    for name in ("uri", "site"):
        value = getattr(raw.source, name)
        found = unstorable_count(value) if isinstance(value, str) else 0
        if found:
            source[name], count = storable(value), count + found
            fields.append(f"source.{name}")
    if source:
        update["source"] = raw.source.model_copy(update=source)
    if not update:
        return raw, 0, []
    return raw.model_copy(update=update), count, fields
