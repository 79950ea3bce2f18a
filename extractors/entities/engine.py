"""The entity engine: a spaCy pipeline that matches gazetteers, plus rules that link what it found.

One blank multi-language spaCy pipeline tokenises every language the same way (Vietnamese syllables,
Latin-script editions); a component writes case- and diacritic-folded norms so one PhraseMatcher over
`NORM` finds "Tiền Giang", "Tien Giang" and "TIEN GIANG" alike. The language of the article only
selects cue words (titles, theme cues, month names); names of places and bodies are matched in every
language because editions mix them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from extractors.entities import lexicon as lx
from extractors.entities.clusters import find_cluster_facts, group_named, region_named
from extractors.entities.dates import find_dates
from extractors.entities.gazetteer import MERGER_DATE, Gazetteer, ProvinceEntry, load_gazetteer
from extractors.entities.people import find_officials
from extractors.entities.scripts import find_script_provinces
from extractors.entities.themes import find_themes
from extractors.entities.topics import find_topics
from extractors.text import fold
from schemas.models import (
    DateEntity,
    Department,
    Entities,
    Mention,
    Organization,
    Province,
    ProvinceRef,
    Scheme,
)


@Language.component("newsflow_fold")
def fold_norms(doc: Doc) -> Doc:
    """Set each token's NORM to its folded form (lowercase, no diacritics), after splitting glued words."""
    glued: list[Token] = []
    for token in doc:
        text = token.text
        token.norm_ = _norm(text)
        if len(text) >= 5 and lx.glued_split(text) is not None:
            glued.append(token)
    if glued:
        _deglue(doc, glued)
        for token in doc:
            token.norm_ = _norm(token.text)
    return doc


def _deglue(doc: Doc, glued: list[Token]) -> None:
    """Split words a machine translation glued together ('Departmentof Industryand Trade', issue 3)."""
    with doc.retokenize() as retokenizer:
        for token in glued:
            cut = lx.glued_split(token.text) or 0
            retokenizer.split(token, [token.text[:cut], token.text[cut:]], heads=[(token, 1), (token, 0)])


@lru_cache(maxsize=200_000)
def _norm(word: str) -> str:
    norm = fold(word)
    if len(norm) > 2 and norm[1] in "'’" and norm[0] in "ldjnmst" and norm[2].isalpha():
        norm = norm[2:]  # French elision: "l'Inspection" matches "Inspection"
    return norm


# Folded tokens that may stand between a body's name and the province it belongs to.
_CONNECT = {
    "tinh",
    "thanh",
    "pho",
    "tp",
    "tp.",
    "of",
    "the",
    "province",
    "provinces",
    "provincial",
    "de",
    "la",
    "las",
    "los",
    "provincia",
    "provincias",
    "del",
    "des",
    "du",
    "cac",
    "siguientes",
    "following",
    ":",
    "(",
    ")",
    "-",
    "–",
    "cua",
    "in",
    "en",
    "a",
    "l'",
    "d'",
    # German, Portuguese, Italian, Polish, Indonesian: "der Provinz X", "da província de X", "della provincia di X",
    # "prowincji X", "Provinsi X".
    "der",
    "von",
    "provinz",
    "provinzen",
    "da",
    "do",
    "di",
    "della",
    "prowincji",
    "prowincja",
    "provinsi",
}
_LIST_JOIN = {",", "and", "y", "et", "va", "&", "e", "und", "i", "ed", "dan"}
_DISTRICT_BEFORE = {
    "huyen",
    "quan",
    "xa",
    "phuong",
    "tran",
    "district",
    "distrito",
    "commune",
    "ward",
    "town",
    "comuna",
    "ciudad",
    "city",
    "ville",
    "tp",
    "tp.",
    "pho",
    "thi",
}
_CITY_AFTER = {"city", "town", "district", "ward"}
_NOT_PLACE_AFTER = {"university", "universite", "airport", "river"}
_WATERWAY_BEFORE = {"song", "rio", "fleuve", "riviere"}  # "sông Đồng Nai", "río Dong Nai": the river
_NOT_PLACE_BEFORE = {
    ("dai", "hoc"),
    ("universidad", "de"),
    ("universite", "de"),
    ("university", "of"),
    ("chung", "khoan"),
}
_LOCAL_AFTER = {
    "huyen",
    "xa",
    "phuong",
    "quan",
    "thi",
    "district",
    "commune",
    "ward",
    "distrito",
    "comuna",
    "del distrito",
    "du district",
    "town",
}
_COORD_SKIP = {",", "and", "y", "et", "va", "the", "los", "las", "les", "la", "el", "le", "cac", "its"}
_NOT_DEPARTMENT_BEFORE = {"district", "'s", "huyen", "quan", "distrito", "district's", "phong", "commune"}
_MAX_GAP = 8
_FOREIGN_BODY_WORDS = {"department", "departments", "departamento", "departamentos", "departement", "departements"}


@lru_cache(maxsize=1)
def _title_words() -> frozenset[str]:
    """First words of the posts in the editions' languages ('Director', 'Deputy', 'directeur'): after a department's
    name they begin its head's post ("Long An's Department of Health Director Nguyen Van A"), not a longer name."""
    titles = lx.lexicon()["titles"]
    return frozenset(fold(t).split()[0] for lang in ("en", "es", "fr") for t in titles.get(lang, []))


