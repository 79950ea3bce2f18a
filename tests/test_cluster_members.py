"""Member lists of emulation clusters in the shapes real reports use (issue 18), and bodies other than departments.

The texts are written by the team in the shapes real cluster reports have; every name and number is invented.
"""

from __future__ import annotations

from datetime import date

import pytest

from extractors.entities.engine import extract_entities
from schemas.models import Entities

REF = date(2024, 3, 20)


def _entities(text: str) -> Entities:
    return extract_entities(text, "vi", REF)


def _depts(e: Entities, sector: str) -> set[str]:
    return {d.province.name for d in e.departments if d.sector == sector and d.province}


@pytest.mark.parametrize(
    ("text", "sector", "provinces"),
    [
        # A counted group of provinces, then a colon and the list.
        (
            "Cụm thi đua số III Bộ Y tế (gồm Sở Y tế 5 tỉnh, thành phố khu vực Tây Nam Bộ: Cần Thơ, Hậu Giang, "
            "Sóc Trăng, Bạc Liêu và Cà Mau) họp phiên đầu năm.",
            "health",
            {"Cần Thơ", "Hậu Giang", "Sóc Trăng", "Bạc Liêu", "Cà Mau"},
        ),
        # The cluster between the department and its provinces.
        (
            "Đến dự có lãnh đạo Sở Tư pháp trong cụm thi đua gồm 4 tỉnh khu vực duyên hải: Quảng Ngãi, Bình Định, "
            "Phú Yên và Khánh Hòa.",
            "justice",
            {"Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa"},
        ),
        # Plural departments, provinces joined by commas and dashes.
        (
            "Thành viên Cụm thi đua số 6 gồm các Sở Xây dựng: Hà Nam, Nam Định - Ninh Bình, Thái Bình.",
            "construction",
            {"Hà Nam", "Nam Định", "Ninh Bình", "Thái Bình"},
        ),
        # A count of departments, the cluster named by its noun alone; the list stops at what is not a province.
        (
            "Hội nghị nối 5 điểm cầu thuộc 4 Sở Tài chính thuộc Cụm gồm: Lai Châu, Sơn La, Lào Cai, Yên Bái và 01 "
            "điểm cầu tại Sở Tài chính tỉnh Điện Biên.",
            "finance",
            {"Lai Châu", "Sơn La", "Lào Cai", "Yên Bái", "Điện Biên"},
        ),
    ],
)
def test_a_department_listed_for_several_provinces_is_one_per_province(
    text: str, sector: str, provinces: set[str]
) -> None:
    assert _depts(_entities(text), sector) == provinces


@pytest.mark.parametrize(
    ("text", "sector", "provinces"),
    [
        # The sector, not the department, across a list of provinces: their departments.
        (
            "Lớp bồi dưỡng dành cho cán bộ ngành Tư pháp của 4 tỉnh khu vực duyên hải thuộc Cụm thi đua số 2 gồm "
            "Quảng Ngãi, Bình Định, Phú Yên và Khánh Hòa.",
            "justice",
            {"Quảng Ngãi", "Bình Định", "Phú Yên", "Khánh Hòa"},
        ),
        ("Ngành Tài nguyên và Môi trường Hậu Giang, Sóc Trăng ký giao ước thi đua.", "natural_resources_environment",
         {"Hậu Giang", "Sóc Trăng"}),
        # One province: the sector there (its department and its units), not a department.
        ("Ngành Y tế tỉnh Kon Tum triển khai tiêm chủng mở rộng.", "health", set()),
        ("Ngành Tư pháp đã hoàn thành nhiệm vụ năm.", "justice", set()),
    ],
)  # fmt: skip
def test_a_sector_across_a_list_of_provinces_is_their_departments(text: str, sector: str, provinces: set[str]) -> None:
    assert _depts(_entities(text), sector) == provinces


def test_a_colon_after_a_single_department_starts_no_list() -> None:
    e = _entities("Giám đốc Sở Y tế tỉnh Kon Tum cho biết: Gia Lai và Đắk Lắk cũng ghi nhận ca bệnh.")
    assert _depts(e, "health") == {"Kon Tum"}


def test_cluster_members_from_a_counted_list() -> None:
    e = _entities(
        "Sáng 12/3, Cụm thi đua số III Bộ Y tế (gồm Sở Y tế 4 tỉnh khu vực Tây Nam Bộ: Cần Thơ, Hậu "
        "Giang, Sóc Trăng và Bạc Liêu) ký kết giao ước thi đua năm 2024."
    )
    (cluster,) = e.clusters
    assert cluster.belongs_to is not None and cluster.belongs_to.id == "vn-ministry:health"
    assert {m.province.name for m in cluster.members if m.province} == {"Cần Thơ", "Hậu Giang", "Sóc Trăng", "Bạc Liêu"}
    assert all(m.kind == "department" and m.department == m.id and m.sector == "health" for m in cluster.members)


