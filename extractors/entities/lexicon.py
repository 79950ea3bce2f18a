"""Loads the rule data (gazetteers, cue words) shipped in `extractors/data/`."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from extractors.text import fold

# vi and the editions' languages with rule data of their own (German, Portuguese, Italian, Polish and Indonesian
# editions keep the Vietnamese names, so their officials and departments are found natively, untranslated).
LANGUAGES = ("vi", "en", "es", "fr", "de", "pt", "it", "pl", "id")
# Topics have cues in these (tests/eval annotates topics in them only).
TOPIC_LANGUAGES = ("vi", "en", "es", "fr")


@lru_cache(maxsize=8)
def load(name: str) -> dict[str, Any]:
    """One JSON data file of `extractors/data/` (cached)."""
    text = resources.files("extractors").joinpath(f"data/{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def departments() -> dict[str, Any]:
    sectors: dict[str, Any] = load("departments")["sectors"]
    return sectors


def lexicon() -> dict[str, Any]:
    return load("lexicon")


def names() -> dict[str, Any]:
    return load("vietnamese_names")


def forms_for(table: dict[str, Any], lang: str) -> list[str]:
    """Surface forms of one table row: the article's language first, then the others.

    Editions mix languages (a Spanish page quoting "Sở TN&MT", an English one writing "DONRE"),
    so every language's forms are matched, whatever the article's language.
    """
    ordered = [lang, *[x for x in LANGUAGES if x != lang]]
    out: list[str] = []
    for code in ordered:
        out.extend(table.get(code, []))
    return out


@lru_cache(maxsize=1)
def glue_vocabulary() -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Per language (en/es/fr): the folded words of the bodies' names and the connectors glued to them."""
    rows: list[dict[str, Any]] = []
    for row in departments().values():
        rows.append(row)
        if row.get("ministry"):
            rows.append(row["ministry"])
    rows.extend(lexicon()["organizations"].values())
    connectors = lexicon()["glue_connectors"]
    out: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for lang in ("en", "es", "fr"):
        words = {w for row in rows for form in row.get(lang, []) for w in re.findall(r"[^\W\d_]+", fold(form))}
        joins = frozenset(fold(c) for c in connectors[lang])
        out[lang] = (frozenset(w for w in words if len(w) >= 4) | joins, joins)
    return out


@lru_cache(maxsize=100_000)
def glued_split(word: str) -> int | None:
    """Where a machine translation glued two known words ('Departmentof' -> 10), else None.

    A token is split only when it is not a known word itself and both parts are known words of the same
    language, a part shorter than four letters being a connector; two long words only at a capital
    ('NaturalResources'), so 'planetary' or 'environmental' stay whole.
    """
    norm = fold(word)
    if len(norm) < 5 or len(norm) != len(word) or not norm.isalpha():
        return None
    vocab = glue_vocabulary()
    if any(norm in words for words, _ in vocab.values()):
        return None
    for words, joins in vocab.values():
        for cut in range(2, len(norm)):
            head, tail = norm[:cut], norm[cut:]
            if head in words and tail in words and (head in joins or tail in joins or word[cut].isupper()):
                return cut
    return None
