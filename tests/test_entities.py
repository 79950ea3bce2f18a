"""Entity extraction on the team's samples and on targeted hard cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from extractors.entities.engine import extract_entities
from extractors.entities.gazetteer import load_gazetteer
from extractors.entities.people import title_head
from extractors.sources import InputError
from newsflow.runtime import process, runtime
from newsflow.settings import Settings

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "samples" / "reference" / "cluster-viii-pact.es.txt"
CLUSTER_VI = REPO / "samples" / "vi" / "cum-thi-dua-viii-ky-giao-uoc-2024.txt"
CLUSTER_EN = REPO / "samples" / "en" / "cluster-viii-pact-signing-2024.html"
SIX = ["Long An", "Tiền Giang", "Vĩnh Long", "Đồng Tháp", "Bến Tre", "Trà Vinh"]


def _record(path: Path):
    items = list(runtime(Settings()).iter_sources([str(path)]))
    assert len(items) == 1 and not isinstance(items[0], InputError), items
    return process(items[0], None)


def test_reference_article_six_provinces_with_successors() -> None:
    ents = _record(REFERENCE).entities
    assert [p.name for p in ents.provinces] == SIX
    successors = {p.name: p.successor.name for p in ents.provinces if p.successor}
    assert successors == {
        "Long An": "Tây Ninh",
        "Tiền Giang": "Đồng Tháp",
        "Vĩnh Long": "Vĩnh Long",
        "Đồng Tháp": "Đồng Tháp",
        "Bến Tre": "Vĩnh Long",
        "Trà Vinh": "Vĩnh Long",
    }
    assert all(p.scheme == "legacy_63" for p in ents.provinces)
    assert {p.name_ascii for p in ents.provinces} == {
        "Long An",
        "Tien Giang",
        "Vinh Long",
        "Dong Thap",
        "Ben Tre",
        "Tra Vinh",
    }


def test_reference_article_departments_official_theme_cluster() -> None:
    ents = _record(REFERENCE).entities
    depts = {d.province.name for d in ents.departments if d.province}
    assert depts == set(SIX)
    assert {d.sector for d in ents.departments} == {"natural_resources_environment"}
    (official,) = ents.officials  # the byline "Thanh My" is not an official
    assert official.name == "Vo Minh Thanh"
    assert official.titles == ["director"]
    assert official.organization is not None
    assert official.organization.id == "vn-department:natural_resources_environment:vn-province:legacy_63:80"
    slogans = [t.text for t in ents.themes if t.kind == "slogan"]  # topics (kind "topic") come too
    assert slogans == ["Disciplina, responsabilidad, proactividad y aceleración de la innovación"]
    clusters = [o for o in ents.organizations if o.kind == "emulation_cluster"]
    assert [(c.id, c.number) for c in clusters] == [("vn-emulation-cluster:8", 8)]
    assert len(clusters[0].mentions) >= 3  # "n.º VIII", "No. VIII", "Grupo de Emulación No. VIII"


def test_same_story_same_ids_across_languages() -> None:
    vi, en, es = (_record(p).entities for p in (CLUSTER_VI, CLUSTER_EN, REFERENCE))
    for field in ("provinces", "departments"):
        ids = [{e.id for e in getattr(x, field)} for x in (vi, en, es)]
        assert ids[0] == ids[1] == ids[2], field
    assert {o.id for o in vi.officials} & {o.id for o in en.officials} >= {"vn-person:vo-minh-thanh"}
    vi_names = {o.id: o.name for o in vi.officials}
    assert vi_names["vn-person:vo-minh-thanh"] == "Võ Minh Thành"


def test_every_mention_points_at_its_text() -> None:
    settings = Settings()
    count = 0
    for item in runtime(settings).iter_sources([str(REPO / "samples")]):
        assert not isinstance(item, InputError), item
        record = process(item, None)
        for field in ("provinces", "departments", "officials", "themes", "organizations", "dates"):
            for entity in getattr(record.entities, field):
                for m in entity.mentions:
                    assert record.text[m.start : m.end] == m.text, (item.source.uri, field, m)
                    count += 1
    assert count > 200


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("Tư tưởng của Chủ tịch Hồ Chí Minh được quán triệt tại Long An.", "vi", ["Long An"]),
        ("El estilo de Ho Chi Minh inspira a la Ciudad Ho Chi Minh.", "es", ["Hồ Chí Minh"]),
        ("Ông Nguyễn Thái Bình, nông dân ở huyện Châu Thành, tỉnh Tiền Giang.", "vi", ["Tiền Giang"]),
        ("Lãnh đạo thành phố Bến Tre và UBND tỉnh Trà Vinh.", "vi", ["Trà Vinh"]),
        ("Officials of Ben Tre City met the Tra Vinh province delegation.", "en", ["Trà Vinh"]),
        ("Chiến thắng Điện Biên Phủ được kỷ niệm tại Sơn La.", "vi", ["Sơn La"]),
        ("Hội nghị tại TP.HCM và tỉnh BR-VT.", "vi", ["Hồ Chí Minh", "Bà Rịa - Vũng Tàu"]),
        ("So TN&MT tinh Long An va So TN&MT tinh Ben Tre.", "vi", ["Long An", "Bến Tre"]),
        ("Mục tiêu hòa bình và phát triển của tỉnh Hòa Bình.", "vi", ["Hòa Bình"]),
    ],
)
def test_province_context_rules(text: str, lang: str, expected: list[str]) -> None:
    got = [p.name for p in extract_entities(text, lang, date(2024, 3, 5)).provinces]
    assert got == expected


def test_scheme_follows_the_article_date() -> None:
    text = "Sở Nông nghiệp và Môi trường tỉnh Đồng Tháp họp với tỉnh Long An (cũ)."
    after = extract_entities(text, "vi", date(2025, 8, 1))
    by_name = {p.name: p for p in after.provinces}
    assert by_name["Đồng Tháp"].scheme == "current_34" and by_name["Đồng Tháp"].successor is None
    assert by_name["Long An"].scheme == "legacy_63" and by_name["Long An"].successor.name == "Tây Ninh"
    (dept,) = after.departments
    assert dept.sector == "agriculture_environment" and dept.province.id == by_name["Đồng Tháp"].id
    before = extract_entities(text, "vi", date(2024, 8, 1))
    assert {p.scheme for p in before.provinces} == {"legacy_63"}


def test_not_departments() -> None:
    text = (
        "Bộ TN&MT chỉ đạo Phòng TN&MT huyện Chợ Lách và Chi cục Kiểm lâm. "
        "The district's Department of Natural Resources and Environment also attended."
    )
    ents = extract_entities(text, "vi", date(2024, 1, 1))
    assert ents.departments == []
    assert [o.id for o in ents.organizations] == ["vn-ministry:natural_resources_environment"]


def test_coordinated_departments_english() -> None:
    text = "the Departments of Natural Resources and Environment of Long An, Tien Giang and Ben Tre met."
    ents = extract_entities(text, "en", date(2024, 1, 1))
    assert sorted(d.province.name for d in ents.departments) == ["Bến Tre", "Long An", "Tiền Giang"]


def test_officials_need_a_title() -> None:
    text = (
        "Phó Chủ tịch UBND tỉnh Bến Tre Nguyễn Văn Hùng làm việc với ông Trần Văn Tư, nông dân xã An Hiệp.\nLê Minh Anh"
    )
    ents = extract_entities(text, "vi", date(2024, 1, 1))
    assert [(o.name, o.titles) for o in ents.officials] == [("Nguyễn Văn Hùng", ["Phó Chủ tịch"])]
    assert ents.officials[0].organization.id == ents.organizations[0].id
    assert ents.organizations[0].kind == "peoples_committee"


def test_official_title_after_name_and_comrade() -> None:
    text = "Đồng chí Trần Thị Mỹ Hạnh phát biểu. Ông Hoàng Trọng Quyết, Bí thư Huyện ủy Cần Đước, dự họp."
    names = {o.name: o.titles for o in extract_entities(text, "vi", None).officials}
    assert names == {"Trần Thị Mỹ Hạnh": [], "Hoàng Trọng Quyết": ["Bí thư"]}


def test_themes_in_four_languages() -> None:
    cases = [
        ("Hội nghị diễn ra với chủ đề “Đoàn kết, sáng tạo”.", "vi", "Đoàn kết, sáng tạo"),
        ('The campaign runs under the slogan "Green Long An".', "en", "Green Long An"),
        ("Bajo el lema «Agua para todos» se inició la campaña.", "es", "Agua para todos"),
        ("Le mouvement sur le thème « Discipline et innovation » a débuté.", "fr", "Discipline et innovation"),
    ]
    for text, lang, expected in cases:
        assert [t.text for t in extract_entities(text, lang, None).themes if t.kind == "slogan"] == [expected], text
    assert extract_entities("Quotes without a cue: “not a theme”.", "en", None).themes == []


@pytest.mark.parametrize(
    ("text", "themes"),
    [
        # A theme after a colon without quotes ends at the verb that goes on with the sentence ...
        ("Phần 2 có chủ đề: Theo dấu chân Người giới thiệu cuộc đời của Bác.", ["Theo dấu chân Người"]),
        ("Phần 4 có chủ đề: Long An làm theo lời Bác nói lên công cuộc đổi mới của quê hương Long An.",
         ["Long An làm theo lời Bác"]),
        # ... or at the full stop, as before; a long clause is no theme.
        ("Phần 1 có chủ đề: Từ Làng Sen nhớ Bác.", ["Từ Làng Sen nhớ Bác"]),
        ("Chủ đề: tỉnh đã triển khai nhiều giải pháp đồng bộ để phát triển kinh tế xã hội của địa phương.", []),
        # A slogan of capitalised parts joined by dashes, without quotes or a colon, up to the sentence's end ...
        ("Hội nghị diễn ra với chủ đề Đoàn kết - Kỷ cương - Sáng tạo - Hiệu quả.",
         ["Đoàn kết - Kỷ cương - Sáng tạo - Hiệu quả"]),
        # ... not a phrase in lower case that holds a dash.
        ("Hội nghị với chủ đề phát triển kinh tế - xã hội của tỉnh.", []),
        # "với tinh thần" announces a slogan written with a capital; not a phrase quoted with irony.
        ("Cán bộ làm việc với tinh thần “Đoàn kết - Kỷ cương - Hiệu quả”.", ["Đoàn kết - Kỷ cương - Hiệu quả"]),
        ("Hồ sơ được thẩm định với tinh thần “thần tốc, táo bạo”.", []),
        ("Cán bộ thấm nhuần tinh thần “Không để ai bị bỏ lại phía sau”.", ["Không để ai bị bỏ lại phía sau"]),
    ],
)  # fmt: skip
def test_themes_after_a_colon_and_with_the_spirit_cue(text: str, themes: list[str]) -> None:
    assert [t.text for t in extract_entities(text, "vi", None).themes if t.kind == "slogan"] == themes


@pytest.mark.parametrize(
    ("text", "lang", "value", "granularity"),
    [
        ("Sáng ngày 5/3/2024, hội nghị", "vi", "2024-03-05", "day"),
        ("ngày 19 tháng 12 năm 2024", "vi", "2024-12-19", "day"),
        ("On March 5, 2024, the DONRE", "en", "2024-03-05", "day"),
        ("el 5 de marzo de 2024 se firmó", "es", "2024-03-05", "day"),
        ("le 1er mars 2025, le comité", "fr", "2025-03-01", "day"),
        ("En 2024, el Departamento", "es", "2024", "year"),
        ("trong tháng 3/2024", "vi", "2024-03", "month"),
    ],
)
def test_dates(text: str, lang: str, value: str, granularity: str) -> None:
    dates = extract_entities(text, lang, None).dates
    assert [(d.value, d.granularity) for d in dates] == [(value, granularity)]


@pytest.mark.parametrize(
    ("text", "lang", "published", "dates"),
    [
        # A day without a year takes the article's year ...
        ("Chiều 21/3, tại tỉnh Long An, hội nghị diễn ra.", "vi", date(2024, 3, 22), [("2024-03-21", "21/3")]),
        ("Sáng thứ Hai, ngày 5-3, hội nghị diễn ra.", "vi", date(2024, 3, 6), [("2024-03-05", "5-3")]),
        ("Ngày 10 tháng 2 vừa qua, hội nghị diễn ra.", "vi", date(2024, 3, 6), [("2024-02-10", "10 tháng 2")]),
        ("On March 5, the cluster met.", "en", date(2024, 3, 6), [("2024-03-05", "March 5")]),
        ("El 5 de marzo, el clúster se reunió.", "es", date(2024, 3, 6), [("2024-03-05", "5 de marzo")]),
        ("Le 5 mars, le groupe s'est réuni.", "fr", date(2024, 3, 6), [("2024-03-05", "5 mars")]),
        # ... last year's when it lies weeks after the article's date ...
        ("Ngày 28/12, Cụm thi đua tổng kết.", "vi", date(2025, 1, 3), [("2024-12-28", "28/12")]),
        # ... else the year of the latest date the text names.
        ("Sáng 10-2, Cụm thi đua số 4 ký giao ước thi đua năm 2017.", "vi", None, [("2017-02-10", "10-2")]),
        # No day: a fraction, a day with no word of the day before it, a text with no year at all.
        ("Tỷ lệ đạt 3/4 kế hoạch.", "vi", date(2024, 3, 6), []),
        ("Sáng 10-2, hội nghị diễn ra.", "vi", None, []),
        ("The may 5 plan.", "en", date(2024, 3, 6), []),
    ],
)  # fmt: skip
def test_days_written_without_a_year(
    text: str, lang: str, published: date | None, dates: list[tuple[str, str]]
) -> None:
    found = extract_entities(text, lang, published).dates
    assert [(d.value, d.mentions[0].text) for d in found if d.granularity == "day"] == dates


def test_gazetteer_has_both_schemes_from_the_package() -> None:
    gaz = load_gazetteer()
    legacy = gaz.scheme_entries("legacy_63")
    current = gaz.scheme_entries("current_34")
    assert len(legacy) == 63 and len(current) == 34
    assert all(e.successor_id and gaz.get(e.successor_id).scheme == "current_34" for e in legacy)
    long_an = gaz.get("vn-province:legacy_63:80")
    assert (long_an.name, gaz.successor(long_an).name) == ("Long An", "Tây Ninh")
    assert gaz.get("vn-province:current_34:80").name == "Tây Ninh"  # code 80 reused: the scheme tells them apart
    assert gaz.get("vn-province:legacy_63:46").name == "Thừa Thiên Huế"


def test_the_gazetteer_reads_the_packages_data_as_the_package_does_without_importing_it() -> None:
    """The package's `__init__` loads its address parsers (seconds of JSON and patterns): the gazetteer reads its
    database and mapping directly, and gets the rows the package's own query gives."""
    import subprocess
    import sys

    code = (
        "import sys; from extractors.entities.gazetteer import _package_data; _package_data(); "
        "print('vietnamadminunits' in sys.modules)"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert loaded.stdout.strip() == "False", loaded.stderr

    from vietnamadminunits.database import query

    from extractors.entities.gazetteer import _package_data

    legacy, current, mapping = _package_data()
    cols = "provinceCode, province, provinceShort, provinceKey"
    assert legacy == query(f"SELECT DISTINCT {cols} FROM admin_units_legacy")
    assert current == query(f"SELECT DISTINCT {cols} FROM admin_units")
    assert len(mapping) == 34


# Issue 3 (H5b): names, glued words, French inspectorates, "that of" coordination, several titles, topics.


@pytest.mark.parametrize(
    ("text", "lang", "name"),
    [
        ("Phó Chủ tịch UBND tỉnh Long An Mai Thị Lan Anh cho biết kế hoạch đã sẵn sàng.", "vi", "Mai Thị Lan Anh"),
        (
            "Vice Chairwoman of the Long An provincial People's Committee Mai Thi Lan Anh said so.",
            "en",
            "Mai Thi Lan Anh",
        ),
        (
            "La directora del Departamento de Salud de Long An, Vo Thi Kim Anh, visitó el hospital.",
            "es",
            "Vo Thi Kim Anh",
        ),
    ],
)
def test_given_name_that_is_also_a_word_ends_the_name(text: str, lang: str, name: str) -> None:
    ents = extract_entities(text, lang, date(2024, 5, 1))
    assert [o.name for o in ents.officials] == [name]
    (mention,) = ents.officials[0].mentions
    assert text[mention.start : mention.end] == name


def test_word_given_names_do_not_let_bylines_or_words_in() -> None:
    from extractors.entities.people import find_names

    text = "Giám đốc Sở Y tế tỉnh Bến Tre Trần Văn Năm dự họp. Anh cho biết tình hình ổn định.\nMai Lan Anh"
    ents = extract_entities(text, "vi", date(2024, 5, 1))
    assert [o.name for o in ents.officials] == ["Trần Văn Năm"]  # the byline "Mai Lan Anh" has no title
    # Before a capitalised word ("Anh Quốc", England) the word does not join the name; nor after a surname alone.
    sample = "Ông Nguyễn Văn Hải Anh Quốc đến. Bà Lê Anh về."
    assert [sample[a:b] for a, b in find_names(sample, [])] == ["Nguyễn Văn Hải"]


def test_glued_machine_translation_words_are_split() -> None:
    from extractors.entities.lexicon import glued_split

    assert glued_split("Departmentof") == len("Department")
    assert glued_split("Industryand") == len("Industry")
    assert glued_split("Departamentode") == len("Departamento")
    for whole in ("healthy", "environmental", "Department", "Nguyen", "Theme"):
        assert glued_split(whole) is None, whole
    text = "The Departmentof Industryand Trade of Long An met the Departmentof Health of Tien Giang."
    ents = extract_entities(text, "en", date(2024, 5, 1))
    assert {(d.sector, d.province.name) for d in ents.departments} == {
        ("industry_trade", "Long An"),
        ("health", "Tiền Giang"),
    }
    for dept in ents.departments:
        for m in dept.mentions:
            assert text[m.start : m.end] == m.text and m.text.startswith("Departmentof")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Quang Ngai : l'Inspection de la province de Binh Dinh a remis ses conclusions.", "Bình Định"),
        ("À Quang Ngai, l'Inspection provinciale a contrôlé le chantier.", "Quảng Ngãi"),
        ("Quang Ngai : l'Inspection provinciale de Binh Dinh a remis ses conclusions.", "Bình Định"),
    ],
)
def test_french_provincial_inspection_forms(text: str, expected: str) -> None:
    ents = extract_entities(text, "fr", date(2024, 5, 1))
    assert [(d.sector, d.province.name) for d in ents.departments] == [("inspectorate", expected)]


