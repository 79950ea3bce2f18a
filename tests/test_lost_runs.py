"""A killed run's half-written run file is deleted by the next run; files of runs still running are kept."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from flows.ingest import sweep_partials
from newsflow.storage import Store

REPO = Path(__file__).resolve().parent.parent


def _partial(out: Path, run_id: str) -> Path:
    path = out / "runs" / f".{run_id}.jsonl.partial"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"id": "half"}\n', encoding="utf-8")
    return path


def test_partials_of_dead_and_unknown_runs_are_swept(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    out = tmp_path / "output"
    killed, unknown, live = (str(uuid.uuid4()) for _ in range(3))
    # A run started by a process that is gone (as after kill -9): its row says "running" with a dead pid.
    code = f"from newsflow.storage import Store; s = Store({url!r}); s.start_run({killed!r}); s.close()"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
    store = Store(url)
    try:
        store.start_run(live)  # this process: alive, and running
        files = {
            name: _partial(out, run_id) for name, run_id in (("killed", killed), ("unknown", unknown), ("live", live))
        }
        finished = out / "runs" / f"{uuid.uuid4()}.jsonl"
        finished.write_text("{}\n", encoding="utf-8")

        removed = sweep_partials(store, out)

        assert sorted(removed) == sorted([files["killed"], files["unknown"]])
        assert files["live"].exists() and finished.exists()
        assert not files["killed"].exists() and not files["unknown"].exists()
        assert store.running_run_ids() == [live]  # the killed run was marked interrupted by start_run
    finally:
        store.close()


def test_no_runs_directory_is_not_an_error(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        assert sweep_partials(store, tmp_path / "never-made") == []
    finally:
        store.close()


def test_a_run_that_starts_during_the_sweep_keeps_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs at once over one directory: another run may start (row committed, then its file created) while this
    sweep reads which runs are running. Its file must stay (it used to be deleted: the runs were read first and the
    files listed after, so the new file was listed but its row missed; the run then lost its JSONL)."""
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    out = tmp_path / "output"
    unknown = _partial(out, str(uuid.uuid4()))  # a run the store never heard of: swept
    newcomer = str(uuid.uuid4())
    read = store.running_run_ids

    def read_while_another_run_starts() -> list[str]:
        seen = read()
        store.start_run(newcomer)  # the other run starts just after this read...
        _partial(out, newcomer)  # ...and creates its run file
        return seen

    monkeypatch.setattr(store, "running_run_ids", read_while_another_run_starts)
    try:
        removed = sweep_partials(store, out)
        assert removed == [unknown] and not unknown.exists()
        assert (out / "runs" / f".{newcomer}.jsonl.partial").exists()
    finally:
        store.close()
