"""Words per second of the entity stage (`extract_entities`), per language, on one core.

Run: `python -m benchmarks.entities [--seconds S]`. The texts are the evaluation set's articles
(tests/eval/*.json); words are whitespace-separated tokens. The pipeline is built and warmed up first, so the
numbers are the steady-state throughput of the stage, not its start-up.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from extractors.entities.engine import extract_entities
from extractors.evaluation import LANG_ORDER, load_eval_set

EVAL = Path(__file__).resolve().parent.parent / "tests" / "eval"


def measure(seconds: float) -> dict[str, tuple[int, float]]:
    """Per language: (words processed, words per second)."""
    articles = load_eval_set(EVAL)
    for a in articles[:8]:
        extract_entities(a.text, a.lang, a.published)  # build the pipeline, fill the caches
    out: dict[str, tuple[int, float]] = {}
    for lang in LANG_ORDER:
        group = [a for a in articles if a.lang == lang]
        words = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            for a in group:
                extract_entities(a.text, a.lang, a.published)
                words += len(a.text.split())
        out[lang] = (words, words / (time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent per language (default 3)")
    args = parser.parse_args()
    results = measure(args.seconds)
    total_words = sum(w for w, _ in results.values())
    total_time = sum(w / r for w, r in results.values())
    print(f"{'language':<10}{'words':>10}{'words/s':>12}")
    for lang, (words, rate) in results.items():
        print(f"{lang:<10}{words:>10}{rate:>12,.0f}")
    print(f"{'all':<10}{total_words:>10}{total_words / total_time:>12,.0f}")


if __name__ == "__main__":
    main()
