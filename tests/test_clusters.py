"""Emulation clusters and pacts extracted from articles (`extractors/entities/clusters.py`)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from extractors.entities.clusters import sentences
from extractors.entities.engine import extract_entities
from newsflow.runtime import process
from schemas.models import ArticleRecord, Cluster, Entities, RawArticle, SourceInfo

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
MONRE_8 = "vn-emulation-cluster:vn-ministry:natural_resources_environment:8"


@cache
def record(name: str) -> ArticleRecord:
    """A sample as the pipeline reads it (title split off, HTML page reduced to its story)."""
    path = SAMPLES / name
    raw = RawArticle(
        source=SourceInfo(kind="file", uri=str(path), fetched_at=datetime.now(UTC)),
        content=path.read_text(encoding="utf-8"),
        media_type="text/html" if path.suffix == ".html" else "text/plain",
    )
    return process(raw, None)


def only_cluster(entities: Entities) -> Cluster:
    assert len(entities.clusters) == 1, [c.id for c in entities.clusters]
    return entities.clusters[0]


def provinces_of(cluster: Cluster) -> list[str]:
    return [m.province.name for m in cluster.members if m.province]


def roles_of(cluster: Cluster) -> set[tuple[int, str, str]]:
    return {(r.year, r.role, r.member.province.name if r.member.province else "?") for r in cluster.roles}


SIX = ["Long An", "Tiền Giang", "Vĩnh Long", "Đồng Tháp", "Bến Tre", "Trà Vinh"]


def test_reference_article_cluster_members_head_and_pact() -> None:
    rec = record("reference/cluster-viii-pact.es.txt")
    cluster = only_cluster(rec.entities)
    assert (cluster.id, cluster.number, cluster.kind) == (MONRE_8, 8, "cluster")
    assert cluster.belongs_to is not None and cluster.belongs_to.id == "vn-ministry:natural_resources_environment"
    assert provinces_of(cluster) == SIX
    assert {m.sector for m in cluster.members} == {"natural_resources_environment"}
    assert roles_of(cluster) == {(2024, "head", "Long An")}  # stated twice, one fact
    assert len(cluster.roles[0].mentions) == 2
    assert len(cluster.mentions) == 5  # "Clúster ... n.º VIII", "No. VIII", "Grupo de Emulación No. VIII"
    (pact,) = rec.entities.pacts
    assert pact.kind == "signing" and pact.year == 2024
    assert pact.cluster is not None and pact.cluster.id == MONRE_8
    assert pact.theme == "Disciplina, responsabilidad, proactividad y aceleración de la innovación"
    # "Representantes de los líderes de 6 Departamentos ... firmaron el pacto": the six members signed.
    assert sorted(s.province.name for s in pact.signatories if s.province) == sorted(SIX)
    for m in [*pact.mentions, *cluster.mentions, *(x for r in cluster.roles for x in r.mentions)]:
        assert rec.text[m.start : m.end] == m.text


def test_vietnamese_original_and_english_edition_give_the_same_cluster_and_pact() -> None:
    vi = record("vi/cum-thi-dua-viii-ky-giao-uoc-2024.txt")
    en = record("en/cluster-viii-pact-signing-2024.html")
    es = record("reference/cluster-viii-pact.es.txt")
    ids = {only_cluster(r.entities).id for r in (vi, en, es)}
    assert ids == {MONRE_8}
    assert {r.entities.pacts[0].id for r in (vi, en, es)} == {f"vn-emulation-pact:{MONRE_8}:2024:signing"}
    for rec in (vi, en):
        cluster = only_cluster(rec.entities)
        assert provinces_of(cluster) == SIX
        assert roles_of(cluster) == {(2024, "head", "Long An"), (2024, "deputy", "Tiền Giang")}
        pact = rec.entities.pacts[0]
        assert pact.date == "2024-03-05"
        assert pact.place is not None and pact.place.name == "Long An"  # the host: "Sở TN&MT tỉnh Long An chủ trì"
        assert len(pact.signatories) == 6  # "lãnh đạo 6 Sở TN&MT đã ký giao ước"
    assert vi.entities.pacts[0].theme == "Kỷ cương, trách nhiệm, chủ động, tăng tốc đổi mới sáng tạo"
    assert en.entities.pacts[0].theme == "Discipline, responsibility, proactiveness, accelerating innovation"
    # The four "Một là, … Hai là, …" paragraphs after "các nội dung chính:" are the contents.
    contents = vi.entities.pacts[0].contents
    assert len(contents) == 4
    assert contents[0].startswith("tiếp tục quán triệt tư tưởng thi đua ái quốc")
    assert contents[3].startswith("thực hiện hiệu quả các phong trào thi đua yêu nước")


def test_review_article_yields_next_years_head_and_deputy_from_the_handover() -> None:
    rec = record("vi/cum-thi-dua-v-tong-ket-2024.txt")
    cluster = only_cluster(rec.entities)
    assert cluster.id == "vn-emulation-cluster:vn-ministry:natural_resources_environment:5"
    assert provinces_of(cluster) == ["Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Bình", "Quảng Trị", "Thừa Thiên Huế"]
    assert roles_of(cluster) == {(2024, "head", "Hà Tĩnh"), (2025, "head", "Quảng Bình"), (2025, "deputy", "Quảng Trị")}
    handed = [r for r in cluster.roles if r.year == 2025 and r.role == "head"]
    assert handed[0].basis == "handover"
    (pact,) = rec.entities.pacts
    assert (pact.kind, pact.year, pact.date) == ("review", 2024, "2024-12-19")
    assert pact.place is not None and pact.place.name == "Hà Tĩnh"  # "tại thành phố Hà Tĩnh"
    # "… ký kết giao ước năm 2025 với phương châm “Đoàn kết, đổi mới, hiệu quả”" is next year's pact, not this one.
    assert pact.theme is None
    assert pact.signatories == []  # a review: nobody signs


def test_french_department_pact_without_a_cluster() -> None:
    rec = record("fr/tien-giang-construction-emulation-2024.txt")
    assert rec.entities.clusters == []
    (pact,) = rec.entities.pacts
    assert pact.cluster is None and pact.kind == "signing" and pact.year == 2024
    # Scoped by the organising department, so unrelated cluster-less pacts never share an id.
    assert pact.id == "vn-emulation-pact:vn-department:construction:vn-province:legacy_63:82:2024:signing"
    assert pact.theme == "Discipline, qualité des chantiers, logements pour les travailleurs"


def test_articles_without_clusters_or_pacts_get_none() -> None:
    rec = record("vi/ben-tre-so-hoa-dat-dai-cho-lach-2024.html")
    assert rec.entities.clusters == [] and rec.entities.pacts == []
    trade = "On May 3, 2024, Long An and Tay Ninh signed a trade pact to open a new border market."
    assert extract_entities(trade, "en").pacts == []  # a pact, but no emulation


# Own short texts, one per language, each with its hard case. Names and numbers are invented.

VI_NO_DIACRITICS = (
    "Ngay 12/3/2025, Cum thi dua so 3 thuoc Bo Tai chinh to chuc ky ket giao uoc thi dua nam 2025. "
    "Cum thi dua so 3 gom So Tai chinh cac tinh Tien Giang, Long An, Ben Tre. Nam 2025, So Tai chinh tinh Ben Tre "
    "giu vai tro cum truong, So Tai chinh tinh Long An lam cum pho.\n\nNoi dung giao uoc gom:\n\n"
    "1. Hoan thanh du toan thu ngan sach nam 2025.\n\n2. Giai ngan von dau tu cong dung tien do.\n\n"
    "3. Day manh chuyen doi so trong quan ly tai chinh.\n"
)


def test_vietnamese_without_diacritics_coordination_and_numbered_contents() -> None:
    ents = extract_entities(VI_NO_DIACRITICS, "vi")
    cluster = only_cluster(ents)
    assert cluster.id == "vn-emulation-cluster:vn-ministry:finance:3"  # "so 3", owner "thuoc Bo Tai chinh"
    assert provinces_of(cluster) == ["Tiền Giang", "Long An", "Bến Tre"]  # "So Tai chinh cac tinh A, B, C"
    assert roles_of(cluster) == {(2025, "head", "Bến Tre"), (2025, "deputy", "Long An")}
    (pact,) = ents.pacts
    assert (pact.kind, pact.year, pact.date) == ("signing", 2025, "2025-03-12")
    assert pact.contents == [
        "Hoan thanh du toan thu ngan sach nam 2025",
        "Giai ngan von dau tu cong dung tien do",
        "Day manh chuyen doi so trong quan ly tai chinh",
    ]


VI_MINISTRY_CLUSTER_AND_PROVINCE_BLOC = (
    "Sáng 20/2/2024, Khối thi đua số 2 của tỉnh Long An gồm Sở Tài chính, Sở Xây dựng và Sở Y tế tỉnh Long An "
    "phát động phong trào thi đua năm 2024 với chủ đề “Đoàn kết, kỷ cương, về đích sớm”. Năm 2024, Sở Xây dựng "
    "tỉnh Long An làm khối trưởng. Cũng trong tháng 2, Cụm thi đua số 2 thuộc Bộ Y tế họp tại Cần Thơ.\n"
)


def test_a_province_bloc_and_a_ministry_cluster_with_the_same_number_differ() -> None:
    ents = extract_entities(VI_MINISTRY_CLUSTER_AND_PROVINCE_BLOC, "vi")
    by_id = {c.id: c for c in ents.clusters}
    assert set(by_id) == {"vn-emulation-bloc:vn-province:legacy_63:80:2", "vn-emulation-cluster:vn-ministry:health:2"}
    bloc = by_id["vn-emulation-bloc:vn-province:legacy_63:80:2"]
    assert bloc.kind == "bloc" and bloc.belongs_to is not None and bloc.belongs_to.kind == "province"
    assert sorted(m.sector for m in bloc.members) == ["construction", "finance", "health"]
    assert [(r.year, r.role, r.member.sector) for r in bloc.roles] == [(2024, "head", "construction")]
    assert by_id["vn-emulation-cluster:vn-ministry:health:2"].members == []
    (pact,) = ents.pacts
    assert pact.kind == "launch" and pact.cluster is not None and pact.cluster.id == bloc.id
    assert pact.theme == "Đoàn kết, kỷ cương, về đích sớm"


EN_HANDOVER = (
    "On April 2, 2024, in Can Tho, Emulation Cluster No. 4 under the Ministry of Health held a conference to review "
    "the 2023 emulation pact. The cluster includes the Departments of Health of Can Tho, Hau Giang and Soc Trang. "
    "At the conference, the Department of Health of Can Tho handed over the role of cluster leader for 2024 to the "
    "Department of Health of Hau Giang, while the Department of Health of Soc Trang is the deputy cluster leader.\n"
)


def test_english_review_with_a_handover() -> None:
    ents = extract_entities(EN_HANDOVER, "en")
    cluster = only_cluster(ents)
    assert cluster.id == "vn-emulation-cluster:vn-ministry:health:4"
    assert provinces_of(cluster) == ["Cần Thơ", "Hậu Giang", "Sóc Trăng"]  # "the cluster includes": no number
    assert roles_of(cluster) == {(2023, "head", "Cần Thơ"), (2024, "head", "Hậu Giang"), (2024, "deputy", "Sóc Trăng")}
    (pact,) = ents.pacts
    assert (pact.kind, pact.date) == ("review", "2024-04-02")
    assert pact.place is not None and pact.place.name == "Cần Thơ"


ES_TEXT = (
    "El 8 de marzo de 2024, el Clúster de Emulación núm. 6 firmó el pacto de emulación con el tema “Innovación y "
    "servicio”. El Clúster comprende los Departamentos de Construcción de las provincias de Bac Lieu, Ca Mau y Kien "
    "Giang. En 2024, el Departamento de Construcción de la provincia de Ca Mau será el jefe del Clúster y el "
    "Departamento de Construcción de la provincia de Bac Lieu será el subjefe del Clúster. Los compromisos del "
    "pacto son:\n- Completar las obras públicas a tiempo;\n- Reducir los plazos de las licencias;\n"
    "- Apoyar la vivienda social.\n"
)


def test_spanish_head_deputy_and_dash_contents() -> None:
    ents = extract_entities(ES_TEXT, "es")
    cluster = only_cluster(ents)
    # No ministry named: the members' single sector gives it.
    assert cluster.id == "vn-emulation-cluster:vn-ministry:construction:6"
    assert roles_of(cluster) == {(2024, "head", "Cà Mau"), (2024, "deputy", "Bạc Liêu")}
    (pact,) = ents.pacts
    assert pact.theme == "Innovación y servicio" and pact.date == "2024-03-08"
    assert pact.contents == [
        "Completar las obras públicas a tiempo",
        "Reducir los plazos de las licencias",
        "Apoyar la vivienda social",
    ]


FR_TEXT = (
    "Le 6 mars 2024, à Vinh Long, le Groupe d'émulation n° VII des Départements de l'éducation et de la formation a "
    "signé un pacte d'émulation. Le groupe comprend les Départements de l'éducation et de la formation des provinces "
    "de Vinh Long, Tra Vinh et Ben Tre. En 2024, le Département de l'éducation et de la formation de la province de "
    "Vinh Long est le chef de file du groupe. Le pacte comporte les engagements suivants :\n"
    "a) Améliorer la qualité de l'enseignement ;\nb) Rénover les écoles rurales ;\n"
    "c) Former les enseignants au numérique.\n"
)


def test_french_group_signing_lettered_contents() -> None:
    ents = extract_entities(FR_TEXT, "fr")
    cluster = only_cluster(ents)
    assert (cluster.number, cluster.id) == (7, "vn-emulation-cluster:vn-ministry:education_training:7")
    assert roles_of(cluster) == {(2024, "head", "Vĩnh Long")}
    (pact,) = ents.pacts
    assert pact.place is not None and pact.place.name == "Vĩnh Long"
    # "le Groupe ... a signé": the cluster signed, so its members did ("6 mars" is a day, not a count).
    assert sorted(s.province.name for s in pact.signatories if s.province) == ["Bến Tre", "Trà Vinh", "Vĩnh Long"]
    assert len(pact.contents) == 3 and pact.contents[1] == "Rénover les écoles rurales"


PACT_DOCUMENT = (
    "GIAO ƯỚC THI ĐUA NĂM 2025\nCỤM THI ĐUA SỐ 9\n\nCăn cứ Luật Thi đua, khen thưởng, các đơn vị trong Cụm thi đua "
    "số 9 gồm Sở Nội vụ các tỉnh Sóc Trăng, Bạc Liêu và Cà Mau thống nhất ký kết giao ước thi đua với các nội dung "
    "sau:\n1. Thực hiện tốt công tác tổ chức bộ máy.\n2. Hoàn thành cải cách thủ tục hành chính.\n"
    "3. Không có cán bộ vi phạm kỷ luật.\n\nĐại diện Sở Nội vụ tỉnh Sóc Trăng, Sở Nội vụ tỉnh Bạc Liêu và Sở Nội vụ "
    "tỉnh Cà Mau đã ký giao ước.\n"
)


def test_pact_document_text_with_numbered_commitments_and_signatories() -> None:
    ents = extract_entities(PACT_DOCUMENT, "vi")
    cluster = only_cluster(ents)
    assert cluster.id == "vn-emulation-cluster:vn-ministry:home_affairs:9"
    (pact,) = ents.pacts
    assert (pact.kind, pact.year) == ("signing", 2025)
    assert pact.contents == [
        "Thực hiện tốt công tác tổ chức bộ máy",
        "Hoàn thành cải cách thủ tục hành chính",
        "Không có cán bộ vi phạm kỷ luật",
    ]
    assert sorted(s.province.name for s in pact.signatories if s.province) == ["Bạc Liêu", "Cà Mau", "Sóc Trăng"]


def test_the_generated_pact_document_text() -> None:
    """The text the document reader gives for the team's pact PDF/DOCX (tests/documents/pact.py)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("pact_document", REPO / "tests" / "documents" / "pact.py")
    assert spec is not None and spec.loader is not None
    doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc)
    ents = extract_entities(doc.expected_text(), "vi")
    cluster = only_cluster(ents)
    assert cluster.id == "vn-emulation-cluster:vn-ministry:justice:3"
    assert {(r.year, r.role) for r in cluster.roles} == {(2026, "head"), (2026, "deputy")}
    (pact,) = ents.pacts
    assert (pact.kind, pact.year, pact.date, pact.theme) == ("signing", 2026, "2026-03-12", doc.THEME)
    assert pact.contents == [c.rstrip(".") for c in doc.COMMITMENTS]  # across the page break
    # The signature block: one signatory per department, with the official who signed for it.
    signed = {s.province.name: s.official for s in pact.signatories if s.province}
    assert set(signed) == {"Nghệ An", "Hà Tĩnh", "Thanh Hóa", "Quảng Trị"}
    assert signed["Nghệ An"] == "vn-person:phan-thi-thu-hang"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Cụm thi đua số 8 họp.", 8),
        ("Emulation Cluster No. 8 met.", 8),
        ("El Clúster de Emulación n.º VIII.", 8),
        ("Cụm thi đua số XII họp.", 12),
        ("Le Groupe d'émulation n° 3 s'est réuni.", 3),
    ],
)
def test_cluster_numbers_roman_and_arabic(text: str, number: int) -> None:
    lang = "vi" if "Cụm" in text else "fr" if "Groupe" in text else "es" if "Clúster" in text else "en"
    assert [c.number for c in extract_entities(text, lang).clusters] == [number]


