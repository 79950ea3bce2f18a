"""Reliability of `newsflow run`, run as a user runs it (a subprocess, a real Prefect server, real SQLite and
PostgreSQL): SIGKILL mid-batch then rerun, two runs at once over overlapping sources, the database going away
before and during a run, and a full disk under the JSON output."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text

from newsflow.storage import StorageError, Store
from schemas.models import RawArticle

if TYPE_CHECKING:
    from conftest_storage import Cli

pytest_plugins = ["conftest_storage"]

REPO = Path(__file__).resolve().parent.parent
SAMPLE_TEXTS = sorted(p for lang in ("vi", "en", "es") for p in (REPO / "samples" / lang).glob("*.txt"))
# No translation provider (no network here), small batches so a run stores in many steps; the default
# thread pool, so batches are processed and stored in parallel as in production.
RUN_ENV = {"NEWSFLOW_TRANSLATOR": "none", "NEWSFLOW_BATCH_SIZE": "10"}
MARKS = {"vi": "Số hiệu bản tin", "en": "Bulletin number", "es": "Boletín número"}


def make_corpus(root: Path, start: int, stop: int) -> list[Path]:
    """Articles start..stop-1: the sample texts, each made distinct by a closing line with its number."""
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, stop):
        sample = SAMPLE_TEXTS[i % len(SAMPLE_TEXTS)]
        body = sample.read_text(encoding="utf-8").rstrip()
        path = root / f"{i:04d}-{sample.name}"
        path.write_text(f"{body}\n\n{MARKS[sample.parent.name]} {i:04d}.\n", encoding="utf-8")
        paths.append(path)
    return paths


def count_articles(url: str) -> int:
    """Stored articles, read with a bare engine (not a Store: no migration, no lock)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM articles")).scalar_one())
    except Exception:  # the run has not created the tables yet
        return 0
    finally:
        engine.dispose()


def assert_complete(url: str, out_dir: Path, inputs: list[Path]) -> None:
    """Every input stored exactly once with its raw input; every JSON file whole and parseable."""
    expected = {str(p) for p in inputs}
    with Store(url) as store:
        records = list(store.iter_records())
        uris = [r.source.uri for r in records]
        assert len(uris) == len(set(uris)), "an article is stored twice"
        assert set(uris) == expected
        raws = {raw.source.uri for _, raw in store.iter_raw()}
        assert expected <= raws, f"raw inputs missing: {sorted(expected - raws)[:5]}"
    ids = {r.id for r in records}
    files = sorted((out_dir / "records").iterdir())
    finals = [f for f in files if not f.name.startswith(".")]
    assert all(f.suffix == ".json" for f in finals), [f.name for f in finals if f.suffix != ".json"]
    assert {f.stem for f in finals} == ids
    for f in finals:
        assert json.loads(f.read_text(encoding="utf-8"))["id"] == f.stem
    for f in (out_dir / "runs").glob("*.jsonl"):
        for line in f.read_text(encoding="utf-8").splitlines():
            assert json.loads(line)["id"] in ids


