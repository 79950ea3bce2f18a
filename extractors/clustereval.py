"""Per-fact scoring of emulation clusters and pacts on an annotated set (tests/eval_clusters/).

Each annotated text lists its clusters (number, or the region a cluster without one is named after, or its
members' kind (`group`); member
provinces; head and deputy per year) and its pact events (kind, year, theme, number of contents, place,
signatories). Both the annotation and what the engine finds become sets of comparable facts per type, scored by
micro precision and recall. `newsflow eval --clusters` prints them; tests/test_eval_clusters.py pins floors.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from extractors.entities.engine import extract_entities
from schemas.models import Entities

CLUSTER_SETS = ("cases", "heldout")
TYPES = ("cluster", "member", "role", "pact", "theme", "contents", "place", "signatory")

Fact = tuple[object, ...]


def gold_facts(gold: dict[str, Any]) -> dict[str, set[Fact]]:
    """The annotation as sets of comparable facts, one set per fact type."""
    out: dict[str, set[Fact]] = {t: set() for t in TYPES}
    for c in gold["clusters"]:
        n = c["number"] if c.get("number") is not None else c.get("region") or c["group"]
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


def found_facts(ents: Entities, gold: dict[str, Any]) -> dict[str, set[Fact]]:
    """What the extractor found, as the same facts (signatories only where the annotation lists them)."""
    out: dict[str, set[Fact]] = {t: set() for t in TYPES}
    for c in ents.clusters:
        n = c.number if c.number is not None else c.region or c.group
        out["cluster"].add((n,))
        out["member"] |= {(n, m.province.name) for m in c.members if m.province}
        out["role"] |= {(n, r.year, r.role, r.member.province.name if r.member.province else None) for r in c.roles}
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


def score(cases: list[dict[str, Any]]) -> tuple[dict[str, dict[str, float]], list[str]]:
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


def load_cluster_set(directory: Path, name: str) -> list[dict[str, Any]]:
    """One annotated set (`cases` or `heldout`) of `directory` (tests/eval_clusters)."""
    if name not in CLUSTER_SETS:
        raise ValueError(f"unknown cluster set {name!r} (choose from {', '.join(CLUSTER_SETS)})")
    cases: list[dict[str, Any]] = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    return cases