@dataclass
class _Found:
    """What the matcher found in one document, before linking."""

    provinces: list[tuple[Span, ProvinceEntry]] = field(default_factory=list)
    bodies: list[tuple[Span, str, str]] = field(default_factory=list)  # span, kind, key


@lru_cache(maxsize=4)
def get_nlp() -> tuple[Language, PhraseMatcher]:
    """The shared pipeline and its phrase matcher (built once per process)."""
    nlp = spacy.blank("xx")
    nlp.add_pipe("newsflow_fold")  # no sentencizer: no rule reads sentences, and it cost 5% of the stage
    matcher = PhraseMatcher(nlp.vocab, attr="NORM")
    gaz = load_gazetteer()

    def add(label: str, forms: Iterable[str]) -> None:
        docs = [fold_norms(nlp.make_doc(f)) for f in sorted(set(forms)) if f.strip()]
        if docs:
            matcher.add(label, docs)

    for form in gaz.by_form:
        add(f"prov|{form}", [form])
    for sector, row in lx.departments().items():
        forms = lx.forms_for(row, "vi")
        written = _written_forms(row.get("vi", []))
        add(f"dept|{sector}", forms + [_plural(f) for f in forms] + written)
        # The name without "Sở", only read inside a list of departments ("các Sở KH-ĐT, Xây dựng, TN-MT").
        tails = [f[len("Sở ") :] for f in [*row.get("vi", []), *written] if f.startswith("Sở ")]
        add(f"depttail|{sector}", tails)
        # The sector across several provinces ("cán bộ ngành Tư pháp của 6 tỉnh ...: A, B, C"): their departments,
        # read only with a list of provinces after it (alone, "ngành Y tế" is the sector, not a department).
        add(f"sector|{sector}", [f"ngành {t}" for t in tails if any(ch.islower() for ch in t)])
        ministry = row.get("ministry")
        if ministry:
            add(f"ministry|{sector}", [*lx.forms_for(ministry, "vi"), *_minister_forms(ministry)])
    for kind, row in lx.lexicon()["organizations"].items():
        add(f"org|{kind}", lx.forms_for(row, "vi"))
    return nlp, matcher


_GROUP_SPLIT = re.compile(r"\s*(?:,|&|-|–|\bvà\b)\s*")


def _written_forms(forms: list[str]) -> list[str]:
    """How the press writes a department's name besides the listed forms: its parts joined other ways ('Sở Tài
    nguyên Môi trường', 'Sở Kế hoạch - Đầu tư', 'Sở Lao động, Thương binh và Xã hội') and its initials ('Sở
    KH-ĐT', 'Sở NN-PTNT', 'Sở VH-TT-DL', 'Sở LĐTB&XH'). Only names of two parts or more get initials."""
    out: list[str] = []
    for form in forms:
        if not form.startswith("Sở ") or not any(ch.islower() for ch in form[3:]):
            continue  # already initials
        parts = [p for p in _GROUP_SPLIT.split(form[3:]) if p]
        if len(parts) < 2:
            continue
        joins = [" ", " - ", " – ", ", ", " và "]
        out += [f"Sở {j.join(parts)}" for j in joins]
        out.append(f"Sở {', '.join(parts[:-1])} và {parts[-1]}")
        out.append(f"Sở {' - '.join(parts[:-1])} và {parts[-1]}")
        initials = ["".join(w[0].upper() for w in part.split()) for part in parts]
        if sum(len(i) for i in initials) < 4:
            continue  # two letters say too little ("CT")
        for j in ("&", "-", "", " và "):
            out.append(f"Sở {j.join(initials)}")
        out.append(f"Sở {''.join(initials[:-1])}&{initials[-1]}")
        out.append(f"Sở {'-'.join(initials[:-1])}&{initials[-1]}")
    return out


_MINISTER = (
    ("Ministry of ", "Minister of "),
    ("Ministerio de ", "ministro de "),
    ("Ministerio del ", "ministro del "),
    ("ministère de ", "ministre de "),
    ("ministère des ", "ministre des "),
    ("ministère du ", "ministre du "),
)


def _minister_forms(ministry: dict[str, Any]) -> list[str]:
    """'Minister of Home Affairs' names the ministry as surely as 'Ministry of Home Affairs'."""
    out: list[str] = []
    for form in lx.forms_for(ministry, "en"):
        for body, person in _MINISTER:
            if form.startswith(body):
                out.append(person + form[len(body) :])
    return out


def _plural(form: str) -> str:
    if form.isupper() and " " not in form:
        return form + "s"  # "DONREs"
    head, _, rest = form.partition(" ")
    plural = {
        "Department": "Departments",
        "Departamento": "Departamentos",
        "Département": "Départements",
        "Service": "Services",
        "Servicio": "Servicios",
        "Abteilung": "Abteilungen",
        "Dipartimento": "Dipartimenti",
        "Departament": "Departamenty",
        "Departamentu": "Departamentów",
    }.get(head)
    return f"{plural} {rest}" if plural and rest else form


