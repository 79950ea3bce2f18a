"""Start-up benchmark: the whole `newsflow run` command, as a user runs it, start to exit.

    python -m benchmarks.startup                          # warm one-article runs (median of 5), then 1,000 articles
    python -m benchmarks.startup --sizes 1000 10000       # also 10,000 articles
    python -m benchmarks.startup --server                 # against a `prefect server start` kept running
    python -m benchmarks.startup --source-dir /tmp/old    # another checkout's code (before/after comparisons)

Each measurement is `python -m newsflow.cli run DIR --translator none` in a new process, timed from its start to
its exit (wall clock) with its CPU time and its children's (Prefect's local server included: the run waits for it).

"Warm" means that an earlier command created Prefect's local database and newsflow's store (a first, untimed run
in the same `--work-dir` does), so no run measured creates a database. Every one-article run gets an article of
its own (a copy of a sample with its own reference line), so each stores a new record, as a day's new article
would. The throughput runs use the pipeline benchmark's corpus (`benchmarks.pipeline.generate_corpus`: copies
cycling over `samples/`, every one a new record), each into a new data directory whose store an untimed one-article
run created first.

Modes: by default Prefect runs in local mode (`newsflow run` starts its own server and stops it at the end).
`--server` starts `prefect server start` on a free port first (not timed) and points every run at it with
PREFECT_API_URL, as a user who keeps a server running does; `--api-url` uses a server that is already running.

The load average before each run is printed with it: on a machine shared with other work the times move with it.
Results are appended to `<work-dir>/startup-results.json`; the Markdown table goes to stdout, progress to stderr.
"""

# Deferred imports: the measured commands are separate processes; this one loads nothing of newsflow but the
# corpus generator.

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
ONE_ARTICLE = "vi/cum-thi-dua-v-tong-ket-2024.txt"  # a typical sample: Vietnamese text, a dozen entities


