"""Deployments end to end on a real Prefect server (`prefect server start` on 127.0.0.1, once per session).

(a) `newsflow serve` + runs triggered through the REST API the UI uses; (b) a process work pool, a worker
and `prefect deploy` from prefect.yaml; (c) the ingest flow on a Dask LocalCluster of 2 workers gives the
same records as the thread pool; (d) invalid parameters are refused before a run starts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from newsflow.storage import Store

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.e2e

INPUTS = (
    "samples/reference/cluster-viii-pact.es.txt",
    "samples/vi/cum-thi-dua-viii-ky-giao-uoc-2024.txt",
    "samples/en/cluster-viii-pact-signing-2024.html",
)
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrefectServer:
    api: str
    home: Path
    client: httpx.Client

    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        """An environment for a newsflow/prefect subprocess talking to this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
        env.update({
            "PREFECT_API_URL": self.api, "PREFECT_HOME": str(self.home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_LOGGING_LEVEL": "INFO",
            "NEWSFLOW_DATA_DIR": str(data_dir), "NEWSFLOW_TRANSLATOR": "none",
        })  # fmt: skip
        env.update(extra)
        return env

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Like Prefect's own client, retry 503/429: the SQLite-backed server answers 503 while it is locked."""
        for attempt in range(8):
            response = self.client.request(method, path, **kwargs)
            if response.status_code not in (429, 503):
                return response
            time.sleep(min(0.25 * 2**attempt, 4))
        return response

    def deployments(self) -> dict[str, dict[str, Any]]:
        response = self.request("POST", "/deployments/filter", json={})
        response.raise_for_status()
        return {d["name"]: d for d in response.json()}

    def run(self, deployment_id: str, parameters: dict[str, Any]) -> httpx.Response:
        """Create a flow run the way the UI's "Run" button does."""
        return self.request("POST", f"/deployments/{deployment_id}/create_flow_run", json={"parameters": parameters})

    def wait(self, flow_run_id: str, timeout: float = 240) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.request("GET", f"/flow_runs/{flow_run_id}")
            response.raise_for_status()
            run = response.json()
            if run["state"]["type"] in FINAL:
                return dict(run)
            time.sleep(0.5)
        raise AssertionError(f"flow run {flow_run_id} not finished after {timeout} s: {run['state']}")

    def artifacts(self, flow_run_id: str) -> dict[str, dict[str, Any]]:
        body = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}}
        response = self.request("POST", "/artifacts/filter", json=body)
        response.raise_for_status()
        return {a["key"]: a for a in response.json()}

    def task_runs(self, flow_run_id: str) -> list[dict[str, Any]]:
        body = {"flow_runs": {"id": {"any_": [flow_run_id]}}}
        response = self.request("POST", "/task_runs/filter", json=body)
        response.raise_for_status()
        return list(response.json())


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _start(args: list[str], env: dict[str, str], log: Path, cwd: Path = REPO) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _tail(log: Path, n: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else "(no log)"


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """`prefect server start` on a free port of 127.0.0.1, with its own PREFECT_HOME."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_LOGGING_LEVEL": "WARNING", "PREFECT_UI_ENABLED": "false"})  # fmt: skip
    log = home / "server.log"
    proc = _start([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, log)
    client = httpx.Client(base_url=api, timeout=30)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"prefect server exited with {proc.returncode}:\n{_tail(log)}")
            try:
                if client.get("/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"prefect server did not answer /api/health in 180 s:\n{_tail(log)}")
            time.sleep(0.5)
        yield PrefectServer(api=api, home=home, client=client)
    finally:
        client.close()
        _stop(proc)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    target = tmp_path / "in"
    target.mkdir()
    for rel in INPUTS:
        shutil.copy(REPO / rel, target / Path(rel).name)
    return target


def _records(url: str) -> dict[str, dict[str, Any]]:
    """Stored records by id, without the fields that change on every run."""
    store = Store(url)
    try:
        out = {}
        for record in store.iter_records():
            data = record.model_dump(mode="json")
            data["pipeline"].pop("processed_at")
            data["source"].pop("fetched_at")
            out[record.id] = data
        return out
    finally:
        store.close()


def _linked_file(artifact: dict[str, Any]) -> Path:
    """The file a link artifact points at (its data is the markdown link `[text](file://...)`)."""
    match = re.search(r"\((file://[^)]+)\)", artifact["data"])
    assert match, artifact["data"]
    return Path(unquote(match.group(1).removeprefix("file://")))


def _check_artifacts(server: PrefectServer, flow_run_id: str, *, flow: str, n: int, status: str) -> None:
    """The run's markdown summary, article table and link to its JSONL say what happened."""
    artifacts = server.artifacts(flow_run_id)
    summary, table, output = (f"newsflow-{flow}-{part}" for part in ("summary", "articles", "output"))
    assert set(artifacts) == {summary, table, output}, artifacts.keys()
    assert artifacts[table]["type"] == "table"
    markdown = artifacts[summary]["data"]
    assert f"| processed | {n} |" in markdown and f"| {status} | {n} |" in markdown
    assert "## Top provinces" in markdown and "Long An" in markdown
    assert "| provinces |" in markdown
    rows = artifacts[table]["data"]
    rows = json.loads(rows) if isinstance(rows, str) else rows
    assert len(rows) == n and {r["status"] for r in rows} == {status}
    assert all(r["id"] and r["provinces"] >= 0 for r in rows)
    lines = _linked_file(artifacts[output]).read_text(encoding="utf-8").splitlines()
    assert len(lines) == n and {json.loads(x)["id"] for x in lines} == {r["id"] for r in rows}


# --- (c): Dask ----------------------------------------------------------------------------------------------


def test_dask_local_cluster_gives_the_same_records(
    prefect_api: PrefectServer, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.ingest import ingest
    from newsflow.settings import get_settings, reset_settings

    monkeypatch.setenv("NEWSFLOW_TRANSLATOR", "none")
    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "1")  # three batches, spread over the two workers

    def run(name: str, **env: str) -> tuple[dict[str, dict[str, Any]], Any]:
        monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path / name))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        summary = ingest(sources=[str(inputs)])
        return _records(get_settings().resolved_database_url), summary

    with temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
        threads, thread_summary = run("threads")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:  # fmt: skip
            assert len(client.scheduler_info()["workers"]) == 2
            address = cluster.scheduler_address
            dask, dask_summary = run("dask", NEWSFLOW_TASK_RUNNER="dask", NEWSFLOW_DASK_ADDRESS=address)
            ran_there = client.run(lambda: "extractors.pipeline" in sys.modules)
    assert len(threads) == 3 and dask == threads
    assert (dask_summary.new, dask_summary.entities) == (thread_summary.new, thread_summary.entities)
    assert any(ran_there.values()), ran_there  # the articles were processed in the Dask workers


