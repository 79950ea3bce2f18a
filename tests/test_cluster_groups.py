"""Emulation clusters and blocs with neither number nor region, named after their members' kind (issue 18).

Provinces run blocs of their Party agencies, of the Front and mass organisations, of culture and society ...;
ministries' clusters may be named after one sector's departments or their inspectorates. Texts are made up, in the
shapes real reports use ("Khối thi đua các cơ quan Đảng tổ chức hội nghị", "Khối thi đua Mặt trận – Đoàn thể tỉnh
X", "Cụm thi đua thanh tra Sở Du lịch các tỉnh, thành phố").
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from extractors.entities.clusters import group_key, group_name
from extractors.entities.engine import extract_entities
from extractors.registry import build_registry
from newsflow.runtime import process
from newsflow.settings import get_settings
from newsflow.storage import Store
from schemas.models import RawArticle, SourceInfo
from tests.test_registry import newsflow

DAY = date(2024, 3, 20)


@pytest.mark.parametrize(
    ("text", "kind", "group", "owner"),
    [
        # A province named right after the bloc's name owns it ...
        ("Khối thi đua các cơ quan Đảng tỉnh Long An ký kết giao ước thi đua năm 2024.", "bloc", "party_agencies",
         "vn-province:legacy_63:80"),
        # ... any dash between the names' parts ...
        ("Khối thi đua Mặt trận – Đoàn thể tỉnh Khánh Hòa tổng kết năm 2023.", "bloc", "front_unions",
         "vn-province:legacy_63:56"),
        ("Khối thi đua Văn hóa-Xã hội họp tại Sở Y tế tỉnh Bến Tre; tỉnh Bến Tre đăng cai.", "bloc",
         "culture_society", "vn-province:legacy_63:83"),
        # ... else the province the article names most: every province has such blocs.
        ("Tại Đồng Tháp, Khối thi đua các huyện, thị xã, thành phố ký giao ước. Tỉnh Đồng Tháp khen thưởng "
         "các đơn vị; Long An dự.", "bloc", "districts", "vn-province:legacy_63:87"),
        # One sector's departments: that sector's ministry.
        ("Cụm thi đua Sở Tư pháp các tỉnh, thành phố trực thuộc Trung ương họp tổng kết.", "cluster", "justice",
         "vn-ministry:justice"),
        ("Cụm thi đua thanh tra Sở Du lịch các tỉnh, thành phố tổ chức hội nghị.", "cluster",
         "tourism_inspectorates", None),
    ],
)  # fmt: skip
def test_a_cluster_named_after_its_members_kind(text: str, kind: str, group: str, owner: str | None) -> None:
    (cluster,) = extract_entities(text, "vi", DAY).clusters
    assert (cluster.kind, cluster.number, cluster.region, cluster.group) == (kind, None, None, group)
    assert (cluster.belongs_to.id if cluster.belongs_to else None) == owner
    label = f"{owner}:{group}" if owner else group
    assert cluster.id == f"vn-emulation-{kind}:{label}"


@pytest.mark.parametrize(
    "text",
    [
        "Cụm thi đua họp tại tỉnh Long An.",  # no name at all
        "Đảng ủy Khối các cơ quan tỉnh Long An tổ chức đại hội.",  # a Party committee, not an emulation bloc
        "Cụm thi đua đã ký giao ước với các cơ quan Đảng.",  # the kind is not the cluster's name
    ],
)
def test_no_cluster_without_a_name(text: str) -> None:
    assert extract_entities(text, "vi", DAY).clusters == []


@pytest.mark.parametrize(
    ("text", "day", "head"),
    [
        # A Party board written without its province heads the bloc of its own province ...
        ("Khối thi đua các cơ quan Đảng tỉnh Long An ký kết giao ước thi đua năm 2024. Năm 2024, Ban Dân vận Tỉnh "
         "ủy được suy tôn làm Khối trưởng.", date(2024, 3, 1),
         (2024, "vn-body:party_mass_mobilisation_board:vn-province:legacy_63:80", "Ban Dân vận Tỉnh ủy Long An")),
        # ... and a body written with it, before the role in brackets, as before.
        ("Sáng 4/3/2020, tại cơ quan Tỉnh đoàn Khánh Hòa (đơn vị Trưởng khối), Khối thi đua Mặt trận – Đoàn thể tỉnh "
         "Khánh Hòa ký kết giao ước thi đua năm 2020.", date(2020, 3, 4),
         (2020, "vn-body:youth_union:vn-province:legacy_63:56", "Đoàn TNCS Hồ Chí Minh tỉnh Khánh Hòa")),
    ],
)  # fmt: skip
def test_the_head_of_a_provinces_bloc(text: str, day: date, head: tuple[int, str, str]) -> None:
    (cluster,) = extract_entities(text, "vi", day).clusters
    assert [(r.year, r.member.id, r.member.name) for r in cluster.roles if r.role == "head"] == [head]


def test_a_body_without_its_province_is_no_head_of_a_cluster_without_a_province() -> None:
    text = "Cụm thi đua Sở Tư pháp các tỉnh, thành phố họp. Ban Dân vận Tỉnh ủy làm Cụm trưởng năm 2024."
    (cluster,) = extract_entities(text, "vi", DAY).clusters
    assert cluster.roles == []


def test_group_keys_from_what_users_type() -> None:
    for query in ("party_agencies", "các cơ quan Đảng", "cac co quan dang"):
        assert group_key(query) == "party_agencies", query
    assert group_key("Mặt trận – Đoàn thể") == "front_unions"
    assert group_key("Tây Nguyên") is None
    assert group_name("tourism_inspectorates", "vi") == "thanh tra Sở Du lịch"


REPORTS = {
    "2024.txt": "Khối thi đua các cơ quan Đảng tỉnh Long An ký kết giao ước thi đua năm 2024 ngày 12/3/2024.\n",
    "2025.txt": "Ngày 10/3/2025, Khối thi đua các cơ quan Đảng tỉnh Long An ký kết giao ước thi đua năm 2025.\n",
}


def test_registry_and_cli_show_a_blocs_timeline(isolated_settings: Path) -> None:
    def raw(uri: str, text: str) -> RawArticle:
        return RawArticle(
            source=SourceInfo(kind="file", uri=uri, fetched_at=datetime.now(UTC)), content=text, media_type="text/plain"
        )

    records = [process(raw(uri, text), None) for uri, text in REPORTS.items()]
    (timeline,) = build_registry(records).clusters
    assert (timeline.id, timeline.group) == (
        "vn-emulation-bloc:vn-province:legacy_63:80:party_agencies",
        "party_agencies",
    )
    assert sorted(p.year for p in timeline.pacts) == [2024, 2025]
    store = Store(get_settings().resolved_database_url)
    try:
        for (uri, text), rec in zip(REPORTS.items(), records, strict=True):
            store.save(rec, raw(uri, text))
    finally:
        store.close()
    data = ["--data-dir", str(isolated_settings)]
    listed = newsflow("clusters", *data)
    assert listed.returncode == 0, listed.stderr
    assert "các cơ quan Đảng" in listed.stdout
    shown = newsflow("clusters", "show", "các cơ quan Đảng", "--json", *data)
    assert shown.returncode == 0, shown.stderr
    (c,) = json.loads(shown.stdout)["clusters"]
    assert c["group"] == "party_agencies" and len(c["records"]) == 2


@pytest.mark.parametrize(
    ("text", "place"),
    [
        # A venue, then its province in the same clause ...
        ("Ngày 21/3/2024, tại Trường Chính trị tỉnh Ninh Bình, Khối thi đua các cơ quan Đảng ký kết giao ước thi đua "
         "năm 2024.", "Ninh Bình"),
        ("Ngày 5/3/2024, tại trụ sở Tỉnh đoàn Khánh Hòa (đơn vị Trưởng khối), Khối thi đua Mặt trận – Đoàn thể tỉnh "
         "Khánh Hòa ký kết giao ước thi đua năm 2024.", "Khánh Hòa"),
        # ... but a meeting with a province's body does not say where it was.
        ("Ngày 5/3/2024, tại buổi làm việc với UBND tỉnh Long An, Cụm thi đua số 3 ký kết giao ước thi đua năm 2024.",
         None),
    ],
)  # fmt: skip
def test_the_pacts_place_is_a_venues_province(text: str, place: str | None) -> None:
    (pact,) = extract_entities(text, "vi", DAY).pacts
    assert (pact.place.name if pact.place else None) == place


def test_a_cluster_of_inspectorates_has_inspectorates_as_members_and_role_holders() -> None:
    text = (
        "Ngày 15/1/2024, Cụm thi đua thanh tra Sở Du lịch các tỉnh, thành phố trực thuộc Trung ương tổ chức hội "
        "nghị tổng kết năm 2023. Thanh tra Sở Du lịch Hà Nội là Cụm phó."
    )
    (cluster,) = extract_entities(text, "vi", date(2024, 1, 16)).clusters
    (role,) = cluster.roles
    assert (role.year, role.role, role.member.kind) == (2023, "deputy", "other")
    assert role.member.id == "vn-department:tourism:vn-province:legacy_63:01:inspectorate"
    assert role.member.name == "Thanh tra Sở Du lịch thành phố Hà Nội"
    assert role.member.department == "vn-department:tourism:vn-province:legacy_63:01"