def test_an_inspection_of_a_site_is_not_the_inspectorate() -> None:
    ents = extract_entities("À Quang Ngai, l'inspection du pont a eu lieu.", "fr", date(2024, 5, 1))
    assert ents.departments == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Le Département de la Santé de Long An et celui de Tien Giang ont signé un accord.", "fr"),
        ("The Department of Health of Long An and that of Tien Giang signed an agreement.", "en"),
        ("The Department of Health of Long An and its counterpart in Tien Giang signed an agreement.", "en"),
        ("El Departamento de Salud de Long An y el de Tien Giang firmaron un acuerdo.", "es"),
    ],
)
def test_that_of_coordination_repeats_the_department(text: str, lang: str) -> None:
    ents = extract_entities(text, lang, date(2024, 5, 1))
    assert sorted((d.sector, d.province.name) for d in ents.departments) == [
        ("health", "Long An"),
        ("health", "Tiền Giang"),
    ]


def test_that_of_needs_a_province_after_it() -> None:
    text = "The Department of Health of Long An and that of the hospital agreed."
    ents = extract_entities(text, "en", date(2024, 5, 1))
    assert [(d.sector, d.province.name) for d in ents.departments] == [("health", "Long An")]


def test_an_official_keeps_every_title_as_written() -> None:
    es = (
        "La vicesecretaria del Comité Provincial del Partido y presidenta del Consejo Popular provincial, "
        "Nguyen Thi Hong Nhung, habló en Long An."
    )
    vi = (
        "Ông Đinh Văn Luận, Phó Giám đốc Sở Nội vụ, được bổ nhiệm giữ chức Giám đốc Sở Nội vụ tỉnh Quảng Bình. "
        "Đoàn do ông Phạm Quốc Tuấn, Phó Giám đốc Sở, làm trưởng đoàn."
    )
    titles_es = {o.name: o.titles for o in extract_entities(es, "es", date(2024, 5, 1)).officials}
    titles_vi = {o.name: o.titles for o in extract_entities(vi, "vi", date(2024, 5, 1)).officials}
    assert titles_es == {"Nguyen Thi Hong Nhung": ["vicesecretaria", "presidenta"]}
    # "làm trưởng đoàn" (led the visit), lowercase, is a role, not a post.
    assert titles_vi == {"Đinh Văn Luận": ["Phó Giám đốc", "Giám đốc"], "Phạm Quốc Tuấn": ["Phó Giám đốc"]}