# --- (b): work pool + worker + prefect.yaml ---------------------------------------------------------------


def test_worker_runs_deployments_from_prefect_yaml(
    prefect_api: PrefectServer, inputs: Path, tmp_path: Path, pg_url: str
) -> None:
    server = prefect_api
    data = tmp_path / "worker-data"
    env = server.env(data, NEWSFLOW_DATABASE_URL=pg_url)
    prefect = str(BIN / "prefect")
    created = subprocess.run([prefect, "work-pool", "create", "newsflow", "--type", "process"], env=env, cwd=REPO,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run([prefect, "--no-prompt", "deploy", "--all"], env=env, cwd=REPO, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    deployments = {d["name"]: d for d in server.deployments().values() if d["work_pool_name"] == "newsflow"}
    assert {"ingest-sources", "ingest-site", "process-text", "reprocess", "export"} <= set(deployments)

    log = tmp_path / "worker.log"
    worker = _start([prefect, "worker", "start", "--pool", "newsflow", "--type", "process"], env, log)
    try:
        ingest = server.run(deployments["ingest-sources"]["id"], {"params": {"sources": [str(inputs)]}})
        assert ingest.status_code == 201, ingest.text
        run = server.wait(ingest.json()["id"])
        assert run["state"]["type"] == "COMPLETED", (run["state"], _tail(log))
        _check_artifacts(server, run["id"], flow="ingest-sources", n=3, status="new")
        first = _records(pg_url)
        assert len(first) == 3

        # Re-processing the stored raw inputs stores nothing twice; export writes them all, in parallel.
        again = server.run(deployments["reprocess"]["id"], {"params": {}})
        export = server.run(deployments["export"]["id"], {"params": {"format": "jsonl"}})
        assert (again.status_code, export.status_code) == (201, 201), (again.text, export.text)
        again_run, export_run = server.wait(again.json()["id"]), server.wait(export.json()["id"])
        assert again_run["state"]["type"] == "COMPLETED", (again_run["state"], _tail(log))
        assert export_run["state"]["type"] == "COMPLETED", (export_run["state"], _tail(log))
        _check_artifacts(server, again_run["id"], flow="reprocess", n=3, status="unchanged")
        assert _records(pg_url) == first
        exported = _linked_file(server.artifacts(export_run["id"])["newsflow-export-output"])
        exported_ids = {json.loads(line)["id"] for line in exported.read_text(encoding="utf-8").splitlines()}
        assert exported_ids == set(first)
    finally:
        _stop(worker)


# --- (a) + (d): newsflow serve ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(
    prefect_api: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrefectServer, Path]]:
    data = tmp_path_factory.mktemp("served-data")
    log = data / "serve.log"
    proc = _start([str(BIN / "newsflow"), "serve"], prefect_api.env(data), log)
    try:
        expected = {"ingest-sources", "ingest-site", "process-text", "reprocess", "export"}
        deadline = time.monotonic() + 120
        while not expected <= set(prefect_api.deployments()):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"newsflow serve did not create the deployments:\n{_tail(log)}")
            time.sleep(0.5)
        yield prefect_api, data
    finally:
        _stop(proc)


