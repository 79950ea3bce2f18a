"""Scale-out benchmark: runs spread over work-pool workers and the Dask runner, against one local run.

    python -m benchmarks.scaleout                              # 2,000 articles, every measurement, the tables
    python -m benchmarks.scaleout --articles 400 --work-dir /tmp/scaleout
    python -m benchmarks.scaleout --table-only                 # the tables from the saved results

Run by hand, outside the test suite. The corpus is `benchmarks.pipeline`'s (it cycles over `samples/`, every
copy a new record); translation is off everywhere. Measurements (`--only`):

* `local`: `newsflow run CORPUS` (Prefect local mode), whole command, after one warm-up command that creates
  Prefect's local database; then the same with `NEWSFLOW_TASK_RUNNER=dask` (a LocalCluster of
  `NEWSFLOW_DASK_WORKERS=2` processes started by the run).
* `flow`: the flow alone, Prefect and the pipeline started before the clock (`benchmarks.pipeline`'s `flow` and
  `flow_dask` measurements), thread runner and Dask with 2 workers.
* `pool`: a real `prefect server start` (SQLite), a process work pool, `prefect deploy` of `ingest-sources` and
  `prefect worker start` processes, every worker polling before any run exists. One run of the whole corpus on
  one worker; the corpus in four runs on two workers with `--limit 1` (the default 10 s poll, then 1 s); the
  four runs on two workers without `--limit`. Time is from the first run's creation to the last run's end, read
  from the runs' states on the server.
* `poollimit`: the four runs on two workers without `--limit` but with a pool concurrency limit of 2
  (`prefect work-pool set-concurrency-limit`): which worker ran which run.
* `small`: where the time goes for a one-article run on one worker, three times at the default 10 s poll and
  three at 1 s: created -> Pending (waiting for the worker's next poll), Pending -> Running (the flow process
  starting: a new Python, Prefect, the flow's module, the run read back from the server), Running -> Completed
  (the flow's body: newsflow's pipeline loaded in that new process, the article read, processed and stored).

The runs of `pool` and `small` are created as soon as their workers are online, at no particular point of the
workers' poll intervals: a run waits from nothing to one whole interval for its claim (half of it on average).

The machine is shared: before each measurement the script waits until it is at most `--quiet` busy (all cores,
over 5 s; at most `--quiet-wait` s) and records how busy it was. It also counts the CPU seconds of what the
measurement started (`newsflow run` with its local server; the workers and their flow processes), from the
kernel's accounting of ended children, and the Prefect server's from /proc: those do not change with contention
the way wall time does.

Results go to `<work-dir>/results.json` as they come (`--fresh` measures again); Markdown tables to stdout.
"""

# Deferred imports: each measurement runs in its own subprocess and imports what it measures there, so the
# parent that starts them (and the other measurements) load nothing they do not use.

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from benchmarks.pipeline import generate_corpus, run_child

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POOL = "scaleout-bench"
SMALL_INPUT = REPO / "samples" / "en" / "tien-giang-saltwater-intrusion-meeting-2024.txt"
MEASUREMENTS = ("local", "flow", "pool", "poollimit", "small")
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _base_env(**extra: str) -> dict[str, str]:
    """This environment without NEWSFLOW_*/PREFECT_* settings (a shell's own would change what is measured)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update({"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "NEWSFLOW_TRANSLATOR": "none", **extra})
    return env


def _busy(seconds: float = 5.0) -> float:
    """The share of the machine's CPU time (all cores) that was busy over the next `seconds`, from /proc/stat."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]  # all, idle + iowait

    total, idle = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1 - (idle2 - idle) / max(total2 - total, 1)


def wait_quiet(threshold: float, wait: float) -> float:
    """Wait (at most `wait` s) until the machine is at most `threshold` busy; the busy share last seen.

    Other people's work on the same 2 cores changes every number here: measure when it is quiet, and say how busy
    it was when it was not.
    """
    deadline = time.monotonic() + wait
    while True:
        busy = _busy()
        if busy <= threshold or time.monotonic() > deadline:
            return round(busy, 3)
        _log(f"machine {busy:.0%} busy; waiting for {threshold:.0%}")


