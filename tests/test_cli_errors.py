"""Every CLI command given bad input: one line naming the input and the reason, a non-zero exit code, no
traceback. Each case runs `python -m newsflow.cli` in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest_storage import Cli

pytest_plugins = ["conftest_storage"]

CLOSED_PG = "postgresql+psycopg://nf:s3cret@127.0.0.1:1/newsflow"  # nothing listens on port 1
GOOD_1 = "Sáng 4/3, UBND tỉnh Long An họp bàn kế hoạch đầu tư công năm 2025 và giao nhiệm vụ cho các sở, ngành."
GOOD_2 = "Chiều 5/3, Sở Tài chính tỉnh Đồng Tháp tổ chức hội nghị triển khai nhiệm vụ ngân sách năm 2025."
OFFLINE = {"NEWSFLOW_TRANSLATOR": "none"}  # no provider calls (and no provider warnings on stderr)


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Bad inputs of every kind, in tmp_path/in (the commands run with cwd=tmp_path/in)."""
    root = tmp_path / "in"
    root.mkdir()
    (root / "empty-dir").mkdir()
    (root / "notes.md").write_text("not an article format\n")  # a directory with no articles in it
    (root / "only-notes").mkdir()
    (root / "only-notes" / "readme.md").write_text("nothing newsflow reads\n")
    lines = [
        json.dumps({"url": "https://longan.example.vn/tin/1", "title": "Họp bàn đầu tư công", "text": GOOD_1}),
        '{"url": "https://longan.example.vn/tin/2", "title": ',  # cut off
        json.dumps({"url": "https://dongthap.example.vn/tin/3", "title": "Ngân sách 2025", "text": GOOD_2}),
    ]
    (root / "batch.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "wrong-types.json").write_text(json.dumps({"url": 5, "title": ["x"], "text": {"a": 1}}))
    (root / "a-file").write_text("this is a file, not a directory\n")
    (root / "page.html").write_text("<html><body><p>Trang thử</p></body></html>")
    return root


def _unreadable(root: Path) -> Path:
    """A .txt path that exists but cannot be read (root reads any mode-000 file, so then a write-only
    /proc file stands in)."""
    path = root / "unreadable.txt"
    path.write_text(GOOD_1)
    path.chmod(0)
    if not os.access(path, os.R_OK):
        return path
    path.unlink()
    target = Path("/proc/sys/vm/compact_memory")
    try:
        target.read_bytes()
    except PermissionError:
        path.symlink_to(target)
        return path
    except OSError:
        pass
    pytest.skip("running as root and no write-only /proc file to stand in for an unreadable file")


# (args, extra env, text the one error line must contain)
CASES: list[tuple[tuple[str, ...], dict[str, str], str]] = [
    # inputs
    (("extract", "missing.txt"), OFFLINE, "missing.txt: no such file or directory"),
    (("run", "missing.txt"), OFFLINE, "missing.txt: no such file or directory"),
    (("extract", "empty-dir"), OFFLINE, "empty-dir: no "),
    (("extract", "only-notes"), OFFLINE, "only-notes: no "),
    (("extract", "wrong-types.json"), OFFLINE, "wrong-types.json: "),
    (("extract", "http://"), OFFLINE, "http://: URL has no host"),
    (("extract", "ftp://files.example.vn/a.txt"), OFFLINE, "ftp://files.example.vn/a.txt: "),
    (("extract", "https://host.invalid/tin/1"), OFFLINE, "https://host.invalid/tin/1: cannot resolve host"),
    (("site-check", "missing.html", "--url", "https://longan.example.vn/a"), {}, "missing.html: no such file"),
    (("site-check", "page.html", "--url", "notaurl"), {}, "--url 'notaurl': not an http(s) URL with a host"),
    (("site-check", "page.html", "--url", "https://"), {}, "--url 'https://': not an http(s) URL with a host"),
    # options
    (("extract", "batch.jsonl", "--format", "xml"), OFFLINE, "'--format'"),
    (("extract", "batch.jsonl", "--translator", "babel"), OFFLINE, "'--translator'"),
    (("export", "--since", "last tuesday"), {}, "--since 'last tuesday': not an ISO 8601 date"),
    (("export", "--format", "csv"), {}, "'--format'"),
    (("fetches", "--limit", "0"), {}, "'--limit'"),
    (("fetches", "--outcome", "exploded"), {}, "'--outcome'"),
    (("fetches", "--run", "nonsense"), {}, "--run 'nonsense': not a run id (run ids are UUIDs"),
    (("retranslate", "--limit", "-1"), {}, "'--limit'"),
    (("retranslate", "--translator", "babel"), {}, "--translator 'babel'"),
    (("reprocess", "--translator", "babel"), {}, "--translator babel: unknown translator 'babel'"),
    (("eval", "--system", "oracle"), {}, "'--system'"),
    (("eval", "--lang", "zz"), {}, "language(s) zz"),
    (("schema", "extra"), {}, "unexpected extra argument"),
    (("frobnicate",), {}, "No such command 'frobnicate'"),
    (("db", "downgrade", "0999"), {}, "db downgrade '0999': unknown revision"),
    (("db", "upgrade", "--revision", "0999"), {}, "Can't locate revision identified by '0999'"),
    (("db", "downgrade", "base"), {}, "add --yes"),
    # databases that cannot be opened
    (("export", "--database-url", CLOSED_PG), {}, "cannot open database postgresql+psycopg://nf:***@127.0.0.1:1"),
    (("run", "batch.jsonl", "--database-url", CLOSED_PG), OFFLINE, "cannot open database postgresql+psycopg://nf:***"),
    (("db", "current", "--database-url", CLOSED_PG), {}, "postgresql+psycopg://nf:***@127.0.0.1:1/newsflow"),
    (("export", "--database-url", "oracle://h/x"), {}, "unsupported database 'oracle'"),
    (("export", "--data-dir", "a-file"), {}, "cannot create directory"),
    (("run", "batch.jsonl", "--data-dir", "a-file"), OFFLINE, "cannot create directory"),
    (("export", "--database-url", "sqlite:///a-file"), {}, "a-file: file is not a database"),
    (("fetches", "--data-dir", "a-file"), {}, "cannot create directory"),
    # NEWSFLOW_* settings
    (
        ("extract", "batch.jsonl"),
        {"NEWSFLOW_BATCH_SIZE": "many"},
        "NEWSFLOW_BATCH_SIZE='many' (batch_size): Input should be a valid integer",
    ),
    (("extract", "batch.jsonl"), {"NEWSFLOW_TRANSLATOR": "babel"}, "NEWSFLOW_TRANSLATOR='babel' (translator): "),
    (
        ("extract", "batch.jsonl"),
        {"NEWSFLOW_TRANSLATION_TIMEOUT": "-3"},
        "NEWSFLOW_TRANSLATION_TIMEOUT='-3' (translation_timeout): Input should be greater than 0",
    ),
    (
        ("extract", "batch.jsonl"),
        {**OFFLINE, "NEWSFLOW_FETCH_ALLOW_ADDRESSES": "[oops"},
        "NEWSFLOW_FETCH_ALLOW_ADDRESSES='[oops' (fetch_allow_addresses): not a valid JSON list",
    ),
    (
        ("fetches",),
        {"NEWSFLOW_FETCH_ALLOW_ADDRESSES": "10.0.0.0/8,intranet"},
        "NEWSFLOW_FETCH_ALLOW_ADDRESSES='10.0.0.0/8,intranet' (fetch_allow_addresses): 'intranet' is not an IP address",
    ),
    (
        ("extract", "batch.jsonl"),
        {**OFFLINE, "NEWSFLOW_TRANSLATION_RATE_LIMITS": "{google: 5}"},
        "NEWSFLOW_TRANSLATION_RATE_LIMITS='{google: 5}' (translation_rate_limits): not valid JSON",
    ),
    (
        ("export",),
        {"NEWSFLOW_DEEPL_API_KEY": "k", "NEWSFLOW_HTTP_TIMEOUT": "soon"},
        "NEWSFLOW_HTTP_TIMEOUT='soon' (http_timeout): Input should be a valid number",
    ),
    (("export",), {"NEWSFLOW_DATABASE_URL": "not a url"}, "cannot open database not a url: invalid database URL"),
    (("run", "batch.jsonl"), {**OFFLINE, "NEWSFLOW_DATABASE_URL": CLOSED_PG}, "cannot open database"),
    (("serve",), {}, "needs a Prefect server"),
]


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize(("args", "env", "expected"), CASES, ids=[" ".join(c[0]) + str(c[1]) for c in CASES])
def test_bad_input_is_one_line_without_traceback(
    cli: Cli, inputs: Path, args: tuple[str, ...], env: dict[str, str], expected: str
) -> None:
    out = cli(*args, env={"NEWSFLOW_DATA_DIR": str(inputs.parent / "data"), **env}, cwd=inputs, timeout=120)
    assert out.returncode != 0, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout
    assert "s3cret" not in out.stderr  # passwords are masked
    line = _one_error_line(out.stderr)
    assert expected in line, line


def test_unreadable_file(cli: Cli, inputs: Path) -> None:
    path = _unreadable(inputs)
    out = cli("extract", path.name, env=OFFLINE, cwd=inputs)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    line = _one_error_line(out.stderr)
    assert "unreadable.txt" in line and "Permission denied" in line, line


def test_jsonl_with_a_bad_line_processes_the_rest(cli: Cli, inputs: Path) -> None:
    out = cli("extract", "batch.jsonl", env=OFFLINE, cwd=inputs)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    line = _one_error_line(out.stderr)
    assert line.startswith("error: batch.jsonl:2: "), line
    titles = [json.loads(x)["title"] for x in out.stdout.splitlines()]
    assert titles == ["Họp bàn đầu tư công", "Ngân sách 2025"]


def test_no_args_prints_help_not_a_traceback(cli: Cli) -> None:
    out = cli()
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "Usage: " in out.stderr + out.stdout and "Commands" in out.stderr + out.stdout


def test_closed_stdout_is_not_a_traceback(cli: Cli, tmp_path: Path) -> None:
    """`newsflow schema | head -1`: the reader goes away; no traceback for that."""
    import subprocess

    proc = subprocess.Popen(cli.argv("schema"), env=cli.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    "args",
    [("fetches", "--run", "nonsense"), ("site-check", "page.html", "--url", "notaurl")],
    ids=["fetches --run", "site-check --url"],
)
def test_bad_option_values_exit_2(cli: Cli, inputs: Path, args: tuple[str, ...]) -> None:
    """These used to exit 0 with no output: now a usage error (exit code 2) with its one line."""
    out = cli(*args, env={"NEWSFLOW_DATA_DIR": str(inputs.parent / "data")}, cwd=inputs)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stdout == ""
    assert args[-2] in _one_error_line(out.stderr)