def _no_traceback(out: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in out.stdout + out.stderr, out.stderr[-3000:]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'newsflow.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


# --- crash safety ---------------------------------------------------------------------------------------


def test_sigkill_mid_batch_then_rerun_stores_everything_once(flow_cli: Cli, tmp_path: Path) -> None:
    inputs = make_corpus(tmp_path / "in", 0, 240)
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'newsflow.db'}"
    env = {**RUN_ENV, "NEWSFLOW_DATA_DIR": str(data)}
    log = tmp_path / "killed-run.log"
    proc = flow_cli.start("run", str(tmp_path / "in"), env=env, log=log)
    try:
        deadline = time.monotonic() + 240
        stored = 0
        while not 0 < stored < len(inputs):
            assert proc.poll() is None, f"the run ended before it could be killed:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "no article stored in 240 s"
            time.sleep(0.05)
            stored = count_articles(url)
    finally:
        _kill_group(proc)
    assert 0 < count_articles(url) < len(inputs), "the kill did not land mid-run"

    rerun = flow_cli("run", str(tmp_path / "in"), env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _no_traceback(rerun)
    assert_complete(url, data / "output", inputs)
    # The rerun's own JSONL holds every article: the killed run's partial file never became a .jsonl.
    runs = sorted((data / "output" / "runs").glob("*.jsonl"))
    assert len(runs) == 1 and len(runs[0].read_text(encoding="utf-8").splitlines()) == len(inputs)
    # The killed run's row does not stay "running": the rerun saw its process was gone.
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            statuses = sorted(conn.execute(text("SELECT status FROM runs")).scalars())
    finally:
        engine.dispose()
    assert statuses == ["completed", "interrupted"]


# --- concurrency ----------------------------------------------------------------------------------------


def test_two_runs_at_once_over_overlapping_sources(flow_cli: Cli, any_db: str, tmp_path: Path) -> None:
    first = make_corpus(tmp_path / "a", 0, 60)
    shared = make_corpus(tmp_path / "shared", 60, 140)
    second = make_corpus(tmp_path / "b", 140, 200)
    data = tmp_path / "data"
    env = {**RUN_ENV, "NEWSFLOW_DATA_DIR": str(data), "NEWSFLOW_DATABASE_URL": any_db}
    logs = [tmp_path / "run-1.log", tmp_path / "run-2.log"]
    procs = [
        flow_cli.start("run", str(tmp_path / "a"), str(tmp_path / "shared"), env=env, log=logs[0]),
        flow_cli.start("run", str(tmp_path / "shared"), str(tmp_path / "b"), env=env, log=logs[1]),
    ]
    try:
        for proc, log in zip(procs, logs, strict=True):
            assert proc.wait(timeout=600) == 0, log.read_text()[-3000:]
            assert "Traceback" not in log.read_text()
    finally:
        for proc in procs:
            if proc.poll() is None:
                _kill_group(proc)
    assert_complete(any_db, data / "output", first + shared + second)


# --- faults ---------------------------------------------------------------------------------------------


class Proxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL that can be cut (every connection closed, new ones
    refused) and restored: the database going away in the middle of a run."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self.up()

    def up(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port))
        self.port = server.getsockname()[1]
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def cut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave it listening.
            with contextlib.suppress(OSError):
                server.shutdown(socket.SHUT_RDWR)
            server.close()
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[tuple[Proxy, str]]:
    """(proxy, URL of pg_url's schema through the proxy)."""
    from sqlalchemy import make_url

    parsed = make_url(pg_url)
    proxy = Proxy((parsed.host or "127.0.0.1", parsed.port or 5432))
    try:
        yield proxy, parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.cut()


def test_postgresql_connections_killed_mid_run_are_retried(flow_cli: Cli, pg_url: str, tmp_path: Path) -> None:
    """pg_terminate_backend on the run's connections while it stores: the batch is retried, nothing lost."""
    inputs = make_corpus(tmp_path / "in", 0, 150)
    app = f"nf_fault_{os.getpid()}_{time.monotonic_ns()}"
    url = f"{pg_url}&application_name={app}"
    data = tmp_path / "data"
    env = {**RUN_ENV, "NEWSFLOW_DATA_DIR": str(data), "NEWSFLOW_DATABASE_URL": url}
    log = tmp_path / "run.log"
    proc = flow_cli.start("run", str(tmp_path / "in"), env=env, log=log)
    admin = create_engine(pg_url)
    killed = 0
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            if 0 < count_articles(pg_url) < len(inputs) and killed < 3:
                with admin.connect() as conn:
                    killed += len(
                        conn.execute(
                            text(
                                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :app"
                            ),
                            {"app": app},
                        ).all()
                    )
                time.sleep(0.3)
            time.sleep(0.05)
        assert proc.wait(timeout=300) == 0, log.read_text()[-3000:]
    finally:
        admin.dispose()
        if proc.poll() is None:
            _kill_group(proc)
    assert killed > 0, "no connection of the run was terminated: the test did not test anything"
    assert "Traceback" not in log.read_text()
    assert_complete(pg_url, data / "output", inputs)


