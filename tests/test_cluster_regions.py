"""Emulation clusters without a number, named after their region (issue 18): the engine, the registry, the CLI.

Texts are made up, in the shapes real reports use ("Cụm thi đua Tây Nguyên (gồm 5 tỉnh …)", "Cụm thi đua các tỉnh
miền Đông Nam Bộ gồm các địa phương: …", "the Central Highlands Emulation Cluster").
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from extractors.entities.clusters import region_key
from extractors.entities.engine import extract_entities
from extractors.registry import build_registry
from newsflow.runtime import process
from newsflow.settings import get_settings
from newsflow.storage import Store
from schemas.models import Entities, RawArticle, SourceInfo
from tests.test_registry import newsflow

DAY = date(2024, 3, 20)


def ents(text: str, lang: str = "vi", day: date = DAY) -> Entities:
    return extract_entities(text, lang, day)


@pytest.mark.parametrize(
    ("lang", "text", "region"),
    [
        ("vi", "Cụm thi đua Tây Nguyên tổ chức hội nghị.", "central_highlands"),
        ("vi", "Cụm thi đua các tỉnh miền Đông Nam Bộ họp tổng kết.", "southeast"),
        ("vi", "Cụm thi đua các tỉnh, thành phố vùng Đồng bằng sông Cửu Long ký giao ước.", "mekong_delta"),
        ("vi", "Khối thi đua các tỉnh Bắc Trung Bộ ký giao ước.", "north_central"),
        ("vi", "Cum thi dua cac tinh Tay Nguyen ky giao uoc.", "central_highlands"),  # no diacritics
        ("en", "The Mekong Delta Emulation Cluster signed its pact.", "mekong_delta"),
        ("en", "The emulation cluster of Red River Delta provinces met.", "red_river_delta"),
        ("es", "El Clúster de Emulación de las provincias del Delta del Mekong firmó.", "mekong_delta"),
        ("fr", "Le Groupe d'émulation des provinces des Hauts Plateaux du Centre a signé.", "central_highlands"),
    ],
)
def test_a_cluster_without_a_number_is_named_after_its_region(lang: str, text: str, region: str) -> None:
    (cluster,) = ents(text, lang).clusters
    assert (cluster.number, cluster.region) == (None, region)
    assert cluster.id.endswith(f":{region}")
    assert text[cluster.mentions[0].start : cluster.mentions[0].end] == cluster.name


def test_the_region_where_a_cluster_met_is_not_its_name() -> None:
    for text in (
        "Cụm thi đua đã họp tại Tây Nguyên ngày 3/4/2024.",
        "Cụm thi đua tổ chức hội nghị ở Đồng bằng sông Cửu Long.",
    ):
        assert ents(text).clusters == [], text
    assert ents("The emulation cluster met in the Mekong Delta.", "en").clusters == []


def test_a_count_before_the_region_is_not_the_clusters_number() -> None:
    (counted,) = ents("Cụm thi đua 5 tỉnh Bắc Trung Bộ ký giao ước năm 2024.").clusters
    assert (counted.number, counted.region) == (None, "north_central")
    (numbered,) = ents("Cụm thi đua số 5 tỉnh Bắc Trung Bộ ký giao ước năm 2024.").clusters
    assert (numbered.number, numbered.region) == (5, None)  # "số" says it is the number
    (roman,) = ents("Cụm thi đua VIII Sở TN&MT các tỉnh Long An, Tiền Giang họp.").clusters
    assert roman.number == 8


def test_a_cluster_of_provinces_lists_the_provinces_and_their_roles() -> None:
    text = (
        "Ngày 15/3/2019, tại Đồng Nai, Cụm thi đua các tỉnh miền Đông Nam Bộ ký kết giao ước thi đua năm 2019. "
        "Cụm thi đua các tỉnh miền Đông Nam Bộ gồm các địa phương: Đồng Nai, Bình Dương, Bà Rịa - Vũng Tàu, Tây Ninh. "
        "Tỉnh Đồng Nai làm Cụm trưởng năm 2019, tỉnh Tây Ninh làm Cụm phó."
    )
    e = ents(text, day=date(2019, 3, 15))
    (cluster,) = e.clusters
    assert [(m.kind, m.name) for m in cluster.members] == [
        ("province", "tỉnh Đồng Nai"),
        ("province", "tỉnh Bình Dương"),
        ("province", "tỉnh Bà Rịa - Vũng Tàu"),
        ("province", "tỉnh Tây Ninh"),
    ]
    assert all(m.id == m.province.id for m in cluster.members if m.province)
    assert [(r.year, r.role, r.member.name) for r in cluster.roles] == [
        (2019, "head", "tỉnh Đồng Nai"),
        (2019, "deputy", "tỉnh Tây Ninh"),
    ]
    (pact,) = e.pacts
    assert pact.cluster is not None and (pact.cluster.id, pact.cluster.region) == (cluster.id, "southeast")
    assert pact.id == "vn-emulation-pact:vn-emulation-cluster:southeast:2019:signing"


def test_a_sector_cluster_named_after_its_region_keeps_its_owner_and_departments() -> None:
    text = (
        "Cụm thi đua Sở Tư pháp 5 tỉnh khu vực Đồng bằng sông Cửu Long ký giao ước thi đua năm 2024. "
        "Cụm thi đua gồm Sở Tư pháp các tỉnh Trà Vinh, Vĩnh Long và Bến Tre."
    )
    (cluster,) = ents(text).clusters
    assert cluster.id == "vn-emulation-cluster:vn-ministry:justice:mekong_delta"
    assert [(m.kind, m.sector) for m in cluster.members] == [("department", "justice")] * 3


def test_the_editions_give_one_id() -> None:
    vi = ents("Cụm thi đua các tỉnh Tây Nguyên gồm các tỉnh Gia Lai, Kon Tum và Lâm Đồng.").clusters
    en = ents("The Central Highlands Emulation Cluster comprises Gia Lai, Kon Tum and Lam Dong.", "en").clusters
    es = ents(
        "El Clúster de Emulación de la Altiplanicie Central integra a Gia Lai, Kon Tum y Lam Dong.", "es"
    ).clusters
    assert {c.id for c in vi} == {c.id for c in en} == {c.id for c in es} == {"vn-emulation-cluster:central_highlands"}


def test_a_venue_then_its_province_is_the_pacts_place() -> None:
    text = (
        "Ngày 11/3/2025, tại thành phố Biên Hòa, tỉnh Đồng Nai, Cụm thi đua các tỉnh miền Đông Nam Bộ tổng kết "
        "công tác thi đua năm 2024."
    )
    (pact,) = ents(text, day=date(2025, 3, 12)).pacts
    assert pact.place is not None and pact.place.name == "Đồng Nai"


def test_region_keys_from_what_users_type() -> None:
    for query in ("central_highlands", "Tây Nguyên", "tay nguyen", "Central Highlands"):
        assert region_key(query) == "central_highlands", query
    assert region_key("Long An") is None


def _raw(uri: str, text: str) -> RawArticle:
    return RawArticle(
        source=SourceInfo(kind="file", uri=uri, fetched_at=datetime.now(UTC)),
        content=text,
        media_type="text/plain",
    )


REPORTS = {
    "vi/2024.txt": (
        "Cụm thi đua Tây Nguyên ký giao ước\n\nNgày 15/3/2024, tại tỉnh Gia Lai, Cụm thi đua các tỉnh Tây Nguyên "
        "ký kết giao ước thi đua năm 2024. Cụm thi đua gồm 5 tỉnh: Gia Lai, Kon Tum, Đắk Lắk, Đắk Nông và Lâm Đồng. "
        "Năm 2024, tỉnh Gia Lai làm Cụm trưởng.\n"
    ),
    "en/2025.txt": (
        "Highlands cluster reviews 2024\n\nGia Lai (VNA) - The Central Highlands Emulation Cluster met in Kon Tum "
        "province on March 12, 2025 to review its 2024 emulation work. Gia Lai handed over the cluster head role "
        "for 2025 to Kon Tum.\n"
    ),
}


def test_registry_and_cli_show_a_regions_timeline(isolated_settings: Path) -> None:
    records = [process(_raw(uri, text), None) for uri, text in REPORTS.items()]
    registry = build_registry(records)
    (timeline,) = registry.clusters
    assert (timeline.id, timeline.number, timeline.region) == (
        "vn-emulation-cluster:central_highlands",
        None,
        "central_highlands",
    )
    heads = {(r.year, h.province.name) for r in timeline.roles if r.role == "head" for h in r.holders if h.province}
    assert heads == {(2024, "Gia Lai"), (2025, "Kon Tum")}
    assert len(timeline.records) == 2

    store = Store(get_settings().resolved_database_url)
    try:
        for (uri, text), rec in zip(REPORTS.items(), records, strict=True):
            store.save(rec, _raw(uri, text))
    finally:
        store.close()
    data = ["--data-dir", str(isolated_settings)]
    listed = newsflow("clusters", *data)
    assert listed.returncode == 0, listed.stderr
    (row,) = [line for line in listed.stdout.splitlines() if "vn-emulation-cluster" in line]
    assert row.split("│")[1].strip() == "Tây Nguyên"
    for query in ("central_highlands", "Tây Nguyên"):
        shown = newsflow("clusters", "show", query, "--json", *data)
        assert shown.returncode == 0, shown.stderr
        (c,) = json.loads(shown.stdout)["clusters"]
        assert c["region"] == "central_highlands" and len(c["records"]) == 2
    unknown = newsflow("clusters", "show", "Atlantis", *data)
    assert unknown.returncode == 2 and "Traceback" not in unknown.stderr
    assert unknown.stderr.strip() == (
        "error: cluster 'Atlantis': not a number nor a region's or members' kind's key or name"
    )
    absent = newsflow("clusters", "show", "8", *data)
    assert absent.stderr.strip() == "error: cluster 8: not in the store (clusters there: Tây Nguyên)"


def test_eval_clusters_prints_per_fact_scores() -> None:
    table = newsflow("eval", "--clusters", "--split", "cases")
    assert table.returncode == 0, table.stderr
    for fact in ("cluster", "member", "role", "pact", "theme", "contents", "place", "signatory"):
        assert f"│ {fact}" in table.stdout, fact
    as_json = newsflow("eval", "--clusters", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    scores = json.loads(as_json.stdout)
    assert set(scores) == {"cases", "heldout"}
    assert scores["cases"]["scores"]["member"]["gold"] >= 40
    bad = newsflow("eval", "--clusters", "--split", "nope")
    assert bad.returncode == 2 and "unknown cluster set 'nope'" in bad.stderr
