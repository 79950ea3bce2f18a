"""newsflow.storage against real databases: every `store`/`db_url` test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import event, func, select, text, update

from newsflow.storage import Article, RawInput, RawState, Run, StorageError, Store, mask_url, raw_input_id
from schemas.models import (
    SCHEMA_VERSION,
    ArticleRecord,
    Entities,
    LanguageInfo,
    Mention,
    PipelineInfo,
    Province,
    RawArticle,
    SourceInfo,
    Theme,
    Translation,
)

if TYPE_CHECKING:
    # Only for annotations: importing it at run time, before pytest loads it as a plugin, would keep
    # pytest from rewriting its asserts.
    from conftest_storage import Clock

pytest_plugins = ["conftest_storage"]

ICT = timezone(timedelta(hours=7))  # Vietnam: sources publish local times
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
_TITLE = "UBND tỉnh Tiền Giang họp bàn kế hoạch năm 2025"
_TEXT = "Sáng 28/2, UBND tỉnh Tiền Giang tổ chức họp bàn kế hoạch phát triển kinh tế - xã hội năm 2025."


def make_raw(content: str | None = None, *, uri: str = "https://tiengiang.example.vn/a.html") -> RawArticle:
    """A valid RawArticle (HTML) fetched at T0."""
    html = content if content is not None else f"<html><h1>{_TITLE}</h1><p>{_TEXT}</p></html>"
    return RawArticle(
        source=SourceInfo(kind="url", uri=uri, fetched_at=T0, site="tiengiang.example.vn"),
        content=html,
        media_type="text/html",
        url=uri,
        title=_TITLE,
        published_at=datetime(2025, 2, 28, 9, 30, tzinfo=ICT),
        authors=["Ngọc Trâm"],
        language_hint="vi",
    )


def make_record(
    article_id: str = "tg-2025-001",
    *,
    version: str = "0.1.0",
    processed_at: datetime = T0,
    fetched_at: datetime = T0,
    **changes: Any,
) -> ArticleRecord:
    """A valid ArticleRecord with time-zone-aware datetimes; `changes` replace top-level fields."""
    start = _TEXT.index("Tiền Giang")
    fields: dict[str, Any] = {
        "id": article_id,
        "content_hash": "sha256:" + "ab" * 32,
        "source": SourceInfo(kind="url", uri=f"https://tiengiang.example.vn/{article_id}.html", fetched_at=fetched_at),
        "title": _TITLE,
        "published_at": datetime(2025, 2, 28, 9, 30, tzinfo=ICT),
        "authors": ["Ngọc Trâm"],
        "language": LanguageInfo(code="vi", confidence=0.99, detector="script"),
        "text": _TEXT,
        "translation": Translation(
            status="done",
            target="en",
            provider="none",
            text="On the morning of 28/2 the Tien Giang PPC met on its 2025 plan.",
            translated_at=T0,
        ),
        "entities": Entities(
            provinces=[
                Province(
                    id="vn-legacy-tien-giang",
                    name="Tiền Giang",
                    name_ascii="Tien Giang",
                    name_en="Tien Giang",
                    code="82",
                    scheme="legacy_63",
                    mentions=[Mention(text="Tiền Giang", start=start, end=start + len("Tiền Giang"))],
                )
            ]
        ),
        "pipeline": PipelineInfo(version=version, processed_at=processed_at),
    }
    fields.update(changes)
    return ArticleRecord(**fields)


def _row(store: Store, article_id: str) -> Any:
    with store.engine.connect() as conn:
        return conn.execute(select(Article.__table__).where(Article.id == article_id)).one()


def _raw_count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(RawInput)).scalar_one())


# --- save: new / unchanged / updated ---------------------------------------------------------------


def test_new_then_unchanged_writes_nothing(store: Store, clock: Clock) -> None:
    record = make_record("a")
    assert store.save(record, make_raw()) == "new"
    assert store.get("a") == record
    assert store.count() == 1

    clock.advance(60)
    rerun = make_record("a", processed_at=clock.now, fetched_at=clock.now)
    assert store.save(rerun, make_raw()) == "unchanged"
    # Nothing was written: the stored record still carries the first run's timestamps.
    assert store.get("a") == record
    row = _row(store, "a")
    assert row.first_seen_at == row.updated_at == clock.start


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"content_hash": "sha256:" + "cd" * 32}, id="content_hash"),
        pytest.param({"version": "0.2.0"}, id="pipeline_version"),
        pytest.param(
            {"entities": Entities(themes=[Theme(text="chuyển đổi số", text_en=None, kind="topic", mentions=[])])},
            id="entities",
        ),
        pytest.param({"translation": Translation(status="failed", target="en", error="timeout")}, id="translation"),
        pytest.param({"language": LanguageInfo(code="en", confidence=0.9, detector="langdetect")}, id="language"),
        pytest.param({"title": "Another title"}, id="title"),
    ],
)
def test_changed_record_is_updated_and_keeps_first_seen_at(store: Store, clock: Clock, changes: dict[str, Any]) -> None:
    assert store.save(make_record("a"), make_raw()) == "new"
    t1 = clock.advance(3600)
    changed = make_record("a", processed_at=t1, fetched_at=t1, **changes)

    assert store.save(changed, make_raw()) == "updated"
    assert store.get("a") == changed
    row = _row(store, "a")
    assert (row.first_seen_at, row.updated_at) == (clock.start, t1)
    assert store.count() == 1


def test_columns_hold_utc_aware_copies(store: Store) -> None:
    record = make_record("a", published_at=datetime(2025, 2, 28, 9, 30, tzinfo=ICT))
    store.save(record, make_raw())
    row = _row(store, "a")
    assert row.published_at == datetime(2025, 2, 28, 2, 30, tzinfo=UTC)
    assert row.published_at.utcoffset() == timedelta(0)
    assert (row.language, row.schema_version, row.source_uri) == ("vi", SCHEMA_VERSION, record.source.uri)
    # The JSON keeps the offset the source gave.
    loaded = store.get("a")
    assert loaded is not None and loaded.published_at is not None
    assert loaded.published_at.utcoffset() == timedelta(hours=7)


def test_naive_clock_is_refused(db_url: str) -> None:
    with Store(db_url, clock=lambda: datetime(2025, 1, 1)) as naive:  # naive on purpose
        with pytest.raises(ValueError, match="aware"):
            naive.save(make_record(), make_raw())
        assert naive.count() == 0


# --- raw inputs -------------------------------------------------------------------------------------


def test_raw_input_is_kept_once_and_retrievable(store: Store, clock: Clock) -> None:
    raw = make_raw()
    store.save(make_record("a"), raw)
    raw_id = raw_input_id(raw)
    assert store.get_raw(raw_id) == raw
    assert _row(store, "a").raw_id == raw_id

    clock.advance()
    store.save(make_record("b"), raw)  # same content from another article: stored once
    clock.advance()
    other = make_raw("<html><p>Bài khác về tỉnh Bến Tre</p></html>", uri="https://bentre.example.vn/x")
    store.save(make_record("c"), other)
    assert _raw_count(store) == 2
    assert list(store.iter_raw(batch=1)) == [(raw_id, raw), (raw_input_id(other), other)]

    # An unchanged article still keeps a raw input it had not seen.
    clock.advance()
    again = make_raw("<html><p>Trang khác, cùng nội dung</p></html>")
    assert store.save(make_record("a"), again) == "unchanged"
    assert store.get_raw(raw_input_id(again)) == again


def test_missing_ids_give_none(store: Store) -> None:
    assert store.get("nope") is None
    assert store.get_raw("0" * 64) is None
    assert list(store.iter_records()) == []
    assert list(store.iter_raw()) == []
    assert store.count() == 0


# --- iteration --------------------------------------------------------------------------------------


def test_iter_records_order_and_since(store: Store, clock: Clock) -> None:
    for article_id in ("c", "a", "e"):  # same updated_at: ordered by id
        store.save(make_record(article_id), make_raw())
    t1 = clock.advance()
    store.save(make_record("b"), make_raw())
    t2 = clock.advance()
    store.save(make_record("d"), make_raw())
    t3 = clock.advance()
    store.save(make_record("a", version="0.2.0"), make_raw())  # an update moves "a" to the end

    def ids(**kwargs: Any) -> list[str]:
        return [r.id for r in store.iter_records(**kwargs)]

    assert ids() == ["c", "e", "b", "d", "a"]
    assert ids(since=t1) == ["b", "d", "a"]  # inclusive
    assert ids(since=t1 + timedelta(milliseconds=1)) == ["d", "a"]
    assert ids(since=t2.astimezone(ICT)) == ["d", "a"]  # the instant counts, not the offset
    assert ids(since=t3 + timedelta(seconds=1)) == []
    with pytest.raises(ValueError, match="aware"):
        next(store.iter_records(since=datetime(2025, 1, 1)))  # naive
    with pytest.raises(ValueError, match="batch"):
        next(store.iter_records(batch=0))


def test_iter_records_streams_in_batches(store: Store, clock: Clock) -> None:
    expected = []
    for i in range(7):
        clock.advance(1 if i % 2 else 0)  # some ties, so pages split inside an updated_at value
        record = make_record(f"art-{6 - i}")
        store.save(record, make_raw())
        expected.append(record)
    expected.sort(key=lambda r: (_row(store, r.id).updated_at, r.id))

    selects: list[str] = []

    def count_selects(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "articles" in statement:
            selects.append(statement)

    event.listen(store.engine, "before_cursor_execute", count_selects)
    try:
        records = store.iter_records(batch=2)
        first = next(records)
        # One page read, and no connection held while the caller works on it.
        assert len(selects) == 1
        assert store.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        rest = list(records)
    finally:
        event.remove(store.engine, "before_cursor_execute", count_selects)
    assert [first, *rest] == expected
    assert len(selects) == 4  # 2 + 2 + 2 + 1
    assert all("LIMIT" in s.upper() for s in selects)


def test_old_schema_version_still_loads(store: Store) -> None:
    old = make_record("old", schema_version="0.9.0")
    assert store.save(old, make_raw()) == "new"
    assert store.get("old") == old
    assert [r.schema_version for r in store.iter_records()] == ["0.9.0"]


def test_invalid_stored_json_raises_storage_error(store: Store) -> None:
    store.save(make_record("a"), make_raw())
    with store.engine.begin() as conn:
        conn.execute(update(Article).where(Article.id == "a").values(record='{"id": "a"}'))
    with pytest.raises(StorageError, match=r"stored article a .* does not validate"):
        store.get("a")


# --- runs -------------------------------------------------------------------------------------------


def test_runs(store: Store, clock: Clock) -> None:
    run_id = str(uuid.uuid4())
    store.start_run(run_id)
    started = store.get_run(run_id)
    assert started is not None
    assert (started.status, started.started_at, started.finished_at) == ("running", clock.start, None)

    t1 = clock.advance(90)
    store.finish_run(run_id.upper(), "succeeded", {"new": 3, "unchanged": 1}, "/out/runs/x.jsonl")
    done = store.get_run(run_id)
    assert done is not None
    assert (done.status, done.finished_at, done.counts, done.output) == (
        "succeeded",
        t1,
        {"new": 3, "unchanged": 1},
        "/out/runs/x.jsonl",
    )

    with pytest.raises(StorageError, match="already exists"):
        store.start_run(run_id)
    with pytest.raises(StorageError, match="never started"):
        store.finish_run(str(uuid.uuid4()), "failed", {}, None)
    with pytest.raises(ValueError, match="UUID"):
        store.start_run("run-1")
    assert store.get_run(str(uuid.uuid4())) is None


def _dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=60)
    return proc.pid


def _put_run(store: Store, run_id: str, *, pid: int | None, host: str | None) -> None:
    with store.engine.begin() as conn:
        conn.execute(Run.__table__.insert().values(id=run_id, started_at=T0, status="running", pid=pid, host=host))


def test_runs_record_their_process(store: Store) -> None:
    run_id = str(uuid.uuid4())
    store.start_run(run_id)
    run = store.get_run(run_id)
    assert run is not None and (run.pid, run.host) == (os.getpid(), socket.gethostname())


def test_a_killed_runs_row_becomes_interrupted(store: Store) -> None:
    here = socket.gethostname()
    dead, live, elsewhere, legacy, own = (str(uuid.uuid4()) for _ in range(5))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _put_run(store, dead, pid=_dead_pid(), host=here)
        _put_run(store, live, pid=sleeper.pid, host=here)
        _put_run(store, elsewhere, pid=_dead_pid(), host=here + "-other")  # cannot be checked from here
        _put_run(store, legacy, pid=None, host=None)  # stored before runs kept their process
        _put_run(store, own, pid=os.getpid(), host=here)
        store.start_run(str(uuid.uuid4()))  # a new run looks for dead ones
        status = {r: store.get_run(r).status for r in (dead, live, elsewhere, legacy, own)}  # type: ignore[union-attr]
        assert status == {
            dead: "interrupted",
            live: "running",
            elsewhere: "running",
            legacy: "running",
            own: "running",
        }
        # Once the live one is killed, the next start marks it too.
        sleeper.kill()
        sleeper.wait(timeout=60)
        assert store.mark_interrupted_runs() == [live]
        assert store.get_run(live).status == "interrupted"  # type: ignore[union-attr]
    finally:
        sleeper.kill()
        sleeper.wait(timeout=60)


def test_a_killed_but_unreaped_process_counts_as_gone(store: Store) -> None:
    """A zombie (killed, its parent has not waited yet) still answers kill(pid, 0)."""
    zombie = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    run_id = str(uuid.uuid4())
    try:
        _put_run(store, run_id, pid=zombie.pid, host=socket.gethostname())
        os.kill(zombie.pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not become a zombie"
            time.sleep(0.01)
        assert store.mark_interrupted_runs() == [run_id]
    finally:
        zombie.wait(timeout=60)


# --- raw inputs kept before processing -------------------------------------------------------------------


def test_save_raw_is_idempotent_and_pending(store: Store, clock: Clock) -> None:
    raw = make_raw()
    raw_id = store.save_raw(raw)
    assert raw_id == raw_input_id(raw)
    assert store.raw_state(raw_id) == RawState(raw_id, "pending", None)
    clock.advance()
    assert store.save_raw(raw) == raw_id  # again: nothing changes
    assert _raw_count(store) == 1
    with store.engine.connect() as conn:
        assert conn.execute(select(RawInput.received_at)).scalar_one() == clock.start
    assert store.get_raw(raw_id) == raw
    assert store.save_raws([]) == []
    other = make_raw("<html><p>Tin khác về tỉnh Cà Mau</p></html>", uri="https://camau.example.vn/b")
    assert store.save_raws([raw, other, other]) == [raw_id, raw_input_id(other), raw_input_id(other)]
    assert store.count_raw() == 2 and store.count_raw("pending") == 2
    assert store.count() == 0  # no record yet


def test_failed_raw_inputs_stay_for_reprocessing(store: Store, clock: Clock) -> None:
    ok, bad, never = (
        make_raw(f"<html><p>Bài {n} về tỉnh Hậu Giang</p></html>", uri=f"https://haugiang.example.vn/{n}")
        for n in (1, 2, 3)
    )
    ids = store.save_raws([ok, bad, never])
    clock.advance()
    assert store.save(make_record("hg-1"), ok) == "new"
    store.record_raw_failure(bad, "no article text found")
    assert [store.raw_state(i).status for i in ids] == ["processed", "failed", "pending"]  # type: ignore[union-attr]
    assert store.raw_state(ids[1]).error == "no article text found"  # type: ignore[union-attr]
    # Everything is there to reprocess; the retry set is what made no record.
    assert [i for i, _ in store.iter_raw()] == sorted(ids)  # received together: in id order
    retry = dict(store.iter_raw(status=("failed", "pending"), batch=1))
    assert retry == {ids[1]: bad, ids[2]: never}
    # A retry that works marks it processed and clears the reason.
    clock.advance()
    store.save(make_record("hg-2"), bad)
    assert store.raw_state(ids[1]) == RawState(ids[1], "processed", None)
    # A failure of a raw input never saved before stores it.
    lone = make_raw("<html></html>", uri="https://haugiang.example.vn/empty")
    lone_id = store.record_raw_failure(lone, "empty page")
    assert store.get_raw(lone_id) == lone and store.count_raw("failed") == 1
    # save() of a raw input it has not seen stores it as processed.
    fresh = make_raw("<html><p>Bài 9</p></html>", uri="https://haugiang.example.vn/9")
    store.save(make_record("hg-9"), fresh)
    assert store.raw_state(raw_input_id(fresh)).status == "processed"  # type: ignore[union-attr]
    assert store.raw_state("0" * 64) is None


# --- opening ----------------------------------------------------------------------------------------


def test_reopen_keeps_data_and_schema(db_url: str) -> None:
    with Store(db_url) as first:
        first.save(make_record("a"), make_raw())
    with Store(db_url) as second:  # create_schema() again is a no-op
        assert second.get("a") == make_record("a")
        assert second.save(make_record("a"), make_raw()) == "unchanged"


def test_sqlite_file_settings(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "newsflow.db"
    with Store(f"sqlite:///{db}") as store, store.engine.connect() as conn:
        assert db.parent.is_dir()
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_sqlite_new_database_opened_by_many_threads_at_once(tmp_path: Path) -> None:
    """Parallel tasks on a first run: switching a new file to WAL races (SQLite answers "locked"
    without waiting). A real race, so a regression shows up often rather than every time."""
    failures: list[str] = []
    for attempt in range(30):
        url = f"sqlite:///{tmp_path / str(attempt) / 'newsflow.db'}"
        start = threading.Barrier(8)

        def open_store(url: str = url, start: threading.Barrier = start) -> None:
            start.wait(timeout=30)
            try:
                with Store(url) as store:
                    store.count()
            except StorageError as exc:
                failures.append(str(exc))

        threads = [threading.Thread(target=open_store) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert failures == []


def test_bare_postgresql_url_uses_psycopg(pg_url: str) -> None:
    bare = pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with Store(bare) as store:
        assert store.engine.url.drivername == "postgresql+psycopg"
        assert store.count() == 0


def test_unreachable_postgresql_names_masked_url() -> None:
    url = "postgresql+psycopg://newsflow:s3cret@127.0.0.1:1/news"
    with pytest.raises(StorageError) as info:
        Store(url)
    message = str(info.value)
    assert message.startswith("cannot open database postgresql+psycopg://newsflow:***@127.0.0.1:1/news: ")
    assert "refused" in message.lower()
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a database url", "invalid database URL"),
        ("postgresql+nosuchdriver://u:s3cret@db.example/news", "Can't load plugin"),
        ("mysql://u:s3cret@db.example/news", "unsupported database 'mysql'"),
    ],
)
def test_bad_url_raises_storage_error(url: str, reason: str) -> None:
    with pytest.raises(StorageError) as info:
        Store(url)
    message = str(info.value)
    assert message.startswith(f"cannot open database {mask_url(url)}: ")
    assert reason in message
    assert "s3cret" not in message


def test_sqlite_path_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    url = f"sqlite:///{tmp_path / 'file' / 'sub' / 'newsflow.db'}"
    with pytest.raises(StorageError, match=r"cannot open database sqlite:///.*: cannot create directory"):
        Store(url)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://u:p%40ss@h:5432/db", "postgresql+psycopg://u:***@h:5432/db"),
        (
            "postgresql://u@h/db?password=s3cret&sslmode=require",
            "postgresql://u@h/db?password=***&sslmode=require",
        ),
        ("garbage://u:s3cret@h/ db", "garbage://u:***@h/ db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


# --- concurrency ------------------------------------------------------------------------------------

_IDS = [f"art-{i:02d}" for i in range(20)]


def _save_all(url: str, worker: int, start: Any, results: Any) -> None:
    """Save every id of _IDS; odd ids differ per worker (updates), even ids are identical."""
    try:
        with Store(url) as store:
            start.wait(timeout=60)
            statuses = {}
            for article_id in _IDS:
                version = f"0.1.{worker}" if int(article_id[-2:]) % 2 else "0.1.0"
                raw = make_raw(f"<html><p>{article_id}</p></html>")
                statuses[article_id] = store.save(make_record(article_id, version=version), raw)
        results.put((worker, statuses))
    except BaseException as exc:  # report to the parent rather than dying silently
        results.put((worker, repr(exc)))


def _check_concurrent_outcome(url: str, outcomes: list[tuple[int, Any]], workers: int) -> None:
    assert len(outcomes) == workers
    errors = [o for _, o in outcomes if not isinstance(o, dict)]
    assert errors == []
    for article_id in _IDS:
        statuses = sorted(o[article_id] for _, o in outcomes)
        assert statuses.count("new") == 1, (article_id, statuses)
        if int(article_id[-2:]) % 2 == 0:  # identical records: everyone after the first sees no change
            assert statuses.count("unchanged") == workers - 1
    with Store(url) as store:
        assert store.count() == len(_IDS)
        assert {r.id for r in store.iter_records(batch=7)} == set(_IDS)
        assert _raw_count(store) == len(_IDS)


def test_concurrent_saves_threads(db_url: str) -> None:
    workers = 4
    start = threading.Barrier(workers)
    results: queue.Queue[tuple[int, Any]] = queue.Queue()
    threads = [threading.Thread(target=_save_all, args=(db_url, w, start, results)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    _check_concurrent_outcome(db_url, [results.get_nowait() for _ in range(results.qsize())], workers)


def test_concurrent_saves_processes(db_url: str) -> None:
    workers = 3
    ctx = multiprocessing.get_context("spawn")  # no inherited engine or sqlite handles
    start = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [ctx.Process(target=_save_all, args=(db_url, w, start, results)) for w in range(workers)]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    _check_concurrent_outcome(db_url, outcomes, workers)


def test_save_many_reports_each_article_in_input_order(store: Store, clock: Clock) -> None:
    """A batch in one transaction gives the same statuses `save` would, in the order given."""
    pairs = [(make_record(f"b-{n}"), make_raw(f"<p>{n}</p>", uri=f"https://x.example.vn/{n}")) for n in (3, 1, 2)]
    assert store.save_many(pairs) == ["new", "new", "new"]
    assert store.count() == 3 and store.count_raw() == 3
    clock.advance()
    changed = make_record("b-1", title="Tiêu đề mới")
    again = [pairs[0], (changed, pairs[1][1]), pairs[2]]
    assert store.save_many(again) == ["unchanged", "updated", "unchanged"]
    stored = store.get("b-1")
    assert stored is not None and stored.title == "Tiêu đề mới"
    assert store.save_many([]) == []


def _rows_of(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with store.engine.connect() as conn:
        articles = [tuple(r) for r in conn.execute(select(Article.__table__).order_by(Article.id))]
        raws = [tuple(r) for r in conn.execute(select(RawInput.__table__).order_by(RawInput.id))]
    return articles, raws


def test_save_many_writes_the_rows_save_writes(tmp_path: Path, clock: Clock) -> None:
    """A batch (SQLite: one statement per kind of write) leaves the rows and statuses that `save`, article by
    article in id order, leaves: the same id twice in a batch (new, then updated or unchanged), an article stored
    before (unchanged, updated), a raw input kept "pending" earlier (now "processed"). SQLite only: on PostgreSQL
    `save_many` runs `save`'s own code article by article."""
    first = [(make_record(f"e-{n}"), make_raw(f"<p>e{n}</p>", uri=f"https://x.example.vn/e{n}")) for n in (1, 2, 3)]
    pending = make_raw("<p>e5</p>", uri="https://x.example.vn/e5")
    second = [
        (make_record("e-4"), make_raw("<p>e4</p>", uri="https://x.example.vn/e4")),
        (make_record("e-2", title="Tiêu đề mới"), first[1][1]),  # updated
        first[0],  # unchanged
        (make_record("e-4", title="Lần hai"), make_raw("<p>e4</p>", uri="https://x.example.vn/e4")),  # new, updated
        (make_record("e-6"), make_raw("<p>e6</p>", uri="https://x.example.vn/e6")),
        (make_record("e-6"), make_raw("<p>e6</p>", uri="https://x.example.vn/e6")),  # new, then unchanged
        (make_record("e-5"), pending),
    ]
    batched = Store(f"sqlite:///{tmp_path / 'batched' / 'newsflow.db'}", clock=clock)
    one_by_one = Store(f"sqlite:///{tmp_path / 'one-by-one' / 'newsflow.db'}", clock=clock)
    try:
        statuses = []
        for target in (batched, one_by_one):
            target.save_raws([pending])
        assert batched.save_many(first) == ["new", "new", "new"]
        assert [one_by_one.save(r, raw) for r, raw in first] == ["new", "new", "new"]
        clock.advance()
        statuses.append(batched.save_many(second))
        order = sorted(range(len(second)), key=lambda i: second[i][0].id)
        by_one: list[str] = [""] * len(second)
        for i in order:
            by_one[i] = one_by_one.save(*second[i])
        statuses.append(by_one)
        assert statuses[0] == statuses[1] == ["new", "updated", "unchanged", "updated", "new", "unchanged", "new"]
        assert _rows_of(batched) == _rows_of(one_by_one)
        assert batched.raw_state(raw_input_id(pending)) == RawState(raw_input_id(pending), "processed", None)
    finally:
        batched.close()
        one_by_one.close()


def test_save_many_keeps_nothing_of_a_failed_batch(store: Store) -> None:
    """One bad article rolls back its whole batch: nothing half-stored, and a retry stores it all."""
    good = (make_record("c-1"), make_raw("<p>c1</p>", uri="https://x.example.vn/c1"))
    bad_record = make_record("c-2")
    object.__setattr__(bad_record, "title", object())  # not serialisable: fails inside the transaction
    with pytest.raises(Exception):  # noqa: B017 - the serialiser's own error type
        store.save_many([good, (bad_record, make_raw("<p>c2</p>", uri="https://x.example.vn/c2"))])
    assert store.count() == 0
    assert store.save_many([good]) == ["new"]