def test_database_gone_mid_run_stops_cleanly_and_a_rerun_completes(
    flow_cli: Cli, pg_proxy: tuple[Proxy, str], pg_url: str, tmp_path: Path
) -> None:
    proxy, url = pg_proxy
    inputs = make_corpus(tmp_path / "in", 0, 200)
    data = tmp_path / "data"
    env = {**RUN_ENV, "NEWSFLOW_DATA_DIR": str(data), "NEWSFLOW_DATABASE_URL": url}
    log = tmp_path / "run.log"
    proc = flow_cli.start("run", str(tmp_path / "in"), env=env, log=log)
    try:
        deadline = time.monotonic() + 300
        while not 0 < count_articles(pg_url) < len(inputs):
            assert proc.poll() is None, f"the run ended before the cut:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        proxy.cut()
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            _kill_group(proc)
    output = log.read_text()
    assert code != 0, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "127.0.0.1" in errors[0], output[-3000:]
    assert count_articles(pg_url) < len(inputs)

    proxy.up()
    rerun = flow_cli("run", str(tmp_path / "in"), env=env, timeout=600)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    _no_traceback(rerun)
    assert_complete(pg_url, data / "output", inputs)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs: the JSON output directory runs out of space after a few records."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs to fill ({done.stderr.strip()}); the in-process ENOSPC tests still run"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_on_output_reports_per_article_and_keeps_records(
    flow_cli: Cli, tiny_disk: Path, tmp_path: Path
) -> None:
    inputs = make_corpus(tmp_path / "in", 0, 80)
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'newsflow.db'}"
    env = {**RUN_ENV, "NEWSFLOW_DATA_DIR": str(data), "NEWSFLOW_OUTPUT_DIR": str(tiny_disk)}
    out = flow_cli("run", str(tmp_path / "in"), env=env, timeout=600)
    _no_traceback(out)
    assert out.returncode == 1, out.stderr[-3000:]  # the run finishes; the failures are reported (exit 1)
    # Every record is stored although its JSON file could not be written...
    assert count_articles(url) == len(inputs)
    # ...and every article whose file is missing is reported, by its input, with the reason.
    files = list((tiny_disk / "records").iterdir())
    assert 0 < len(files) < len(inputs)
    reported = [line for line in out.stderr.splitlines() if line.startswith("failed ")]
    missing = len(inputs) - len(files)
    assert len([x for x in reported if "JSON file was not written" in x and "No space left on device" in x]) == missing
    assert any("cannot write" in x and ".jsonl" in x for x in reported), "the run's JSONL failure is not reported"
    # No partial file: whatever is there parses, and no temporary file is left.
    for f in files:
        assert not f.name.startswith("."), f"temporary file left: {f.name}"
        json.loads(f.read_text(encoding="utf-8"))
    runs = tiny_disk / "runs"
    assert not runs.exists() or not list(runs.iterdir())


# --- the output writers under ENOSPC, in-process (runs wherever a tmpfs cannot be mounted) ------------------