# Unit words a gazetteer form may begin with ("thành phố Hồ Chí Minh"): written in lower case mid-sentence.
_UNIT_WORDS = {"thanh", "pho", "tinh", "tp", "tp."}


def _capitalised(span: Span) -> bool:
    i = span.start
    while i < span.end - 1 and span.doc[i].norm_ in _UNIT_WORDS:
        i += 1
    return all(not t.is_alpha or t.text[0].isupper() for t in span.doc[i : span.end])


def _name_parts() -> set[str]:
    parts = {fold(s) for s in lx.names()["surnames"]}
    return parts | {"van", "thi", "huu", "duc", "ngoc", "quoc", "xuan", "dinh", "cong", "ba"}


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


@lru_cache(maxsize=50_000)
def _syllable(word: str) -> tuple[str, str]:
    """A Vietnamese syllable as (letters with their vowel marks, tone), wherever the tone mark is placed."""
    chars = unicodedata.normalize("NFD", word.lower())
    tone = "".join(c for c in chars if c in _TONES)
    return unicodedata.normalize("NFC", "".join(c for c in chars if c not in _TONES)), tone


def _other_syllables(span: Span, entry: ProvinceEntry) -> bool:
    """Whether the span is written with other Vietnamese syllables than the province's name: 'Huệ' (a given
    name) is not 'Huế', 'Hùng Yến' (a company) not 'Hưng Yên'. Text without diacritics never conflicts."""
    own = {fold(w): _syllable(w) for w in entry.name.split()}
    for token in span:
        if token.text.isascii() or fold(token.text) not in own:
            continue
        letters, tone = _syllable(token.text)
        name_letters, name_tone = own[fold(token.text)]
        # A tone written and different, or a vowel mark written and different; a mark left out is no conflict
        # ("Hô Chi Minh-Ville" in French editions).
        if (tone and tone != name_tone) or (not letters.isascii() and letters != name_letters):
            return True
    return False


@lru_cache(maxsize=1)
def _outlet_names() -> tuple[tuple[str, ...], ...]:
    rows = lx.lexicon()["outlet_names"]
    names = {tuple(w.split()) for lang, row in rows.items() if lang != "_about" for w in row}
    return tuple(sorted(names, key=len, reverse=True))


def _after_outlet_name(doc: Doc, start: int) -> bool:
    """Whether an outlet's name, as written (capitals and all), ends right before token `start` (a dash between)."""
    end = start - 1 if start > 0 and doc[start - 1].text in {"-", "–"} else start
    for name in _outlet_names():
        n = len(name)
        if end - n >= 0 and all(doc[end - n + k].text == w for k, w in enumerate(name)):
            return True
    return False


def _accept_province(doc: Doc, span: Span, entry: ProvinceEntry, form: str, name_parts: set[str]) -> bool:
    """Context rules that tell a province from a district, a city, a person or a street."""
    if not _capitalised(span) or _other_syllables(span, entry):
        return False
    prev = doc[span.start - 1] if span.start > 0 else None
    nxt = doc[span.end] if span.end < len(doc) else None
    prev_norm = prev.norm_ if prev is not None else ""
    if prev is not None and prev_norm in name_parts and prev.text[:1].isupper() and prev.is_alpha:
        return False  # "Nguyễn Thái Bình" is a person
    if entry.needs_marker and form in {fold(entry.name), fold(entry.name_ascii)}:
        # A bare "Hồ Chí Minh" is the President; the city is written with a marker.
        return prev_norm in {"tp", "tp.", "pho", "ciudad", "city", "ville"}
    if prev_norm in _DISTRICT_BEFORE and not entry.is_city:
        return False  # "huyện X", "thành phố Bến Tre": not the province
    if nxt is not None and nxt.norm_ in _CITY_AFTER and not entry.is_city:
        return False  # "Ben Tre City"
    if prev_norm in _WATERWAY_BEFORE:
        return False
    if nxt is not None and nxt.norm_ in _NOT_PLACE_AFTER:
        return False  # "Can Tho University"
    if span.start >= 2 and (doc[span.start - 2].norm_, prev_norm) in _NOT_PLACE_BEFORE:
        return False  # "Đại học Cần Thơ", "Universidad de Da Nang", "Sở Giao dịch Chứng khoán TPHCM"
    if _after_outlet_name(doc, span.start):
        return False  # "Pháp Luật TP.HCM", "Báo Bạc Liêu", "VOV-TPHCM": a news outlet or its bureau
    if (
        nxt is not None
        and nxt.text == "("
        and span.end + 1 < len(doc)
        and doc[span.end + 1].text in lx.lexicon()["news_agencies"]
    ):
        return False  # "Hanoi (VNA) -": a dateline, not what the article is about
    return not (nxt is not None and nxt.is_alpha and nxt.text[:1].isupper() and nxt.norm_ in {"phu"})


def _choose(candidates: list[ProvinceEntry], scheme: Scheme) -> ProvinceEntry:
    same = [c for c in candidates if c.scheme == scheme]
    return (same or candidates)[0]


def _article_scheme(matched: list[list[ProvinceEntry]], reference: date | None) -> Scheme:
    if reference is not None:
        return "legacy_63" if reference.isoformat() < MERGER_DATE else "current_34"
    legacy_only = any(all(c.scheme == "legacy_63" for c in cands) for cands in matched)
    return "legacy_63" if legacy_only else "current_34"