def test_a_role_named_without_its_holder_is_not_a_fact() -> None:
    text = (
        "Năm 2024, Cụm thi đua số 1 gồm Sở Y tế các tỉnh An Giang và Kiên Giang. Giám đốc Sở Y tế tỉnh "
        "An Giang Trần Văn Hòa đề nghị các thành viên gửi báo cáo đúng hạn để cụm trưởng tổng hợp."
    )
    assert only_cluster(extract_entities(text, "vi")).roles == []


def test_sentences_do_not_split_after_number_abbreviations() -> None:
    text = "El Clúster de Emulación No. VIII firmó. Luego habló M. Vo Tan Loc.\nOtra línea."
    spans = [text[a:b] for a, b in sentences(text)]
    assert spans == ["El Clúster de Emulación No. VIII firmó.", "Luego habló M. Vo Tan Loc.", "Otra línea."]


# --- role holders named by their province alone, inline contents, places, bounded signature blocks -------------

PROVINCE_HOLDERS = {
    "vi": (
        "Cụm thi đua số 4 thuộc Bộ Xây dựng gồm Sở Xây dựng các tỉnh Long An, Tây Ninh và Bình Phước. "
        "Năm 2024, Long An giữ vai trò cụm trưởng, Tây Ninh làm cụm phó."
    ),
    "en": (
        "Emulation Cluster No. 4 includes the Departments of Construction of Long An, Tay Ninh and Binh Phuoc. "
        "Long An holds the head role for 2024, and Tay Ninh is the deputy cluster leader."
    ),
    "es": (
        "El Clúster de Emulación n.º IV comprende los Departamentos de Construcción de Long An, Tay Ninh y Binh "
        "Phuoc. En 2024, Long An será el responsable del Clúster y Tay Ninh será el subjefe del Clúster."
    ),
    "fr": (
        "Le Groupe d'émulation n° 4 comprend les Départements de la construction de Long An, Tay Ninh et Binh "
        "Phuoc. En 2024, Long An est le chef de file du groupe et Tay Ninh est le chef de file adjoint."
    ),
}