def _enospc(*_args: Any, **_kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_atomic_write_on_a_full_disk_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsflow import output

    target = tmp_path / "records" / "a.json"
    target.parent.mkdir()
    target.write_text('{"old": true}\n')
    monkeypatch.setattr(output.os, "fsync", _enospc)  # the data reaches the disk at fsync: it fails there
    with pytest.raises(OSError) as caught:
        output.atomic_write_text(target, '{"new": true}\n')
    assert caught.value.errno == errno.ENOSPC and str(target) in str(caught.value)
    assert target.read_text() == '{"old": true}\n'
    assert [p.name for p in target.parent.iterdir()] == ["a.json"]


def test_run_writer_not_strict_reports_a_full_disk_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsflow import output
    from schemas.models import ArticleRecord

    record = ArticleRecord.model_validate(_a_record())
    with output.RunWriter(tmp_path, "run-1", strict=False) as writer:
        writer.add(record)
        monkeypatch.setattr(output.os, "fsync", _enospc)
    assert writer.error is not None and "No space left on device" in writer.error and "run-1.jsonl" in writer.error
    assert not list((tmp_path / "runs").iterdir())

    monkeypatch.undo()
    with pytest.raises(OSError, match="No space left"), output.RunWriter(tmp_path, "run-2") as strict:
        strict.add(record)
        monkeypatch.setattr(output.os, "fsync", _enospc)
    assert not list((tmp_path / "runs").iterdir())


def _a_record() -> dict[str, Any]:
    text_ = "Sáng 6/3, UBND tỉnh Trà Vinh họp giao ban."
    return {
        "id": "tv-001",
        "content_hash": "sha256:" + "ef" * 32,
        "source": {"kind": "file", "uri": "/data/tv-001.txt", "fetched_at": "2025-03-06T02:00:00Z"},
        "title": None,
        "published_at": None,
        "authors": [],
        "language": {"code": "vi", "confidence": 0.99, "detector": "langdetect"},
        "text": text_,
        "translation": {"status": "unsupported", "target": "en"},
        "entities": {
            "provinces": [],
            "departments": [],
            "officials": [],
            "themes": [],
            "organizations": [],
            "dates": [],
        },
        "pipeline": {"version": "0.1.0", "processed_at": "2025-03-06T02:00:01Z", "warnings": []},
    }


def test_database_unavailable_at_start_is_a_store_error_naming_it(tmp_path: Path) -> None:
    """The CLI turns these into one line (tests/test_cli_errors.py); here: the message names URL and reason."""
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1.*(refused|failed)"):
        Store("postgresql+psycopg://nf:pw@127.0.0.1:1/newsflow")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot create directory"):
        Store(f"sqlite:///{blocker / 'newsflow.db'}")


# --- raw inputs whose processing failed -------------------------------------------------------------------


def _raw_text(name: str, text_: str) -> RawArticle:
    return RawArticle.model_validate(
        {
            "source": {"kind": "file", "uri": f"/inbox/{name}", "fetched_at": "2025-03-06T02:00:00Z"},
            "content": text_,
            "media_type": "text/plain",
        }
    )


def test_reprocess_retries_raw_inputs_that_failed_or_never_finished(isolated_settings: Path) -> None:
    """A run keeps each raw input before processing it (Store.save_raws), so an article whose extraction
    failed, or that a killed run never reached, is still there for `newsflow reprocess`."""
    from typer.testing import CliRunner

    from newsflow.cli import app
    from newsflow.runtime import process
    from newsflow.settings import get_settings

    done = _raw_text("done.txt", "Sáng 6/3, UBND tỉnh Sóc Trăng họp bàn kế hoạch chuyển đổi số năm 2025.")
    never = _raw_text("never.txt", "Chiều 6/3, Sở Y tế tỉnh Bạc Liêu tổ chức hội nghị tổng kết công tác y tế.")
    empty = _raw_text("empty.txt", "   \n")
    with Store(get_settings().resolved_database_url) as store:
        _, never_id, empty_id = store.save_raws([done, never, empty])  # what the run kept first
        assert store.save(process(done, None), done) == "new"
        store.record_raw_failure(empty, "no main text found")
        # `never` stays pending: the run was killed before it got there.

    runner = CliRunner()
    retry = runner.invoke(app, ["reprocess", "--failed", "--translator", "none", "--no-json"])
    assert retry.exit_code == 1, retry.output
    assert "new=1 updated=0 unchanged=0 failed=1" in retry.output  # `done` was not touched
    assert f"error: raw {empty_id[:12]} (/inbox/empty.txt): no main text found" in retry.output
    with Store(get_settings().resolved_database_url) as store:
        assert store.raw_state(never_id).status == "processed"  # type: ignore[union-attr]
        assert store.raw_state(empty_id).status == "failed"  # type: ignore[union-attr]
        assert {r.source.uri for r in store.iter_records()} == {"/inbox/done.txt", "/inbox/never.txt"}

    every = runner.invoke(app, ["reprocess", "--translator", "none", "--no-json"])
    assert every.exit_code == 1, every.output
    counts = dict(item.split("=") for item in every.output.splitlines()[-1].split())
    # Both records exist now (`done` may be "updated": it was first made without a translator).
    assert counts["new"] == "0" and int(counts["updated"]) + int(counts["unchanged"]) == 2 and counts["failed"] == "1"