def _topic_keys(text: str, lang: str) -> set[str]:
    from extractors.entities.topics import key_of

    return {key_of(t.text) for t in extract_entities(text, lang, date(2024, 5, 1)).themes if t.kind == "topic"}


def test_vietnamese_topic_cues_are_whole_syllables_with_their_diacritics() -> None:
    # "một" (one), "mở" (open) and "môi" are not "mỏ" (a mine); "lựa chọn" is not "lúa" (rice).
    text = (
        "Sở Tài nguyên và Môi trường tỉnh Long An mở một đợt kiểm tra, một lần nữa mở rộng việc lựa chọn "
        "mô hình; một tổ công tác mở hồ sơ và lựa chọn một phương án."
    )
    assert not {"minerals", "agriculture"} & _topic_keys(text, "vi")
    mining = "Tỉnh Long An kiểm tra các mỏ cát; hai mỏ khai thác trái phép bị đình chỉ."
    assert "minerals" in _topic_keys(mining, "vi")
    # Without diacritics the folded cue still matches, as a whole syllable.
    assert "minerals" in _topic_keys("Tinh Long An kiem tra cac mo cat; hai mo khai thac trai phep bi dinh chi.", "vi")


# Issue 3: general rules from the misses of the blind set's second run ----------------------------------------


