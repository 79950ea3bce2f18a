"""Draw the real-dev / real-test split of the real texts in ../shared (run once, before any annotation).

A third of each source group, at random with a fixed seed, goes to real-test; the rest is real-dev. The texts stay
in ../shared: splits.json names them by their path under ../shared. Rerunning gives the same split.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

SEED = 20261207
HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1].parent / "shared"


def groups(shared: Path) -> dict[str, list[str]]:
    """Every real text by source group: the corpus files by outlet prefix, the benchmark's pages by language."""
    out: dict[str, list[str]] = {}
    for path in sorted((shared / "corpus" / "vi").glob("*.txt")):
        m = re.match(r"vi_([a-z]+?)(?:_|\d)", path.name)
        out.setdefault(f"corpus_{m.group(1) if m else 'other'}", []).append(f"corpus/vi/{path.name}")
    for path in sorted((shared / "benchmarks" / "html" / "truth").glob("*.json")):
        lang = json.loads(path.read_text(encoding="utf-8")).get("language") or "und"
        key = "html_vi" if lang == "vi" else "html_other"
        out.setdefault(key, []).append(f"benchmarks/html/truth/{path.name}")
    return out


def main() -> None:
    rng = random.Random(SEED)
    split: dict[str, list[str]] = {"real-dev": [], "real-test": []}
    for _, items in sorted(groups(SHARED).items()):
        test = set(rng.sample(items, round(len(items) / 3)))
        split["real-test"] += [i for i in items if i in test]
        split["real-dev"] += [i for i in items if i not in test]
    about = f"drawn by tests/real/make_splits.py (seed {SEED}): a third of each source group at random is real-test"
    (HERE / "splits.json").write_text(json.dumps({"_about": about, **split}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
