"""Property tests: random and adversarial text never crashes the extractor, and every mention's offsets point
at its text."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.entities.engine import extract_entities
from schemas.models import Entities

EVAL = Path(__file__).resolve().parent / "eval"
FIELDS = ("provinces", "departments", "officials", "themes", "organizations", "dates")

# Pieces real articles are made of, and the characters that break naive rules.
FRAGMENTS = [
    "Sở TN&MT tỉnh Long An",
    "Giám đốc Sở Tài chính",
    "Võ Minh Thành",
    "Nguyen Van A",
    "TP.HCM",
    "HCMC",
    "Ho Chi Minh City",
    "Chủ tịch Hồ Chí Minh",
    "Departamento de Recursos Naturales y Medio Ambiente de",
    "Département de l'Intérieur",
    "DONRE",
    "Cụm thi đua số VIII",
    "Clúster de Emulación n.º",
    "với chủ đề",
    "con el tema:",
    "sur le thème",
    "slogan",
    "“",
    "”",
    "«",
    "»",
    "„",
    '"',
    "'",
    "‘",
    "’",
    "(",
    ")",
    ",",
    " y ",
    " and ",
    " et ",
    " và ",
    "\n",
    "Tin liên quan\n",
    "Ver más\n",
    "5/3/2024",
    "ngày 19 tháng 12 năm 2024",
    "\u200b",
    "\u200c",
    "\u200d",
    "\ufeff",
    "\u00a0",
    "İ",
    "ß",
    "ﬁ",
    "Ω",
    "한국",
    "東京",
    "Москва",
    "ไทย",
    "عربي",
    "🙂",
    "\u0301",
    "Đ",
    "đồng chí",
    "Elvicepresidente",
    "(VNA)",
    "Can Tho University",
    "l'",
    "d'",
]
LANGS = st.sampled_from(["vi", "en", "es", "fr", "und", "ru"])
DATES = st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)))
ADVERSARIAL = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=40).map("".join)


def _check(text: str, ents: Entities) -> None:
    for field in FIELDS:
        for entity in getattr(ents, field):
            for m in entity.mentions:
                assert 0 <= m.start <= m.end <= len(text), (field, m)
                assert text[m.start : m.end] == m.text, (field, m)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(), lang=LANGS, published=DATES)
def test_random_text(text: str, lang: str, published: date | None) -> None:
    _check(text, extract_entities(text, lang, published))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=ADVERSARIAL, lang=LANGS, published=DATES)
def test_adversarial_fragments(text: str, lang: str, published: date | None) -> None:
    _check(text, extract_entities(text, lang, published))


@settings(max_examples=60, deadline=None)
@given(punct=st.text(alphabet=st.characters(categories=["P", "S", "Z"]), max_size=500))
def test_only_punctuation_and_spaces(punct: str) -> None:
    ents = extract_entities(punct, "vi", None)
    _check(punct, ents)
    assert not ents.provinces and not ents.officials and not ents.departments


def test_empty_and_blank() -> None:
    for text in ("", " ", "\n\n", "\u200b"):
        assert extract_entities(text, "vi", None) == Entities()


def test_unbalanced_quotes_after_theme_cues() -> None:
    text = "với chủ đề “Đoàn kết\nslogan \"open\nel lema « sin cierre\nthe theme 'x"
    ents = extract_entities(text * 50, "en", None)
    _check(text * 50, ents)
    assert [t for t in ents.themes if t.kind == "slogan"] == []


def test_zero_width_characters_inside_names_keep_offsets() -> None:
    text = "Sở\u200b TN&MT tỉnh Long\u200dAn và Giám đốc Võ\ufeff Minh Thành, tỉnh Tiền\u00a0Giang."
    _check(text, extract_entities(text, "vi", date(2024, 1, 1)))


def test_one_megabyte_article() -> None:
    rows = json.loads((EVAL / "vi.json").read_text(encoding="utf-8"))
    lines = [line for r in rows for line in r["text"] if line != "Tin liên quan"]  # read it all: no sidebar
    block = "\n".join(lines) + "\u200b «“ ' \n"
    text = (block * (1_000_000 // len(block) + 1))[:1_000_000]
    ents = extract_entities(text, "vi", date(2024, 6, 1))
    _check(text, ents)
    assert len(ents.provinces) >= 10 and ents.officials
