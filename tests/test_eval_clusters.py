"""The annotated cluster/pact evaluation (tests/eval_clusters/): precision and recall per fact type, with floors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from extractors.clustereval import CLUSTER_SETS, TYPES, gold_facts, load_cluster_set, score
from extractors.entities.gazetteer import load_gazetteer
from extractors.text import fold

EVAL = Path(__file__).resolve().parent / "eval_clusters"
SETS = {name: load_cluster_set(EVAL, name) for name in CLUSTER_SETS}
FLOORS = json.loads((EVAL / "floors.json").read_text(encoding="utf-8"))["floors"]


@pytest.mark.parametrize("name", sorted(SETS))
def test_each_set_has_two_texts_per_language_and_known_provinces(name: str) -> None:
    cases = SETS[name]
    assert len(cases) >= 8 and len({c["id"] for c in cases}) == len(cases)
    assert not {c["id"] for c in SETS["cases"]} & {c["id"] for c in SETS["heldout"]}
    per_lang = Counter(c["lang"] for c in cases)
    assert set(per_lang) == {"vi", "en", "es", "fr"} and min(per_lang.values()) >= 2, per_lang
    gaz = load_gazetteer()
    for case in cases:
        facts = gold_facts(case["gold"])
        names = {f[-1] for t in ("member", "role", "place", "signatory") for f in facts[t]}
        for name in names:  # canonical names, so a spelling slip in the annotation cannot pass as a miss
            assert any(e.ref().name == name for e in gaz.by_form.get(fold(name), [])), (case["id"], name)


@pytest.mark.parametrize("name", sorted(SETS))
def test_scores_stay_above_their_floors(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    scores, errors = score(SETS[name])
    with capsys.disabled():
        print(f"\ncluster/pact eval, {name}.json (precision / recall / gold facts):")
        for t, s in scores.items():
            print(f"  {t:10} {s['precision']:.3f} / {s['recall']:.3f} / {s['gold']}")
        for e in errors:
            print("  -", e)
    assert set(FLOORS[name]) == set(TYPES)
    low = [
        (t, k, scores[t][k], floor) for t, f in FLOORS[name].items() for k, floor in f.items() if scores[t][k] < floor
    ]
    assert not low, (low, errors)