def test_a_cluster_of_associations_its_owner_members_and_roles() -> None:
    e = _entities(
        "Ngày 8/3/2024, Cụm thi đua số 7 thuộc Liên hiệp các Hội Khoa học và Kỹ thuật Việt Nam tổ chức hội nghị "
        "ký kết giao ước thi đua năm 2024. Dự hội nghị có lãnh đạo Liên hiệp Hội các tỉnh cụm thi đua số 7: Kiên "
        "Giang, An Giang, Đồng Tháp và Long An. Năm 2024, Liên hiệp Hội Kiên Giang giữ vai trò cụm trưởng, Liên "
        "hiệp Hội An Giang làm cụm phó."
    )
    (cluster,) = e.clusters
    assert cluster.belongs_to is not None and cluster.belongs_to.kind == "national_body"
    assert cluster.id == "vn-emulation-cluster:vn-body:science_technology_associations:7"
    assert [m.province.name for m in cluster.members if m.province] == [
        "Kiên Giang",
        "An Giang",
        "Đồng Tháp",
        "Long An",
    ]
    assert {m.kind for m in cluster.members} == {"association"} and all(m.department is None for m in cluster.members)
    assert cluster.members[0].name == "Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh Kiên Giang"
    roles = {(r.year, r.role, r.member.province.name if r.member.province else None) for r in cluster.roles}
    assert roles == {(2024, "head", "Kiên Giang"), (2024, "deputy", "An Giang")}


def test_a_bloc_of_farmers_associations_is_not_owned_by_its_first_members_province() -> None:
    e = _entities(
        "Khối thi đua số 2 gồm Hội Nông dân tỉnh Nghệ An, Hà Tĩnh, Quảng Bình và Quảng Trị đã tổng kết năm 2023."
    )
    (bloc,) = e.clusters
    assert bloc.kind == "bloc" and bloc.belongs_to is not None and bloc.belongs_to.id == "vn-body:farmers_association"
    assert len(bloc.members) == 4 and {m.body for m in bloc.members} == {"farmers_association"}


def test_party_boards_as_members_keep_their_own_names() -> None:
    e = _entities(
        "Cụm thi đua số 4 gồm Ban Tuyên giáo Tỉnh ủy các tỉnh Thái Bình, Nam Định, Hà Nam, Ninh Bình; "
        "Ban Tuyên giáo Tỉnh ủy Thái Bình là cụm trưởng năm 2022."
    )
    (cluster,) = e.clusters
    thai_binh = "Ban Tuyên giáo Tỉnh ủy Thái Bình"
    assert [m.name for m in cluster.members][:2] == [thai_binh, "Ban Tuyên giáo Tỉnh ủy Nam Định"]
    assert {m.kind for m in cluster.members} == {"party_board"}
    assert [(r.year, r.role, r.member.name) for r in cluster.roles] == [(2022, "head", thai_binh)]


def test_a_body_named_without_a_province_is_no_member() -> None:
    e = _entities("Cụm thi đua số 5 gồm Hội Nông dân và Hội Cựu chiến binh đã tổng kết năm 2023.")
    (cluster,) = e.clusters
    assert cluster.members == []


def test_a_review_report_dates_its_roles_by_the_year_reviewed() -> None:
    # A meeting in March 2022 reviewing 2021: the head and deputy named are 2021's; the handover gives 2022's head.
    e = extract_entities(
        "Ngày 10/3/2022, tại thành phố Vĩnh Long, Cụm thi đua số VII Bộ Tư pháp tổ chức hội nghị tổng kết công tác "
        "thi đua, khen thưởng năm 2021. Cụm gồm Sở Tư pháp các tỉnh Vĩnh Long, Trà Vinh, Bến Tre và Sóc Trăng. Sở "
        "Tư pháp tỉnh Vĩnh Long là cụm trưởng, Sở Tư pháp tỉnh Trà Vinh là cụm phó. Tại hội nghị, Sở Tư pháp Vĩnh "
        "Long đã bàn giao vai trò cụm trưởng cho Sở Tư pháp Bến Tre.",
        "vi",
        date(2022, 3, 11),
    )
    (cluster,) = e.clusters
    roles = {(r.year, r.role, r.member.province.name if r.member.province else None, r.basis) for r in cluster.roles}
    assert roles == {
        (2021, "head", "Vĩnh Long", "stated"),
        (2021, "deputy", "Trà Vinh", "stated"),
        (2022, "head", "Bến Tre", "handover"),
    }
    (pact,) = e.pacts
    assert (pact.kind, pact.year, pact.date) == ("review", 2021, "2022-03-10")


def test_cluster_members_named_through_their_sector() -> None:
    e = _entities(
        "Lớp bồi dưỡng dành cho cán bộ ngành Tư pháp của 4 tỉnh khu vực duyên hải thuộc Cụm thi đua số 2 gồm "
        "Quảng Ngãi, Bình Định, Phú Yên và Khánh Hòa."
    )
    (cluster,) = e.clusters
    assert [m.province.name for m in cluster.members if m.province] == [
        "Quảng Ngãi",
        "Bình Định",
        "Phú Yên",
        "Khánh Hòa",
    ]
    assert all(m.kind == "department" and m.sector == "justice" for m in cluster.members)