@pytest.mark.parametrize("lang", sorted(PROVINCE_HOLDERS))
def test_a_province_named_alone_holds_the_role_through_its_member_department(lang: str) -> None:
    cluster = only_cluster(extract_entities(PROVINCE_HOLDERS[lang], lang))
    assert roles_of(cluster) == {(2024, "head", "Long An"), (2024, "deputy", "Tây Ninh")}
    head = next(r for r in cluster.roles if r.role == "head")
    assert head.member.department == next(
        m.department for m in cluster.members if m.province and m.province.name == "Long An"
    )
    assert head.member.sector == "construction"


def test_a_province_alone_gives_no_role_in_a_mixed_bloc_or_outside_the_members() -> None:
    # A province bloc's members are departments of several sectors: "Long An" does not say which one heads it.
    bloc = (
        "Khối thi đua số 5 của tỉnh Long An gồm Sở Tài chính tỉnh Long An và Sở Y tế tỉnh Long An. "
        "Năm 2024, Long An giữ vai trò khối trưởng."
    )
    assert only_cluster(extract_entities(bloc, "vi")).roles == []
    # Cà Mau is no member: naming it before the role word gives nobody the role.
    outside = "Cụm thi đua số 4 gồm Sở Xây dựng các tỉnh Long An và Tây Ninh. Năm 2024, Cà Mau giữ vai trò cụm trưởng."
    assert only_cluster(extract_entities(outside, "vi")).roles == []