def test_one_word_body_names_match_only_in_capitals() -> None:
    text = "Most of the capital went to Bac Giang province. The MOST and two DONREs signed the plan."
    orgs = {o.id: [text[m.start : m.end] for m in o.mentions] for o in extract_entities(text, "en").organizations}
    assert orgs.get("vn-ministry:science_technology") == ["MOST"]  # the ministry, not the word "Most"


def test_a_river_named_like_a_province_is_not_the_province() -> None:
    vi = "Tỉnh Lâm Đồng siết chặt khai thác cát trên sông Đồng Nai."
    assert [p.name for p in extract_entities(vi, "vi", date(2024, 5, 1)).provinces] == ["Lâm Đồng"]
    en = "Sand mining on the Dong Nai River worries Lam Dong province; Dong Nai province signed too."
    assert [p.name for p in extract_entities(en, "en", date(2024, 5, 1)).provinces] == ["Lâm Đồng", "Đồng Nai"]


def test_rare_family_names_and_marked_only_ones() -> None:
    text = (
        "Chủ tịch HĐND tỉnh Ninh Thuận Đổng Văn Tài và Phó Chủ tịch UBND tỉnh Liễu Thị Hồng Nhung dự họp. "
        "Tinh Dong Thap va Dong Nai Van Tai hop tac."
    )
    ents = extract_entities(text, "vi", date(2024, 5, 1))
    assert {o.name for o in ents.officials} == {"Đổng Văn Tài", "Liễu Thị Hồng Nhung"}
    # Unaccented, "Dong" stays the place word: no person "Dong Nai Van Tai".
    assert {"Đồng Tháp", "Đồng Nai"} <= {p.name for p in ents.provinces}