@lru_cache(maxsize=1)
def _acronyms() -> frozenset[str]:
    """Folded one-word body names written in capitals (MOST, DONRE, MONRE): case-folded matching alone would take
    the word "Most" for the Ministry of Science and Technology."""
    forms: list[str] = []
    for row in lx.departments().values():
        forms += lx.forms_for(row, "vi")
        if row.get("ministry"):
            forms += lx.forms_for(row["ministry"], "vi")
    for row in lx.lexicon()["organizations"].values():
        forms += lx.forms_for(row, "vi")
    return frozenset(fold(f) for f in forms if " " not in f and sum(ch.isalpha() for ch in f) >= 2 and f.isupper())


def _written_as_acronym(token: Token) -> bool:
    text = token.text[:-1] if token.text.endswith("s") else token.text  # "DONREs"
    return text.isupper()


def _match(doc: Doc, matcher: PhraseMatcher, gaz: Gazetteer, reference: date | None) -> _Found:
    strings = doc.vocab.strings
    spans: list[Span] = []
    for match_id, start, end in matcher(doc):
        spans.append(Span(doc, start, end, label=strings[match_id]))
    # Longest match wins: "Văn phòng UBND tỉnh" beats "UBND", "Ho Chi Minh City" beats "Ho Chi Minh".
    spans = filter_spans(spans)
    place_starts = {sp.start for sp in spans if sp.label_.startswith("prov|")}
    place_ends = {sp.end for sp in spans if sp.label_.startswith("prov|")}
    name_parts = _name_parts()
    found = _Found()
    raw_provinces: list[tuple[Span, str, list[ProvinceEntry]]] = []
    for span in spans:
        kind, _, key = span.label_.partition("|")
        if kind == "prov":
            cands = gaz.by_form[key]
            if _accept_province(doc, span, cands[0], key, name_parts):
                raw_provinces.append((span, key, cands))
        elif len(span) == 1 and span[0].norm_ in _acronyms() and not _written_as_acronym(span[0]):
            continue  # "Most of the capital went to ...": a word, not MOST
        elif kind == "sector":
            found.bodies.append((span, "sector", key))
        elif kind == "depttail":
            if not _continues_department_list(doc, span, found):
                continue
            found.bodies.append((span, "dept", key))
        elif kind == "dept":
            prev = doc[span.start - 1].norm_ if span.start > 0 else ""
            # "the city's Department of Finance", "Long An's Department of Health": the city's or province's own.
            own = (
                prev == "'s"
                and span.start > 1
                and (doc[span.start - 2].norm_ in {"city", "province"} or span.start - 1 in place_ends)
            )
            if prev in _NOT_DEPARTMENT_BEFORE and not own:
                continue  # "the district's Department of ...": a district office
            if span.start > 0 and span[0].text == "sở" and doc[span.start - 1].text.lower() in {"cơ", "trụ"}:
                continue  # "cơ sở y tế" is a health facility, "trụ sở" a seat: no "Sở" there
            nxt = doc[span.end] if span.end < len(doc) else None
            if (
                nxt is not None
                and span[0].norm_ in _FOREIGN_BODY_WORDS
                and nxt.is_alpha
                and nxt.text[0].isupper()
                and span.end not in place_starts
                and nxt.norm_ not in _surnames()
                and nxt.norm_ not in _title_words()
            ):
                continue  # "the Department of Health Sciences at the University of York": a longer name
            if (
                prev == "("
                and found.bodies
                and found.bodies[-1][1] == "dept"
                and found.bodies[-1][0].end == span.start - 1
            ):
                continue  # "Département de l'agriculture et de l'environnement (DARD)": a label, often wrong
            found.bodies.append((span, kind, key))
        else:
            found.bodies.append((span, kind, key))
    scheme = _article_scheme([c for _, _, c in raw_provinces], reference)
    found.provinces = [(span, _choose(cands, scheme)) for span, _, cands in raw_provinces]
    return found


_DEPT_LIST_JOIN = {",", "va", "and", ";"}


def _continues_department_list(doc: Doc, span: Span, found: _Found) -> bool:
    """A department's name without 'Sở' is one only in a list: right after a department and a joiner ('Sở KH-ĐT,
    Xây dựng'), or after 'các Sở:' ('các Sở: Tài nguyên và Môi trường, Công Thương')."""
    if span.start >= 2 and doc[span.start - 1].text == ":" and doc[span.start - 2].norm_ == "so":
        return True
    last = next((b for b, kind, _ in reversed(found.bodies) if kind == "dept"), None)
    if last is None:
        return False
    between = doc[last.end : span.start]
    return 1 <= len(between) <= 2 and all(t.norm_ in _DEPT_LIST_JOIN for t in between)


