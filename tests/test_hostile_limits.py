"""No input may cost a run: a huge text, characters no database can hold, a corrupted stored row.

* A text over spaCy's 1,000,000 characters is tokenised in chunks (offsets into the whole text), up to
  NEWSFLOW_MAX_TEXT_CHARS; a longer one fails alone, naming the limit. Any other error of one article
  fails that article only, and a run's row never stays "running" once its flow has stopped.
* NUL and lone surrogates (JSON escapes) are replaced by U+FFFD, with a warning, on SQLite and PostgreSQL alike.
* `newsflow export` leaves out a stored record it cannot read, names it on stderr and exits 1.

Real SQLite files, a real PostgreSQL (the `pg_url` fixture) and the CLI in a subprocess on a real Prefect server.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from extractors.entities import engine
from extractors.entities.engine import chunk_bounds, extract_entities
from extractors.pipeline import ArticleError
from newsflow.runtime import process, runtime
from newsflow.settings import Settings, get_settings, reset_settings
from newsflow.storage import Article, Run, StorageError, Store, raw_input_id
from schemas.models import ArticleRecord, Entities, RawArticle, SourceInfo

if TYPE_CHECKING:
    from conftest_storage import Cli

pytest_plugins = ["conftest_storage"]

OFFLINE = {"NEWSFLOW_TRANSLATOR": "none"}
GOOD = [
    "Sáng 4/3, UBND tỉnh Long An họp bàn kế hoạch đầu tư công năm 2025 và giao nhiệm vụ cho các sở, ngành.",
    "Chiều 5/3, Sở Tài chính tỉnh Đồng Tháp tổ chức hội nghị triển khai nhiệm vụ ngân sách năm 2025.",
]
HUGE = "T\n\n" + "Long An province news. " * 50000  # the 1.1 MB text: 1,149,999 characters of main text


def _raw(content: str, uri: str = "a.txt") -> RawArticle:
    return RawArticle(
        source=SourceInfo(kind="file", uri=uri, fetched_at=datetime.now(UTC)), content=content, media_type="text/plain"
    )


def _all_mentions(entities: Entities) -> list[tuple[str, int, int, str]]:
    out = []
    for kind in ("provinces", "departments", "officials", "themes", "organizations", "dates"):
        for entity in getattr(entities, kind):
            out += [(kind, m.start, m.end, m.text) for m in entity.mentions]
    return out


def _assert_offsets(text: str, entities: Entities) -> None:
    for kind, start, end, written in _all_mentions(entities):
        assert text[start:end] == written, (kind, start, end, written)


# --- chunks ------------------------------------------------------------------------------------------------


def test_chunks_end_at_a_paragraph_else_a_sentence_else_whitespace() -> None:
    para = "Một hai ba. Bốn năm sáu.\n\nBảy tám chín. Mười một."
    assert chunk_bounds(para, 30) == [(0, 26), (26, len(para))]  # after the blank line
    sentence = "Một hai ba bốn năm. Sáu bảy tám chín mười một."
    assert chunk_bounds(sentence, 30) == [(0, 20), (20, len(sentence))]  # after "năm. "
    words = "một hai ba bốn năm sáu bảy tám chín mười"
    assert chunk_bounds(words, 20) == [(0, 19), (19, 36), (36, len(words))]  # after the last space of each
    assert chunk_bounds("x" * 50, 20) == [(0, 20), (20, 40), (40, 50)]  # no boundary at all: cut at the size
    assert chunk_bounds("ngắn", 20) == [(0, 4)]


def _long_text() -> tuple[str, int]:
    """About 450,000 characters (three chunks): the province named first, "Sở Tài chính tỉnh Long An" cut by
    the first chunk's end between "Long" and "An", a department right after that end, names in the third chunk."""
    head = "Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024.\n\n"
    # No sentence end or blank line in the second half of the first chunk: it ends at its last space.
    filler = "the meeting went on with reports about the work plan and "
    straddle = "Sở Tài chính tỉnh Long "
    border = engine.CHUNK_CHARS - 1  # the first chunk ends here: after "Long ", before "An"
    gap = border - len(head) - len(straddle)
    text = head + (filler * (gap // len(filler) + 1))[: gap - 1] + " " + straddle
    assert len(text) == border
    text += "An and the Department of Finance of Ben Tre province discussed the budget. "
    sentence = "The meeting went on with reports about the work plan. "
    text += sentence * (6 * engine.CHUNK_CHARS // 5 // len(sentence))
    text += "Sở Nội vụ tỉnh Tiền Giang và UBND tỉnh Đồng Tháp ký kết giao ước thi đua năm 2024.\n"
    return text, border


def test_a_long_text_gives_the_entities_of_the_whole_text_across_chunk_borders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text, border = _long_text()
    bounds = chunk_bounds(text, engine.CHUNK_CHARS)
    assert len(bounds) == 3 and bounds[0] == (0, border)
    assert text[border - 5 : border + 2] == "Long An"

    entities = extract_entities(text, "vi")
    _assert_offsets(text, entities)
    provinces = {p.name: p for p in entities.provinces}
    assert {"Long An", "Bến Tre", "Tiền Giang", "Đồng Tháp"} <= set(provinces)
    # The name cut by the chunk's end is found whole, with its offsets in the whole text.
    assert any(m.start < border < m.end for m in provinces["Long An"].mentions)
    # The department just before the chunk's end is linked to the province the next chunk completes.
    finance = {d.province.name: d for d in entities.departments if d.sector == "finance" and d.province}
    assert {"Long An", "Bến Tre"} <= set(finance)
    before = len("Sở Tài chính tỉnh Long ")
    assert [m.text for m in finance["Long An"].mentions if m.start == border - before] == ["Sở Tài chính"]
    # Names in the third chunk point into the whole text.
    third = [m for m in provinces["Tiền Giang"].mentions if m.start >= bounds[2][0]]
    assert third and text[third[0].start : third[0].end] == "Tiền Giang"

    # The same entities as one spaCy call over the whole text gives (450,000 characters: under spaCy's limit).
    monkeypatch.setattr(engine, "CHUNK_CHARS", 1_000_000)
    assert extract_entities(text, "vi") == entities


def test_a_text_over_the_limit_fails_alone_naming_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_MAX_TEXT_CHARS", "5000")
    reset_settings()
    with pytest.raises(ArticleError) as caught:
        process(_raw("Long An province news. " * 300), None)
    message = str(caught.value)
    assert message == "main text has 6,899 characters, over the limit of 5,000 (NEWSFLOW_MAX_TEXT_CHARS)"
    assert process(_raw("Long An province news. " * 200), None).entities.provinces[0].name == "Long An"


# --- characters no database can hold ------------------------------------------------------------------------

JSONL_WITH_NUL = (
    "\n".join(
        [
            # As the input wrote them: JSON escapes, in text, title and authors.
            '{"url": "https://longan.example.vn/tin/1", "title": "H\\u1ecdp b\\u00e0n\\u0000 \\u0111\\u1ea7u t\\u01b0",'
            ' "text": "S\\u00e1ng 4/3, UBND t\\u1ec9nh Long An h\\u1ecdp.\\u0000'
            ' Giao nhi\\u1ec7m v\\u1ee5 n\\u0103m 2025.",'
            ' "authors": ["Thanh\\u0000 M\\u1ef9"]}',
            '{"url": "https://dongthap.example.vn/tin/2", "title": "Ng\\u00e2n s\\u00e1ch \\ud800 2025",'
            ' "text": "S\\u1edf T\\u00e0i ch\\u00ednh t\\u1ec9nh \\u0110\\u1ed3ng Th\\u00e1p'
            ' h\\u1ecdp \\udfff n\\u0103m 2025."}',
            json.dumps({"url": "https://bentre.example.vn/tin/3", "title": "Hội nghị", "text": GOOD[1]}),
        ]
    )
    + "\n"
)


def test_nul_and_lone_surrogates_are_replaced_the_same_on_both_databases(db_url: str, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(JSONL_WITH_NUL, encoding="utf-8")
    raws = [item for item in runtime(Settings()).iter_sources([str(path)]) if isinstance(item, RawArticle)]
    assert len(raws) == 3 and "\x00" in raws[0].content and "\ud800" in (raws[1].title or "")
    store = Store(db_url)
    try:
        ids = store.save_raws(raws)  # the flow keeps the raw inputs first
        assert store.count_raw() == 3
        records = [process(raw, None) for raw in raws]
        assert store.save_many(list(zip(records, raws, strict=True))) == ["new", "new", "new"]
        assert store.count() == 3 and store.count_raw("processed") == 3

        first, second, clean = (store.get(r.id) for r in records)
        assert first is not None and second is not None and clean is not None
        assert first.title == "Họp bàn\ufffd đầu tư" and first.authors == ["Thanh\ufffd Mỹ"]
        assert "Long An họp.\ufffd Giao" in first.text
        assert first.pipeline.warnings[0] == (
            "3 character(s) that no database or JSON file can hold (NUL, lone "
            "surrogates) replaced by U+FFFD in content, title, authors"
        )
        assert second.title == "Ngân sách \ufffd 2025" and "họp \ufffd năm" in second.text
        assert "replaced by U+FFFD in content, title" in second.pipeline.warnings[0]
        assert [p.name for p in first.entities.provinces] == ["Long An"]
        _assert_offsets(first.text, first.entities)
        assert not any("U+FFFD" in w for w in clean.pipeline.warnings)
        # The raw inputs are kept (cleaned the same way) under the ids the run gave them: reprocessing finds them.
        stored = dict(store.iter_raw())
        assert set(stored) == set(ids) and ids == [raw_input_id(raw) for raw in raws]
        assert stored[ids[0]].content == raws[0].content.replace("\x00", "\ufffd")
        assert stored[ids[0]].authors == ["Thanh\ufffd Mỹ"]
        assert process(stored[ids[1]], None).text == second.text
        # A failure's reason is stored the same way.
        store.record_raw_failure(raws[1], "odd \x00 reason \udfff")
        state = store.raw_state(ids[1])
        assert state is not None and state.error == "odd \ufffd reason \ufffd"
    finally:
        store.close()


# --- export -------------------------------------------------------------------------------------------------


def _stored(url: str, n: int) -> list[ArticleRecord]:
    store = Store(url)
    try:
        raws = [_raw(f"{GOOD[0]} Lần {i}.", f"{i}.txt") for i in range(n)]
        records = [process(raw, None) for raw in raws]
        for record, raw in zip(records, raws, strict=True):
            store.save(record, raw)
    finally:
        store.close()
    return records


def test_export_leaves_out_a_corrupted_row_names_it_and_exits_1(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "data"
    records = _stored(f"sqlite:///{data / 'newsflow.db'}", 4)
    bad = records[1].id
    with sqlite3.connect(data / "newsflow.db") as conn:  # bytes that are not UTF-8 in the record's column
        conn.execute("UPDATE articles SET record = CAST(x'7b22fffe' AS TEXT) WHERE id = ?", (bad,))
    good = {r.id for r in records} - {bad}

    out = cli("export", "--data-dir", str(data))
    assert out.returncode == 1, out.stderr
    assert {json.loads(line)["id"] for line in out.stdout.splitlines()} == good
    lines = out.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in out.stderr
    assert lines[0].startswith(f"error: stored record {bad} skipped: cannot be read: Could not decode to UTF-8")
    assert lines[1] == "error: 1 stored record(s) could not be read and were left out (named above)"

    out = cli("export", "--data-dir", str(data), "--format", "json")
    assert out.returncode == 1 and {r["id"] for r in json.loads(out.stdout)} == good


def test_iter_records_reports_a_record_that_does_not_validate(db_url: str) -> None:
    records = _stored(db_url, 3)
    store = Store(db_url)
    try:
        with store.engine.begin() as conn:
            conn.execute(update(Article).where(Article.id == records[0].id).values(record='{"id": 5}'))
        with pytest.raises(StorageError, match="does not validate"):
            list(store.iter_records(batch=2))
        skipped: list[tuple[str, str]] = []
        ids = [r.id for r in store.iter_records(batch=2, on_error=lambda i, why: skipped.append((i, why)))]
        assert sorted(ids) == sorted(r.id for r in records[1:])
        assert [i for i, _ in skipped] == [records[0].id]
        assert skipped[0][1].startswith("does not validate: ") and "\n" not in skipped[0][1]
    finally:
        store.close()


def test_export_pages_past_corrupted_rows(tmp_path: Path) -> None:
    """Two unreadable rows in different pages, one of them the last of its page: every other row comes."""
    url = f"sqlite:///{tmp_path / 'data' / 'newsflow.db'}"
    records = _stored(url, 7)
    store = Store(url)
    try:
        order = [r.id for r in store.iter_records()]
        broken = {order[2], order[4]}  # batch=3: the last row of the first page, the second of the next
        with sqlite3.connect(tmp_path / "data" / "newsflow.db") as conn:
            for rid in broken:
                conn.execute("UPDATE articles SET record = CAST(x'ff' AS TEXT) WHERE id = ?", (rid,))
        skipped: list[str] = []
        ids = [r.id for r in store.iter_records(batch=3, on_error=lambda i, _why: skipped.append(i))]
        assert ids == [i for i in order if i not in broken] and sorted(skipped) == sorted(broken)
        assert len(records) == 7
    finally:
        store.close()


# --- the flow ----------------------------------------------------------------------------------------------


def _inputs(root: Path) -> Path:
    (root / "big").mkdir(parents=True)
    (root / "big" / "a.txt").write_text(HUGE, encoding="utf-8")
    for i, text in enumerate(GOOD):
        (root / f"good-{i}.txt").write_text(f"Tin {i}\n\n{text}\n", encoding="utf-8")
    return root


def _runs(url: str) -> list[tuple[str, dict[str, object]]]:
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(Run.status, Run.counts)).all()
    finally:
        store.close()
    return [(row.status, json.loads(row.counts or "{}")) for row in rows]


def test_cli_run_a_huge_text_beside_good_files(flow_cli: Cli, tmp_path: Path) -> None:
    src = _inputs(tmp_path / "in")
    # Under the limit (2,000,000 by default): the 1.1 MB text is processed in chunks and stored with the rest.
    data = tmp_path / "data"
    out = flow_cli("run", str(src), "--data-dir", str(data), env=OFFLINE, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "failed " not in out.stderr
    store = Store(f"sqlite:///{data / 'newsflow.db'}")
    try:
        records = list(store.iter_records())
        assert len(records) == 3
        huge = next(r for r in records if r.source.uri.endswith("a.txt"))
        assert len(huge.text) == 1_149_999
        mentions = huge.entities.provinces[0].mentions
        assert len(mentions) == 50000 and mentions[-1].start > 1_000_000
        _assert_offsets(huge.text, huge.entities)
    finally:
        store.close()
    assert _runs(f"sqlite:///{data / 'newsflow.db'}")[0][0] == "completed"

    # Over a lower limit: that article alone fails, in one line naming the limit; the good files are stored.
    data = tmp_path / "data-limited"
    out = flow_cli(
        "run", str(src), "--data-dir", str(data), env={**OFFLINE, "NEWSFLOW_MAX_TEXT_CHARS": "1000000"}, timeout=600
    )
    assert "Traceback" not in out.stderr
    failed = [line for line in out.stderr.splitlines() if line.startswith("failed ")]
    assert failed == [
        f"failed {src / 'big' / 'a.txt'}: main text has 1,149,999 characters, over the limit of "
        "1,000,000 (NEWSFLOW_MAX_TEXT_CHARS)"
    ]
    # `run` exits 1 when any input failed, as `extract` does (the failure is listed above; the two others stored).
    assert out.returncode == 1, out.stderr[-3000:]
    url = f"sqlite:///{data / 'newsflow.db'}"
    store = Store(url)
    try:
        assert sorted(r.source.uri for r in store.iter_records()) == sorted(str(p) for p in src.glob("good-*.txt"))
        assert store.count_raw("failed") == 1  # kept for `newsflow reprocess`
    finally:
        store.close()
    assert [status for status, _ in _runs(url)] == ["completed"]


def test_cli_run_on_postgresql_stores_inputs_with_nul(flow_cli: Cli, pg_url: str, tmp_path: Path) -> None:
    """The issue's case: escaped NUL in a JSON input poisoned the batch on PostgreSQL (0 of 3 stored)."""
    src = tmp_path / "in"
    src.mkdir()
    (src / "batch.jsonl").write_text(JSONL_WITH_NUL, encoding="utf-8")
    out = flow_cli(
        "run", str(src), "--data-dir", str(tmp_path / "data"), "--database-url", pg_url, env=OFFLINE, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Traceback" not in out.stderr and "failed " not in out.stderr
    store = Store(pg_url)
    try:
        assert store.count() == 3 and store.count_raw("processed") == 3
        warned = [r for r in store.iter_records() if any("U+FFFD" in w for w in r.pipeline.warnings)]
        assert len(warned) == 2
    finally:
        store.close()
    assert [status for status, _ in _runs(pg_url)] == ["completed"]


@pytest.fixture
def in_process_flow(prefect_server: str) -> Iterator[None]:
    """Flows run in this process against the session's Prefect server (for faults injected here)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

    # No logs to the API: its log worker would still be sending after the session's server stopped.
    with temporary_settings(updates={PREFECT_API_URL: prefect_server, PREFECT_LOGGING_TO_API_ENABLED: False}):
        yield None


def test_any_error_of_one_article_fails_that_article_only(
    in_process_flow: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without chunks, spaCy raises its own ValueError (E088) on the 1.1 MB text, the issue's crash: now it is
    that article's failure, in one line, and the rest of the run is stored."""
    from flows.ingest import ingest

    monkeypatch.setenv("NEWSFLOW_TRANSLATOR", "none")
    reset_settings()
    monkeypatch.setattr(engine, "CHUNK_CHARS", 10_000_000)
    src = _inputs(tmp_path / "in")
    summary = ingest(sources=[str(src)], translator="none")
    assert summary.processed == 2 and summary.new == 2
    assert [f.source for f in summary.failed] == [str(src / "big" / "a.txt")]
    reason = summary.failed[0].reason
    assert re.match(r"ValueError: \[E088\] Text of length 1149999 exceeds maximum of 1000000\.", reason), reason
    assert "\n" not in reason and len(reason) <= 500
    url = get_settings().resolved_database_url
    store = Store(url)
    try:
        assert store.count() == 2 and store.count_raw("failed") == 1
    finally:
        store.close()
    assert [status for status, _ in _runs(url)] == ["completed"]


def test_a_run_that_stops_on_an_error_is_marked_failed(
    in_process_flow: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.ingest import ingest

    def full_disk(self: Store, pairs: object) -> list[str]:
        raise StorageError(f"cannot save 2 article(s) in {self.url}: database or disk is full")

    monkeypatch.setattr(Store, "save_many", full_disk)  # not transient: the store task does not retry it
    src = _inputs(tmp_path / "in")
    (src / "big" / "a.txt").unlink()
    with pytest.raises(Exception, match="database or disk is full"):
        ingest(sources=[str(src)], translator="none")
    runs = _runs(get_settings().resolved_database_url)
    assert len(runs) == 1 and runs[0][0] == "failed"
    assert "StorageError: cannot save 2 article(s)" in str(runs[0][1]["error"])
    assert "database or disk is full" in str(runs[0][1]["error"])


def test_a_retranslate_run_that_stops_on_an_error_is_marked_failed(
    in_process_flow: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retranslate flow's run row too (the same `tracked_run`): "failed" with the reason, not "running"."""
    from flows.retranslate import retranslate

    # No provider answers (a closed port): the record stays pending, and saving it again is what fails.
    monkeypatch.setenv("NEWSFLOW_TRANSLATION_ENDPOINTS", json.dumps({"google": "http://127.0.0.1:9/"}))
    reset_settings()
    raw = RawArticle(
        source=SourceInfo(kind="file", uri="/in/pending.txt", fetched_at=datetime.now(UTC)),
        content=GOOD[0],
        media_type="text/plain",
    )
    store = Store(get_settings().resolved_database_url)
    try:
        store.save(process(raw, None, "en"), raw)
    finally:
        store.close()

    def full_disk(self: Store, record: object, raw: object) -> str:
        raise StorageError(f"cannot save a record in {self.url}: database or disk is full")

    monkeypatch.setattr(Store, "save", full_disk)
    with pytest.raises(Exception, match="database or disk is full"):
        retranslate(translator="google")
    runs = _runs(get_settings().resolved_database_url)
    assert len(runs) == 1 and runs[0][0] == "failed"
    assert "database or disk is full" in str(runs[0][1]["error"])


def test_extract_and_reprocess_fail_only_the_article_whatever_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`extract` and `reprocess` (no Prefect) treat any error of one article as that article's failure, too:
    without chunks spaCy's own E088 on the 1.1 MB text, and the other articles go on."""
    from typer.testing import CliRunner

    from newsflow.cli import app

    monkeypatch.setenv("NEWSFLOW_TRANSLATOR", "none")
    monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(tmp_path / "data"))
    reset_settings()
    monkeypatch.setattr(engine, "CHUNK_CHARS", 10_000_000)
    src = _inputs(tmp_path / "in")
    result = CliRunner().invoke(app, ["extract", str(src), "--format", "jsonl"])
    assert result.exit_code == 1, result.output
    assert len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 2
    assert re.search(r"error: .*a\.txt: ValueError: \[E088\]", result.stderr), result.stderr

    # The same raw inputs stored, then reprocessed: the big one is marked failed with the reason, the rest saved.
    store = Store(get_settings().resolved_database_url)
    try:
        items = runtime(get_settings()).iter_sources([str(src)])
        store.save_raws([item for item in items if not isinstance(item, Exception)])
    finally:
        store.close()
    result = CliRunner().invoke(app, ["reprocess", "--translator", "none"])
    assert "ValueError: [E088]" in result.stderr, result.output
    store = Store(get_settings().resolved_database_url)
    try:
        assert store.count() == 2 and store.count_raw("failed") == 1
    finally:
        store.close()