def _log(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _env(work: Path, data: Path, source_dir: Path | None, api_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update(
        {
            "PREFECT_HOME": str(work / "prefect-home"),
            "NEWSFLOW_DATA_DIR": str(data),
            "NEWSFLOW_TRANSLATOR": "none",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
    if api_url:
        env["PREFECT_API_URL"] = api_url
    if source_dir is not None:
        env["PYTHONPATH"] = str(source_dir)
    return env


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(source: Path, env: dict[str, str], expect: int) -> dict[str, Any]:
    """One `newsflow run SOURCE`: wall seconds, CPU seconds (it and the children it waited for), load before."""
    load = os.getloadavg()[0]
    cpu = _cpu_of_children()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "run", str(source), "--translator", "none"],
        env=env,
        cwd=env["NEWSFLOW_DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"newsflow run {source} exited {done.returncode}:\n{done.stderr[-3000:]}")
    processed = _processed(done.stdout)
    if processed != expect:
        raise SystemExit(f"newsflow run {source}: {processed} processed, {expect} expected:\n{done.stdout[-3000:]}")
    return {"seconds": seconds, "cpu": _cpu_of_children() - cpu, "load": load, "articles": processed}


def _processed(summary: str) -> int | None:
    """The 'processed' count of the run's summary table."""
    for line in summary.splitlines():
        cells = [c.strip() for c in line.replace("┃", "│").split("│") if c.strip()]
        if len(cells) == 2 and cells[0] == "processed":
            return int(cells[1])
    return None


def one_article_dirs(work: Path, count: int) -> list[Path]:
    """`count` directories of one article each, every article distinct (a new record per run)."""
    from benchmarks.pipeline import make_copy

    sample = REPO / "samples" / ONE_ARTICLE
    content = sample.read_text(encoding="utf-8")
    stamp = int(time.time())  # distinct across invocations on the same work dir too
    dirs = []
    for i in range(count):
        target = work / "one" / f"{stamp}-{i}"
        target.mkdir(parents=True)
        (target / sample.name).write_text(make_copy(sample.suffix, content, stamp * 100 + i), encoding="utf-8")
        dirs.append(target)
    return dirs


@contextlib.contextmanager
def prefect_server(work: Path) -> Any:
    """`prefect server start` on a free port, in a session of its own, stopped at the end; yields its API URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    env = _env(work, work, None, None)
    env.pop("NEWSFLOW_DATA_DIR")
    log = (work / "prefect-server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"prefect server start exited {proc.returncode}: see {work / 'prefect-server.log'}")
            if time.monotonic() > deadline:
                raise SystemExit("prefect server start did not answer within 300 s")
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    break
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def measure(args: argparse.Namespace, work: Path, api_url: str | None) -> dict[str, Any]:
    source_dir = Path(args.source_dir).resolve() if args.source_dir else None
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    env = _env(work, data, source_dir, api_url)
    dirs = one_article_dirs(work, args.runs + 1)
    _log("warm-up run (creates the databases; not timed) ...")
    run_once(dirs[0], env, 1)
    one = []
    for n, source in enumerate(dirs[1:], 1):
        result = run_once(source, env, 1)
        one.append(result)
        _log(f"one article, run {n}: {result['seconds']:.2f} s (CPU {result['cpu']:.2f} s, load {result['load']:.2f})")
    big = []
    for size in args.sizes:
        from benchmarks.pipeline import generate_corpus

        corpus = generate_corpus(work / f"corpus-{size}", size)
        sized = work / f"data-{size}-{int(time.time())}"
        sized.mkdir()
        sized_env = _env(work, sized, source_dir, api_url)
        run_once(one_article_dirs(work, 1)[0], sized_env, 1)  # its store exists before the clock starts
        result = run_once(corpus, sized_env, size)
        result["rate"] = size / result["seconds"]
        big.append({"size": size, **result})
        _log(
            f"{size} articles: {result['seconds']:.1f} s, {result['rate']:.1f} articles/s "
            f"(CPU {result['cpu']:.1f} s, load {result['load']:.2f})"
        )
        if not args.keep:
            shutil.rmtree(sized)
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "label": args.label,
        "mode": "prefect server start" if api_url else "local",
        "source_dir": str(source_dir) if source_dir else None,
        "one_article": one,
        "one_article_median": statistics.median(r["seconds"] for r in one),
        "throughput": big,
    }


def render(result: dict[str, Any]) -> str:
    one = result["one_article"]
    lines = [
        f"{result['label'] or 'newsflow run'} ({result['mode']}), {result['when']}",
        "",
        "| measurement | seconds | articles/s | CPU s | load average before |",
        "|---|---:|---:|---:|---:|",
        (
            f"| warm one-article run, median of {len(one)} | {result['one_article_median']:.2f} "
            f"(min {min(r['seconds'] for r in one):.2f}, max {max(r['seconds'] for r in one):.2f}) | – "
            f"| {statistics.median(r['cpu'] for r in one):.2f} "
            f"| {min(r['load'] for r in one):.2f}–{max(r['load'] for r in one):.2f} |"
        ),
    ]
    for row in result["throughput"]:
        lines.append(
            f"| {row['size']:,} articles, whole command | {row['seconds']:.1f} | {row['rate']:.1f} "
            f"| {row['cpu']:.1f} | {row['load']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work-dir", default="/tmp/newsflow-startup", help="databases, corpora and results")
    parser.add_argument("--runs", type=int, default=5, help="timed one-article runs (their median is reported)")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000], help="whole-command runs of N articles")
    parser.add_argument("--server", action="store_true", help="start `prefect server start` and use it")
    parser.add_argument("--api-url", help="use this running Prefect server (PREFECT_API_URL)")
    parser.add_argument("--source-dir", help="run newsflow from this source tree (PYTHONPATH), e.g. an older commit")
    parser.add_argument("--label", default="", help="a name for this measurement in the table and results")
    parser.add_argument("--keep", action="store_true", help="keep the throughput runs' data directories")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    work = Path(args.work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.server:
        with prefect_server(work) as url:
            result = measure(args, work, url)
    else:
        result = measure(args, work, args.api_url)
    saved = work / "startup-results.json"
    history = json.loads(saved.read_text(encoding="utf-8")) if saved.exists() else []
    history.append(result)
    saved.write_text(json.dumps(history, indent=2), encoding="utf-8")
    sys.stdout.write(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
