"""Provinces in editions written in other scripts: the name table and the character matcher (issue 3)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.entities import scripts
from extractors.entities.engine import extract_entities
from extractors.entities.gazetteer import load_gazetteer
from extractors.entities.scripts import find_script_provinces, load_table

LANGS = {"ru", "zh", "ja", "ko", "th", "lo", "km", "ar", "hi", "el"}
BEFORE, AFTER = date(2024, 5, 1), date(2025, 9, 1)


def found(text: str, published: date | None = BEFORE) -> list[tuple[str, str]]:
    """(matched text, gazetteer id) of every hit, checking that each offset points at its text."""
    hits = find_script_provinces(text, published)
    for h in hits:
        assert text[h.start : h.end] == h.text
    return [(h.text, h.entry.id) for h in hits]


def ids(text: str, published: date | None = BEFORE) -> set[str]:
    return {pid for _, pid in found(text, published)}


def test_table_names_every_province_of_both_schemes_in_every_language() -> None:
    table = load_table()
    gaz = load_gazetteer()
    covered: set[str] = set()
    for key, by_lang in table["provinces"].items():
        covered |= {e.id for e in scripts._table().candidates[key]}
        missing = {lang for lang, keys in table["missing"].items() if key in keys}
        assert set(by_lang) | missing == LANGS, key
    assert covered == set(gaz.entries), set(gaz.entries) - covered  # all 63 legacy and 34 current units
    for lang, keys in [*table["uncertain"].items(), *table["missing"].items()]:
        assert lang in LANGS and set(keys) <= set(table["provinces"]), lang
    assert set(table["_sources"]) == LANGS


def test_chinese_ambiguous_names_need_their_marker() -> None:
    assert ids("越南和平省代表团") == {"vn-province:legacy_63:17"}
    assert ids("和平与发展") == set()  # 'peace'
    assert ids("太平洋航线") == set()  # the Pacific, not Thái Bình
    assert ids("太原市的专家") == set()  # a city (Thái Nguyên's capital, or Taiyuan)
    assert ids("胡志明主席") == set()  # the President
    assert ids("胡志明市与槟椥省、檳椥") == {"vn-province:legacy_63:79", "vn-province:legacy_63:83"}
    assert ids("奠边府战役") == set()  # Điện Biên Phủ, the town
    assert found("广西隆安县与越南隆安签署协议") == [("隆安", "vn-province:legacy_63:80")]  # not Longan County


def test_russian_case_forms_and_the_city_marker() -> None:
    text = "В провинции Лонган и в Лонгане, делегации из Ханоя и Ниньбиня"
    assert [t for t, _ in found(text)] == ["Лонган", "Лонгане", "Ханоя", "Ниньбиня"]
    assert ids("Инвесторы посетили город Бенче.") == set()  # the town
    assert ids("провинция Бенче") == {"vn-province:legacy_63:83"}
    assert ids("портрет Хо Ши Мина") == set()
    assert ids("Хошимина") == {"vn-province:legacy_63:79"}
    assert ids("Лонганский") == set()  # inside a longer word


def test_japanese_katakana_must_not_continue() -> None:
    assert ids("ロンアン省とダナン") == {"vn-province:legacy_63:80", "vn-province:legacy_63:48"}
    assert ids("ホー・チ・ミン主席") == set()
    assert ids("アダナンス") == set()


def test_korean_particles_and_common_words() -> None:
    assert [t for t, _ in found("롱안성에서 다낭에서 껀터시는 하이즈엉의")] == ["롱안성", "다낭", "껀터", "하이즈엉"]
    assert ids("하이즈엉사람") == set()  # bare name running into another word
    assert ids("회의 후에 발표") == set()  # 후에 'after' is not Huế
    assert ids("호찌민 주석") == set()


def test_arabic_clitics_thai_lao_khmer_hindi_greek() -> None:
    assert ids("وهانوي وبدا نانغ") == {"vn-province:legacy_63:01", "vn-province:legacy_63:48"}
    assert ids("ในจังหวัดล็องอานและฮานอย") == {"vn-province:legacy_63:80", "vn-province:legacy_63:01"}
    assert ids("ແຂວງ ເງະອານ") == {"vn-province:legacy_63:40"}
    assert ids("ខេត្តតៃនិញ") == {"vn-province:legacy_63:72"}
    assert ids("हो ची मिन्ह की समाधि") == set()
    assert ids("हो ची मिन्ह सिटी") == {"vn-province:legacy_63:79"}
    assert ids("στην ΕΠΑΡΧΊΑ Κουάνγκ Νίνχ") == {"vn-province:legacy_63:22"}  # case and accents do not matter


def test_thai_hue_counts_only_as_a_word_of_its_own() -> None:
    da_nang, hue_then, hue_now = "vn-province:legacy_63:48", "vn-province:legacy_63:46", "vn-province:current_34:46"
    assert ids("นักท่องเที่ยวเดินทางไปดานังและเว้") == {da_nang, hue_then}  # at the end of the text
    assert ids("ไปเว้และฮอยอัน") == {hue_then}  # no space, but 'and' follows
    assert ids("เที่ยวเว้.") == ids("เว้ 2 วัน") == {hue_then}
    assert ids("นครเว้ ประเทศเวียดนาม", AFTER) == {hue_now}
    assert ids("ทุกวันยกเว้นวันอาทิตย์") == ids("ละเว้นการสูบบุหรี่") == set()  # เว้น 'except', 'refrain'
    assert ids("เว้ย ไปกันเถอะ") == set()  # a slang particle
    assert [t for t, _ in found("จังหวัดเถื่อเทียนเว้")] == ["เถื่อเทียนเว้"]  # the province, not its city


def test_arabic_g_spellings_and_a_common_phrase() -> None:
    binh_duong, son_la = "vn-province:legacy_63:74", "vn-province:legacy_63:14"
    assert ids("مقاطعة بينه دونغ") == ids("مقاطعة بينه دونج") == {binh_duong}  # غ and ج both write 'ng'
    assert ids("مقاطعة سون لا") == {son_la}
    assert ids("في سن لا يقل عن ثمانية عشر عاما") == set()  # 'at an age not below': CLDR's سن لا is left out


def test_khmer_krom_names_need_the_province_word() -> None:
    kien_giang, soc_trang = "vn-province:legacy_63:91", "vn-province:legacy_63:94"
    assert ids("ខេត្តក្រមួនស") == ids("នៅខេត្តគៀងយ៉ាង") == {kien_giang}
    assert ids("ខេត្តឃ្លាំង") == {soc_trang}
    assert ids("ឃ្លាំងស្រូវ") == set()  # 'rice warehouse'


def test_confirmed_names_cite_sources_and_no_form_names_two_provinces() -> None:
    table = load_table()
    for lang in ("th", "lo", "km", "ar", "hi", "el"):
        named = {key: set(by[lang]) for key, by in table["provinces"].items() if by.get(lang)}
        sourced = table["sourced"][lang]
        for form, refs in sourced.items():
            assert any(form in names for names in named.values()), (lang, form)
            assert refs and set(refs) <= set(table["refs"]), (lang, form)
        unconfirmed = set(table["uncertain"].get(lang, []))
        assert [key for key, names in named.items() if key not in unconfirmed and not names & set(sourced)] == []
    owner: dict[tuple[str, str], str] = {}
    for key, by_lang in table["provinces"].items():
        for lang, names in by_lang.items():
            for name in names:
                assert owner.setdefault((lang, scripts._norm(name)), key) == key, (lang, name)


def test_the_article_date_picks_the_scheme() -> None:
    assert ids("西宁省", BEFORE) == {"vn-province:legacy_63:72"}
    assert ids("西宁省", AFTER) == {"vn-province:current_34:80"}
    assert ids("隆安省", AFTER) == {"vn-province:legacy_63:80"}  # merged away: only the legacy unit exists


def test_latin_text_is_not_scanned() -> None:
    assert find_script_provinces("Long An, Hanoi, Ha Noi, Tây Ninh") == []


def test_engine_links_other_scripts_with_successor_and_offsets() -> None:
    text = "越南隆安省人民委员会与隆安省、前江省签署协议。"
    ents = extract_entities(text, "zh", BEFORE)
    assert [p.id for p in ents.provinces] == ["vn-province:legacy_63:80", "vn-province:legacy_63:82"]
    long_an = ents.provinces[0]
    assert long_an.successor is not None and long_an.successor.name == "Tây Ninh"
    assert [m.start for m in long_an.mentions] == [2, 11]
    for p in ents.provinces:
        for m in p.mentions:
            assert text[m.start : m.end] == m.text


def test_mixed_latin_and_other_script_mentions_are_one_province() -> None:
    text = "Long An (隆安省) and Лонган"
    ents = extract_entities(text, "en", BEFORE)
    assert [p.id for p in ents.provinces] == ["vn-province:legacy_63:80"]
    assert [m.text for m in ents.provinces[0].mentions] == ["Long An", "隆安省", "Лонган"]


def test_a_table_naming_an_unknown_province_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    bad: dict[str, Any] = {"languages": {"zh": {"boundary": "none"}}, "provinces": {"Atlantis": {"zh": ["亚特兰蒂斯"]}}}
    monkeypatch.setattr(scripts, "load_table", lambda: bad)
    with pytest.raises(ValueError, match="'Atlantis' is not a province"):
        scripts._table.__wrapped__()


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list('隆安省ロンアン롱안성에서Лонганевوهانويล็องอาน \u200b"«».,-')), max_size=80)
)
def test_random_mixed_scripts_never_crash_and_offsets_hold(text: str) -> None:
    for hit in find_script_provinces(text, None):
        assert text[hit.start : hit.end] == hit.text and hit.text
