"""Provinces in editions written in other scripts (Russian, Chinese, Japanese, Korean, Thai, Lao, Khmer, Arabic,
Hindi, Greek), matched on characters from the name table `extractors/data/provinces_i18n.json`.

spaCy's tokens are no help here: Chinese, Japanese, Thai, Lao and Khmer run words together, and Korean glues
particles to names. So the table's forms are folded (`fold`: lowercase, no accents, one char per char; Hangul
and kana kept whole) and scanned longest-first over the folded text; each language's boundary rule then decides
whether a hit is a word of its own (Cyrillic/Greek/Arabic/Devanagari need a word edge, an Arabic clitic may
precede; Korean needs a left edge and, for bare names, a particle after; katakana must not continue on either
side). A hit next to a city marker ("город Бенче", "太原市") is the town, not the province. A short form that
also starts common words (Thai เว้, Huế, in เว้น 'except') is an "edge form": it counts only before a non-letter
or a listed continuation. Offsets are the original text's.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

from extractors.entities.gazetteer import MERGER_DATE, ProvinceEntry, load_gazetteer
from extractors.text import fold

# Letters of the scripts the table covers; text without any of them skips the scan (the Latin editions).
_OTHER_SCRIPTS = re.compile(
    "[\u0370-\u03ff\u0400-\u04ff\u0600-\u06ff\u0900-\u097f\u0e00-\u0e7f\u0e80-\u0eff\u1780-\u17ff"
    "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\U00020000-\U0002ffff]"
)
_KATAKANA = re.compile("[\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HANGUL = re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA_HANGUL = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
# Arabic writes /g/ and Vietnamese 'ng' in names with ج or غ alike (بينه دونج, بينه دونغ); dashes vary.
_CHAR_MAP = str.maketrans({"ة": "ه", "ى": "ي", "ج": "غ", "ς": "σ", "＝": "=", "・": "=", "·": "=", "–": "-", "‐": "-"})


@dataclass(frozen=True)
class ScriptHit:
    """One province name found in another script: character offsets into the text and the linked entry."""

    start: int
    end: int
    text: str
    lang: str
    entry: ProvinceEntry


@dataclass(frozen=True)
class _Form:
    lang: str
    key: str
    bare: bool  # no province/city marker inside the form (Korean bare names need a particle after)


@dataclass(frozen=True)
class _Rule:
    """One language's boundary rule and markers, folded once."""

    boundary: str
    city_before: frozenset[str]
    city_after: tuple[str, ...]
    clitics: frozenset[str]
    markers: tuple[str, ...]  # province/city words a form may end in ('성', '시'); forms without one are bare
    continuations: tuple[str, ...]  # what may follow a bare Korean name: particles and markers
    edge_forms: frozenset[str] = frozenset()  # forms that must end at a non-letter or an edge_after word
    edge_after: tuple[str, ...] = ()
    edge_never: tuple[str, ...] = ()  # never after an edge form, even where an edge_after word starts so


@dataclass(frozen=True)
class _Table:
    pattern: re.Pattern[str]
    forms: dict[str, _Form]
    rules: dict[str, _Rule]
    candidates: dict[str, tuple[ProvinceEntry, ...]]


def _rule(raw: dict[str, Any]) -> _Rule:
    city_after = tuple(_norm(m) for m in raw.get("city_after", []))
    markers = tuple(_norm(m) for m in raw.get("markers", []))
    return _Rule(
        boundary=raw.get("boundary", "none"),
        city_before=frozenset(_norm(m) for m in raw.get("city_before", [])),
        city_after=city_after,
        clitics=frozenset(_norm(m) for m in raw.get("clitics", [])),
        markers=markers,
        continuations=(*(_norm(m) for m in raw.get("particles", [])), *city_after, *markers),
        edge_forms=frozenset(_norm(m) for m in raw.get("edge_forms", [])),
        edge_after=tuple(_norm(m) for m in raw.get("edge_after", [])),
        edge_never=tuple(_norm(m) for m in raw.get("edge_never", [])),
    )


def _norm(text: str) -> str:
    """`fold` plus the few letter variants writers mix freely; keeps one char per char.

    Hangul syllables and kana stay as they are: decomposing them would keep only the first jamo ('다낭' and
    '동나이' would both start 'ㄷ') or drop the voicing mark ('ガ' would be 'カ').
    """
    return "".join(_norm_char(ch) for ch in text)


@lru_cache(maxsize=65_536)
def _norm_char(ch: str) -> str:
    if _KANA_HANGUL.match(ch):
        return ch
    return fold(ch).translate(_CHAR_MAP)


