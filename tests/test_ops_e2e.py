"""Deployments end to end on a real Prefect server (`prefect server start` on 127.0.0.1, once per session).

(a) `newsflow serve` + runs triggered through the REST API the UI uses; (b) a process work pool, a worker
and `prefect deploy` from prefect.yaml; (c) the ingest flow on a Dask LocalCluster of 2 workers gives the
same records as the thread pool; (d) invalid parameters are refused before a run starts; (e) schedules fire:
the server's scheduler creates runs that `newsflow serve` and a work pool's worker complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from flows.params import PASTE_MAX_CHARS
from newsflow.storage import Store
from tests.prefect_servers import BIN, FINAL, REPO, PrefectServer, _prefect_server, _start, _stop, _tail

pytestmark = pytest.mark.e2e

INPUTS = (
    "samples/reference/cluster-viii-pact.es.txt",
    "samples/vi/cum-thi-dua-viii-ky-giao-uoc-2024.txt",
    "samples/en/cluster-viii-pact-signing-2024.html",
)
SCHEDULED_INPUT = "samples/en/tien-giang-saltwater-intrusion-meeting-2024.txt"


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


def _log_size(server: PrefectServer) -> int:
    log = server.home / "server.log"
    return log.stat().st_size if log.exists() else 0


def _server_errors(server: PrefectServer, since: int) -> list[str]:
    """ERROR lines and tracebacks the server logged after byte `since` (its services log there, scheduler included)."""
    with (server.home / "server.log").open("rb") as log:
        log.seek(since)
        lines = log.read().decode("utf-8", "replace").splitlines()
    return [line for line in lines if "ERROR" in line or "Traceback" in line or "Exception" in line]


def _runs_of(server: PrefectServer, deployment_id: str) -> list[dict[str, Any]]:
    body = {"flow_runs": {"deployment_id": {"any_": [deployment_id]}}}
    response = server.request("POST", "/flow_runs/filter", json=body)
    response.raise_for_status()
    return list(response.json())


def _scheduled_run_completes(
    server: PrefectServer, deployment_id: str, parameters: dict[str, Any], log: Path, timeout: float = 240
) -> dict[str, Any]:
    """Give a deployment a 10 s interval schedule; wait until a run the server's scheduler made has completed.

    Nothing triggers the run but the schedule: the server's scheduler must create it (`auto_scheduled`) and the
    runner or worker must pick it up. The schedule is removed afterwards.
    """
    before = {r["id"] for r in _runs_of(server, deployment_id)}
    schedule = {"active": True, "schedule": {"interval": 10}, "parameters": parameters}
    created = server.request("POST", f"/deployments/{deployment_id}/schedules", json=[schedule])
    assert created.status_code == 201, created.text
    schedule_id = created.json()[0]["id"]
    try:
        deadline = time.monotonic() + timeout
        while True:
            runs = [r for r in _runs_of(server, deployment_id) if r["id"] not in before and r["auto_scheduled"]]
            done = [r for r in runs if r["state"]["type"] == "COMPLETED"]
            if done:
                return done[0]
            failed = [r["state"] for r in runs if r["state"]["type"] in FINAL - {"COMPLETED"}]
            assert not failed, (failed, _tail(log))
            if time.monotonic() > deadline:
                states = [r["state"]["type"] for r in runs]
                raise AssertionError(
                    f"no scheduled run completed in {timeout} s (runs the scheduler made: {states});"
                    f"\nserver log:\n{_tail(server.home / 'server.log')}\nlog:\n{_tail(log)}"
                )
            time.sleep(1)
    finally:
        server.request("DELETE", f"/deployments/{deployment_id}/schedules/{schedule_id}")
        # Runs it made that have not started yet would start later, during other tests.
        for r in _runs_of(server, deployment_id):
            if r["id"] not in before and r["state"]["type"] == "SCHEDULED":
                server.request("DELETE", f"/flow_runs/{r['id']}")


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
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
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
    # The worker may read the test's inputs: deployments read files only under NEWSFLOW_INPUT_ROOTS.
    env = server.env(data, NEWSFLOW_DATABASE_URL=pg_url, NEWSFLOW_INPUT_ROOTS=json.dumps([str(tmp_path)]))
    prefect = str(BIN / "prefect")
    created = subprocess.run(
        [prefect, "work-pool", "create", "newsflow", "--type", "process"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    deployed = subprocess.run(
        [prefect, "--no-prompt", "deploy", "--all"], env=env, cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    deployments = {d["name"]: d for d in server.deployments().values() if d["work_pool_name"] == "newsflow"}
    assert {"ingest-sources", "ingest-site", "process-text", "reprocess", "export"} <= set(deployments)

    log = tmp_path / "worker.log"
    worker = _start([prefect, "worker", "start", "--pool", "newsflow", "--type", "process"], env, log)
    try:
        ingest = server.run(deployments["ingest-sources"]["id"], {"sources": [str(inputs)]})
        assert ingest.status_code == 201, ingest.text
        run = server.wait(ingest.json()["id"])
        assert run["state"]["type"] == "COMPLETED", (run["state"], _tail(log))
        _check_artifacts(server, run["id"], flow="ingest-sources", n=3, status="new")
        first = _records(pg_url)
        assert len(first) == 3

        # Re-processing the stored raw inputs stores nothing twice; export writes them all, in parallel.
        again = server.run(deployments["reprocess"]["id"], {})
        export = server.run(deployments["export"]["id"], {"format": "jsonl"})
        assert (again.status_code, export.status_code) == (201, 201), (again.text, export.text)
        again_run, export_run = server.wait(again.json()["id"]), server.wait(export.json()["id"])
        assert again_run["state"]["type"] == "COMPLETED", (again_run["state"], _tail(log))
        assert export_run["state"]["type"] == "COMPLETED", (export_run["state"], _tail(log))
        _check_artifacts(server, again_run["id"], flow="reprocess", n=3, status="unchanged")
        assert _records(pg_url) == first
        exported = _linked_file(server.artifacts(export_run["id"])["newsflow-export-output"])
        exported_ids = {json.loads(line)["id"] for line in exported.read_text(encoding="utf-8").splitlines()}
        assert exported_ids == set(first)

        # (e) Scheduled ingestion through the pool: the server's scheduler makes the run, the worker runs it.
        since = _log_size(server)
        scheduled_input = tmp_path / "scheduled"
        scheduled_input.mkdir()
        shutil.copy(REPO / SCHEDULED_INPUT, scheduled_input)
        run = _scheduled_run_completes(
            server, deployments["ingest-sources"]["id"], {"sources": [str(scheduled_input)]}, log
        )
        _check_artifacts(server, run["id"], flow="ingest-sources", n=1, status="new")
        assert len(_records(pg_url)) == 4
        assert _server_errors(server, since) == []
    finally:
        _stop(worker)


# --- (a) + (d): newsflow serve ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(
    prefect_api: PrefectServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PrefectServer, Path]]:
    data = tmp_path_factory.mktemp("served-data")
    log = data / "serve.log"
    started = datetime.now(UTC)
    proc = _start([str(BIN / "newsflow"), "serve"], prefect_api.env(data), log)
    try:
        expected = {"ingest-sources", "ingest-site", "process-text", "reprocess", "retranslate-pending", "export"}
        deadline = time.monotonic() + 120

        def served_names() -> set[str]:
            # Deployments of the same names may exist already (prefect.yaml's, deployed by the worker test): wait
            # until this process has written its own, or it would replace schedules a test adds meanwhile.
            return {
                name for name, d in prefect_api.deployments().items() if datetime.fromisoformat(d["updated"]) >= started
            }

        while not expected <= served_names():
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
    assert list(schema["properties"]) == ["sources", "translator", "target_language"]  # no `params` group
    assert schema["properties"]["sources"]["title"] == "Sources"
    assert "none" in schema["definitions"]["TranslatorChoice"]["enum"]  # a plain dropdown (issue: no `str | None`)
    text_schema = deployments["process-text"]["parameter_openapi_schema"]
    assert text_schema["properties"]["text"]["maxLength"] == PASTE_MAX_CHARS
    retranslate = deployments["retranslate-pending"]["parameter_openapi_schema"]
    assert retranslate["properties"]["limit"]["title"] == "Limit" and {
        name: field["default"] for name, field in retranslate["properties"].items()
    } == {
        "limit": 0,
        "translator": "default",
        "target_language": "default",
    }
    assert "none" not in retranslate["definitions"]["RetranslateProvider"]["enum"]
    # The site schedule: a cron in Vietnam time, inactive until a site and its pages are set.
    (schedule,) = deployments["ingest-site"]["schedules"]
    assert schedule["schedule"]["timezone"] == "Asia/Ho_Chi_Minh" and schedule["active"] is False

    inbox = data / "inbox" / "serve-test"  # under the default allowed input directory of `newsflow serve`
    shutil.copytree(inputs, inbox, dirs_exist_ok=True)
    ingest = server.run(deployments["ingest-sources"]["id"], {"sources": [str(inbox)]})
    assert ingest.status_code == 201, ingest.text
    # Not the same text as the file (the same text is the same article id).
    pasted = (REPO / INPUTS[0]).read_text(encoding="utf-8") + "\n\nEl convenio se firmó en Long An en marzo.\n"
    paste = server.run(deployments["process-text"]["id"], {"text": pasted, "language": "es"})
    assert paste.status_code == 201, paste.text

    run = server.wait(ingest.json()["id"])
    assert run["state"]["type"] == "COMPLETED", run["state"]
    # Task names say which articles; batching keeps them few.
    first = "#0 cluster-viii-pact-signing-2024.html (+2)"
    deadline = time.monotonic() + 60  # task runs reach the server as events, a moment after the run ends
    while not {f"process {first}", f"store {first}"} <= (names := {t["name"] for t in server.task_runs(run["id"])}):
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
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


def test_schedules_fire_on_served_deployments(served: tuple[PrefectServer, Path]) -> None:
    """The hourly retranslation has upcoming runs, and a run the scheduler makes is completed by `newsflow serve`."""
    server, _ = served
    since = _log_size(server)
    retranslate = server.deployments()["retranslate-pending"]
    (cron,) = retranslate["schedules"]
    assert cron["active"] and cron["schedule"]["cron"] == "30 * * * *"
    deadline = time.monotonic() + 60
    while not (upcoming := [r for r in _runs_of(server, retranslate["id"]) if r["state"]["type"] == "SCHEDULED"]):
        assert time.monotonic() < deadline, f"no upcoming run of the hourly cron:\n{_tail(server.home / 'server.log')}"
        time.sleep(1)
    assert all(r["auto_scheduled"] for r in upcoming)

    run = _scheduled_run_completes(server, retranslate["id"], {}, server.home / "server.log")
    # The flow's body ran to its end: it published the run's summary (0 picked: nothing is pending there).
    summary = server.artifacts(run["id"])["newsflow-retranslate-summary"]["data"]
    assert "| processed | 0 |" in summary, summary
    assert _server_errors(server, since) == []


def test_invalid_parameters_are_refused(served: tuple[PrefectServer, Path]) -> None:
    server, _ = served
    deployments = server.deployments()

    # A refused run never exists. Served deployments' schedules make runs meanwhile (auto-scheduled), so the check
    # looks for runs not made by the scheduler expected from now on (an API-made run is expected when made).
    started = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    refused = [
        ("ingest-sources", {"sources": ["samples"], "translator": "klingon"}),
        ("ingest-sources", {"sources": []}),
        ("ingest-sources", {"sources": ["samples"], "target_language": "tlh"}),
        ("process-text", {"text": "x" * (PASTE_MAX_CHARS + 1)}),
        ("retranslate-pending", {"limit": -1}),
        ("retranslate-pending", {"translator": "none"}),
        ("retranslate-pending", {"text": "Sở Tài chính tỉnh Long An họp."}),  # a body: no such field
        ("reprocess", {"limit": -1}),
        ("export", {"since": "last week"}),
        ("export", {"format": "xml"}),
        ("ingest-site", {"site": "longan.gov.vn"}),  # no pages
    ]
    for name, parameters in refused:
        response = server.run(deployments[name]["id"], parameters)
        assert response.status_code == 409, (name, parameters, response.status_code, response.text[:300])
        assert "Validation failed" in response.text or "validation" in response.text.lower()
    # Article bodies where references belong, over Prefect's 512 KB cap: refused too, before a run exists.
    bodies = {"sources": ["Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024. " * 35] * 300}
    response = server.run(deployments["ingest-sources"]["id"], bodies)
    assert response.status_code == 422 and "must be less than 524,288 bytes" in response.text, response.text[:300]
    window = {"flow_runs": {"expected_start_time": {"after_": started}}, "sort": "EXPECTED_START_TIME_ASC"}
    made = server.request("POST", "/flow_runs/filter", json={**window, "limit": 200}).json()
    assert [run["name"] for run in made if not run.get("auto_scheduled")] == [], made

    # What a JSON schema cannot say is checked when the run starts, before any task runs.
    bad_site = {"site": "longan.gov.vn", "urls": ["https://example.com/a.html"]}
    response = server.run(deployments["ingest-site"]["id"], bad_site)
    assert response.status_code == 201, response.text
    run = server.wait(response.json()["id"])
    assert run["state"]["type"] == "FAILED" and "not on the site" in (run["state"]["message"] or ""), run["state"]
    assert server.task_runs(run["id"]) == []


# --- concurrency limits, with a limit in place ---------------------------------------------------------------

# Fictional one-paragraph articles (one provider request each), so the provider sees one request per article.
LIMIT_TEXTS = (
    "Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024 về thu ngân sách. Ông Trần Văn Khải chủ trì.",
    "UBND tỉnh Bến Tre giao Sở Nông nghiệp rà soát đê bao trước mùa lũ. Bà Lê Thị Ngọc báo cáo.",
    "Sở Giáo dục tỉnh Trà Vinh khai giảng lớp bồi dưỡng giáo viên tiếng Khmer. Ông Thạch Văn Sơn phát biểu.",
    "Tỉnh Đồng Tháp ký kết hợp tác du lịch với tỉnh An Giang. Ông Phạm Minh Đức ký thay UBND tỉnh.",
    "Sở Y tế tỉnh Vĩnh Long kiểm tra an toàn thực phẩm tại các chợ. Bà Nguyễn Thu Hà dẫn đầu đoàn.",
    "Sở Xây dựng tỉnh Cà Mau nghiệm thu cầu dân sinh ở huyện Năm Căn. Ông Võ Hoàng Nam tham dự.",
)


class SlowProvider:
    """A fake google endpoint that answers after `delay` s and counts the requests in flight at once."""

    def __init__(self, delay: float = 0.4) -> None:
        from tests.translate_servers import FakeProvider

        self.fake = FakeProvider("google")
        self.delay, self.in_flight, self.peak = delay, 0, 0
        self._lock = threading.Lock()
        handle = self.fake.handle

        def slow(request: Any, method: str) -> None:
            with self._lock:
                self.in_flight += 1
                self.peak = max(self.peak, self.in_flight)
            try:
                time.sleep(self.delay)
                handle(request, method)
            finally:
                with self._lock:
                    self.in_flight -= 1

        self.fake.handle = slow  # type: ignore[method-assign]

    def __enter__(self) -> SlowProvider:
        self.fake.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.fake.__exit__(*exc)


def _seed_pending(texts: tuple[str, ...]) -> int:
    """Store one record per text with its translation pending (as an ingest with no provider leaves it)."""
    from datetime import UTC, datetime

    from newsflow.runtime import process
    from newsflow.settings import get_settings
    from schemas.models import RawArticle, SourceInfo

    store = Store(get_settings().resolved_database_url)
    try:
        for i, text in enumerate(texts):
            source = SourceInfo(kind="file", uri=f"/in/limit-{i}.txt", fetched_at=datetime.now(UTC))
            raw = RawArticle(source=source, content=text, media_type="text/plain")
            record = process(raw, None, "en")
            assert record.translation.status == "pending"
            store.save(record, raw)
    finally:
        store.close()
    return len(texts)


class SlotWatch:
    """Samples a global concurrency limit's active slots on the server while a run goes on."""

    def __init__(self, server: PrefectServer, name: str) -> None:
        self.client = httpx.Client(base_url=server.api, timeout=10)
        self.name = name
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set():
            response = self.client.get(f"/v2/concurrency_limits/{self.name}")
            if response.status_code == 200:
                self.samples.append(int(response.json()["active_slots"]))
            time.sleep(0.05)

    def __enter__(self) -> SlotWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.client.close()


