"""Issue 21 end to end: deployments on a real Prefect server (tests/prefect_servers.py; `served` from
tests/test_ops_e2e.py) and a real `newsflow run` stopped by real signals.

- Quick run: a run created with no parameters, as the UI's Quick run does, is accepted and completes.
- Run states: a run whose every input failed ends Failed; one with some failures "Completed with failures" with
  the counts, and its event; `newsflow automation --notify BLOCK` notifies on both (through a real webhook block
  posting to a server on 127.0.0.1).
- ingest-sources reads only under the allowed input directories (default: samples/ and <data dir>/inbox).
- The output artifact gives the path as text; the summary counts clusters and pacts; no warning per URL
  source about a missing site concurrency limit.
- `newsflow run` exits 1 when an input failed (as `extract`), and Ctrl-C / SIGTERM stop it within seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from flows.automations import NAME as ZOMBIE_NAME
from flows.automations import NOTIFY_NAME
from newsflow.storage import Store
from tests import test_ops_e2e
from tests.prefect_servers import FINAL as FINAL_STATES
from tests.prefect_servers import REPO, PrefectServer, _free_port, _tail

pytestmark = pytest.mark.e2e
# `newsflow serve` on the session's Prefect server (this module's own serve process).
served = test_ops_e2e.served
GOOD = "Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024 về thu ngân sách. Ông Trần Văn Khải chủ trì."


def _logs(server: PrefectServer, flow_run_id: str) -> list[str]:
    body = {"logs": {"flow_run_id": {"any_": [flow_run_id]}}}
    response = server.request("POST", "/logs/filter", json=body)
    response.raise_for_status()
    return [str(entry["message"]) for entry in response.json()]


def _deployment(server: PrefectServer, name: str) -> dict[str, Any]:
    return server.deployments()[name]


# --- Quick run ----------------------------------------------------------------------------------------------------


def test_quick_run_with_no_parameters_is_accepted_and_completes(served: tuple[PrefectServer, Path]) -> None:
    server, data = served
    deployments = server.deployments()
    started = {}
    # One after the other: four runs at once on a loaded 2-core machine kept the SQLite-backed server too busy.
    for name in ("reprocess", "export", "retranslate-pending", "ingest-sources"):
        response = server.request("POST", f"/deployments/{deployments[name]['id']}/create_flow_run", json={})
        assert response.status_code == 201, (name, response.status_code, response.text[:300])
        started[name] = response.json()["id"]
        run = server.wait(started[name])
        assert run["state"]["type"] == "COMPLETED", (name, run["state"], _tail(data / "serve.log"))
    # ingest-sources' default is samples/ (as `newsflow run`), read from the served process's directory.
    summary = server.artifacts(started["ingest-sources"])["newsflow-ingest-sources-summary"]["data"]
    assert "| failed | 0 |" in summary and "| processed | 0 |" not in summary, summary
    # A deployment with a required field (the pasted text) still refuses a run without it, saying what is missing.
    refused = server.request("POST", f"/deployments/{deployments['process-text']['id']}/create_flow_run", json={})
    assert refused.status_code == 409 and "'text' is a required property" in refused.text, refused.text


def test_the_forms_show_dropdowns_and_plain_fields(served: tuple[PrefectServer, Path]) -> None:
    server, _ = served
    schema = _deployment(server, "process-text")["parameter_openapi_schema"]
    fields = schema["properties"]
    assert fields["translator"] == {
        "$ref": "#/definitions/TranslatorChoice",
        "default": "default",
        "description": fields["translator"]["description"],
        "title": "Translator",
        "position": fields["translator"]["position"],
    }
    assert {"anyOf"} & set(fields["title"]) == set() and fields["language"]["default"] == "detect"
    bad = server.run(_deployment(server, "reprocess")["id"], {"translator": "klingon"})
    assert bad.status_code == 409 and "'klingon' is not one of ['default', 'auto'" in bad.text, bad.text


# --- run states, allowed directories, artifacts, limits --------------------------------------------------------------


def test_a_run_whose_every_input_failed_ends_failed(served: tuple[PrefectServer, Path]) -> None:
    server, data = served
    inbox = data / "inbox" / "all-failed"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "empty.txt").write_text("", encoding="utf-8")
    # A URL source: refused by the SSRF guard (loopback), so it fails too, after its site limit was looked up.
    url = f"http://127.0.0.1:{_free_port()}/tin-tuc/a.html"
    response = server.run(_deployment(server, "ingest-sources")["id"], {"sources": [str(inbox), url]})
    assert response.status_code == 201, response.text
    run = server.wait(response.json()["id"])
    assert run["state"]["type"] == "FAILED", run["state"]
    message = run["state"]["message"] or ""
    assert message.startswith("every input failed: 0 processed, 2 failed") and "empty.txt" in message, message
    summary = server.artifacts(run["id"])["newsflow-ingest-sources-summary"]["data"]
    assert "| failed | 2 |" in summary  # the artifacts are published all the same
    deadline = time.monotonic() + 60  # logs reach the server in batches, after the run's state
    logs = _logs(server, run["id"])
    while not any("failed: " in line for line in logs):
        assert time.monotonic() < deadline, f"the run's logs did not reach the server: {logs}"
        time.sleep(1)
        logs = _logs(server, run["id"])
    assert not [line for line in logs if "do not exist" in line], logs  # no warning about the missing site limit


def test_runs_with_failures_send_their_event_and_notify_through_the_automation(
    served: tuple[PrefectServer, Path],
) -> None:
    """`newsflow automation --notify custom-webhook/…`: the server's automation posts to a webhook when a run
    completes with failures (its `newsflow.run.completed-with-failures` event) and when one fails."""
    server, data = served
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update({"PREFECT_API_URL": server.api, "PREFECT_HOME": str(data / "prefect-home-cli")})
    save = (
        "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B; "
        f"B(name='ops', url='http://127.0.0.1:{hook.server_address[1]}/hook', "
        "json_data={'subject': '{{subject}}', 'body': '{{body}}'}).save('newsflow-ops', overwrite=True)"
    )
    subprocess.run([sys.executable, "-c", save], env=env, check=True, cwd=REPO, timeout=120)
    bad = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "automation", "--notify", "custom-webhook/nope"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 2 and "--notify custom-webhook/nope: no notification block" in bad.stderr, bad.stderr
    made = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "automation", "--notify", "custom-webhook/newsflow-ops"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0 and "notify custom-webhook/newsflow-ops" in made.stdout, made.stderr
    try:
        inbox = data / "inbox" / "notify"
        inbox.mkdir(parents=True, exist_ok=True)
        (inbox / "empty.txt").write_text("", encoding="utf-8")
        (inbox / "good.txt").write_text(GOOD + " Bản tin về thông báo.", encoding="utf-8")
        some = server.wait(
            server.run(_deployment(server, "ingest-sources")["id"], {"sources": [str(inbox)]}).json()["id"]
        )
        assert (some["state"]["type"], some["state"]["name"]) == ("COMPLETED", "Completed with failures"), some
        failed_dir = data / "inbox" / "notify-failed"
        failed_dir.mkdir(parents=True, exist_ok=True)
        (failed_dir / "empty.txt").write_text("", encoding="utf-8")
        every = server.wait(
            server.run(_deployment(server, "ingest-sources")["id"], {"sources": [str(failed_dir)]}).json()["id"]
        )
        assert every["state"]["type"] == "FAILED", every["state"]
        # The event, about the run, with the counts.
        body = {"filter": {"event": {"name": ["newsflow.run.completed-with-failures"]}, "any_resource": {
            "id": [f"prefect.flow-run.{some['id']}"]}}}  # fmt: skip
        events = server.request("POST", "/events/filter", json=body).json()["events"]
        assert [(e["payload"]["processed"], e["payload"]["failed"]) for e in events] == [(1, 1)], events
        # The notifications: the server's automation services act within seconds; allow a loaded machine minutes.
        deadline = time.monotonic() + 180
        wanted = {some["name"]: "Completed with failures", every["name"]: "Failed"}
        while not all(any(name in r.get("subject", "") for r in received) for name in wanted):
            assert time.monotonic() < deadline, f"notifications received: {received}"
            time.sleep(1)
        for name, state in wanted.items():
            # At least one each (a loaded server's actions service may deliver one twice), each saying the same.
            notes = [r for r in received if name in r["subject"]]
            for note in notes:
                assert state in note["subject"] and "newsflow-ingest-sources" in note["subject"], note
                assert note["body"].startswith(f"Flow run {name} of newsflow-ingest-sources ended {state}: "), note
    finally:
        hook.shutdown()
        # `newsflow automation` made both: the notification and the heartbeat automation. Left on the session's
        # server, the heartbeat one crashed later tests' runs whose heartbeats a loaded machine delayed.
        for made_one in server.request("POST", "/automations/filter", json={}).json():
            if made_one["name"] in (NOTIFY_NAME, ZOMBIE_NAME):
                server.request("DELETE", f"/automations/{made_one['id']}")


def test_a_run_with_some_failures_completes_with_the_counts_and_its_output_path(
    served: tuple[PrefectServer, Path],
) -> None:
    server, data = served
    inbox = data / "inbox" / "some-failed"
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "empty.txt").write_text("", encoding="utf-8")
    reference = (REPO / "samples" / "reference" / "cluster-viii-pact.es.txt").read_text(encoding="utf-8")
    (inbox / "pact.es.txt").write_text(reference + "\n\nCopia para la prueba de estados.\n", encoding="utf-8")
    response = server.run(_deployment(server, "ingest-sources")["id"], {"sources": [str(inbox)]})
    run = server.wait(response.json()["id"])
    assert run["state"]["type"] == "COMPLETED" and run["state"]["name"] == "Completed with failures", run["state"]
    assert (run["state"]["message"] or "").startswith("1 processed, 1 failed (1 new"), run["state"]
    artifacts = server.artifacts(run["id"])
    summary = artifacts["newsflow-ingest-sources-summary"]["data"]
    assert "| clusters | 1 |" in summary and "| pacts | 1 |" in summary, summary
    output = artifacts["newsflow-ingest-sources-output"]
    assert output["type"] == "markdown"
    run_files = list((data / "output" / "runs").glob("*.jsonl"))
    path = next(p for p in run_files if p.stem in output["data"])
    assert f"| file | `{path.resolve()}` |" in output["data"]  # the path, as text to copy
    assert "does not open file://" in output["data"]  # and why there is no link that opens (no NEWSFLOW_OUTPUT_URL)


def test_ingest_sources_refuses_paths_outside_the_allowed_directories(
    served: tuple[PrefectServer, Path], tmp_path: Path
) -> None:
    server, data = served
    secret = tmp_path / "secret.txt"
    secret.write_text(GOOD, encoding="utf-8")
    inbox = data / "inbox" / "links"
    inbox.mkdir(parents=True, exist_ok=True)
    link = inbox / "secret.txt"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    deployment = _deployment(server, "ingest-sources")["id"]
    for source, shown in (
        (str(secret), f"{secret}: outside the allowed input directories"),
        (str(link), f"{link} (it leads to {secret}): outside the allowed input directories"),
    ):
        response = server.run(deployment, {"sources": [source]})
        assert response.status_code == 201, response.text
        run = server.wait(response.json()["id"])
        assert run["state"]["type"] == "FAILED", run["state"]
        message = run["state"]["message"] or ""
        assert message.startswith(shown) and str((data / "inbox").resolve()) in message, message
        assert "NEWSFLOW_INPUT_ROOTS" in message
        assert server.task_runs(run["id"]) == []  # refused before anything was read
    store = Store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        assert not [r for r in store.iter_records() if r.source.uri in (str(secret), str(link))]
    finally:
        store.close()


# --- newsflow run: exit codes and signals ------------------------------------------------------------------------


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        NEWSFLOW_TRANSLATOR="none",
        NEWSFLOW_DATA_DIR=str(tmp_path / "data"),
        **extra,
    )
    return env


def test_run_exits_1_when_an_input_failed_as_extract_does(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text(GOOD, encoding="utf-8")
    (inputs / "empty.txt").write_text("", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "run", str(inputs)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    assert "Traceback" not in run.stderr and f"failed {inputs / 'empty.txt'}: empty input" in run.stderr
    assert "1 / 0 / 0" in run.stdout  # the good one is stored
    extract = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "extract", str(inputs)],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert extract.returncode == run.returncode


def _corpus(root: Path, n: int) -> Path:
    root.mkdir(parents=True)
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "samples" / "vi").glob("*.txt"))]
    for i in range(n):
        (root / f"a{i:04}.txt").write_text(
            texts[i % len(texts)] + f"\n\nBài số {i} của bộ kiểm tra.\n", encoding="utf-8"
        )
    return root


def _run_in_background(tmp_path: Path, log: Path) -> subprocess.Popen[bytes]:
    inputs = _corpus(tmp_path / "in", 600)
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli", "run", str(inputs)],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # its own group, which the test signals as a terminal would


def _wait_for_records(tmp_path: Path, proc: subprocess.Popen[bytes], log: Path) -> None:
    records = tmp_path / "data" / "output" / "records"
    _wait_until(lambda: records.is_dir() and any(records.glob("*.json")), proc, log, 300, "a record")


def _wait_until(done: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, seconds: float, what: str) -> None:
    """Wait for `done()` while the run goes on; kill the run's group and fail when it ends first or time is up."""
    deadline = time.monotonic() + seconds
    while not done():
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"no {what} before the run ended or {seconds:.0f} s passed:\n{_tail(log)}")
        time.sleep(0.02)


