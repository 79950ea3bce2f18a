"""Scale-out over work-pool workers: `prefect worker start --limit 1` on two workers spreads runs over both.

Without `--limit` the first worker to poll claims every scheduled run it finds (issue 23: four runs, two workers,
one worker ran all four; a pool or queue concurrency limit only caps the runs over all workers, it does not spread
them), so the README tells operators to start each worker with `--limit`. This test holds that advice to what
Prefect does: a real `prefect server`, a process work pool, two real `prefect worker start --limit 1` processes and
four ingest runs created at once.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

# The end-to-end tests' real Prefect server fixture and helpers (imported, not copied). A fixture imported into a
# module is registered again for that module, so a run of the whole suite starts a second server for this file.
from tests.prefect_servers import BIN, REPO, PrefectServer, _prefect_server, _start, _stop, _tail
from tests.test_ops_e2e import _records

pytestmark = pytest.mark.e2e

POOL = "scaleout-spread"  # a pool of its own: the other tests' pools have workers without --limit
WORKERS = ("scaleout-a", "scaleout-b")
# Four different articles, one per run: every run stores a record of its own, so none is "unchanged".
INPUTS = (
    "samples/en/tra-vinh-ocop-trade-fair-2024.txt",
    "samples/es/ben-tre-agua-dulce-temporada-seca-2024.txt",
    "samples/vi/cum-thi-dua-v-tong-ket-2024.txt",
    "samples/fr/tra-vinh-lutte-peche-inn-2024.txt",
)


def _online_workers(server: PrefectServer) -> set[str]:
    """Names of the pool's workers whose heartbeat the server has (a worker sends one as it starts polling)."""
    response = server.request("POST", f"/work_pools/{POOL}/workers/filter", json={})
    response.raise_for_status()
    return {w["name"] for w in response.json() if w["status"] == "ONLINE"}


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """A Prefect server for this test alone: two workers and their runs load a 2-core machine, and a server that
    other modules' runs have already filled answered too late (a poll timed out)."""
    with _prefect_server(tmp_path_factory.mktemp("prefect-home-scaleout")) as server:
        yield server


def test_workers_with_limit_one_share_the_runs(own_server: PrefectServer, tmp_path: Path) -> None:
    server = own_server
    data = tmp_path / "data"
    # One SQLite store for both workers' runs (as one machine with two workers would have); the server's env
    # polls every 1 s (PREFECT_WORKER_QUERY_SECONDS) instead of 10, which only makes the test quicker.
    env = server.env(data)
    prefect = str(BIN / "prefect")
    created = subprocess.run(
        [prefect, "work-pool", "create", POOL, "--type", "process"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    deploy = [prefect, "--no-prompt", "deploy", "flows/ops.py:ingest_sources", "--name", POOL, "--pool", POOL]
    deployed = subprocess.run(deploy, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    deployment = server.deployments()[POOL]

    logs = {name: tmp_path / f"{name}.log" for name in WORKERS}
    command = [prefect, "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1", "--name"]
    workers = [_start([*command, name], env, logs[name]) for name in WORKERS]
    try:
        # Both workers poll before any run exists: otherwise the first one up could finish all four alone before
        # the other started (a slow start on 2 cores), and the test would say nothing about --limit.
        deadline = time.monotonic() + 180
        while _online_workers(server) != set(WORKERS):
            dead = [name for name, proc in zip(WORKERS, workers, strict=True) if proc.poll() is not None]
            assert not dead and time.monotonic() < deadline, "\n".join(_tail(logs[n]) for n in WORKERS)
            time.sleep(0.5)

        run_ids = []
        for i, rel in enumerate(INPUTS):
            # Under <data dir>/inbox: deployments may be restricted to reading files under there and samples/.
            inputs = data / "inbox" / f"in-{i}"
            inputs.mkdir(parents=True)
            shutil.copy(REPO / rel, inputs)
            response = server.run(deployment["id"], {"sources": [str(inputs)]})
            assert response.status_code == 201, response.text
            run_ids.append(response.json()["id"])
        runs = [server.wait(run_id) for run_id in run_ids]
    finally:
        for proc in workers:
            _stop(proc)

    worker_logs = "\n".join(f"--- {n}\n{_tail(logs[n])}" for n in WORKERS)
    assert [r["state"]["type"] for r in runs] == ["COMPLETED"] * len(INPUTS), worker_logs
    # Which worker ran each run, as the server records it: the worker labels a run only after its claim (the
    # Pending state) was accepted, so a worker that lost a race for a run never labels it.
    ran_by = {r["id"]: (r.get("labels") or {}).get("prefect.worker.name") for r in runs}
    assert set(ran_by.values()) <= set(WORKERS), ran_by
    # The point of the test: with --limit 1 neither worker claimed every run. One worker with all four fails here.
    assert set(ran_by.values()) == set(WORKERS), f"one worker ran every run: {ran_by}\n{worker_logs}"
    # And the limit held on each worker: its runs followed one another, never two at once.
    for name in WORKERS:
        spans = sorted(
            (datetime.fromisoformat(r["start_time"]), datetime.fromisoformat(r["end_time"]))
            for r in runs
            if ran_by[r["id"]] == name
        )
        for (_, end), (start, _) in pairwise(spans):
            assert end <= start, f"{name} ran two runs at once with --limit 1: {spans}"

    records = _records(f"sqlite:///{data / 'newsflow.db'}")
    assert sorted(Path(r["source"]["uri"]).name for r in records.values()) == sorted(Path(p).name for p in INPUTS)
