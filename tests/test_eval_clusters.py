"""The annotated cluster/pact evaluation (tests/eval_clusters/): precision and recall per fact type, with floors."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from extractors.entities.engine import extract_entities
from extractors.entities.gazetteer import load_gazetteer
from extractors.text import fold
from schemas.models import Entities

EVAL = Path(__file__).resolve().parent / "eval_clusters"
SETS = {name: json.loads((EVAL / f"{name}.json").read_text(encoding="utf-8")) for name in ("cases", "heldout")}
FLOORS = json.loads((EVAL / "floors.json").read_text(encoding="utf-8"))["floors"]
TYPES = ("cluster", "member", "role", "pact", "theme", "contents", "place", "signatory")

Fact = tuple[object, ...]


def gold_facts(gold: dict) -> dict[str, set[Fact]]:
    """The annotation as sets of comparable facts, one set per fact type."""
    out: dict[str, set[Fact]] = {t: set() for t in TYPES}
    for c in gold["clusters"]:
        n = c["number"]
        out["cluster"].add((n,))
        out["member"] |= {(n, p) for p in c["provinces"]}
        out["role"] |= {(n, y, r, p) for y, r, p in c["roles"]}
    for p in gold["pacts"]:
        key = (p["kind"], p["year"])
        out["pact"].add(key)
        out["contents"].add((*key, p["contents"]))
        if p["theme"] is not None:
            out["theme"].add((*key, p["theme"]))
        if p["place"] is not None:
            out["place"].add((*key, p["place"]))
        out["signatory"] |= {(*key, s) for s in p.get("signatories", [])}
    return out


def found_facts(ents: Entities, gold: dict) -> dict[str, set[Fact]]:
    """What the extractor found, as the same facts (signatories only where the annotation lists them)."""
    out: dict[str, set[Fact]] = {t: set() for t in TYPES}
    for c in ents.clusters:
        out["cluster"].add((c.number,))
        out["member"] |= {(c.number, m.province.name) for m in c.members if m.province}
        out["role"] |= {
            (c.number, r.year, r.role, r.member.province.name if r.member.province else None) for r in c.roles
        }
    annotated = {(p["kind"], p["year"]) for p in gold["pacts"] if "signatories" in p}
    for p in ents.pacts:
        key = (p.kind, p.year)
        out["pact"].add(key)
        out["contents"].add((*key, len(p.contents)))
        if p.theme is not None:
            out["theme"].add((*key, p.theme))
        if p.place is not None:
            out["place"].add((*key, p.place.name))
        if key in annotated:
            out["signatory"] |= {(*key, s.province.name if s.province else s.name) for s in p.signatories}
    return out


def score(cases: list[dict]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Micro precision/recall per fact type over one set, and a line per miss or false find."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in TYPES}
    errors: list[str] = []
    for case in cases:
        ents = extract_entities("\n".join(case["text"]), case["lang"], date.fromisoformat(case["published"]))
        gold, found = gold_facts(case["gold"]), found_facts(ents, case["gold"])
        for t in TYPES:
            counts[t]["tp"] += len(gold[t] & found[t])
            counts[t]["fp"] += len(found[t] - gold[t])
            counts[t]["fn"] += len(gold[t] - found[t])
            errors += [f"{case['id']} {t} missed {f}" for f in sorted(gold[t] - found[t], key=str)]
            errors += [f"{case['id']} {t} wrong {f}" for f in sorted(found[t] - gold[t], key=str)]
    scores = {}
    for t, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        scores[t] = {"precision": round(p, 3), "recall": round(r, 3), "gold": c["tp"] + c["fn"]}
    return scores, errors


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
