"""Loads the rule data (gazetteers, cue words) shipped in `extractors/data/`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

LANGUAGES = ("vi", "en", "es", "fr")


@lru_cache(maxsize=8)
def load(name: str) -> dict[str, Any]:
    """One JSON data file of `extractors/data/` (cached)."""
    text = resources.files("extractors").joinpath(f"data/{name}.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def departments() -> dict[str, Any]:
    return load("departments")["sectors"]


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
