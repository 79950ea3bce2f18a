"""Runs the atheris fuzz target (tests/fuzz/fuzz_extractors.py) for a bounded number of inputs.

libFuzzer stops after `-runs` inputs and exits 0; an exception other than ArticleError, or an input
that hangs (its per-input `-timeout`, generous for a loaded machine: a hang is exponential, not slow),
makes it exit non-zero with the input saved under tmp_path, which the assertion message shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TARGET = Path(__file__).with_name("fuzz_extractors.py")
REPO = TARGET.parents[2]
RUNS = 1500

# Seeds written here (fictional pages and texts), so the fuzzer starts from inputs that reach the
# extraction cascade, the text cleaner and the language/entity steps.
SEEDS = {
    "page.html": "<html lang='vi'><head><title>UBND tỉnh Sóc Trăng họp bàn</title>"
    "<meta property='article:published_time' content='2025-03-06T08:00:00+07:00'></head><body>"
    "<article><h1>UBND tỉnh Sóc Trăng họp bàn chuyển đổi số</h1><p>Sáng 6/3, ông Lâm Văn Tín, Phó Chủ tịch "
    "UBND tỉnh, chủ trì cuộc họp với Sở Thông tin và Truyền thông.</p><p>Thanh Mỹ</p></article></body></html>",
    "text.txt": "Chiều 5/3, Sở Tài chính tỉnh Đồng Tháp tổ chức hội nghị.\n\nTheo Báo Đồng Tháp\nBy Minh Anh\n",
    "en.txt": "On March 5, the Department of Finance of Dong Thap province held a conference on the 2025 budget.",
}


def test_fuzz_extractors_bounded(tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris is a dev dependency (pip install atheris); CI installs it")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in SEEDS.items():
        # The target reads 3 choice bytes first; these pick each entry point in turn.
        for prefix in (b"\x00\x00\x00", b"\x01\x01\x01", b"\x02\x00\x00", b"\x02\x02\x01"):
            (corpus / f"{prefix.hex()}-{name}").write_bytes(prefix + text.encode("utf-8"))
    env = {**os.environ, "PYTHONHASHSEED": "0", "PYTHONPATH": str(REPO)}
    argv = [
        sys.executable,
        str(TARGET),
        f"-runs={RUNS}",
        "-seed=1",
        "-max_len=4096",
        "-timeout=120",
        f"-artifact_prefix={tmp_path}/",
        str(corpus),
    ]
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=3600)
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    assert proc.returncode == 0, f"fuzzing found {found}:\n{proc.stderr[-4000:]}"
    assert f"Done {RUNS} runs" in proc.stderr, proc.stderr[-2000:]
    assert len(list(corpus.iterdir())) > len(SEEDS) * 4  # it explored: new inputs joined the corpus
