"""The Prefect servers of the end-to-end tests, one of each per session (a pytest plugin: tests/conftest.py).

A session fixture defined in, or imported into, several test modules is a separate fixture in each, and would
start its server once per module: here it is defined once, for every module that asks for it.
- `prefect_api`: `prefect server start` on a free port of 127.0.0.1 (the deployments, workers and the UI's API);
- `prefect_harness`: Prefect's test harness (an ephemeral server) for flows called in the test process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}  # the states a flow run ends in


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
        env.update(
            {
                "PREFECT_API_URL": self.api,
                "PREFECT_HOME": str(self.home),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_LOGGING_LEVEL": "INFO",
                "NEWSFLOW_DATA_DIR": str(data_dir),
                "NEWSFLOW_TRANSLATOR": "none",
            }
        )
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
        run: dict[str, Any] = {"state": "never read"}
        while time.monotonic() < deadline:
            try:
                response = self.request("GET", f"/flow_runs/{flow_run_id}")
            except httpx.TimeoutException:
                continue  # a server busy with the runs it serves (2 cores) answers late: ask again until the deadline
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


@contextmanager
def _prefect_server(home: Path, **extra: str) -> Iterator[PrefectServer]:
    """`prefect server start` on a free port of 127.0.0.1, with its own PREFECT_HOME (and `extra` settings)."""
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # The scheduler visits every deployment each 5 s instead of 60, so a schedule's first run is made promptly.
    env.update(
        {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5",
            **extra,
        }
    )
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


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """The session's Prefect server (SQLite database in its PREFECT_HOME)."""
    with _prefect_server(tmp_path_factory.mktemp("prefect-home")) as server:
        yield server


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the ephemeral Prefect servers that flows run in this process started, while pytest's output is open.

    Prefect stops them at interpreter exit, after pytest has closed the stream its log handler writes to: the
    goodbye line then ends the run with a "Logging error" traceback.
    """
    server = sys.modules.get("prefect.server.api.server")
    if server is not None:
        for instance in list(server.SubprocessASGIServer._instances.values()):
            instance.stop()