def _provinces_after(doc: Doc, end: int, starts: dict[int, tuple[Span, ProvinceEntry]]) -> list[ProvinceEntry]:
    """Provinces right after a body's name: 'Sở TN&MT tỉnh Long An', '... of Long An, Tien Giang and Ben Tre'."""
    out: list[ProvinceEntry] = []
    i, gap = end, 0
    while i < len(doc) and gap <= _MAX_GAP:
        if i in starts:
            span, entry = starts[i]
            out.append(entry)
            i, gap = span.end, 0
            # A coordinated list continues only through list joiners.
            j = i
            while j < len(doc) and (doc[j].norm_ in _LIST_JOIN or doc[j].norm_ in {"tinh", "province"}):
                j += 1
            if j > i:
                j += _that_of_len(doc, j)  # "... of Long An and that of Ben Tre", "et celui de", "y el de"
            if j > i and j in starts:
                i = j
                continue
            break
        tok = doc[i]
        # Connectors, numbers ("của 6 tỉnh") and abbreviations ("(TN&MT)", "(DONRE)") may stand between.
        if (
            tok.norm_ in _CONNECT
            or tok.like_num
            or (len(tok) <= 10 and tok.text == tok.text.upper() and any(ch.isalpha() for ch in tok.text))
        ):
            i += 1
            gap += 1
            continue
        break
    return out


@lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    """Folded family names: after a department's English name they start its head's name, not a longer name."""
    return frozenset(fold(n) for n in lx.names()["surnames"])


@lru_cache(maxsize=1)
def _list_words() -> dict[str, dict[str, tuple[tuple[str, ...], ...]]]:
    """The folded phrases of `province_lists` (lexicon.json) by kind (lead, collective, plural, joiners), each
    indexed by its first word, longest first."""
    rows = lx.lexicon()["province_lists"]

    def phrases(value: dict[str, list[str]] | list[str]) -> dict[str, tuple[tuple[str, ...], ...]]:
        words = [w for row in value.values() for w in row] if isinstance(value, dict) else list(value)
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in {tuple(fold(w).split()) for w in words}:
            by_first.setdefault(phrase[0], []).append(phrase)
        return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in by_first.items()}

    return {key: phrases(rows[key]) for key in ("lead", "collective", "plural", "joiners")}


def _phrase_at(doc: Doc, i: int, phrases: dict[str, tuple[tuple[str, ...], ...]]) -> int:
    """Tokens of the longest phrase of `phrases` starting at token i (0 when none)."""
    for phrase in phrases.get(doc[i].norm_, ()):
        n = len(phrase)
        if i + n <= len(doc) and all(doc[i + k].norm_ == w for k, w in enumerate(phrase)):
            return n
    return 0


_LIST_REACH = 16  # tokens between a body and the lead of its province list ("Sở Y tế 8 tỉnh, thành phố ...:")
_SENTENCE_STOP = {".", "!", "?", ";"}


def _listed_provinces(
    doc: Doc, span: Span, starts: dict[int, tuple[Span, ProvinceEntry]], body_starts: dict[int, Span]
) -> list[ProvinceEntry]:
    """Provinces of a list introduced a few words after a body that names several: one body per province.

    'Sở Y tế 8 tỉnh khu vực ĐBSCL: A, B và C', 'Sở Tư pháp trong cụm thi đua gồm 7 tỉnh: A, B', 'các Sở Xây
    dựng: A, B - C'. Either a plural word (or a number) stands before the body, or a collective word ('tỉnh',
    'cụm') between it and the lead: otherwise a colon after a body ('Sở Y tế cho biết: ...') starts no list.
    """
    words = _list_words()
    prev = doc[span.start - 1] if span.start > 0 else None
    plural = (prev is not None and (prev.like_num or prev.norm_ in words["plural"])) or span[0].norm_ in words["plural"]
    collective = False
    i = span.end
    while i < len(doc) and i - span.end <= _LIST_REACH:
        if doc[i].norm_ in _SENTENCE_STOP or (i in body_starts and i != span.start) or i in starts:
            return []  # a province before the lead is the body's own ("Sở Y tế tỉnh A cho biết: B và C ...")
        lead = 1 if doc[i].text == ":" else _phrase_at(doc, i, words["lead"])
        if lead and (plural or collective):
            j = i + lead
            while j < len(doc) and j - (i + lead) < 2 and j not in starts and doc[j].norm_ in _CONNECT:
                j += 1
            if j in starts:
                return _province_run(doc, j, starts, words["joiners"])
        collective = collective or bool(_phrase_at(doc, i, words["collective"]))
        i += max(lead, 1)
    return []


def _province_run(
    doc: Doc, i: int, starts: dict[int, tuple[Span, ProvinceEntry]], joiners: dict[str, tuple[tuple[str, ...], ...]]
) -> list[ProvinceEntry]:
    """The provinces of a list starting at token i, joined by commas, dashes, semicolons or 'and'."""
    out: list[ProvinceEntry] = []
    while i in starts:
        span, entry = starts[i]
        out.append(entry)
        j = span.end
        while j < len(doc) and (doc[j].norm_ in joiners or doc[j].norm_ in {"tinh", "province", "tp", "tp."}):
            j += 1
        if j == span.end:
            break
        i = j
    return out


@lru_cache(maxsize=1)
def _that_of() -> tuple[tuple[str, ...], ...]:
    rows = lx.lexicon()["coordination_that_of"]
    phrases = {tuple(fold(c).split()) for lang, row in rows.items() if lang != "_about" for c in row}
    return tuple(sorted(phrases, key=len, reverse=True))