def test_a_handover_between_provinces_named_alone() -> None:
    text = (
        "On December 16, 2024, Emulation Cluster No. 2 of the Departments of Finance held its review in Tra Vinh. "
        "The cluster includes the Departments of Finance of Tra Vinh, Soc Trang and Bac Lieu. Tra Vinh handed "
        "over the role of cluster leader for 2025 to Bac Lieu."
    )
    cluster = only_cluster(extract_entities(text, "en"))
    assert roles_of(cluster) == {(2024, "head", "Trà Vinh"), (2025, "head", "Bạc Liêu")}
    assert all(r.basis == "handover" for r in cluster.roles)


def test_inline_contents_numbered_in_parentheses_and_ordinal_words() -> None:
    es = (
        "El 2 de abril de 2024, el Clúster de Emulación núm. 9 firmó el pacto de emulación. El pacto recoge tres "
        "contenidos: (1) digitalizar los archivos de tierras; (2) atender a los ciudadanos sin demoras; y (3) "
        "controlar la contaminación de los ríos. La ceremonia terminó al mediodía."
    )
    assert extract_entities(es, "es").pacts[0].contents == [
        "digitalizar los archivos de tierras",
        "atender a los ciudadanos sin demoras",
        "controlar la contaminación de los ríos",
    ]
    en = (
        "On May 6, 2024, Emulation Cluster No. 9 signed its emulation pact. Its commitments are: first, issuing "
        "land certificates on time; second, settling complaints at the grassroots; third, planting coastal "
        "forests.\nThe next meeting is in June."
    )
    assert extract_entities(en, "en").pacts[0].contents == [
        "issuing land certificates on time",
        "settling complaints at the grassroots",
        "planting coastal forests",
    ]
    fr = (
        "Le 7 mai 2024, le Groupe d'émulation n° 9 a signé son pacte d'émulation. Le pacte comporte deux "
        "engagements : premièrement, moderniser les écoles rurales ; deuxièmement, former les enseignants au "
        "numérique."
    )
    assert extract_entities(fr, "fr").pacts[0].contents == [
        "moderniser les écoles rurales",
        "former les enseignants au numérique",
    ]