@pytest.mark.parametrize(
    "text",
    [
        "Long An's Department of Health Director Nguyen Van Hai said the outbreak was under control.",
        "Deputy Director of the Long An Department of Health Nguyen Van Hai said the outbreak was under control.",
    ],
)
def test_a_provinces_department_with_a_possessive_and_its_director_after_it(text: str) -> None:
    ents = extract_entities(text, "en", date(2024, 5, 1))
    assert [d.id for d in ents.departments] == ["vn-department:health:vn-province:legacy_63:80"]
    (official,) = ents.officials
    assert official.organization is not None and official.organization.id == ents.departments[0].id


@pytest.mark.parametrize(
    ("text", "lang", "title"),
    [
        ("Le département de la Santé de Nghe An a nommé M. Nguyen Van Hai directeur adjoint.", "fr",
         "directeur adjoint"),
        ("The People's Committee appointed Mr. Nguyen Van Hai Director of the Long An Department of Health.", "en",
         "Director"),
        ("El Comité Popular nombró a Nguyen Van Hai director del Departamento de Salud de Long An.", "es", "director"),
    ],
)  # fmt: skip
def test_a_post_right_after_the_name_of_someone_appointed(text: str, lang: str, title: str) -> None:
    (official,) = extract_entities(text, lang, date(2024, 5, 1)).officials
    assert official.titles == [title]
    assert official.organization is not None and official.organization.id is not None
    assert official.organization.id.startswith("vn-department:health:")


def test_no_post_right_after_a_name_without_a_verb_of_appointing() -> None:
    assert extract_entities("Nguyen Van Hai director of nothing said.", "en", date(2024, 5, 1)).officials == []


def test_a_districts_department_with_a_possessive_stays_out() -> None:
    ents = extract_entities("The district's Department of Health said.", "en", date(2024, 5, 1))
    assert ents.departments == []


def test_former_and_new_posts_after_the_name() -> None:
    text = (
        "Ms Ho Thi Kieu Trang, formerly Deputy Director of the Department of Home Affairs of Quang Nam, "
        "became Director of the enlarged Department."
    )
    (official,) = extract_entities(text, "en", date(2025, 3, 12)).officials
    assert official.name == "Ho Thi Kieu Trang" and official.titles == ["Deputy Director", "Director"]


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        ("Ông Trần Văn Lộc, nguyên Phó Bí thư Tỉnh ủy (nhiệm kỳ 2010-2015); nguyên Chủ tịch UBND tỉnh Bình Định "
         "(nhiệm kỳ 2011-2016) bị cảnh cáo.", ["nguyên Phó Bí thư", "nguyên Chủ tịch"]),
        ("Bà Lê Thị Hoa, Ủy viên Ban Thường vụ Tỉnh ủy (khóa XIV), Trưởng ban Dân vận Tỉnh ủy, phát biểu.",
         ["Ủy viên Ban Thường vụ", "Trưởng ban"]),
        ("Ông Hà Văn Bình, Giám đốc Sở Tài chính (giai đoạn 2015-2020); Phó Chủ tịch UBND tỉnh, bị kỷ luật.",
         ["Giám đốc", "Phó Chủ tịch"]),
    ],
)  # fmt: skip
def test_posts_after_a_term_in_brackets_and_a_semicolon(text: str, titles: list[str]) -> None:
    (official,) = extract_entities(text, "vi", date(2024, 5, 1)).officials
    assert official.titles == titles