def _that_of_len(doc: Doc, i: int) -> int:
    """Tokens of a 'that of' phrase repeating the body for the next province (0 when none starts at i)."""
    for phrase in _that_of():
        if i + len(phrase) <= len(doc) and all(doc[i + k].norm_ == w for k, w in enumerate(phrase)):
            return len(phrase)
    return 0


def _province_before(doc: Doc, start: int, ends: dict[int, tuple[Span, ProvinceEntry]]) -> ProvinceEntry | None:
    """'Long An DONRE', 'Long An provincial Department of ...'."""
    for back in (start, start - 1):
        if back in ends and (back == start or doc[start - 1].norm_ in {"provincial", "'s"}):
            return ends[back][1]
    return None


def _mention(span: Span) -> Mention:
    return Mention(text=span.text, start=span.start_char, end=span.end_char)


def _roman(token: str) -> int | None:
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    token = token.lower()
    if not token or any(ch not in values for ch in token):
        return None
    total = 0
    for a, b in zip(token, [*token[1:], ""], strict=True):
        va, vb = values[a], values.get(b, 0)
        total += -va if va < vb else va
    return total if 0 < total < 400 else None


_CLUSTER_NUMBER = re.compile(
    r"\s*(?P<cue>số|so|no\.?|n\.?\s*º|n\.?\s*°|n°|nº|núm\.?|number|numéro)?\s*([0-9]{1,3}|[IVXLC]{1,7})\b",
    re.IGNORECASE,
)
# A count, not the cluster's number, when no number word stands before it: "Cụm thi đua 5 tỉnh Bắc Trung Bộ",
# "the emulation cluster of 6 provinces".
_CLUSTER_COUNT = re.compile(
    r"\s*(?:tỉnh|tinh|thành|thanh|sở|so|đơn vị|don vi|địa phương|dia phuong|thành viên|thanh vien|cơ quan|"
    r"provinces|provincias|départements|departments|departamentos|localities|members|miembros|membres)\b",
    re.IGNORECASE,
)


def _clusters(text: str, lang: str) -> list[Organization]:
    """Emulation clusters and blocs with their number ('Cụm thi đua số VIII', 'Clúster de Emulación n.º VIII'),
    or, without a number, the region they are named after ('Cụm thi đua các tỉnh Tây Nguyên'), else the kind of
    their members ('Khối thi đua các cơ quan Đảng')."""
    words = lx.forms_for(lx.lexicon()["cluster_words"], lang)
    folded = fold(text)
    found: dict[int | str, Organization] = {}
    for word in sorted({fold(w) for w in words}, key=len, reverse=True):
        for m in re.finditer(rf"\b{re.escape(word)}", folded):
            num = _CLUSTER_NUMBER.match(text, m.end())
            number = None
            counted = num is not None and num.group("cue") is None and num.group(2).isdigit()
            if num and not (counted and _CLUSTER_COUNT.match(text, num.end())):
                raw = num.group(2)
                number = int(raw) if raw.isdigit() else _roman(raw)
            region = group = None
            if number is not None and num is not None:
                mention = Mention(text=text[m.start() : num.end()], start=m.start(), end=num.end())
            elif (named := region_named(text, folded, m.start(), m.end())) is not None:
                region, start, end = named
                mention = Mention(text=text[start:end], start=start, end=end)
            elif (kind_named := group_named(folded, m.start(), m.end())) is not None:
                group, start, end = kind_named
                mention = Mention(text=text[start:end], start=start, end=end)
            else:
                continue
            key: int | str = number if number is not None else f"region:{region}" if region else f"group:{group}"
            org = found.get(key)
            if org is None:
                found[key] = Organization(
                    id=f"vn-emulation-cluster:{number if number is not None else region or group}",
                    name=mention.text,
                    kind="emulation_cluster",
                    number=number,
                    region=region,
                    group=group,
                    mentions=[mention],
                )
            elif all(x.start != mention.start for x in org.mentions):
                org.mentions.append(mention)
    for org in found.values():
        org.mentions.sort(key=lambda x: x.start)
    return sorted(found.values(), key=lambda o: o.mentions[0].start)


def reference_date(published: date | None, dates: list[DateEntity]) -> date | None:
    """The date an article speaks of: when it was published, else the latest full date it names, else year."""
    if published is not None:
        return published
    days = [d.value for d in dates if d.granularity == "day"]
    if days:
        return date.fromisoformat(max(days))
    years = [int(d.value[:4]) for d in dates]
    return date(max(years), 6, 30) if years else None


@lru_cache(maxsize=1)
def _sidebar_pattern() -> re.Pattern[str]:
    cues = {fold(c) for row in lx.lexicon()["sidebar_cues"].values() for c in row}
    alt = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?m)^[ \t]*(?:{alt})[ \t]*:?[ \t]*$")


def article_body(text: str) -> str:
    """The text up to a sidebar of other stories ('Tin liên quan', 'Related news', 'Ver más', 'Lire aussi')."""
    m = _sidebar_pattern().search(fold(text))
    return text[: m.start()] if m else text