def test_inline_contents_of_the_reference_and_english_editions() -> None:
    es = record("reference/cluster-viii-pact.es.txt").entities.pacts[0].contents
    assert len(es) == 2  # "los siguientes contenidos principales: Continuar …; promover …"
    assert es[0].startswith("Continuar comprendiendo profundamente") and es[1].startswith("promover el liderazgo")
    en = record("en/cluster-viii-pact-signing-2024.html").entities.pacts[0].contents
    assert [c.split()[0] for c in en] == ["continuing", "renewing", "discovering"]


def test_a_colon_before_a_list_of_provinces_is_no_contents() -> None:
    text = (
        "Ngày 3/3/2024, Cụm thi đua số 6 ký kết giao ước thi đua. Cụm gồm Sở Y tế của 3 tỉnh: Long An; Tây Ninh; "
        "Bình Phước."
    )
    assert extract_entities(text, "vi").pacts[0].contents == []


@pytest.mark.parametrize(
    ("lang", "text", "place"),
    [
        (
            "es",
            "El 4 de marzo de 2024, el Clúster de Emulación n.º III organizó en la provincia de Ca Mau la firma del "
            "pacto de emulación.",
            "Cà Mau",
        ),
        (
            "en",
            "On March 4, 2024, Emulation Cluster No. 3 signed its pact at a ceremony hosted by the Department of "
            "Health of Ca Mau.",
            "Cà Mau",
        ),
        (
            "en",
            "On December 9, 2024, Emulation Cluster No. 3 held its review at the Department of Health of Bac Lieu.",
            "Bạc Liêu",
        ),
        (
            "fr",
            "Le 4 mars 2024, le Groupe d'émulation n° 3 a signé son pacte lors d'une cérémonie accueillie par le "
            "Département de la santé de Ca Mau.",
            "Cà Mau",
        ),
    ],
)
def test_pact_place_from_the_host_or_the_venue(lang: str, text: str, place: str) -> None:
    (pact,) = extract_entities(text, lang).pacts
    assert pact.place is not None and pact.place.name == place