@pytest.mark.parametrize(
    ("text", "titles", "body"),
    [
        # Asides on the person between the name and the post: age, birth year, home province, party membership.
        ("Ông Lê Văn Hưng (52 tuổi), Phó Giám đốc Sở Y tế tỉnh Long An, bị cảnh cáo.", ["Phó Giám đốc"], "health"),
        ("Ông Lê Văn Hưng, 52 tuổi, Phó Giám đốc Sở Y tế tỉnh Long An, bị cảnh cáo.", ["Phó Giám đốc"], "health"),
        ("Ông Lê Văn Hưng, đảng viên, Giám đốc Sở Xây dựng tỉnh Phú Yên, bị khiển trách.", ["Giám đốc"],
         "construction"),
        ("Ông Lê Văn Hưng, quê Nghệ An, Giám đốc Sở Tư pháp tỉnh Long An, bị khiển trách.", ["Giám đốc"], "justice"),
        # Where a caption's person stands.
        ("Ông Lê Văn Hưng (phải), Phó Giám đốc Sở Y tế tỉnh Long An, trao quà.", ["Phó Giám đốc"], "health"),
        ("Ông Lê Văn Hưng (thứ hai từ trái), Giám đốc Sở Y tế tỉnh Long An, trao quà.", ["Giám đốc"], "health"),
        # "GĐ" is a director; the "GD" of "GD&ĐT" (education) is not.
        ("Ông Lê Văn Hưng, GĐ Sở Y tế tỉnh Long An, cho biết.", ["GĐ"], "health"),
        ("Phó Giám đốc Sở GD&ĐT tỉnh Long An Lê Văn Hưng cho biết.", ["Phó Giám đốc"], "education_training"),
        # Adverbs before the link word, and who appoints inside it.
        ("Ông Lê Văn Hưng tiếp tục giữ chức Giám đốc Sở Y tế tỉnh Long An.", ["Giám đốc"], "health"),
        ("Ông Lê Văn Hưng đã được bổ nhiệm làm Giám đốc Sở Nội vụ tỉnh Long An.", ["Giám đốc"], "home_affairs"),
        ("Ông Lê Văn Hưng chỉ giữ chức Phó Giám đốc Sở Y tế tỉnh Long An.", ["Phó Giám đốc"], "health"),
        ("Ông Lê Văn Hưng được Chủ tịch UBND tỉnh bổ nhiệm giữ chức Phó Giám đốc Sở Y tế tỉnh Long An.",
         ["Phó Giám đốc"], "health"),
        ("Ông Lê Văn Hưng được điều động, bổ nhiệm giữ chức Giám đốc Sở Nội vụ tỉnh Long An.", ["Giám đốc"],
         "home_affairs"),
        ("Ông Lê Văn Hưng thôi giữ chức Giám đốc Sở Nội vụ tỉnh Long An để nghỉ hưu.", ["Giám đốc"], "home_affairs"),
        # A list of posts after a colon.
        ("Ông Lê Văn Hưng từng giữ các chức vụ: Phó Giám đốc Sở Y tế, Giám đốc Sở Nội vụ tỉnh Long An.",
         ["Phó Giám đốc", "Giám đốc"], "health"),
    ],
)  # fmt: skip
def test_asides_adverbs_and_appointers_between_name_and_post(text: str, titles: list[str], body: str) -> None:
    (official,) = extract_entities(text, "vi", date(2024, 5, 1)).officials
    assert official.titles == titles
    assert official.organization is not None and official.organization.id is not None
    assert official.organization.id.startswith(f"vn-department:{body}:")


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        # A second post after a link word, without a comma: "… và hiện nay là …", "… nay là …", "… giữ chức …".
        ("Bà Lê Thị Hoa - khi đó là Chủ tịch UBND tỉnh Yên Bái và hiện nay là Bí thư Tỉnh ủy Yên Bái - đã ký.",
         ["Chủ tịch", "Bí thư"]),
        ("Người ký là bà Lê Thị Hoa - Chủ tịch UBND tỉnh Yên Bái nay là Bí thư Tỉnh ủy Yên Bái.",
         ["Chủ tịch", "Bí thư"]),
        ("Hội nghị bầu ông Lê Văn Hưng, nguyên Phó Bí thư Đảng ủy khối các cơ quan tỉnh giữ chức Chủ tịch Liên minh "
         "hợp tác xã tỉnh.", ["nguyên Phó Bí thư Đảng ủy", "Chủ tịch"]),
        # Posts after "từng đảm nhiệm các chức vụ", "được điều động và bổ nhiệm chức danh", "nhận nhiệm vụ là".
        ("Ông Lê Văn Hưng từng đảm nhiệm các chức vụ Giám đốc Sở GTVT, Bí thư Quận ủy Hải Châu.",
         ["Giám đốc", "Bí thư"]),
        ("Ông Lê Văn Hưng được điều động và bổ nhiệm chức danh Phó Giám đốc Sở Y tế tỉnh Bình Định.", ["Phó Giám đốc"]),
        ("Ông Lê Văn Hưng từng được bổ nhiệm làm Giám đốc Sở GD-ĐT tỉnh Bình Định.", ["Giám đốc"]),
        ("Ông Lê Văn Hưng đến nhận nhiệm vụ là Bí thư Quận ủy Thanh Khê.", ["Bí thư"]),
        # Not someone else's post after a dash and a clause of its own.
        ("Bà Lê Thị Hoa - Bí thư Tỉnh ủy Yên Bái - đã ký quyết định bổ nhiệm em trai mình làm Giám đốc Sở Y tế.",
         ["Bí thư"]),
    ],
)  # fmt: skip
def test_a_second_post_after_a_link_word(text: str, titles: list[str]) -> None:
    officials = extract_entities(text, "vi", date(2024, 5, 1)).officials
    assert [o.titles for o in officials] == [titles]