def test_serve_runs_deployments_from_the_api(served: tuple[PrefectServer, Path], inputs: Path) -> None:
    server, data = served
    deployments = server.deployments()
    # The UI's form: a typed model with dropdowns and bounds.
    schema = deployments["ingest-sources"]["parameter_openapi_schema"]
    model = schema["definitions"]["IngestSourcesParams"]
    assert model["title"] == "Ingest sources"
    assert "none" in model["properties"]["translator"]["anyOf"][0]["enum"]
    text_schema = deployments["process-text"]["parameter_openapi_schema"]["definitions"]["ProcessTextParams"]
    assert text_schema["properties"]["text"]["maxLength"] == 100_000
    # The site schedule: a cron in Vietnam time, inactive until a site and its pages are set.
    (schedule,) = deployments["ingest-site"]["schedules"]
    assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh" and schedule["active"] is False

    ingest = server.run(deployments["ingest-sources"]["id"], {"params": {"sources": [str(inputs)]}})
    assert ingest.status_code == 201, ingest.text
    # Not the same text as the file (the same text is the same article id).
    pasted = (REPO / INPUTS[0]).read_text(encoding="utf-8") + "\n\nEl convenio se firmó en Long An en marzo.\n"
    paste = server.run(deployments["process-text"]["id"], {"params": {"text": pasted, "language": "es"}})
    assert paste.status_code == 201, paste.text

    run = server.wait(ingest.json()["id"])
    assert run["state"]["type"] == "COMPLETED", run["state"]
    # Task names say which articles; batching keeps them few.
    names = {t["name"] for t in server.task_runs(run["id"])}
    first = "#0 cluster-viii-pact-signing-2024.html (+2)"
    assert {f"process {first}", f"store {first}"} <= names, names
    _check_artifacts(server, run["id"], flow="ingest-sources", n=3, status="new")

    run = server.wait(paste.json()["id"])
    assert run["state"]["type"] == "COMPLETED", run["state"]
    artifacts = server.artifacts(run["id"])
    assert "| processed | 1 |" in artifacts["newsflow-process-text-summary"]["data"]

    records = _records(f"sqlite:///{data / 'newsflow.db'}")
    assert len(records) == 4  # three files + the pasted text (its own id: no URL, hash of its text)
    pasted_record = next(r for r in records.values() if r["source"]["uri"].startswith("paste:"))
    assert pasted_record["language"]["code"] == "es"
    assert {p["name"] for p in pasted_record["entities"]["provinces"]} >= {"Long An", "Bến Tre", "Trà Vinh"}


def test_invalid_parameters_are_refused(served: tuple[PrefectServer, Path]) -> None:
    server, _ = served
    deployments = server.deployments()
    before = len(server.request("POST", "/flow_runs/filter", json={}).json())
    refused = [
        ("ingest-sources", {"params": {"sources": ["samples"], "translator": "klingon"}}),
        ("ingest-sources", {"params": {"sources": []}}),
        ("ingest-sources", {"params": {"sources": ["samples"], "target_language": "tlh"}}),
        ("process-text", {"params": {"text": "x" * 100_001}}),
        ("reprocess", {"params": {"limit": 0}}),
        ("export", {"params": {"format": "xml"}}),
        ("ingest-site", {"params": {"site": "longan.gov.vn"}}),  # no pages
    ]
    for name, parameters in refused:
        response = server.run(deployments[name]["id"], parameters)
        assert response.status_code == 409, (name, parameters, response.status_code, response.text[:300])
        assert "Validation failed" in response.text or "validation" in response.text.lower()
    assert len(server.request("POST", "/flow_runs/filter", json={}).json()) == before

    # What a JSON schema cannot say is checked when the run starts, before any task runs.
    bad_site = {"params": {"site": "longan.gov.vn", "urls": ["https://example.com/a.html"]}}
    response = server.run(deployments["ingest-site"]["id"], bad_site)
    assert response.status_code == 201, response.text
    run = server.wait(response.json()["id"])
    assert run["state"]["type"] == "FAILED" and "not on the site" in (run["state"]["message"] or ""), run["state"]
    assert server.task_runs(run["id"]) == []