def test_translation_concurrency_limit_holds_across_parallel_batches(
    prefect_api: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from extractors.translate import reset_circuit_breakers
    from flows.limits import existing_limits, translate_limit
    from flows.retranslate import retranslate
    from newsflow.settings import reset_settings

    name = translate_limit("google")
    assert name == "newsflow:translate:google"
    n = len(LIMIT_TEXTS)

    def run(phase: str, provider: SlowProvider) -> Any:
        monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path / phase))  # a fresh store: no cached translations
        monkeypatch.setenv("NEWSFLOW_TRANSLATION_ENDPOINTS", json.dumps({"google": provider.fake.url}))
        reset_settings()
        reset_circuit_breakers()
        _seed_pending(LIMIT_TEXTS)
        return retranslate(translator="google")

    for key, value in {
        "NEWSFLOW_BATCH_SIZE": "1",
        "NEWSFLOW_THREAD_WORKERS": str(n),
        "NEWSFLOW_TRANSLATION_RETRIES": "0",
        "NEWSFLOW_TRANSLATION_RATE_LIMITS": "{}",
    }.items():
        monkeypatch.setenv(key, value)
    with temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
        # No limit defined: the run completes, and its batches really do call the provider at the same time.
        with SlowProvider() as free:
            unlimited = run("unlimited", free)
        assert unlimited.translation == {"done": n}, unlimited
        assert free.peak >= 2, "the batches never overlapped: the limit below would prove nothing"

        other = translate_limit("libre")
        assert existing_limits([name, other]) == []  # what each batch asks the server once, not per article
        created = prefect_api.request("POST", "/v2/concurrency_limits/", json={"name": name, "limit": 1})
        assert created.status_code == 201, created.text
        assert existing_limits([name, other]) == [name]
        try:
            with SlowProvider() as limited, SlotWatch(prefect_api, name) as watch:
                summary = run("limited", limited)
            assert summary.translation == {"done": n}, summary
            assert (summary.picked, summary.updated) == (n, n)
            assert limited.peak == 1, f"{limited.peak} requests at once with a limit of 1"
            assert len(limited.fake.translate_requests()) >= n
            # The server saw newsflow take (and give back) the slots of this very limit.
            assert max(watch.samples) == 1, watch.samples
            after = prefect_api.request("GET", f"/v2/concurrency_limits/{name}").json()
            assert after["active_slots"] == 0, after  # every slot given back (read after the run, not sampled)
            # This test's run: the latest one started here, not by a deployment (`newsflow serve` runs the
            # retranslate-pending deployment on its schedule against the same server).
            runs = prefect_api.request(
                "POST",
                "/flow_runs/filter",
                json={
                    "flows": {"name": {"any_": ["newsflow-retranslate"]}},
                    "flow_runs": {"deployment_id": {"is_null_": True}},
                    "sort": "START_TIME_DESC",
                    "limit": 1,
                },
            ).json()
            # Task runs are not checked here: they reach the server as events, through a process-wide events
            # worker that Prefect binds to the first server it talks to (another test's, in a full run). The
            # provider's own count (above) is what proves the limit held.
            # The same artifacts as the ingest flows: summary, article table, link to the run's JSONL.
            _check_artifacts(prefect_api, runs[0]["id"], flow="retranslate", n=n, status="updated")
            assert f"| done | {n} |" in prefect_api.artifacts(runs[0]["id"])["newsflow-retranslate-summary"]["data"]
        finally:
            prefect_api.request("DELETE", f"/v2/concurrency_limits/{name}")