def _children_cpu() -> float:
    """CPU seconds of this process's children that ended and were waited for, and of their own waited children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _tree_cpu(pid: int) -> float:
    """CPU seconds so far of a live process and everything below it (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
    tree, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        for child, fields in stats.items():
            if int(fields[1]) == parent and child not in tree:
                tree.add(child)
                todo.append(child)
    # Fields 14 and 15 of /proc/PID/stat (utime, stime); 12 and 13 here, counted after the ")".
    return sum(int(stats[p][11]) + int(stats[p][12]) for p in tree if p in stats) / tick


def _count_records(data: Path) -> int:
    from newsflow.runtime import open_store

    store = open_store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        return store.count()
    finally:
        store.close()


def _stop(proc: subprocess.Popen[bytes], grace: float = 5) -> None:
    """SIGTERM, then SIGKILL: an idle Prefect 3.8 worker ignores SIGTERM for 30 s and more (issue 23)."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def split_corpus(corpus: Path, target: Path, parts: int) -> list[Path]:
    """The corpus's files dealt round-robin into `parts` directories (hard links: the same articles)."""
    if target.exists():
        shutil.rmtree(target)
    dirs = [target / f"part-{k}" for k in range(parts)]
    for d in dirs:
        d.mkdir(parents=True)
    files = sorted(p for p in corpus.iterdir() if p.suffix in (".txt", ".html", ".json"))
    for i, path in enumerate(files):
        os.link(path, dirs[i % parts] / path.name)
    return dirs


# --- local runs ---------------------------------------------------------------------------------------------


def measure_local(corpus: Path, work: Path, articles: int, quiet: tuple[float, float]) -> dict[str, Any]:
    """`newsflow run` on the corpus, whole command, thread runner then Dask (2 workers)."""
    newsflow = str(BIN / "newsflow")
    env = _base_env(PREFECT_HOME=str(work / "prefect-local"), PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    warm = work / "data-local-warm"
    shutil.rmtree(warm, ignore_errors=True)
    # The first command ever creates Prefect's local database (most of a minute): an operator pays that once.
    subprocess.run(
        [newsflow, "run", str(REPO / "samples" / "reference"), "--data-dir", str(warm)],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    out: dict[str, Any] = {}
    for name, extra in (("thread", {}), ("dask", {"NEWSFLOW_TASK_RUNNER": "dask", "NEWSFLOW_DASK_WORKERS": "2"})):
        data = work / f"data-local-{name}"
        shutil.rmtree(data, ignore_errors=True)
        busy = wait_quiet(*quiet)
        _log(f"local {name}: newsflow run, {articles} articles")
        cpu, start = _children_cpu(), time.perf_counter()
        done = subprocess.run(
            [newsflow, "run", str(corpus), "--data-dir", str(data)],
            env={**env, **extra},
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds, cpu = time.perf_counter() - start, _children_cpu() - cpu
        if done.returncode != 0:
            raise RuntimeError(f"newsflow run ({name}) exited {done.returncode}: {done.stderr[-2000:]}")
        out[name] = {"seconds": round(seconds, 2), "records": _count_records(data), "busy": busy, "cpu": round(cpu, 1)}
        shutil.rmtree(data, ignore_errors=True)
    return out


def measure_flow_only(corpus: Path, work: Path, quiet: tuple[float, float]) -> dict[str, Any]:
    """The flow alone (Prefect and the pipeline warm): benchmarks.pipeline's own measurement, in a subprocess."""
    out = {}
    for kind in ("flow", "flow_dask"):
        busy = wait_quiet(*quiet)
        _log(f"flow only: {kind}")
        result = run_child(kind, corpus, None, work)
        if "error" in result:
            raise RuntimeError(f"{kind}: {result['error']}")
        out[kind] = {"seconds": round(result["seconds"], 2), "articles": result["articles"], "busy": busy}
    return out


# --- a Prefect server, a work pool, workers ---------------------------------------------------------------


class Server:
    def __init__(self, api: str, client: httpx.Client, client_home: Path, pid: int, quiet: tuple[float, float]):
        self.api, self.client, self.client_home, self.pid, self.quiet = api, client, client_home, pid, quiet

    def env(self, **extra: str) -> dict[str, str]:
        return _base_env(PREFECT_API_URL=self.api, PREFECT_HOME=str(self.client_home), **extra)

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Retry 503/429, as Prefect's own client does (the SQLite-backed server answers 503 while locked)."""
        for attempt in range(8):
            response = self.client.request(method, path, **kwargs)
            if response.status_code not in (429, 503):
                return response
            time.sleep(min(0.25 * 2**attempt, 4))
        return response

    def online_workers(self) -> set[str]:
        response = self.request("POST", f"/work_pools/{POOL}/workers/filter", json={})
        response.raise_for_status()
        return {w["name"] for w in response.json() if w["status"] == "ONLINE"}


@contextmanager
def prefect_server(work: Path, quiet: tuple[float, float]) -> Iterator[Server]:
    """`prefect server start` on a free port of 127.0.0.1 with a new SQLite database in `work`."""
    home = work / "prefect-server"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    env = _base_env(PREFECT_HOME=str(home), PREFECT_UI_ENABLED="false", PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    proc = _start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, home / "server.log"
    )
    api = f"http://127.0.0.1:{port}/api"
    client = httpx.Client(base_url=api, timeout=30)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not start; see {home / 'server.log'}")
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        yield Server(api, client, work / "prefect-client", proc.pid, quiet)
    finally:
        client.close()
        _stop(proc, grace=20)


def deploy(server: Server) -> str:
    """A process work pool and the ingest-sources flow deployed to it, as an operator does; the deployment id."""
    prefect = str(BIN / "prefect")
    env = server.env()
    subprocess.run(
        [prefect, "work-pool", "create", POOL, "--type", "process"], env=env, cwd=REPO, check=True, capture_output=True
    )
    subprocess.run(
        [prefect, "--no-prompt", "deploy", "flows/ops.py:ingest_sources", "--name", POOL, "--pool", POOL],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    response = server.request("POST", "/deployments/filter", json={"deployments": {"name": {"any_": [POOL]}}})
    response.raise_for_status()
    return str(response.json()[0]["id"])


def _phases(server: Server, run: dict[str, Any]) -> dict[str, Any]:
    """Seconds from creation to the worker's claim (Pending), to the flow process running, to the end."""
    response = server.request("GET", "/flow_run_states/", params={"flow_run_id": run["id"]})
    response.raise_for_status()
    first: dict[str, datetime] = {}
    for state in sorted(response.json(), key=lambda s: s["timestamp"]):
        first.setdefault(state["type"], datetime.fromisoformat(state["timestamp"]))
    created = datetime.fromisoformat(run["created"])
    end = first[run["state"]["type"]]
    return {
        "worker": (run.get("labels") or {}).get("prefect.worker.name"),
        "state": run["state"]["type"],
        "created": created.timestamp(),
        "end": end.timestamp(),
        "to_pending": (first["PENDING"] - created).total_seconds(),
        "to_running": (first["RUNNING"] - first["PENDING"]).total_seconds(),
        "body": (end - first["RUNNING"]).total_seconds(),
    }


def pool_scenario(
    server: Server,
    deployment_id: str,
    work: Path,
    name: str,
    sources: list[Path],
    workers: int,
    limit: int | None,
    query_seconds: int,
) -> dict[str, Any]:
    """Start `workers` workers (all polling), create one run per source at once, wait for all; read the states."""
    data = work / f"data-{name}"
    shutil.rmtree(data, ignore_errors=True)
    # Workers pass their environment to the runs: the store, translation off, prefect.yaml's heartbeat, and the
    # work directory as a place deployments may read files from (the corpus is there, not under samples/).
    env = server.env(
        NEWSFLOW_DATA_DIR=str(data),
        PREFECT_WORKER_QUERY_SECONDS=str(query_seconds),
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30",
        NEWSFLOW_INPUT_ROOTS=str(work),
    )
    names = [f"{name}-w{k}" for k in range(workers)]
    command = [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"]
    if limit is not None:
        command += ["--limit", str(limit)]
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    procs = [_start([*command, "--name", n], env, logs / f"{n}.log") for n in names]
    try:
        deadline = time.monotonic() + 180
        while server.online_workers() & set(names) != set(names):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"workers did not come online; see {logs}")
            time.sleep(0.5)
        busy = wait_quiet(*server.quiet)
        _log(f"{name}: {len(sources)} run(s) on {workers} worker(s), limit {limit}, poll {query_seconds} s")
        cpu, server_cpu = _children_cpu(), _tree_cpu(server.pid)
        ids = []
        for source in sources:
            body = {"parameters": {"sources": [str(source)]}}
            response = server.request("POST", f"/deployments/{deployment_id}/create_flow_run", json=body)
            response.raise_for_status()
            ids.append(response.json()["id"])
        runs = []
        for run_id in ids:
            deadline = time.monotonic() + 1800
            while (run := server.request("GET", f"/flow_runs/{run_id}").json())["state"]["type"] not in FINAL:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"run {run_id} did not finish in 30 min")
                time.sleep(0.5)
            runs.append(run)
        server_cpu = _tree_cpu(server.pid) - server_cpu
    finally:
        for proc in procs:
            _stop(proc)
    # The workers and their flow processes, all ended and waited for now (a worker waits for its runs' processes).
    cpu = _children_cpu() - cpu
    phases = [_phases(server, run) for run in runs]
    if any(p["state"] != "COMPLETED" for p in phases):
        raise RuntimeError(f"{name}: not every run completed: {phases}; see {logs}")
    first, last = min(p["created"] for p in phases), max(p["end"] for p in phases)
    result = {
        "seconds": round(last - first, 2),
        "records": _count_records(data),
        "runs": phases,
        "busy": busy,
        "cpu": round(cpu, 1),
        "server_cpu": round(server_cpu, 1),
        "per_worker": dict(Counter(p["worker"] for p in phases)),
    }
    shutil.rmtree(data, ignore_errors=True)
    return result


def measure_pool(server: Server, deployment_id: str, corpus: Path, work: Path) -> dict[str, Any]:
    parts = split_corpus(corpus, work / "parts-4", 4)
    return {
        "one_run_one_worker": pool_scenario(server, deployment_id, work, "one", [corpus], 1, 1, 10),
        "four_runs_limit1_poll10": pool_scenario(server, deployment_id, work, "lim10", parts, 2, 1, 10),
        "four_runs_limit1_poll1": pool_scenario(server, deployment_id, work, "lim1", parts, 2, 1, 1),
        "four_runs_no_limit": pool_scenario(server, deployment_id, work, "nolimit", parts, 2, None, 10),
    }


def measure_pool_limit(server: Server, deployment_id: str, corpus: Path, work: Path) -> dict[str, Any]:
    """A pool concurrency limit of 2 instead of `--limit`: does it spread the four runs over the two workers?"""
    prefect, env = str(BIN / "prefect"), server.env()
    subprocess.run(
        [prefect, "work-pool", "set-concurrency-limit", POOL, "2"], env=env, cwd=REPO, check=True, capture_output=True
    )
    try:
        parts = split_corpus(corpus, work / "parts-4", 4)
        return pool_scenario(server, deployment_id, work, "poollimit", parts, 2, None, 10)
    finally:
        subprocess.run(
            [prefect, "work-pool", "clear-concurrency-limit", POOL], env=env, cwd=REPO, check=True, capture_output=True
        )


def measure_small(server: Server, deployment_id: str, work: Path) -> dict[str, Any]:
    source = work / "small"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    shutil.copy(SMALL_INPUT, source)
    out: dict[str, Any] = {}
    for poll in (10, 1):
        # One worker, one run at a time: three runs one after another, each waiting for a poll of its own.
        out[f"poll{poll}"] = [
            pool_scenario(server, deployment_id, work, f"small{poll}-{i}", [source], 1, 1, poll) for i in range(3)
        ]
    return out


# --- the tables ----------------------------------------------------------------------------------------------


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


def render(results: dict[str, Any]) -> str:
    n = results.get("articles", 0)
    lines = [f"Corpus: {n:,} articles, translation off; cores: {results.get('cores')}.", ""]
    lines += [
        "| how | runs × articles | workers | seconds | articles/s | CPU s: runs (server) | machine busy before |",
        "|---|---|---|---:|---:|---:|---:|",
    ]

    def row(label: str, runs: str, workers: str, res: dict[str, Any] | None) -> None:
        if res:
            seconds = float(res["seconds"])
            cpu = f"{res['cpu']:.0f}" if "cpu" in res else "–"
            cpu += f" ({res['server_cpu']:.0f})" if "server_cpu" in res else ""
            lines.append(
                f"| {label} | {runs} | {workers} | {seconds:.1f} | {n / seconds:.1f} | {cpu} | {res['busy']:.0%} |"
            )

    local, flow, pool = results.get("local", {}), results.get("flow", {}), results.get("pool", {})
    row("`newsflow run`, whole command (local mode)", f"1 × {n:,}", "threads", local.get("thread"))
    row("`newsflow run`, whole command, Dask", f"1 × {n:,}", "Dask LocalCluster, 2", local.get("dask"))
    row("flow only, Prefect warm (local mode)", f"1 × {n:,}", "threads", flow.get("flow"))
    row("flow only, Prefect warm, Dask", f"1 × {n:,}", "Dask LocalCluster, 2", flow.get("flow_dask"))
    q = f"{n // 4:,}"
    row("work pool, poll 10 s", f"1 × {n:,}", "1 worker, `--limit 1`", pool.get("one_run_one_worker"))
    row("work pool, poll 10 s", f"4 × {q}", "2 workers, `--limit 1`", pool.get("four_runs_limit1_poll10"))
    row("work pool, poll 1 s", f"4 × {q}", "2 workers, `--limit 1`", pool.get("four_runs_limit1_poll1"))
    row("work pool, poll 10 s", f"4 × {q}", "2 workers, no `--limit`", pool.get("four_runs_no_limit"))
    row("work pool limit 2, poll 10 s", f"4 × {q}", "2 workers, no `--limit`", results.get("poollimit"))
    if results.get("poollimit"):
        pool = {**pool, "four_runs_pool_limit2": results["poollimit"]}
    if pool:
        lines += [
            "",
            "| work pool scenario | runs per worker | each run, by creation: worker: created → claimed, "
            "→ running, → end (s) |",
            "|---|---|---|",
        ]
        for key, res in pool.items():
            spans = "; ".join(
                f"{str(r['worker']).rsplit('-', 1)[-1]}: {r['to_pending']:.1f}, {r['to_running']:.1f}, {r['body']:.1f}"
                for r in sorted(res["runs"], key=lambda r: r["created"])
            )
            per = ", ".join(f"{w}: {c}" for w, c in sorted(res["per_worker"].items()))
            lines.append(f"| {key} | {per} | {spans} |")
    small = results.get("small")
    if small:
        lines += [
            "",
            "| one-article run, 1 worker | created → claimed (poll) | claimed → running (flow process "
            "start) | running → completed (flow body) | total |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, samples in small.items():
            runs = [s["runs"][0] for s in samples]
            parts = [[r[k] for r in runs] for k in ("to_pending", "to_running", "body")]
            totals = [r["end"] - r["created"] for r in runs]
            cells = [" / ".join(f"{v:.1f}" for v in vals) + f" (mean {_mean(vals):.1f})" for vals in [*parts, totals]]
            lines.append(f"| {key.replace('poll', 'poll ')} s | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000, help="corpus size (a multiple of 4; default 2000)")
    parser.add_argument("--only", nargs="+", choices=MEASUREMENTS, default=list(MEASUREMENTS))
    parser.add_argument("--work-dir", type=Path, default=Path("newsflow-data") / "bench-scaleout")
    parser.add_argument(
        "--quiet",
        type=float,
        default=0.25,
        help="before each measurement, wait until the machine is at most this busy (default 0.25)",
    )
    parser.add_argument("--quiet-wait", type=float, default=600, help="seconds to wait for that at most (600)")
    parser.add_argument("--fresh", action="store_true", help="measure the selected measurements again")
    parser.add_argument("--table-only", action="store_true", help="only print the tables from results.json")
    args = parser.parse_args(argv)
    if args.articles < 4 or args.articles % 4:
        parser.error("--articles: a multiple of 4 (the corpus is split into four runs)")
    work = args.work_dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    path = work / "results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if results.get("articles") not in (None, args.articles):
        results = {}  # another corpus size: nothing saved applies
    results.update(articles=args.articles, cores=os.cpu_count())

    def save() -> None:
        path.write_text(json.dumps(results, indent=1), encoding="utf-8")

    if not args.table_only:
        corpus = generate_corpus(work / f"corpus-{args.articles}", args.articles)
        todo = [m for m in args.only if args.fresh or m not in results]
        quiet = (args.quiet, args.quiet_wait)
        if "local" in todo:
            results["local"] = measure_local(corpus, work, args.articles, quiet)
            save()
        if "flow" in todo:
            results["flow"] = measure_flow_only(corpus, work, quiet)
            save()
        if {"pool", "poollimit", "small"} & set(todo):
            with prefect_server(work, quiet) as server:
                deployment_id = deploy(server)
                if "pool" in todo:
                    results["pool"] = measure_pool(server, deployment_id, corpus, work)
                    save()
                if "poollimit" in todo:
                    results["poollimit"] = measure_pool_limit(server, deployment_id, corpus, work)
                    save()
                if "small" in todo:
                    results["small"] = measure_small(server, deployment_id, work)
                    save()
    print(render(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