def _signal_group(proc: subprocess.Popen[bytes], *sigs: signal.Signals) -> tuple[int, float]:
    """Send the run's process group each signal (a terminal's Ctrl-C reaches the whole foreground group), 50 ms
    apart; (exit code, seconds from the last signal to the exit). The group is killed if it outlives the test."""
    try:
        for i, sig in enumerate(sigs):
            if i:
                time.sleep(0.05)
            sent = time.monotonic()
            os.killpg(proc.pid, sig)
        code = proc.wait(timeout=60)
        return code, time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def _carriers(pid: int) -> list[int]:
    """Processes still carrying the run's guard token (its Prefect server): NEWSFLOW_RUN_GUARD=<pid>-..."""
    marker = f"NEWSFLOW_RUN_GUARD={pid}-".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if any(item.startswith(marker) for item in environ.split(b"\0")):
                found.append(int(entry.name))
    return found


def _runs(data: Path) -> list[tuple[str, dict[str, Any]]]:
    return list(_run_rows(data).values())


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_process_group_stops_the_run_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "run.log"
    proc = _run_in_background(tmp_path, log)
    _wait_for_records(tmp_path, proc, log)
    code, took = _signal_group(proc, sig)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code == 130, output[-3000:]
    assert took < 10, f"{took:.1f} s from the signal to the exit:\n{output[-3000:]}"
    assert "Traceback" not in output and "EventsWorker" not in output and "ERROR" not in output, output[-3000:]
    assert f"{sig.name}: stopping" in output and "(interrupted)" in output
    data = tmp_path / "data"
    # What was processed is stored and written whole; the rest is kept raw for a later run.
    ((status, counts),) = _runs(data)
    assert status == "interrupted" and counts["interrupted"] is True and counts["not_processed"] > 0, counts
    store = Store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        stored = store.count()
        assert stored == counts["processed"] > 0 and store.count_raw() == counts["received"]
    finally:
        store.close()
    out = data / "output"
    assert len(list((out / "records").glob("*.json"))) == stored
    (run_file,) = list((out / "runs").glob("*.jsonl"))
    assert len(run_file.read_text(encoding="utf-8").splitlines()) == stored
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".*.partial"))
    time.sleep(1)
    assert _carriers(proc.pid) == []  # its Prefect server is gone too


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_ctrl_c_while_the_server_starts_exits_cleanly(tmp_path: Path) -> None:
    """A Ctrl-C once the command has started Prefect's local server, while the server starts and the pipeline
    loads (seconds, before the first batch): exit 130 within seconds with one line saying so, no traceback, nothing
    read or stored, and the server it started is gone. (Before, Typer turned it into a silent exit 130, and one
    that landed in code catching every exception was lost: the run went on to the end.)"""
    log = tmp_path / "run.log"
    proc = _run_in_background(tmp_path, log)
    _wait_until(lambda: bool(_carriers(proc.pid)), proc, log, 60, "Prefect server of the run")
    code, took = _signal_group(proc, signal.SIGINT)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code == 130 and took < 10, (code, f"{took:.1f} s", output[-3000:])
    assert "Traceback" not in output and "ERROR" not in output, output[-3000:]
    assert "SIGINT: stopping" in output and "interrupted before the run started: nothing was read" in output, output
    records = tmp_path / "data" / "output" / "records"
    assert not records.is_dir() or not any(records.glob("*.json"))
    deadline = time.monotonic() + 20  # the watcher ends the run's server
    while _carriers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _carriers(proc.pid) == []


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_a_second_ctrl_c_exits_at_once_and_the_next_run_tidies_up(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    proc = _run_in_background(tmp_path, log)
    _wait_for_records(tmp_path, proc, log)
    code, took = _signal_group(proc, signal.SIGINT, signal.SIGINT)
    output = log.read_text(encoding="utf-8", errors="replace")
    assert code == 130 and took < 3, (code, took, output[-3000:])
    assert "Traceback" not in output and "SIGINT again: stopping at once" in output
    deadline = time.monotonic() + 20  # the watcher ends the run's server
    while _carriers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _carriers(proc.pid) == []
    # Running again stores every article once and marks the stopped run interrupted.
    again = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "run", str(tmp_path / "in")],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert again.returncode == 0, again.stderr[-3000:]
    statuses = sorted(status for status, _ in _runs(tmp_path / "data"))
    assert statuses == ["completed", "interrupted"], statuses
    store = Store(f"sqlite:///{tmp_path / 'data' / 'newsflow.db'}")
    try:
        assert store.count() == 600
    finally:
        store.close()
    assert not list((tmp_path / "data" / "output").rglob(".*.partial"))