# --- PostgreSQL as Prefect's own database (and newsflow's store) -----------------------------------------


@pytest.fixture
def prefect_pg_database(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for Prefect's own tables, dropped afterwards (the asyncpg URL Prefect needs).

    `pg_url` (newsflow's store in a schema of its own) skips, saying why, where PostgreSQL does not run.
    """
    import uuid

    import sqlalchemy
    from sqlalchemy.engine import make_url

    from tests.conftest import PG_URL

    name = f"nf_prefect_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name, query={})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_postgresql_as_prefects_database_and_newsflows_store(
    prefect_pg_database: str, pg_url: str, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from sqlalchemy.engine import make_url

    from flows.ops import ingest_sources
    from newsflow.settings import reset_settings

    home = tmp_path / "prefect-pg-home"
    home.mkdir()
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", pg_url)
    monkeypatch.setenv("NEWSFLOW_TRANSLATOR", "none")
    monkeypatch.setenv("NEWSFLOW_INPUT_ROOTS", json.dumps([str(inputs)]))
    reset_settings()
    with (
        _prefect_server(home, PREFECT_API_DATABASE_CONNECTION_URL=prefect_pg_database) as server,
        temporary_settings(updates={PREFECT_API_URL: server.api}),
    ):
        summary = ingest_sources(sources=[str(inputs)])
        assert (summary.processed, summary.new, summary.failed) == (3, 3, [])
        runs = server.request(
            "POST", "/flow_runs/filter", json={"flows": {"name": {"any_": ["newsflow-ingest-sources"]}}}
        ).json()
        assert len(runs) == 1 and runs[0]["state"]["type"] == "COMPLETED", runs
        _check_artifacts(server, runs[0]["id"], flow="ingest-sources", n=3, status="new")
    assert len(_records(pg_url)) == 3
    # Prefect kept its own state in that PostgreSQL database, not in a SQLite file of its home.
    prefect_db = sqlalchemy.create_engine(make_url(prefect_pg_database).set(drivername="postgresql+psycopg"))
    try:
        with prefect_db.connect() as conn:
            states = conn.execute(
                sqlalchemy.text("SELECT f.name, r.state_type FROM flow_run r JOIN flow f ON f.id = r.flow_id")
            ).all()
            artifacts = conn.execute(sqlalchemy.text("SELECT count(*) FROM artifact")).scalar_one()
    finally:
        prefect_db.dispose()
    assert [(name, str(state).split(".")[-1]) for name, state in states] == [("newsflow-ingest-sources", "COMPLETED")]
    assert artifacts >= 3
    assert not list(home.glob("*.db")), list(home.iterdir())


# Fictional pages of a provincial portal served on 127.0.0.1 (one article each, a different department).
SITE_PAGES = {
    f"/tin-tuc/bai-{i}.html": (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{title} trong tuần này. Lãnh đạo {who} yêu cầu các phòng chuyên môn báo cáo kết quả trước ngày "
        f"{10 + i} tháng 6 năm 2024 và phối hợp với UBND các huyện triển khai kế hoạch của tỉnh Long An.</p>"
        "</article></body></html>"
    )
    for i, (title, who) in enumerate(
        [
            ("Sở Tư pháp tỉnh Long An tập huấn hòa giải cơ sở", "Sở Tư pháp"),
            ("Sở Công Thương tỉnh Long An kiểm tra chợ đầu mối", "Sở Công Thương"),
            ("Sở Nội vụ tỉnh Long An rà soát biên chế năm 2024", "Sở Nội vụ"),
            ("Sở Giao thông vận tải tỉnh Long An sửa chữa cầu Tân An", "Sở Giao thông vận tải"),
            ("Sở Lao động tỉnh Long An tổ chức phiên giao dịch việc làm", "Sở Lao động"),
            ("Sở Khoa học tỉnh Long An nghiệm thu đề tài lúa chất lượng cao", "Sở Khoa học"),
        ]
    )
}


class SlowSite:
    """The pages above on 127.0.0.1, each answered after `delay` s; counts the requests in flight at once.

    With `meet` > 1, a page is answered only once `meet` requests have been in flight together (or after 20 s):
    runs that really go at once then overlap on a loaded machine too, however their start-up is staggered.
    """

    def __init__(self, delay: float = 0.5, meet: int = 1) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        site = self
        self.delay, self.in_flight, self.peak, self.hits = delay, 0, 0, 0
        self._lock = threading.Lock()
        met = threading.Condition(self._lock)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = SITE_PAGES.get(self.path)
                with met:
                    site.in_flight += 1
                    site.peak = max(site.peak, site.in_flight)
                    site.hits += body is not None
                    met.notify_all()
                    if body is not None:
                        met.wait_for(lambda: site.peak >= meet, timeout=20)
                try:
                    time.sleep(site.delay if body else 0)
                    payload = (body or "not found").encode("utf-8")
                    self.send_response(200 if body else 404)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                finally:
                    with site._lock:
                        site.in_flight -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> SlowSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_site_concurrency_limit_holds_across_parallel_runs(
    prefect_api: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.limits import site_limit
    from flows.ops import ingest_site
    from newsflow.settings import reset_settings

    name = site_limit("127.0.0.1")
    assert name == "newsflow:site:127.0.0.1"
    paths = sorted(SITE_PAGES)
    for key, value in {
        "NEWSFLOW_TRANSLATOR": "none",
        "NEWSFLOW_FETCH_ALLOW_ADDRESSES": '["127.0.0.1"]',
        "NEWSFLOW_FETCH_IGNORE_ROBOTS": '["127.0.0.1"]',
        "NEWSFLOW_FETCH_MIN_INTERVAL": "0",
        "NEWSFLOW_FETCH_HOST_CONCURRENCY": "8",
        "NEWSFLOW_FETCH_RETRIES": "0",
    }.items():
        monkeypatch.setenv(key, value)

    def run_three(phase: str, site: SlowSite) -> list[Any]:
        """Three scheduled-site runs at once (as three workers would), two pages each."""
        monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path / phase))
        reset_settings()
        params = [{"site": "127.0.0.1", "urls": [site.base + p for p in paths[i::3]]} for i in range(3)]
        with ThreadPoolExecutor(3) as pool:  # each thread runs in a copy of this context (Prefect's settings)
            futures = [pool.submit(contextvars.copy_context().run, ingest_site, **p) for p in params]
            return [f.result() for f in futures]

    with temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
        with SlowSite(meet=2) as free:  # no limit defined: the runs complete, fetching from the site at the same time
            unlimited = run_three("unlimited", free)
        assert [(s.processed, s.failed) for s in unlimited] == [(2, [])] * 3, unlimited
        assert free.peak >= 2, "the runs never fetched at the same time: the limit below would prove nothing"

        created = prefect_api.request("POST", "/v2/concurrency_limits/", json={"name": name, "limit": 1})
        assert created.status_code == 201, created.text
        try:
            with SlowSite() as limited, SlotWatch(prefect_api, name) as watch:
                summaries = run_three("limited", limited)
            assert [(s.processed, s.failed) for s in summaries] == [(2, [])] * 3, summaries
            assert limited.hits == len(paths) and limited.peak == 1, f"{limited.peak} fetches at once, limit 1"
            assert max(watch.samples) == 1, watch.samples
            after = prefect_api.request("GET", f"/v2/concurrency_limits/{name}").json()
            assert after["active_slots"] == 0, after  # every slot given back (read after the run, not sampled)
        finally:
            prefect_api.request("DELETE", f"/v2/concurrency_limits/{name}")


def test_retranslate_on_dask_gives_the_same_records(
    prefect_api: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from extractors.translate import reset_circuit_breakers
    from flows.retranslate import retranslate
    from newsflow.settings import get_settings, reset_settings
    from tests.translate_servers import FakeProvider

    def run(name: str, provider: FakeProvider, **env: str) -> tuple[dict[str, dict[str, Any]], Any]:
        monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path / name))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        reset_circuit_breakers()
        _seed_pending(LIMIT_TEXTS[:4])
        summary = retranslate(translator="google")
        records = _records(get_settings().resolved_database_url)
        for record in records.values():
            record["translation"].pop("translated_at")
        return records, summary

    monkeypatch.setenv("NEWSFLOW_BATCH_SIZE", "1")  # four batches, spread over the two workers
    with FakeProvider("google") as provider, temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
        monkeypatch.setenv("NEWSFLOW_TRANSLATION_ENDPOINTS", json.dumps({"google": provider.url}))
        threads, thread_summary = run("threads", provider)
        with (
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
            Client(cluster) as client,
        ):
            dask, dask_summary = run(
                "dask", provider, NEWSFLOW_TASK_RUNNER="dask", NEWSFLOW_DASK_ADDRESS=cluster.scheduler_address
            )
            ran_there = client.run(lambda: "extractors.pipeline" in sys.modules)
    assert thread_summary.translation == dask_summary.translation == {"done": 4}
    assert len(threads) == 4 and dask == threads
    assert any(ran_there.values()), ran_there  # the records were translated in the Dask workers


def test_dask_workers_report_to_the_flows_own_local_server(tmp_path: Path) -> None:
    """Without PREFECT_API_URL (`newsflow run`), tasks on a LocalCluster use the flow's ephemeral server.

    They used to start an ephemeral server in every worker (11 s of CPU each, measured) and record their
    task runs there, where nobody looks.
    """
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, os\n"
        "from prefect import flow, task\n"
        "from flows.runners import NewsflowTaskRunner, local_server_url\n"
        "@task\n"
        "def where() -> dict:\n"
        "    from prefect.settings import PREFECT_API_URL\n"
        "    return {'pid': os.getpid(), 'api': PREFECT_API_URL.value()}\n"
        "@flow(task_runner=NewsflowTaskRunner())\n"
        "def probe() -> dict:\n"
        "    return {'pid': os.getpid(), 'api': local_server_url(), 'task': where.submit().result()}\n"
        "if __name__ == '__main__':  # Dask's worker processes import this module again\n"
        "    print('PROBE ' + json.dumps(probe()))\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        NEWSFLOW_TASK_RUNNER="dask",
        NEWSFLOW_DASK_WORKERS="1",
        PYTHONPATH=str(REPO),
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("PROBE ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    seen = json.loads(lines[-1][len("PROBE ") :])
    assert seen["task"]["pid"] != seen["pid"]  # the task ran in a Dask worker process
    assert seen["api"] and seen["api"].startswith("http://127.0.0.1:")  # the flow's own ephemeral server
    assert seen["task"]["api"] == seen["api"]  # and the worker was told to report there


# --- (f) a lost machine: runs marked Crashed by the automation, retried, nothing lost or doubled -------------


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc), children first found first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


@pytest.fixture
def heartbeat_automation_removed(prefect_api: PrefectServer) -> Iterator[None]:
    """Remove the heartbeat automation a test made on the session's server: left there, it would crash later
    tests' runs whose heartbeats a loaded machine delays."""
    from flows.automations import NAME

    yield
    for automation in prefect_api.request("POST", "/automations/filter", json={}).json():
        if automation["name"] == NAME:
            prefect_api.request("DELETE", f"/automations/{automation['id']}")


@pytest.mark.usefixtures("heartbeat_automation_removed")
def test_lost_machine_runs_are_crashed_then_retried_without_loss(prefect_api: PrefectServer, tmp_path: Path) -> None:
    server = prefect_api
    data = tmp_path / "data"
    env = server.env(
        data,
        NEWSFLOW_FETCH_ALLOW_ADDRESSES='["127.0.0.1"]',
        NEWSFLOW_FETCH_IGNORE_ROBOTS='["127.0.0.1"]',
        NEWSFLOW_FETCH_MIN_INTERVAL="0",
        NEWSFLOW_FETCH_RETRIES="0",
        NEWSFLOW_BATCH_SIZE="1",
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY="30",
    )
    prefect, newsflow = str(BIN / "prefect"), str(BIN / "newsflow")
    made = subprocess.run(
        [newsflow, "automation", "--within", "45"], env=env, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert made.returncode == 0 and "automation" in made.stdout, made.stdout + made.stderr
    pool = subprocess.run(
        [prefect, "work-pool", "create", "lost-machine", "--type", "process"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deploy = [
        prefect,
        "--no-prompt",
        "deploy",
        "flows/ops.py:ingest_sources",
        "--name",
        "lost-machine",
        "--pool",
        "lost-machine",
    ]
    deployed = subprocess.run(deploy, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    deployment = server.deployments()["lost-machine"]

    paths = sorted(SITE_PAGES)
    # Translation is the slow step (5 s an article, one article per batch): the machine is lost while a batch's
    # raw inputs are kept but its record is not stored yet, the window where a retry could skip the article.
    with SlowSite(delay=0.1) as site, SlowProvider(delay=5) as provider:
        env.update(
            NEWSFLOW_TRANSLATOR="google", NEWSFLOW_TRANSLATION_ENDPOINTS=json.dumps({"google": provider.fake.url})
        )
        response = server.run(deployment["id"], {"sources": [site.base + p for p in paths]})
        assert response.status_code == 201, response.text
        run_id = response.json()["id"]
        log = tmp_path / "worker-1.log"
        worker = _start([prefect, "worker", "start", "--pool", "lost-machine", "--type", "process"], env, log)
        try:
            # Lose the machine once the run is under way: its first article stored, its run file half-written.
            deadline = time.monotonic() + 180
            partials = data / "output" / "runs"
            records_dir = data / "output" / "records"
            while not list(partials.glob(".*.jsonl.partial")) or not list(records_dir.glob("*.json")):
                assert time.monotonic() < deadline and worker.poll() is None, _tail(log)
                time.sleep(0.5)
            state = server.request("GET", f"/flow_runs/{run_id}").json()["state"]["type"]
            assert state == "RUNNING", state
            for pid in [worker.pid, *_descendants(worker.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            _stop(worker)

        # No process reports the end any more: the automation marks the run Crashed.
        deadline = time.monotonic() + 180
        while (state := server.request("GET", f"/flow_runs/{run_id}").json()["state"])["type"] == "RUNNING":
            assert time.monotonic() < deadline, f"still RUNNING 180 s after the machine was lost:\n{_tail(log)}"
            time.sleep(2)
        assert state["type"] == "CRASHED", state
        assert "heartbeat" in (state["message"] or ""), state

        # Retry it (what the UI's Retry does) on another worker, translation now quick: the run completes.
        provider.delay = 0.1
        retried = server.request(
            "POST",
            f"/flow_runs/{run_id}/set_state",
            json={
                "state": {"type": "SCHEDULED", "name": "AwaitingRetry", "message": "retry after a lost machine"},
                "force": True,
            },
        )
        assert retried.status_code in (200, 201) and retried.json()["status"] == "ACCEPT", retried.text
        log = tmp_path / "worker-2.log"
        worker = _start([prefect, "worker", "start", "--pool", "lost-machine", "--type", "process"], env, log)
        try:
            run = server.wait(run_id)
        finally:
            _stop(worker)
    assert run["state"]["type"] == "COMPLETED", (run["state"], _tail(log))
    records = _records(f"sqlite:///{data / 'newsflow.db'}")
    assert sorted(r["source"]["uri"] for r in records.values()) == sorted(site.base + p for p in paths)
    assert len(list((data / "output" / "records").glob("*.json"))) == len(paths)
    assert {r["translation"]["status"] for r in records.values()} == {"done"}
    assert not list((data / "output" / "runs").glob(".*.partial"))  # the lost run's half-written file is gone


def test_dask_workers_without_newsflow_environment_use_the_flows_store(
    prefect_api: PrefectServer, inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers started with no NEWSFLOW_* variables, in another directory: the batch goes to the flow's store."""
    from distributed import Client, LocalCluster
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.ingest import ingest
    from newsflow.settings import reset_settings

    for key in [k for k in os.environ if k.startswith("NEWSFLOW_")]:
        monkeypatch.delenv(key)
    worker_cwd, flow_cwd = tmp_path / "workers", tmp_path / "flow"
    worker_cwd.mkdir()
    flow_cwd.mkdir()
    monkeypatch.chdir(worker_cwd)  # the workers start here, with this environment
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.chdir(flow_cwd)
        # A relative data directory, as the default is: it means the flow's directory, not a worker's.
        for key, value in {
            "NEWSFLOW_DATA_DIR": "data",
            "NEWSFLOW_TRANSLATOR": "none",
            "NEWSFLOW_BATCH_SIZE": "1",
            "NEWSFLOW_TASK_RUNNER": "dask",
            "NEWSFLOW_DASK_ADDRESS": cluster.scheduler_address,
        }.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        with temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
            summary = ingest(sources=[str(inputs)])
        seen = client.run(lambda: (os.getcwd(), sorted(k for k in os.environ if k.startswith("NEWSFLOW_"))))
    reset_settings()
    assert {cwd for cwd, _ in seen.values()} == {str(worker_cwd)} and all(not keys for _, keys in seen.values())
    assert summary.new == 3
    store = Store(f"sqlite:///{flow_cwd / 'data' / 'newsflow.db'}")
    try:
        assert (store.count_raw(), store.count()) == (3, 3)  # raw inputs (kept by the workers) and records
    finally:
        store.close()
    assert list(worker_cwd.iterdir()) == []  # no stray database where the workers run
