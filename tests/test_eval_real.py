"""The real-text evaluation (tests/real): gold that holds together, the split as drawn, and the pinned floors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractors.entities import lexicon as lx
from extractors.entities.engine import extract_entities
from extractors.evaluation import (
    REAL_SPLITS,
    REAL_TYPES,
    Report,
    evaluate,
    gold_keys,
    gold_path,
    load_real_split,
)
from schemas.models import SECTORS

REAL = Path(__file__).resolve().parent / "real"
SHARED = REAL.parents[1].parent / "shared"
BODY_KINDS = {
    "department",
    "peoples_committee",
    "peoples_council",
    "party_committee",
    "fatherland_front",
    "national_assembly_delegation",
    "ministry",
}
GOLD_KEYS = {"source", "lang", "published", "published_basis", "gold", "unlisted", "clusters", "notes"}


@pytest.fixture(scope="module")
def shared() -> Path:
    if not (SHARED / "corpus").is_dir():
        message = f"the real texts are read from {SHARED}, which is not there"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI has ../shared beside the clone)")
        pytest.skip(message)
    return SHARED


@pytest.fixture(scope="module", params=REAL_SPLITS)
def report(request: pytest.FixtureRequest, shared: Path) -> tuple[str, Report]:
    split = str(request.param)
    return split, evaluate(load_real_split(REAL, shared, split), extract_entities, REAL_TYPES)


def test_split_is_the_one_drawn_and_covers_every_real_text(shared: Path, tmp_path: Path) -> None:
    splits = json.loads((REAL / "splits.json").read_text(encoding="utf-8"))
    dev, test = set(splits["real-dev"]), set(splits["real-test"])
    assert not dev & test
    corpus = {f"corpus/vi/{p.name}" for p in (shared / "corpus" / "vi").glob("*.txt")}
    pages = {f"benchmarks/html/truth/{p.name}" for p in (shared / "benchmarks" / "html" / "truth").glob("*.json")}
    assert dev | test == corpus | pages
    # About a third of every source group is real-test (make_splits.py draws it with a pinned seed).
    assert abs(len(test) - (len(dev) + len(test)) / 3) <= 6


def test_every_real_text_has_valid_gold(shared: Path) -> None:
    splits = json.loads((REAL / "splits.json").read_text(encoding="utf-8"))
    topics = set(lx.load("topics")["topics"])
    for source in splits["real-dev"] + splits["real-test"]:
        path = gold_path(REAL, source)
        row = json.loads(path.read_text(encoding="utf-8"))
        assert set(row) == GOLD_KEYS, (path, set(row) ^ GOLD_KEYS)
        assert row["source"] == source and row["published_basis"] in {"header", "text", "year", None}, path
        gold = row["gold"]
        assert set(gold) == {"provinces", "departments", "officials", "themes", "topics"}, path
        for sector, _ in gold["departments"]:
            assert sector in SECTORS, (path, sector)
        for official in gold["officials"]:
            assert official["name"].strip() and official["titles"], (path, official)
            body = official.get("body")
            assert body is None or body[0] in BODY_KINDS, (path, official)
        assert set(gold["topics"]) <= topics and len(gold["topics"]) <= 3, (path, gold["topics"])
    for split in REAL_SPLITS:
        for article in load_real_split(REAL, shared, split):
            gold_keys(article)  # raises on a province name the gazetteer does not know


def test_real_scores_hold_their_floors(report: tuple[str, Report]) -> None:
    split, result = report
    floors = json.loads((REAL / "floors.json").read_text(encoding="utf-8"))["f1"][split]
    low = [
        f"{lang}/{etype}: {result.scores[lang][etype].f1:.3f} < {floor}"
        for lang, by_type in floors.items()
        for etype, floor in by_type.items()
        if result.scores[lang][etype].f1 < floor
    ]
    assert not low, f"{split} below its floors: {low}"


def test_eval_command_scores_a_real_split(shared: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow.cli",
            "eval",
            "--split",
            "real-test",
            "--lang",
            "vi",
            "--format",
            "json",
            "--shared",
            str(shared),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert set(data["scores"]) == {"vi", "all"}
    assert "organizations" not in data["scores"]["vi"]  # not annotated in tests/real
    assert data["scores"]["vi"]["provinces"]["tp"] > 0


def test_eval_command_names_a_missing_shared_dir(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "eval", "--split", "real-dev", "--shared", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2
    assert "nowhere" in out.stderr and "Traceback" not in out.stderr