# --- cancelling a deployment run from the UI ------------------------------------------------------------------------


def _cancel(server: PrefectServer, flow_run_id: str) -> None:
    """What the UI's Cancel button does: propose Cancelling (forced) for the run."""
    body = {"state": {"type": "CANCELLING", "name": "Cancelling"}, "force": True}
    response = server.request("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)
    assert response.status_code in (200, 201) and response.json()["status"] == "ACCEPT", response.text


def _run_rows(data: Path) -> dict[str, tuple[str, dict[str, Any]]]:
    import sqlalchemy

    engine = sqlalchemy.create_engine(f"sqlite:///{data / 'newsflow.db'}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(sqlalchemy.text("SELECT id, status, counts FROM runs")).all()
    finally:
        engine.dispose()
    return {row[0]: (row[1], json.loads(row[2] or "{}")) for row in rows}


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
def test_cancelling_an_ingest_run_from_the_ui_stores_what_was_done(served: tuple[PrefectServer, Path]) -> None:
    server, data = served
    inbox = _corpus(data / "inbox" / "cancel-test", 1500)
    store = Store(f"sqlite:///{data / 'newsflow.db'}")  # creates the store when this test runs first
    before = _run_rows(data)
    try:
        stored_before = store.count()
        response = server.run(_deployment(server, "ingest-sources")["id"], {"sources": [str(inbox)]})
        assert response.status_code == 201, response.text
        flow_run_id = response.json()["id"]
        deadline = time.monotonic() + 300
        while store.count() == stored_before:  # wait until the run has stored its first batch
            state = server.request("GET", f"/flow_runs/{flow_run_id}").json()["state"]
            assert state["type"] not in FINAL_STATES, f"ended before it could be cancelled: {state}"
            assert time.monotonic() < deadline, f"nothing stored after 300 s:\n{_tail(data / 'serve.log')}"
            time.sleep(0.2)
        sent = time.monotonic()
        _cancel(server, flow_run_id)
        run = server.wait(flow_run_id, timeout=120)
        took = time.monotonic() - sent
        stored = store.count() - stored_before
    finally:
        store.close()
    print(f"cancel -> {run['state']['type']} after {took:.1f} s: {run['state']['message']!r}; {stored} stored")
    rows = {k: v for k, v in _run_rows(data).items() if k not in before}
    print(rows)
    print(_tail(data / "serve.log", 60))
    assert run["state"]["type"] == "CANCELLED", (run["state"], _tail(data / "serve.log"))
    ((status, counts),) = rows.values()
    assert status == "interrupted", (status, counts)
    assert counts["interrupted"] is True and counts["processed"] == stored > 0, counts
    assert counts["not_processed"] > 0 and counts["received"] == 1500, counts
    out = data / "output"
    assert not list(out.rglob(".*.tmp")) and not list(out.rglob(".*.partial"))
    run_file = out / "runs" / f"{next(iter(rows))}.jsonl"
    assert len(run_file.read_text(encoding="utf-8").splitlines()) == stored
    assert "interrupted" in (run["state"]["message"] or ""), run["state"]


# --- newsflow retranslate: signals -------------------------------------------------------------------------------

RETRANSLATE_N = 40


def _seed_pending_records(data: Path, n: int) -> None:
    """`n` stored records whose translation is pending (as an ingest with no reachable provider leaves them)."""
    from datetime import UTC, datetime

    from newsflow.runtime import process
    from schemas.models import RawArticle, SourceInfo

    store = Store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        for i in range(n):
            text = f"{GOOD} Bài số {i} của bộ kiểm tra dịch lại."
            source = SourceInfo(kind="file", uri=f"/in/pending-{i}.txt", fetched_at=datetime.now(UTC))
            raw = RawArticle(source=source, content=text, media_type="text/plain")
            record = process(raw, None, "en")
            assert record.translation.status == "pending", record.translation
            store.save(record, raw)
    finally:
        store.close()


def _translation_statuses(data: Path) -> dict[str, int]:
    from collections import Counter

    store = Store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        return dict(Counter(record.translation.status for record in store.iter_records()))
    finally:
        store.close()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("signals", [["SIGINT"], ["SIGTERM"], ["SIGINT", "SIGINT"]], ids="+".join)
def test_a_signal_stops_newsflow_retranslate_cleanly(tmp_path: Path, signals: list[str]) -> None:
    from tests.test_ops_e2e import SlowProvider

    data = tmp_path / "data"
    data.mkdir()
    _seed_pending_records(data, RETRANSLATE_N)
    log = tmp_path / "retranslate.log"
    with SlowProvider(delay=0.5) as provider:
        env = _env(
            tmp_path,
            NEWSFLOW_TRANSLATION_ENDPOINTS=json.dumps({"google": provider.fake.url}),
            NEWSFLOW_TRANSLATION_RETRIES="0",
            NEWSFLOW_TRANSLATION_RATE_LIMITS="{}",
            NEWSFLOW_BATCH_SIZE="4",
            NEWSFLOW_THREAD_WORKERS="2",
        )
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "newsflow.cli", "retranslate", "--translator", "google"],
                cwd=tmp_path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group, which the test signals as a terminal would
            )
        try:
            _wait_for_records(tmp_path, proc, log)  # the first translated record's JSON file
            sent = time.monotonic()
            for name in signals:
                os.killpg(proc.pid, signal.Signals[name])
                time.sleep(0.05)
            asked = len(provider.fake.translate_requests())
            code = proc.wait(timeout=60)
            took = time.monotonic() - sent
            after = len(provider.fake.translate_requests()) - asked
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    output = log.read_text(encoding="utf-8", errors="replace")
    print(f"{'+'.join(signals)}: exit {code} {took:.2f} s after the signal; {after} request(s) after it")
    assert code == 130, output[-3000:]
    assert "Traceback" not in output and "EventsWorker" not in output and "ERROR" not in output, output[-3000:]
    statuses = _translation_statuses(data)
    out = data / "output"
    assert not list(out.rglob(".*.tmp"))
    deadline = time.monotonic() + 20  # the watcher ends the command's local server
    while _carriers(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _carriers(proc.pid) == []
    if len(signals) > 1:  # at once: what was stored stays stored; the next run tidies up and finishes the rest
        assert "SIGINT again: stopping at once" in output, output[-3000:]
        assert statuses.get("done", 0) > 0 and statuses.get("pending", 0) > 0, statuses
        again = subprocess.run(
            [sys.executable, "-m", "newsflow.cli", "retranslate", "--translator", "google"],
            cwd=tmp_path,
            env=env | {"NEWSFLOW_TRANSLATOR": "none"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        # The provider is gone now: the rest stays pending, but the stopped run is marked and its partial file gone.
        assert again.returncode == 0, again.stderr[-3000:]
        assert sorted(status for status, _ in _runs(data)) == ["completed", "interrupted"]
        assert not list(out.rglob(".*.partial"))
        return
    assert f"{signals[0]}: stopping" in output and "interrupted:" in output, output[-3000:]
    ((status, counts),) = _runs(data)
    assert status == "interrupted" and counts["interrupted"] is True, (status, counts)
    assert counts["processed"] == statuses["done"] > 0 and counts["not_processed"] == statuses["pending"] > 0, (
        counts,
        statuses,
    )
    assert statuses["done"] + statuses["pending"] == RETRANSLATE_N
    assert len(list((out / "records").glob("*.json"))) == statuses["done"]
    (run_file,) = list((out / "runs").glob("*.jsonl"))
    assert len(run_file.read_text(encoding="utf-8").splitlines()) == statuses["done"]
    assert not list(out.rglob(".*.partial"))


def test_sigterm_to_a_retranslate_run_outside_the_cli_ends_it_cancelled(
    prefect_api: PrefectServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a runner does to the retranslate-pending deployment's run when it is cancelled: SIGTERM to the
    flow's process, here the test's own (the flow runs in its main thread, as in a served run's process)."""
    import threading

    from prefect.settings import PREFECT_API_URL, temporary_settings

    from extractors.translate import reset_circuit_breakers
    from flows.retranslate import RetranslateSummary, retranslate
    from newsflow.settings import reset_settings
    from tests.test_ops_e2e import SlowProvider

    data = tmp_path / "data"
    data.mkdir()
    _seed_pending_records(data, RETRANSLATE_N)
    records = data / "output" / "records"
    with SlowProvider(delay=0.3) as provider:
        for key, value in {
            "NEWSFLOW_DATA_DIR": str(data),
            "NEWSFLOW_TRANSLATION_ENDPOINTS": json.dumps({"google": provider.fake.url}),
            "NEWSFLOW_TRANSLATION_RETRIES": "0",
            "NEWSFLOW_TRANSLATION_RATE_LIMITS": "{}",
            "NEWSFLOW_BATCH_SIZE": "4",
            "NEWSFLOW_THREAD_WORKERS": "2",
        }.items():
            monkeypatch.setenv(key, value)
        reset_settings()
        reset_circuit_breakers()

        def cancel_when_one_is_written() -> None:
            deadline = time.monotonic() + 120
            while not (records.is_dir() and any(records.glob("*.json"))) and time.monotonic() < deadline:
                time.sleep(0.1)
            os.kill(os.getpid(), signal.SIGTERM)

        killer = threading.Thread(target=cancel_when_one_is_written, daemon=True)
        try:
            with temporary_settings(updates={PREFECT_API_URL: prefect_api.api}):
                killer.start()
                state = retranslate(translator="google", return_state=True)
        finally:
            killer.join(timeout=130)
            reset_settings()
    assert state.is_cancelled(), state
    summary = state.result(raise_on_failure=False)
    assert isinstance(summary, RetranslateSummary) and summary.interrupted, summary
    assert (state.message or "").startswith("interrupted (SIGTERM)"), state.message
    statuses = _translation_statuses(data)
    assert summary.not_processed == statuses["pending"] > 0 and statuses["done"] > 0, (summary, statuses)
    ((status, counts),) = _runs(data)
    assert status == "interrupted" and counts["processed"] == statuses["done"], (status, counts)
    (run_file,) = list((data / "output" / "runs").glob("*.jsonl"))
    assert len(run_file.read_text(encoding="utf-8").splitlines()) == statuses["done"]