def _coordinated(doc: Doc, end: int, body_starts: dict[int, Span]) -> Span | None:
    """The next body of a coordination: 'the Departments of Health and the Departments of Education ... of X'."""
    i = end
    while i < len(doc) and i - end <= 3 and doc[i].norm_ in _COORD_SKIP:
        i += 1
    return body_starts.get(i) if i > end else None


def _main_province(found: _Found) -> ProvinceEntry | None:
    """The province the article is about: the first one it names (its title or lead)."""
    return found.provinces[0][1] if found.provinces else None


# Texts longer than this are tokenised in pieces (spaCy refuses a text over nlp.max_length, 1,000,000
# characters, in one call). Far above any news article, so an ordinary text takes the one-call path.
CHUNK_CHARS = 200_000
# Where a piece may end, best first: after a blank line, after a sentence, after any whitespace. A piece ends
# after the whole whitespace run that follows its last word (the lookahead), so its tokens are the ones the
# whole text would give.
_CHUNK_BOUNDARIES = (
    re.compile(r"\n[ \t\r\f\v]*\n\s*(?=\S)"),
    re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]*\s+(?=\S)"),
    re.compile(r"\s+(?=\S)"),
)


def chunk_bounds(text: str, size: int = CHUNK_CHARS) -> list[tuple[int, int]]:
    """(start, end) of consecutive pieces of at most `size` characters that together are `text`.

    Each piece ends at the last paragraph boundary of its second half, else the last sentence end, else the
    last whitespace; a text without any is cut at `size`.
    """
    bounds: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > size:
        low, high = start + size // 2, start + size
        cut = high
        for boundary in _CHUNK_BOUNDARIES:
            ends = [m.end() for m in boundary.finditer(text, low, high)]
            if ends:
                cut = ends[-1]
                break
        bounds.append((start, cut))
        start = cut
    bounds.append((start, len(text)))
    return bounds


def _parse(nlp: Language, text: str) -> Doc:
    """`nlp(text)`, in pieces of CHUNK_CHARS joined into one Doc when the text is longer: the joined Doc's
    text is `text`, so every span's character offsets are offsets into `text`, and a name that crosses a
    piece's end is matched as in the whole text."""
    if len(text) <= CHUNK_CHARS:
        return nlp(text)
    docs = [nlp(text[start:end]) for start, end in chunk_bounds(text, CHUNK_CHARS)]
    doc = Doc.from_docs(docs, ensure_whitespace=False)
    assert doc.text == text
    return doc