def load_table() -> dict[str, Any]:
    """The multilingual name table as stored."""
    raw = resources.files("extractors").joinpath("data/provinces_i18n.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(raw)
    return data


def _inflected(form: str, rules: list[dict[str, Any]]) -> list[str]:
    """Case forms of a name from ending rules ('Лонган' -> 'Лонгана', 'Лонгане' ...); other names do not decline."""
    out = [form]
    for rule in rules:
        if form[-1:].lower() in rule["ends"]:
            stem = form[: len(form) - rule["strip"]] if rule["strip"] else form
            out.extend(stem + suffix for suffix in rule["add"])
            break
    return out


@lru_cache(maxsize=1)
def _table() -> _Table:
    data = load_table()
    gaz = load_gazetteer()
    rules = {lang: _rule(raw) for lang, raw in data["languages"].items()}
    forms: dict[str, _Form] = {}
    candidates: dict[str, tuple[ProvinceEntry, ...]] = {}
    for key, by_lang in data["provinces"].items():
        entries = gaz.by_form.get(fold(key))
        if not entries:
            raise ValueError(f"provinces_i18n.json: {key!r} is not a province of the gazetteer")
        candidates[key] = tuple({e.id: e for e in entries}.values())
        for lang, names in by_lang.items():
            if lang not in rules:
                raise ValueError(f"provinces_i18n.json: {key!r} has names in {lang!r}, which has no rules")
            for name in names:
                bare = not _norm(name).endswith(rules[lang].markers) if rules[lang].markers else True
                for variant in _inflected(name, data["languages"][lang].get("inflect", [])):
                    forms.setdefault(_norm(variant), _Form(lang=lang, key=key, bare=bare))
    return _Table(pattern=re.compile(_trie_pattern(forms)), forms=forms, rules=rules, candidates=candidates)


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many literal forms, factored by shared prefixes so it scans fast (a flat alternation of
    1,500 names ran at ~130k chars/s). Longer continuations are tried before stopping, so a match is the
    longest form at its position ('隆安省' rather than '隆安')."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _is_letter(ch: str) -> bool:
    return ch.isalpha() or ch.isdigit() or (0x0900 <= ord(ch) <= 0x097F)  # Devanagari vowel signs are marks


def _word_before(norm: str, start: int) -> str:
    m = re.search(r"(\S+)\s*$", norm[max(0, start - 40) : start])
    return m.group(1) if m else ""


def _ends_at_edge(norm: str, end: int, rule: _Rule) -> bool:
    """An edge form's hit stands alone: 'เว้ และ', 'เว้และ', 'เว้.' but not 'เว้น' ('except') or 'เว้ย'."""
    if norm.startswith(rule.edge_never, end):
        return False
    nxt = norm[end] if end < len(norm) else " "
    # Thai vowel and tone signs are marks, not letters, but they continue the syllable all the same.
    return not (nxt.isalnum() or unicodedata.category(nxt).startswith("M")) or norm.startswith(rule.edge_after, end)


def _accept(norm: str, start: int, end: int, form: _Form, rule: _Rule, is_city: bool) -> bool:
    prev = norm[start - 1] if start > 0 else " "
    nxt = norm[end] if end < len(norm) else " "
    if norm[start:end] in rule.edge_forms and not _ends_at_edge(norm, end, rule):
        return False
    if rule.boundary == "word":
        if _is_letter(nxt):
            return False
        if _is_letter(prev):
            word = re.search(r"(\w+)$", norm[max(0, start - 4) : start])
            if not word or word.group(1) not in rule.clitics:
                return False  # inside a longer word, unless an Arabic clitic ('وهانوي', 'بدا نانغ') is glued on
    elif rule.boundary == "katakana":
        if _KATAKANA.match(prev) or _KATAKANA.match(nxt):
            return False
    elif rule.boundary == "hangul":
        if _HANGUL.match(prev):
            return False
        if form.bare and _HANGUL.match(nxt) and not norm.startswith(rule.continuations, end):
            return False  # '하이즈엉사람' runs on; '롱안에서', '껀터시' do not
    if is_city:
        return True
    if rule.boundary == "word":
        next_word = norm[end : end + 12].split(maxsplit=1)
        return (not next_word or next_word[0] not in rule.city_after) and _word_before(
            norm, start
        ) not in rule.city_before
    # Scripts without spaces attach the marker: '太原市', '롱안시'; Thai/Lao/Khmer may put a space after it.
    if rule.city_after and norm.startswith(rule.city_after, end):
        return False
    before = norm[max(0, start - 12) : start].rstrip()
    return not any(before.endswith(m) for m in rule.city_before)


def _scheme(candidates: tuple[ProvinceEntry, ...], reference: date | None) -> ProvinceEntry:
    if reference is not None:
        scheme = "legacy_63" if reference.isoformat() < MERGER_DATE else "current_34"
    else:
        scheme = "current_34" if any(c.scheme == "current_34" for c in candidates) else "legacy_63"
    same = [c for c in candidates if c.scheme == scheme]
    return (same or list(candidates))[0]


def find_script_provinces(text: str, reference: date | None = None) -> list[ScriptHit]:
    """Every province named in a non-Latin script, in text order; empty when the text has none of those scripts."""
    if not _OTHER_SCRIPTS.search(text):
        return []
    table = _table()
    norm = _norm(text)
    hits: list[ScriptHit] = []
    for m in table.pattern.finditer(norm):
        form = table.forms[m.group(0)]
        cands = table.candidates[form.key]
        if not _accept(norm, m.start(), m.end(), form, table.rules[form.lang], cands[0].is_city):
            continue
        hits.append(
            ScriptHit(
                start=m.start(),
                end=m.end(),
                text=text[m.start() : m.end()],
                lang=form.lang,
                entry=_scheme(cands, reference),
            )
        )
    return hits