def test_no_place_is_invented() -> None:
    assert record("reference/cluster-viii-pact.es.txt").entities.pacts[0].place is None
    text = "El 4 de marzo de 2024, el Clúster de Emulación n.º III firmó el pacto de emulación con Ca Mau y Bac Lieu."
    assert extract_entities(text, "es").pacts[0].place is None


SIGNED_WITH_RECIPIENTS = (
    "GIAO ƯỚC THI ĐUA NĂM 2025\nCỤM THI ĐUA SỐ 6\n\nCụm thi đua số 6 gồm Sở Y tế các tỉnh Kiên Giang, An Giang và "
    "Hậu Giang thống nhất ký kết giao ước thi đua năm 2025 với các nội dung sau:\n"
    "1. Giảm thời gian chờ khám bệnh.\n2. Hoàn thành tiêm chủng mở rộng.\n\n"
    "ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC\n\nGiám đốc Sở Y tế tỉnh Kiên Giang\nNguyễn Hữu Đức\n\n"
    "Giám đốc Sở Y tế tỉnh An Giang\nTrần Thị Mai\n\nNơi nhận:\n- Bộ Y tế;\n- Sở Y tế tỉnh Hậu Giang;\n"
    "- Sở Y tế tỉnh Cà Mau;\n- Lưu: VT.\n"
)


def test_the_signature_block_stops_before_the_recipients() -> None:
    (pact,) = extract_entities(SIGNED_WITH_RECIPIENTS, "vi").pacts
    # Hậu Giang is a member but only receives a copy; Cà Mau is a recipient, not even a member.
    assert sorted(s.province.name for s in pact.signatories if s.province) == ["An Giang", "Kiên Giang"]
    assert pact.contents == ["Giảm thời gian chờ khám bệnh", "Hoàn thành tiêm chủng mở rộng"]