def extract_entities(text: str, lang: str, published: date | None = None) -> Entities:
    """All entities of one article's main text, each linked to a canonical id, with character offsets.

    A sidebar of other stories at the end ('Tin liên quan', 'Ver más') is not read. A department or provincial
    body named without its province belongs to the province the article is about (the first it names).
    """
    nlp, matcher = get_nlp()
    gaz = load_gazetteer()
    text = article_body(text)
    doc = _parse(nlp, text)
    dates = find_dates(text, lang, published)
    found = _match(doc, matcher, gaz, reference_date(published, dates))

    provinces: dict[str, Province] = {}
    for span, entry in found.provinces:
        _province(provinces, entry, gaz).mentions.append(_mention(span))
    _add_script_provinces(provinces, text, reference_date(published, dates))

    starts = {span.start: (span, entry) for span, entry in found.provinces}
    ends = {span.end: (span, entry) for span, entry in found.provinces}
    departments: dict[str, Department] = {}
    unplaced: list[tuple[str, Span]] = []
    organizations: dict[str, Organization] = {}
    sectors = lx.departments()
    org_rows = lx.lexicon()["organizations"]
    main = _main_province(found)
    body_starts = {span.start: span for span, _, _ in found.bodies}

    def places_of(span: Span, depth: int = 0) -> list[ProvinceEntry]:
        after = _provinces_after(doc, span.end, starts)
        listed = _listed_provinces(doc, span, starts, body_starts)
        if len(listed) > len(after):  # "các Sở Xây dựng: A, B - C, D": the list reads past the first joiner
            return listed
        if after:
            return after
        before = _province_before(doc, span.start, ends)
        if before:
            return [before]
        nxt = _coordinated(doc, span.end, body_starts)
        return places_of(nxt, depth + 1) if nxt is not None and depth < 4 else []

    for span, kind, key in found.bodies:
        places = places_of(span)
        if kind == "sector":
            if len(places) >= 2:  # a list of provinces: each one's department of the sector
                for entry in places:
                    _add_department(departments, key, sectors[key], entry.ref(), span)
            continue
        if kind == "dept":
            if key == "ppc_office" and not places and span.end < len(doc) and doc[span.end].norm_ in _LOCAL_AFTER:
                continue  # "Văn phòng UBND huyện Châu Thành": the office of a district's committee
            if not places:
                unplaced.append((key, span))
            for entry in places:
                _add_department(departments, key, sectors[key], entry.ref(), span)
        elif kind == "ministry":
            row = sectors[key]["ministry"]
            oid = f"vn-ministry:{key}"
            org = organizations.setdefault(oid, Organization(id=oid, name=row["en"][0], kind="ministry", mentions=[]))
            org.mentions.append(_mention(span))
        else:
            nxt_tok = doc[span.end].norm_ if span.end < len(doc) else ""
            if not places and nxt_tok in _LOCAL_AFTER:
                continue  # "UBND huyện Châu Thành": a district or commune body
            if not places and main is not None:
                places = [main]
            place = places[0].ref() if places else None
            oid = f"vn-org:{key}:{place.id if place else 'unplaced'}"
            name = org_rows[key]["name"] + (f" of {place.name}" if place else "")
            org = organizations.setdefault(
                oid,
                Organization(id=oid, name=name, kind=key, province=place, mentions=[]),  # type: ignore[arg-type]
            )
            org.mentions.append(_mention(span))
    for key, span in unplaced:
        # "the Department" without a province: the same sector's department named before it in its paragraph,
        # else the province its paragraph names last before it ("Tư pháp Hà Nam ... Giám đốc Sở Tư pháp ..."),
        # else the same sector's department named elsewhere in the article, else the article's province. With
        # several placed ones elsewhere, the bare name is a generic reference ("los Departamentos"): no entity.
        placed = [d for d in departments.values() if d.sector == key and d.province is not None]
        para = text.rfind("\n", 0, span.start_char) + 1
        same = [(m.start, d) for d in placed for m in d.mentions if para <= m.start < span.start_char]
        near = [(sp.start_char, e) for sp, e in found.provinces if para <= sp.start_char < span.start_char]
        plural = span[0].norm_ in _FOREIGN_BODY_WORDS and span[0].norm_.endswith("s")  # "des Départements ..."
        if same and not plural:
            _add_department(departments, key, sectors[key], max(same, key=lambda x: x[0])[1].province, span)
        elif near and not plural:
            _add_department(departments, key, sectors[key], max(near, key=lambda x: x[0])[1].ref(), span)
        elif not placed:
            _add_department(departments, key, sectors[key], main.ref() if main else None, span)
        elif len(placed) == 1:
            _add_department(departments, key, sectors[key], placed[0].province, span)

    clusters = _clusters(text, lang)
    orgs = sorted(organizations.values(), key=lambda o: o.mentions[0].start) + clusters
    depts = sorted(departments.values(), key=lambda d: d.mentions[0].start)
    officials = find_officials(
        text, lang, depts, orgs, [m for p in provinces.values() for m in p.mentions], main.ref().id if main else None
    )
    provs = sorted(provinces.values(), key=lambda p: p.mentions[0].start)
    # Topics may weigh a cue word inside a department's or ministry's name ("... and Environment") less.
    names = [(m.start, m.end) for d in depts for m in d.mentions]
    names += [(m.start, m.end) for o in orgs if o.kind == "ministry" for m in o.mentions]
    themes = find_themes(text, lang)
    # Topics are what Vietnamese government news is about: an edition in another language gets them only when
    # it names a Vietnamese province, body or official (foreign news about other countries gets none).
    if lang == "vi" or provs or depts or officials or any(o.kind != "emulation_cluster" for o in orgs):
        themes += find_topics(text, lang, names)
    facts = find_cluster_facts(
        text, lang, reference_date(published, dates), clusters, orgs, depts, provs, officials, themes, dates
    )
    return Entities(
        provinces=provs,
        departments=depts,
        officials=officials,
        themes=themes,
        organizations=orgs,
        dates=dates,
        clusters=facts.clusters,
        pacts=facts.pacts,
    )


def _add_script_provinces(provinces: dict[str, Province], text: str, reference: date | None) -> None:
    """Provinces named in Russian, Chinese, Japanese ... editions (issue 3), matched on characters."""
    gaz = load_gazetteer()
    for hit in find_script_provinces(text, reference):
        prov = _province(provinces, hit.entry, gaz)
        prov.mentions.append(Mention(text=hit.text, start=hit.start, end=hit.end))
        prov.mentions.sort(key=lambda m: m.start)


def _province(provinces: dict[str, Province], entry: ProvinceEntry, gaz: Gazetteer) -> Province:
    """The article's Province for `entry`, made (with its successor and no mentions yet) on first sight."""
    prov = provinces.get(entry.id)
    if prov is None:
        succ = gaz.successor(entry)
        prov = provinces[entry.id] = Province(
            id=entry.id,
            name=entry.name,
            name_ascii=entry.name_ascii,
            name_en=entry.name_en,
            code=entry.code,
            scheme=entry.scheme,
            successor=succ.ref() if succ else None,
            mentions=[],
        )
    return prov


def _add_department(
    departments: dict[str, Department], sector: str, row: dict[str, Any], province: ProvinceRef | None, span: Span
) -> None:
    did = f"vn-department:{sector}:{province.id if province else 'unplaced'}"
    dept = departments.get(did)
    if dept is None:
        name_en = row["name_en"] + (f" of {province.name}" if province else "")
        name_vi = row["name_vi"] + (f" {_vi_unit(province)} {province.name}" if province else "")
        dept = departments[did] = Department(
            id=did,
            sector=sector,  # type: ignore[arg-type]
            name_en=name_en,
            name_vi=name_vi,
            province=province,
            mentions=[],
        )
    mention = _mention(span)
    if all(m.start != mention.start for m in dept.mentions):
        dept.mentions.append(mention)


def _vi_unit(province: ProvinceRef) -> str:
    entry = load_gazetteer().get(province.id)
    return "thành phố" if entry.is_city else "tỉnh"