@pytest.mark.parametrize(
    ("text", "name", "body_name"),
    [
        # The body's name ends where the clause's verb or the next name's form of address begins.
        ("Ông Lê Văn Hưng, Giám đốc Trung tâm Kiểm soát bệnh tật tỉnh Long An cho biết.", "Lê Văn Hưng",
         "Trung tâm Kiểm soát bệnh tật tỉnh Long An"),
        ("Giám đốc Sở Y tế Long An, ông Lê Văn Hưng, cho biết.", "Lê Văn Hưng", "Sở Y tế Long An"),
        ("Ông Lê Văn Hưng - Phó Chủ tịch UBND tỉnh Long An đề nghị các sở tập trung.", "Lê Văn Hưng",
         "UBND tỉnh Long An"),
        ("Giám đốc Sở Y tế Long An - BS.CKII Lê Văn Hưng cho biết.", "Lê Văn Hưng", "Sở Y tế Long An"),
        ("Ông Lê Văn Hưng, Giám đốc Sở Tài chính tỉnh Long An dự họp.", "Lê Văn Hưng", "Sở Tài chính tỉnh Long An"),
        # ... but words of a body's own name stay ("Văn phòng Đăng ký", "Cục Hàng không").
        ("Ông Lê Văn Hưng, Giám đốc Văn phòng Đăng ký đất đai tỉnh Long An, phát biểu.", "Lê Văn Hưng",
         "Văn phòng Đăng ký đất đai tỉnh Long An"),
        ("Ông Lê Văn Hưng, Phó Cục trưởng Cục Hàng không Việt Nam cho biết.", "Lê Văn Hưng",
         "Cục Hàng không Việt Nam"),
    ],
)  # fmt: skip
def test_a_body_name_ends_before_the_clause_goes_on(text: str, name: str, body_name: str) -> None:
    officials = {o.name: o for o in extract_entities(text, "vi", date(2024, 5, 1)).officials}
    body = officials[name].organization
    assert body is not None and body.name == body_name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Abbreviated and party-cell posts.
        ("Ông Lê Văn Hưng, PCT UBND tỉnh Long An, cho biết.", {"Lê Văn Hưng": ["PCT"]}),
        ("Các ông Lê Văn Hưng và chi ủy viên Võ Quốc Tuấn bị khiển trách.", {"Võ Quốc Tuấn": ["chi ủy viên"]}),
        ("Đồng chí Lê Văn Hưng, Ủy viên BTV Tỉnh ủy, Trưởng Ban Tổ chức Tỉnh ủy Long An, phát biểu.",
         {"Lê Văn Hưng": ["Ủy viên BTV", "Trưởng Ban"]}),
        ("Thượng tá Lê Văn Hưng, Phó Trưởng Công an huyện Cần Giuộc, cho biết.",
         {"Lê Văn Hưng": ["Phó Trưởng Công an"]}),
        # A monk's family name; a family name that is also a place word, with a post after a dash in a list.
        ("Hòa thượng Thích Bảo Nghiêm, ĐB TP Hà Nội, cũng đề cập đến vấn đề này.", {"Thích Bảo Nghiêm": ["ĐB"]}),
        ("Dự có Lê Quang Huy – Phó Bí thư Tỉnh ủy; Thái Thanh Quý - Chánh văn phòng Tỉnh ủy Nghệ An.",
         {"Lê Quang Huy": ["Phó Bí thư"], "Thái Thanh Quý": ["Chánh văn phòng"]}),
        # Posts of the Party and the state's services, courts, procuracies, army, villages, and their short forms.
        ("Đồng chí Lê Văn Hưng - UVBTV Tỉnh ủy, Phó Chủ tịch Thường trực UBND tỉnh Long An phát biểu.",
         {"Lê Văn Hưng": ["UVBTV", "Phó Chủ tịch Thường trực"]}),
        ("ĐBQH Lê Văn Hưng chất vấn Bộ trưởng.", {"Lê Văn Hưng": ["ĐBQH"]}),
        ("Đại tá Lê Văn Hưng, Chỉ huy trưởng Bộ Chỉ huy Quân sự tỉnh, cho biết.", {"Lê Văn Hưng": ["Chỉ huy trưởng"]}),
        ("BS Lê Văn Hưng, Trưởng khoa Cấp cứu Bệnh viện Đa khoa tỉnh, cho biết.", {"Lê Văn Hưng": ["Trưởng khoa"]}),
        ("Ông Lê Văn Hưng, Phó phòng Kế hoạch tài chính, cho biết.", {"Lê Văn Hưng": ["Phó phòng"]}),
        ("Ông Lê Văn Hưng, Trưởng ấp Bình Hòa, cho biết.", {"Lê Văn Hưng": ["Trưởng ấp"]}),
        ("Thẩm phán Lê Văn Hưng và Kiểm sát viên Trần Văn Bình tham gia phiên tòa.",
         {"Lê Văn Hưng": ["Thẩm phán"], "Trần Văn Bình": ["Kiểm sát viên"]}),
        ("Ông Lê Văn Hưng, Đội trưởng Đội Quản lý thị trường số 3, cho biết.", {"Lê Văn Hưng": ["Đội trưởng"]}),
        ("Thủ trưởng Cơ quan Cảnh sát điều tra Công an tỉnh Lê Văn Hưng ký quyết định.",
         {"Lê Văn Hưng": ["Thủ trưởng"]}),
        ("Ông Lê Văn Hưng, Tổ trưởng tổ dân phố 5, cho biết.", {"Lê Văn Hưng": ["Tổ trưởng"]}),
        # Family names of the Jrai, Thái and Khmer peoples.
        ("Bí thư Tỉnh ủy Gia Lai Ksor Phước Hà phát biểu.", {"Ksor Phước Hà": ["Bí thư"]}),
        ("Ông Quàng Văn Binh, Phó Chủ tịch UBND tỉnh Điện Biên, cho biết.", {"Quàng Văn Binh": ["Phó Chủ tịch"]}),
        ("Chủ tịch UBND tỉnh Sóc Trăng Danh Út dự lễ.", {"Danh Út": ["Chủ tịch"]}),
        # Rarer family names, with their diacritics ("Ngụy"), and "Thi" (Khmer) only after a form of address:
        # "Thi đua" at a sentence's start is no name.
        ("Phó Chủ tịch UBND tỉnh Ngụy Văn Tuấn dự họp.", {"Ngụy Văn Tuấn": ["Phó Chủ tịch"]}),
        ("Ông Thi Danh nhận chức Trưởng Ban Bồi thường.", {"Thi Danh": ["Trưởng Ban"]}),
        ("Thi Đua Yêu Nước, Phó Chủ tịch UBND tỉnh phát động.", {}),
        # ... "Bàn" only as written: "Ban" is a board.
        ("Phó Chủ tịch UBND tỉnh, Ban Chấp hành Đảng bộ tỉnh dự họp.", {}),
        # Business people: a company named before "do ông A", a works, a football club's board.
        ("Xử phạt Công ty Cổ phần TDS do ông Phạm Viết Hiệp - Tổng Giám đốc là người đại diện pháp luật.", {}),
        ("Ông Nguyễn Hoàng Tân, Giám đốc Xí nghiệp đóng tàu Nam Triệu, mời ông Sơn.", {}),
        ("Chủ tịch CLB Hà Nội, ông Nguyễn Quốc Hội, cho biết.", {}),
        # ... while a department led by its director stays a department.
        ("Sở Y tế tỉnh Long An do ông Lê Văn Hưng - Giám đốc chủ trì.", {"Lê Văn Hưng": ["Giám đốc"]}),
        # A headline's post is not the post of the person the next line names.
        ("Hủy quyết định của Chủ tịch UBND TP Rạch Giá\nNăm 1982, ông Trần Thanh Bình có đơn.", {}),
        # ... but not a place with a dash after it.
        ("Tỉnh Thái Bình - Phó Chủ tịch UBND tỉnh phát biểu.", {}),
        ("Người dân rất thích Bảo Nghiêm Tự.", {}),
    ],
)  # fmt: skip
def test_abbreviated_posts_and_family_names_of_monks_and_place_words(text: str, expected: dict[str, list[str]]) -> None:
    assert {o.name: o.titles for o in extract_entities(text, "vi", date(2024, 5, 1)).officials} == expected


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        # Posts before and after the name.
        ("Phó Thủ tướng Lê Văn Hưng, Trưởng đoàn kiểm tra, phát biểu.", "vi",
         {"Lê Văn Hưng": ["Phó Thủ tướng", "Trưởng đoàn"]}),
        # A chain of posts joined by dashes.
        ("Ông Vũ Văn Tâm - Thanh tra viên cao cấp - Phó Cục trưởng - Phó Trưởng đoàn, cho biết.", "vi",
         {"Vũ Văn Tâm": ["Thanh tra viên cao cấp", "Phó Cục trưởng", "Phó Trưởng đoàn"]}),
        # Not a second post: the next titled name of a list, one after a full stop inside an abbreviation, a role
        # in lower case, a cluster's role, a dash inside a province's name.
        ("Phó Chủ tịch UBND tỉnh Lê Văn Hưng, Giám đốc Sở Y tế Trần Thị Mai dự họp.", "vi",
         {"Lê Văn Hưng": ["Phó Chủ tịch"], "Trần Thị Mai": ["Giám đốc"]}),
        ("Có nguyên Bí thư Thành ủy Lê Văn Hưng, nguyên Chủ tịch UBND TP.HCM Trần Văn Lâm dự.", "vi",
         {"Lê Văn Hưng": ["nguyên Bí thư"], "Trần Văn Lâm": ["nguyên Chủ tịch"]}),
        ("Thứ trưởng Lê Văn Hưng làm trưởng đoàn đã làm việc với tỉnh.", "vi", {"Lê Văn Hưng": ["Thứ trưởng"]}),
        ("La directora del Departamento de Finanzas de Soc Trang, Lam Thi Hoa, jefa del Clúster, afirmó.", "es",
         {"Lam Thi Hoa": ["directora"]}),
        ("Ông Lê Văn Hưng, Giám đốc Sở Y tế tỉnh Bà Rịa - Vũng Tàu, phát biểu.", "vi",
         {"Lê Văn Hưng": ["Giám đốc"]}),
    ],
)  # fmt: skip
def test_posts_on_both_sides_of_the_name_and_dash_chains(text: str, lang: str, expected: dict[str, list[str]]) -> None:
    ents = extract_entities(text, lang, date(2024, 5, 1))
    assert {o.name: o.titles for o in ents.officials} == expected


