"""Pipeline benchmark: articles/s and peak memory per stage, for the whole flow, and for the usual alternative.

    python -m benchmarks.pipeline --sizes 100 1000 [--flow] [--translator apertium] [--alternative]

A corpus of N distinct articles is generated from `samples/` (the same mix of languages, HTML and text; each
copy gets its own sentence so ids differ) and written to a temporary directory. Every measurement runs in its
own subprocess so its peak RSS (`ru_maxrss`) is its own. Results are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


def generate_corpus(target: Path, size: int) -> Path:
    """Write `size` article files cycling over the samples (text and HTML), each made distinct."""
    files = sorted(p for p in SAMPLES.rglob("*") if p.suffix in (".txt", ".html"))
    target.mkdir(parents=True, exist_ok=True)
    for i in range(size):
        src = files[i % len(files)]
        text = src.read_text(encoding="utf-8")
        marker = f"Bản tin số {i} của kho thử nghiệm."  # makes each copy a different article
        text = text.replace("</article>", f"<p>{marker}</p></article>", 1) if src.suffix == ".html" else (
            text + f"\n\n{marker}"
        )
        (target / f"{i:06d}-{src.name}").write_text(text, encoding="utf-8")
    return target


def _stage_functions(translator: str | None) -> dict[str, Callable[[list], None]]:
    from extractors.entities.engine import extract_entities
    from extractors.html import extract_html
    from extractors.language import detect_language
    from extractors.pipeline import process
    from extractors.textclean import clean_main_text
    from extractors.translate import Translator
    from newsflow.settings import get_settings

    def texts(raws: list) -> Iterator[str]:
        for raw in raws:
            if raw.media_type == "text/html":
                yield extract_html(raw.content).text
            else:
                yield clean_main_text(raw.content).text

    def main_text(raws: list) -> None:
        for _ in texts(raws):
            pass

    def language(raws: list) -> None:
        for text in texts(raws):
            detect_language(text)

    def entities(raws: list) -> None:
        for text in texts(raws):
            extract_entities(text, detect_language(text).code, None)

    engine = Translator(get_settings(), translator) if translator else None

    def whole(raws: list) -> None:
        for raw in raws:
            process(raw, engine)

    return {"main_text": main_text, "language+main_text": language, "entities+language+main_text": entities,
            "process (all stages)": whole}  # fmt: skip


def measure_stage(corpus: Path, stage: str, translator: str | None) -> dict:
    """Run one stage over the corpus in this process (called in a subprocess)."""
    from extractors.sources import iter_sources
    from newsflow.settings import get_settings

    raws = list(iter_sources([str(corpus)], get_settings()))
    fn = _stage_functions(translator)[stage]
    fn(raws[:5])  # warm-up: lazy models and caches are not what we measure
    start = time.perf_counter()
    fn(raws)
    elapsed = time.perf_counter() - start
    return {"articles": len(raws), "seconds": elapsed}


def measure_flow(corpus: Path, translator: str | None) -> dict:
    """The ingest flow end to end (Prefect local mode, SQLite, JSON files)."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from flows.ingest import ingest

    ingest(sources=[str(SAMPLES / "reference")], translator="none")  # start Prefect's server before timing
    start = time.perf_counter()
    summary = ingest(sources=[str(corpus)], translator=cast(Any, translator or "none"))
    return {"articles": summary.processed, "seconds": time.perf_counter() - start}


def measure_alternative(corpus: Path) -> dict:
    """What a user would otherwise assemble: trafilatura + langdetect + a trained spaCy pipeline."""
    import spacy
    import trafilatura
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    nlp = spacy.load("en_core_web_sm")
    files = sorted(corpus.iterdir())
    start = time.perf_counter()
    for path in files:
        content = path.read_text(encoding="utf-8")
        text = trafilatura.extract(content) if path.suffix == ".html" else content
        if text:
            detect(text)
            _ = [(e.text, e.label_) for e in nlp(text).ents]
    return {"articles": len(files), "seconds": time.perf_counter() - start}


def _child(args: argparse.Namespace) -> None:
    corpus = Path(args.corpus)
    if args.child == "flow":
        result = measure_flow(corpus, args.translator)
    elif args.child == "alternative":
        result = measure_alternative(corpus)
    else:
        result = measure_stage(corpus, args.child, args.translator)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run_child(kind: str, corpus: Path, translator: str | None, data_dir: Path) -> dict:
    env = {**os.environ, "NEWSFLOW_DATA_DIR": str(data_dir)}
    cmd = [sys.executable, "-m", "benchmarks.pipeline", "--child", kind, "--corpus", str(corpus)]
    if translator:
        cmd += ["--translator", translator]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    result: dict = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--translator", default=None, help="e.g. apertium; default: translation off")
    parser.add_argument("--flow", action="store_true", help="also time the Prefect flow and its overhead")
    parser.add_argument("--alternative", action="store_true", help="also time trafilatura+langdetect+spaCy sm")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    rows = []
    kinds = ["main_text", "language+main_text", "entities+language+main_text", "process (all stages)"]
    kinds += ["flow"] if args.flow else []
    kinds += ["alternative"] if args.alternative else []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
            corpus = generate_corpus(Path(tmp) / "corpus", size)
            for kind in kinds:
                res = _run_child(kind, corpus, args.translator, Path(tmp) / f"data-{kind[:4]}")
                rows.append((size, kind, res))
                print(f"{size:>6} {kind:<30} {res}", file=sys.stderr)
    print("| articles | measurement | articles/s | peak RSS (MB) |")
    print("|---:|---|---:|---:|")
    for size, kind, res in rows:
        if "error" in res:
            print(f"| {size} | {kind} | error: {res['error']} | |")
            continue
        rate = res["articles"] / res["seconds"] if res["seconds"] else float("inf")
        print(f"| {size} | {kind} | {rate:.1f} | {res['peak_rss_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
