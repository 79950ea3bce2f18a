"""Measure language identification on the team's evaluation set (tests/data/langid/eval.jsonl).

    python -m extractors.langeval [--detector langdetect|lingua] [--file PATH]

Prints accuracy per language and per length bucket, and the time per call. An item is right when the
detected code equals the gold one; gold ``und`` (names only, too short) is right only when the detector
answers ``und``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from extractors.config import Detector
from extractors.language import DETECTORS, detect_language

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "tests" / "data" / "langid" / "eval.jsonl"
BUCKETS = ("short", "medium", "long")


def bucket(text: str) -> str:
    """short < 60 characters, medium 60-299, long >= 300."""
    return "short" if len(text) < 60 else "medium" if len(text) < 300 else "long"


@dataclass
class Score:
    right: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.right += ok
        self.total += 1

    def __str__(self) -> str:
        return f"{self.right}/{self.total} ({100 * self.right / self.total:.0f}%)" if self.total else "-"


@dataclass
class Report:
    detector: str
    overall: Score
    by_language: dict[str, Score]
    by_bucket: dict[str, Score]
    errors: list[tuple[str, str, str]]  # id, gold, detected
    ms_per_call: float


def load(path: Path = DEFAULT_FILE) -> list[dict[str, str]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            items.append({"id": str(item["id"]), "lang": str(item["lang"]), "text": str(item["text"])})
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not an evaluation item ({exc})") from exc
    return items


def evaluate(items: list[dict[str, str]], detector: Detector) -> Report:
    detect_language("warm-up text for the detector, long enough to be judged", detector=detector)
    overall = Score()
    by_language: dict[str, Score] = defaultdict(Score)
    by_bucket: dict[str, Score] = defaultdict(Score)
    errors = []
    started = time.perf_counter()
    for item in items:
        code = detect_language(item["text"], detector=detector).code
        ok = code == item["lang"]
        overall.add(ok)
        by_language[item["lang"]].add(ok)
        by_bucket[bucket(item["text"])].add(ok)
        if not ok:
            errors.append((item["id"], item["lang"], code))
    ms = 1000 * (time.perf_counter() - started) / max(1, len(items))
    return Report(detector, overall, dict(by_language), dict(by_bucket), errors, ms)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", choices=DETECTORS, action="append")
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    args = parser.parse_args(argv)
    items = load(args.file)
    reports = [evaluate(items, cast(Detector, d)) for d in (args.detector or DETECTORS)]
    languages = sorted({i["lang"] for i in items})
    print("| | " + " | ".join(r.detector for r in reports) + " |")
    print("|---|" + "---|" * len(reports))
    print("| all | " + " | ".join(str(r.overall) for r in reports) + " |")
    for lang in languages:
        print(f"| {lang} | " + " | ".join(str(r.by_language.get(lang, Score())) for r in reports) + " |")
    for name in BUCKETS:
        print(f"| {name} | " + " | ".join(str(r.by_bucket.get(name, Score())) for r in reports) + " |")
    print("| ms per text | " + " | ".join(f"{r.ms_per_call:.2f}" for r in reports) + " |")
    for r in reports:
        print(f"\n{r.detector} errors: " + ", ".join(f"{i} {g}->{d}" for i, g, d in r.errors))


if __name__ == "__main__":
    main()