@pytest.mark.parametrize(
    ("text", "persons"),
    [
        # A city's or district's Party committee, then its place name: a place (two syllables), not a person...
        ("Báo cáo gửi Chủ tịch UBND tỉnh và Thường trực Thành ủy Hà Tiên, thừa nhận sai sót.", set()),
        # ... while a full name after it is its secretary.
        ("Bí thư Huyện ủy Nguyễn Văn Hải chủ trì hội nghị.", {"Nguyễn Văn Hải"}),
        # A colon between the unit and the places it lists.
        ("Chủ tịch UBND các quận, huyện: Hà Đông, Gia Lâm báo cáo; Giám đốc Sở Xây dựng Phạm Văn An dự.",
         {"Phạm Văn An"}),
    ],
)  # fmt: skip
def test_places_after_party_committees_and_unit_lists_are_not_persons(text: str, persons: set[str]) -> None:
    ents = extract_entities(text, "vi", date(2024, 5, 1))
    assert {o.name for o in ents.officials} == persons


@pytest.mark.parametrize(
    ("text", "lang", "persons"),
    [
        ("Ông Lê Văn Phúc, Phó Giám đốc Công ty Phú Lợi, và Giám đốc Sở Công Thương Trần Văn Lâm dự họp.", "vi",
         {"Trần Văn Lâm"}),
        ("Bà Đặng Thị Thu - Tổng Giám đốc là người đại diện pháp luật của Công ty Cổ phần An Bình.", "vi", set()),
        ("Chủ tịch HĐQT Liên hiệp HTX Sông Tiền Võ Văn Lộc cho biết giá lúa đã tăng.", "vi", set()),
        ("Mr. Pham Van Duc, Director of Mekong Seafood Joint Stock Company, met Vice Chairman of the provincial "
         "People's Committee Nguyen Van Hoa.", "en", {"Nguyen Van Hoa"}),
    ],
)  # fmt: skip
def test_business_people_are_not_officials(text: str, lang: str, persons: set[str]) -> None:
    """The guide: business people are not officials; a person whose only post heads a company is left out."""
    ents = extract_entities(text, lang, date(2024, 5, 1))
    assert {o.name for o in ents.officials} == persons


@pytest.mark.parametrize(
    ("text", "name", "title"),
    [
        ("Ông Trịnh Văn Khải được bầu giữ chức vụ Chủ tịch Hội Nông dân tỉnh nhiệm kỳ 2024 - 2029.",
         "Trịnh Văn Khải", "Chủ tịch"),
        ("Bà Mai Thị Lan (em gái ông Khải) từng giữ chức Phó Giám đốc Sở Nội vụ.", "Mai Thị Lan", "Phó Giám đốc"),
        ("Đoàn có ông Hồ Văn Lâm, nguyên Đại sứ Việt Nam tại Lào, tham dự.", "Hồ Văn Lâm", "Đại sứ"),
        ("Đại tá Lương Văn Tài, Phó Chính ủy Bộ Chỉ huy Quân sự tỉnh, phát biểu.", "Lương Văn Tài", "Phó Chính ủy"),
        ("Ông Đỗ Văn Sang, Kế toán trưởng Ban Quản lý dự án tỉnh, bị kỷ luật.", "Đỗ Văn Sang", "Kế toán trưởng"),
    ],
)  # fmt: skip
def test_elected_former_diplomatic_military_and_accounting_posts(text: str, name: str, title: str) -> None:
    ents = extract_entities(text, "vi", date(2024, 5, 1))
    found = {o.name: o.titles for o in ents.officials}
    assert name in found and any(title in t for t in found[name]), found


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Chánh văn phòng UBND TPHCM Lê Văn Hậu cho biết.", ["vn-department:ppc_office:vn-province:legacy_63:79"]),
        ("Văn phòng UBND Hà Nội vừa có thông báo.", ["vn-department:ppc_office:vn-province:legacy_63:01"]),
        ("Văn phòng UBND tỉnh Long An vừa có thông báo.", ["vn-department:ppc_office:vn-province:legacy_63:80"]),
        # A district's committee has an office too: not the province's.
        ("Văn phòng UBND huyện Châu Thành vừa có thông báo.", []),
    ],
)  # fmt: skip
def test_the_committee_office_named_with_its_province_right_after(text: str, expected: list[str]) -> None:
    assert [d.id for d in extract_entities(text, "vi", date(2017, 5, 1)).departments] == expected


@pytest.mark.parametrize(
    ("title", "head"),
    [
        ("GĐ Sở Y tế tỉnh Long An", "Giám đốc"),
        ("nguyên PGĐ Sở Y tế", "nguyên Phó Giám đốc"),
        ("Giám đốc Sở", "Giám đốc"),
    ],
)
def test_a_post_written_short_is_scored_as_the_post(title: str, head: str) -> None:
    assert title_head(title, "vi") == head
