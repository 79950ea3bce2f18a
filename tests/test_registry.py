"""The cluster registry (`extractors/registry.py`) and `newsflow clusters`, over a real SQLite store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from extractors.registry import build_registry, owner_matches
from newsflow.runtime import process
from newsflow.settings import get_settings
from newsflow.storage import Store
from schemas.models import ArticleRecord, ClusterOwner, RawArticle, SourceInfo

REPO = Path(__file__).resolve().parent.parent
MONRE_8 = "vn-emulation-cluster:vn-ministry:natural_resources_environment:8"
SAMPLES = (
    "vi/cum-thi-dua-viii-ky-giao-uoc-2024.txt",
    "en/cluster-viii-pact-signing-2024.html",
    "reference/cluster-viii-pact.es.txt",
    "vi/cum-thi-dua-v-tong-ket-2024.txt",
)

# An invented local report that disagrees with the others: Bến Tre as head for 2024, the signing on 6/3/2024.
CONFLICTING = (
    "Bến Tre: Cụm thi đua số VIII ký giao ước\n\n"
    "Ngày 6/3/2024, Cụm thi đua số VIII thuộc Bộ TN&MT tổ chức ký kết giao ước thi đua năm 2024. "
    "Năm 2024, Sở TN&MT tỉnh Bến Tre giữ vai trò cụm trưởng.\n\nMinh Khoa\n"
)
# Names neither the ministry nor the members: joins the one owned Cluster VIII.
UNOWNED = "Cụm thi đua số VIII họp\n\nNgày 10/9/2024, Cụm thi đua số VIII họp sơ kết công tác thi đua 9 tháng.\n"


def raw_of(name: str, content: str | None = None) -> RawArticle:
    path = REPO / "samples" / name
    return RawArticle(
        source=SourceInfo(kind="file", uri=name, fetched_at=datetime.now(UTC)),
        content=content if content is not None else path.read_text(encoding="utf-8"),
        media_type="text/html" if name.endswith(".html") else "text/plain",
    )


@cache
def ingested() -> tuple[tuple[RawArticle, ArticleRecord], ...]:
    raws = [raw_of(n) for n in SAMPLES] + [
        raw_of("local/conflict.txt", CONFLICTING),
        raw_of("local/unowned.txt", UNOWNED),
    ]
    return tuple((raw, process(raw, None)) for raw in raws)


def test_one_timeline_per_cluster_with_supporting_records_and_conflicts() -> None:
    pairs = ingested()
    ids = {raw.source.uri: rec.id for raw, rec in pairs}
    registry = build_registry(rec for _, rec in pairs)
    assert [c.id for c in registry.clusters] == [
        "vn-emulation-cluster:vn-ministry:natural_resources_environment:5",
        MONRE_8,
    ]
    viii = registry.clusters[1]
    six = {ids[n] for n in SAMPLES[:3]}
    assert set(viii.records) == six | {ids["local/conflict.txt"], ids["local/unowned.txt"]}
    assert {"Cụm thi đua số VIII", "Emulation Cluster No. VIII", "Clúster de Emulación n.º VIII"} <= set(viii.names)
    assert len(viii.members) == 6
    assert all(set(m.records) == six for m in viii.members)  # each member fact cites the three editions
    (head_2024, deputy_2024) = viii.roles
    assert (head_2024.year, head_2024.role, head_2024.conflict) == (2024, "head", True)
    holders = {h.province.name: set(h.records) for h in head_2024.holders if h.province}
    assert holders == {"Long An": six, "Bến Tre": {ids["local/conflict.txt"]}}
    assert (deputy_2024.role, deputy_2024.conflict, deputy_2024.holders[0].province.name) == (  # type: ignore[union-attr]
        "deputy",
        False,
        "Tiền Giang",
    )
    signing = next(p for p in viii.pacts if p.kind == "signing")
    assert signing.id == f"vn-emulation-pact:{MONRE_8}:2024:signing"
    assert {f.value: set(f.records) for f in signing.dates} == {
        "2024-03-05": {ids[SAMPLES[0]], ids[SAMPLES[1]]},
        "2024-03-06": {ids["local/conflict.txt"]},
    }
    assert len(signing.themes) == 3 and len(signing.contents) == 4  # one theme per edition's language
    review = next(p for p in viii.pacts if p.kind == "review")  # the unowned record's "sơ kết", joined in
    assert review.records == [ids["local/unowned.txt"]]
    assert any(c.startswith("2024 head: Long An (") and "Bến Tre (" in c for c in viii.conflicts)
    assert any(c.startswith("pact 2024 signing date: 2024-03-05") for c in viii.conflicts)
    v = registry.clusters[0]
    assert [(r.year, r.role, [h.province.name for h in r.holders if h.province]) for r in v.roles] == [
        (2024, "head", ["Hà Tĩnh"]),
        (2025, "head", ["Quảng Bình"]),
        (2025, "deputy", ["Quảng Trị"]),
    ]
    assert set(registry.records) == {rec.id for _, rec in pairs}


def test_ministry_filter_accepts_ids_sector_keys_and_written_forms() -> None:
    owner = ClusterOwner(
        id="vn-ministry:natural_resources_environment",
        name="Ministry of Natural Resources and Environment",
        kind="ministry",
    )
    for query in ("MONRE", "monre", "Bộ TN&MT", "natural_resources_environment", "Natural Resources"):
        assert owner_matches(owner, query), query
    assert not owner_matches(owner, "Bộ Y tế") and not owner_matches(owner, "MOH") and not owner_matches(None, "x")


def newsflow(
    *args: str, timeout: float = 300, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_"))}
    full_env.update({"COLUMNS": "250", **(env or {})})  # one table row per line
    return subprocess.run(
        [sys.executable, "-m", "newsflow.cli", *args],
        cwd=cwd or REPO,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_clusters_command_over_a_store(isolated_settings: Path, tmp_path: Path) -> None:
    store = Store(get_settings().resolved_database_url)
    try:
        for raw, rec in ingested():
            store.save(rec, raw)
    finally:
        store.close()
    data = ["--data-dir", str(isolated_settings)]
    listed = newsflow("clusters", *data)
    assert listed.returncode == 0, listed.stderr
    rows = [line for line in listed.stdout.splitlines() if "vn-emulation-cluster" in line]
    assert len(rows) == 2  # Cluster V and one merged Cluster VIII (five records)
    viii_row = next(r for r in rows if r.rstrip(" │").endswith(":8"))
    cells = [c.strip() for c in viii_row.split("│")[1:-1]]
    # no., kind, belongs to, members, heads (the conflict shows), pacts, records, conflicts
    assert cells[:8] == [
        "8",
        "cluster",
        "Ministry of Natural Resources and Environment",
        "6",
        "2024 Long An/Bến Tre",
        "2024 signing, 2024 review",
        "5",
        "2",
    ], viii_row

    shown = newsflow("clusters", "show", "8", "--ministry", "MONRE", "--json", *data)
    assert shown.returncode == 0, shown.stderr
    exported = json.loads(shown.stdout)
    (viii,) = exported["clusters"]
    assert viii["id"] == MONRE_8 and len(viii["members"]) == 6
    assert viii["roles"][0]["conflict"] is True and viii["conflicts"]
    assert set(exported["records"]) == set(viii["records"])

    out = tmp_path / "viii.json"
    written = newsflow("clusters", "show", "8", "--output", str(out), *data)
    assert written.returncode == 0 and json.loads(out.read_text(encoding="utf-8")) == exported

    table = newsflow("clusters", "show", "8", *data)
    assert table.returncode == 0 and "CONFLICT" in table.stdout and "Long An" in table.stdout

    # An 80-column terminal: one block per cluster, records cited by number, no line wider than the terminal.
    narrow = newsflow("clusters", *data, env={"COLUMNS": "80"})
    assert narrow.returncode == 0 and "┃" not in narrow.stdout
    assert f"  id: {MONRE_8}" in narrow.stdout and "  heads: 2024 Long An/Bến Tre" in narrow.stdout
    narrow_show = newsflow("clusters", "show", "8", *data, env={"COLUMNS": "80"})
    assert narrow_show.returncode == 0 and "CONFLICT" in narrow_show.stdout
    assert all(len(line) <= 80 for line in narrow.stdout.splitlines() + narrow_show.stdout.splitlines())
    assert f"   [1] {viii['records'][0]}" in narrow_show.stdout
    assert "│ 1, 2" in narrow_show.stdout  # a member seen in records 1 and 2, not their 27-character ids

    other = newsflow("clusters", "--ministry", "Bộ Y tế", "--json", *data)
    assert other.returncode == 0 and json.loads(other.stdout)["clusters"] == []

    missing = newsflow("clusters", "show", "12", *data)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == "error: cluster 12: not in the store (clusters there: 5, 8)"
    bad_out = newsflow("clusters", "--output", str(tmp_path / "no" / "such" / "dir.json"), *data)
    assert bad_out.returncode == 2 and "does not exist" in bad_out.stderr


@pytest.mark.e2e
def test_run_then_clusters_shows_one_merged_timeline(tmp_path: Path) -> None:
    """The README flow: `newsflow run` (Prefect local mode) on the editions of one story, then `newsflow clusters`."""
    work = tmp_path / "work"
    for name in SAMPLES[:3]:
        target = work / "in" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / "samples" / name).read_bytes())
    (work / "in" / "conflict.txt").write_text(CONFLICTING, encoding="utf-8")
    env = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    run = newsflow("run", "in", "--translator", "none", cwd=work, env=env, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    shown = newsflow("clusters", "show", "8", "--json", cwd=work)
    assert shown.returncode == 0, shown.stderr
    (viii,) = json.loads(shown.stdout)["clusters"]
    assert viii["id"] == MONRE_8 and len(viii["records"]) == 4 and len(viii["members"]) == 6
    heads = {h["province"]["name"] for r in viii["roles"] if r["role"] == "head" for h in r["holders"]}
    assert heads == {"Long An", "Bến Tre"} and viii["conflicts"]
