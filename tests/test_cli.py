"""The `newsflow` CLI, run as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.generate import SCHEMA_FILE

REPO = Path(__file__).resolve().parent.parent
REFERENCE = REPO / "samples" / "reference" / "cluster-viii-pact.es.txt"


def newsflow(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    # As a user runs it: no settings inherited from the test process (embedded defaults apply).
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_"))}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newsflow.cli", *args],
        cwd=cwd or REPO,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_extract_reference_article() -> None:
    out = newsflow("extract", str(REFERENCE), "--format", "json", "--translator", "none")
    assert out.returncode == 0, out.stderr
    record = json.loads(out.stdout)
    assert record["language"]["code"] == "es"
    provinces = {p["name"]: p["successor"]["name"] for p in record["entities"]["provinces"]}
    assert provinces == {
        "Long An": "Tây Ninh",
        "Tiền Giang": "Đồng Tháp",
        "Vĩnh Long": "Vĩnh Long",
        "Đồng Tháp": "Đồng Tháp",
        "Bến Tre": "Vĩnh Long",
        "Trà Vinh": "Vĩnh Long",
    }
    assert record["translation"]["status"] == "unsupported"


def test_extract_jsonl_keeps_input_order_and_reads_stdin() -> None:
    files = sorted(str(p) for p in (REPO / "samples" / "vi").iterdir())
    out = newsflow("extract", *files, "--format", "jsonl", "--translator", "none")
    assert out.returncode == 0, out.stderr
    uris = [json.loads(line)["source"]["uri"] for line in out.stdout.splitlines()]
    assert uris == files
    piped = newsflow("extract", "-", "--translator", "none", stdin=REFERENCE.read_text(encoding="utf-8"))
    assert piped.returncode == 0 and json.loads(piped.stdout)["source"] == {
        **json.loads(piped.stdout)["source"],
        "kind": "text",
        "uri": "-",
    }


def test_schema_command_prints_the_published_schema() -> None:
    out = newsflow("schema")
    assert out.returncode == 0
    assert json.loads(out.stdout) == json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("extract", "missing.txt"), "error: missing.txt: no such file or directory"),
        (("export", "--since", "yesterday"), "error: --since 'yesterday': not an ISO 8601 date"),
        (("export", "--database-url", "postgresql+psycopg://u:secret@127.0.0.1:1/x"), "error: cannot"),
        (("run", str(REFERENCE), "--database-url", "postgresql+psycopg://u:secret@127.0.0.1:1/x"), "error: cannot"),
        (("run", str(REFERENCE), "--database-url", "mysql://u@h/x"), "error: "),
        (("run",), "error: no SOURCE given and no samples/ directory here"),
    ],
)
def test_user_errors_are_one_line_without_traceback(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    out = newsflow(*args, cwd=tmp_path)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr and "secret" not in out.stderr
    assert out.stderr.strip().startswith(message), out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_line_in_a_batch_is_reported_and_the_rest_extracted(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"text": "Sở Y tế tỉnh Cà Mau kiểm tra bệnh viện."}\n{"txt": "x"}\n', encoding="utf-8")
    out = newsflow("extract", str(path), "--translator", "none")
    assert out.returncode == 1
    assert len(out.stdout.splitlines()) == 1
    assert f"error: {path}:2: unknown field(s) ['txt']" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command", ["run", "extract", "schema", "export", "clusters"])
def test_help(command: str) -> None:
    out = newsflow(command, "--help")
    assert out.returncode == 0 and "Usage" in out.stdout


@pytest.mark.e2e
def test_run_main_job_then_export(tmp_path: Path) -> None:
    """The README's main job: `newsflow run` in Prefect's local mode, from a fresh PREFECT_HOME."""
    work = tmp_path / "work"
    (work / "samples").mkdir(parents=True)
    for name in (
        "reference/cluster-viii-pact.es.txt",
        "vi/cum-thi-dua-viii-ky-giao-uoc-2024.txt",
        "en/cluster-viii-pact-signing-2024.html",
        "json/articles.jsonl",
    ):
        target = work / "samples" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((REPO / "samples" / name).read_bytes())
    env = {"PREFECT_HOME": str(tmp_path / "prefect-home")}
    out = newsflow("run", "--translator", "none", cwd=work, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "articles received" in out.stdout and "entities: provinces" in out.stdout
    assert "5 / 0 / 0" in out.stdout  # new / updated / unchanged
    records = sorted((work / "newsflow-data" / "output" / "records").glob("*.json"))
    assert len(records) == 5
    exported = newsflow("export", cwd=work)
    assert exported.returncode == 0
    ids = {json.loads(line)["id"] for line in exported.stdout.splitlines()}
    assert ids == {p.stem for p in records}
    later = newsflow("export", "--since", "2999-01-01", cwd=work)
    assert later.returncode == 0 and later.stdout == ""


def test_bad_setting_is_a_one_line_error(tmp_path: Path) -> None:
    out = newsflow("export", cwd=tmp_path, env={"NEWSFLOW_BATCH_SIZE": "0"})
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.startswith("error: invalid settings:") and "batch_size" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_the_start_up_pause_of_the_garbage_collector_ends_with_it_on_and_the_heap_frozen() -> None:
    """`newsflow run` turns the collector off while it imports and warms up; whatever happens, it is on again
    before the run (a process that kept it off would grow with every cycle it made)."""
    import gc

    from newsflow.cli import _pause_collector

    assert gc.isenabled()
    resume = _pause_collector()
    assert not gc.isenabled()
    frozen = gc.get_freeze_count()
    resume(settle=True)
    resume(settle=True)  # a second call (the run's `finally`) changes nothing
    try:
        assert gc.isenabled() and gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
    resume = _pause_collector()
    resume()  # the error path: on again, nothing frozen
    assert gc.isenabled() and gc.get_freeze_count() == 0
