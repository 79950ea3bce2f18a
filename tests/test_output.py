"""newsflow.output: files appear complete under their final name or not at all."""

from __future__ import annotations

import errno
import json
import os
import signal
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pydantic_core import PydanticSerializationError

from newsflow import output
from newsflow.output import RunWriter, atomic_write_text, record_json_line, write_record, write_records
from schemas.models import ArticleRecord, Entities, LanguageInfo, PipelineInfo, SourceInfo, Translation

ICT = timezone(timedelta(hours=7))
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


def make_record(article_id: str = "tg-2025-001", **changes: Any) -> ArticleRecord:
    """A valid ArticleRecord with time-zone-aware datetimes; `changes` replace top-level fields."""
    fields: dict[str, Any] = {
        "id": article_id,
        "content_hash": "sha256:" + "ab" * 32,
        "source": SourceInfo(kind="url", uri=f"https://tiengiang.example.vn/{article_id}.html", fetched_at=T0),
        "title": "UBND tỉnh Tiền Giang họp bàn kế hoạch năm 2025",
        "published_at": datetime(2025, 2, 28, 9, 30, tzinfo=ICT),
        "authors": ["Ngọc Trâm"],
        "language": LanguageInfo(code="vi", confidence=0.99, detector="script"),
        "text": "Sáng 28/2, UBND tỉnh Tiền Giang họp bàn kế hoạch năm 2025.\n\nNgọc Trâm",
        "translation": Translation(status="not_needed", target="vi"),
        "entities": Entities(),
        "pipeline": PipelineInfo(version="0.1.0", processed_at=T0, warnings=["short text"]),
    }
    fields.update(changes)
    return ArticleRecord(**fields)


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- write_record -----------------------------------------------------------------------------------


def test_write_record_is_pretty_utf8_json_that_round_trips(tmp_path: Path) -> None:
    record = make_record()
    path = write_record(tmp_path / "out", record)

    assert path == tmp_path / "out" / "records" / "tg-2025-001.json"
    written = path.read_text(encoding="utf-8")
    assert written.startswith('{\n  "id": "tg-2025-001",')
    assert "Tiền Giang" in written  # not \u escapes
    assert written.endswith("}\n")
    assert ArticleRecord.model_validate_json(written) == record
    assert json.loads(written) == record.model_dump(mode="json")
    assert _names(path.parent) == ["tg-2025-001.json"]  # no temporary file left


def test_write_record_replaces_previous_version(tmp_path: Path) -> None:
    write_record(tmp_path, make_record(title="old"))
    path = write_record(tmp_path, make_record(title="new"))
    assert ArticleRecord.model_validate_json(path.read_text(encoding="utf-8")).title == "new"
    assert _names(path.parent) == ["tg-2025-001.json"]


def test_write_record_serialisation_error_keeps_old_file(tmp_path: Path) -> None:
    path = write_record(tmp_path, make_record())
    before = path.read_bytes()
    # model_copy does not validate, so this record carries a value JSON cannot represent.
    broken = make_record().model_copy(update={"title": object()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydantic warns about the unexpected type before failing
        with pytest.raises(PydanticSerializationError):
            write_record(tmp_path, broken)
    assert path.read_bytes() == before
    assert _names(path.parent) == ["tg-2025-001.json"]


@pytest.mark.parametrize("bad_id", ["../escape", "a/b", "a\\b", ".hidden", ""])
def test_write_record_refuses_ids_that_are_not_file_names(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(ValueError, match="file name"):
        write_record(tmp_path, make_record(bad_id))
    assert not (tmp_path / "escape.json").exists()


def test_write_record_text_is_what_json_dumps_writes(tmp_path: Path) -> None:
    """Downstream readers diff these files: pydantic's serialiser must keep the text json.dumps gave."""
    record = make_record(text='Dòng một\u2028dòng hai "trích" \\ \x1f', authors=[], published_at=None)
    expected = json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    assert write_record(tmp_path, record).read_text(encoding="utf-8") == expected
    line = record_json_line(record)
    assert json.loads(line) == record.model_dump(mode="json")
    assert "\u2028" not in line and line.endswith("}\n") and line.count("\n") == 1


def test_write_records_writes_a_batch_and_fsyncs_the_directory_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[Path] = []
    real = output._fsync_dir
    monkeypatch.setattr(output, "_fsync_dir", lambda d: (synced.append(Path(d)), real(d)))
    records = [make_record(f"r-{i}", title=f"title {i}") for i in range(5)]
    for workers in (1, 3):
        synced.clear()
        paths = write_records(tmp_path, records, workers=workers)
        assert paths == [tmp_path / "records" / f"r-{i}.json" for i in range(5)]
        for record, path in zip(records, paths, strict=True):
            assert isinstance(path, Path)
            assert (
                path.read_text(encoding="utf-8")
                == json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
            )
        assert synced == [tmp_path / "records"]  # once per batch, not once per file
        assert _names(tmp_path / "records") == [f"r-{i}.json" for i in range(5)]
    assert write_records(tmp_path, []) == []


def test_write_records_reports_the_file_that_failed_and_writes_the_others(tmp_path: Path) -> None:
    (tmp_path / "records" / "r-1.json").mkdir(parents=True)  # a directory where r-1's file should go
    results = write_records(tmp_path, [make_record(f"r-{i}") for i in range(3)], workers=2)
    assert isinstance(results[0], Path) and isinstance(results[2], Path)
    assert isinstance(results[1], OSError) and "r-1.json" in str(results[1])
    assert _names(tmp_path / "records") == ["r-0.json", "r-1.json", "r-2.json"]  # no temporary file left
    assert (tmp_path / "records" / "r-1.json").is_dir()


def test_write_records_when_the_directory_cannot_be_made_fails_every_file(tmp_path: Path) -> None:
    (tmp_path / "records").write_text("not a directory")
    results = write_records(tmp_path, [make_record("a"), make_record("b")])
    assert len(results) == 2 and all(isinstance(r, OSError) for r in results)
    assert (tmp_path / "records").read_text() == "not a directory"


def test_write_records_refuses_a_bad_id_before_writing_anything(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file name"):
        write_records(tmp_path, [make_record("fine"), make_record("../escape")])
    assert not (tmp_path / "records").exists()


# --- atomic_write_text ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="needs POSIX RLIMIT_FSIZE")
def test_atomic_write_failing_midway_keeps_old_file(tmp_path: Path) -> None:
    """A write that really fails after 64 KiB (file size limit: EFBIG) leaves the old file as it was."""
    import resource

    target = tmp_path / "report.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    limit = 64 * 1024
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        with pytest.raises(OSError) as info:
            atomic_write_text(target, "x" * (16 * limit))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)

    assert info.value.errno == errno.EFBIG
    assert str(target) in str(info.value)  # the final name, not the temporary one
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert _names(tmp_path) == ["report.json"]


def test_atomic_write_unencodable_text_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(UnicodeEncodeError) as info:
        atomic_write_text(target, "new text with a lone surrogate \ud800")
    assert any(str(target) in note for note in getattr(info.value, "__notes__", []))
    assert target.read_text(encoding="utf-8") == "old"
    assert _names(tmp_path) == ["report.json"]


def test_atomic_write_failing_rename_removes_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # os.replace cannot put a file over a directory
    with pytest.raises(IsADirectoryError) as info:
        atomic_write_text(target, "text")
    assert str(target) in str(info.value)
    assert _names(tmp_path) == ["taken"]
    assert _names(target) == []


def test_atomic_write_into_missing_directory_names_the_path(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.json"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write_text(target, "text")
    assert str(target) in str(info.value)
    assert _names(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_atomic_write_creates_files_with_umask_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "Tiền Giang\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "a.txt").read_bytes() == "Tiền Giang\n".encode()


# --- RunWriter --------------------------------------------------------------------------------------


def test_run_writer_publishes_jsonl_on_success(tmp_path: Path) -> None:
    records = [
        make_record("a"),
        make_record("b", text="Dòng một\u2028dòng hai\nvà dòng ba"),  # line separators inside text
        make_record("c", title=None, published_at=None),
    ]
    with RunWriter(tmp_path, "run-1") as writer:
        for record in records:
            writer.add(record)
        assert not writer.path.exists()  # nothing under the final name before the end

    assert writer.path == tmp_path / "runs" / "run-1.jsonl"
    assert writer.count == 3
    content = writer.path.read_text(encoding="utf-8")
    lines = content.splitlines()  # splitlines() also splits on U+2028: it must not occur raw
    assert len(lines) == 3
    assert [ArticleRecord.model_validate_json(line) for line in lines] == records
    assert "Tiền Giang" in content  # ensure_ascii=False
    assert _names(tmp_path / "runs") == ["run-1.jsonl"]


def test_run_writer_leaves_nothing_when_the_block_raises(tmp_path: Path) -> None:
    partial = tmp_path / "runs" / ".run-2.jsonl.partial"
    with pytest.raises(RuntimeError, match="extraction failed"), RunWriter(tmp_path, "run-2") as writer:
        writer.add(make_record("a"))
        assert partial.exists()
        raise RuntimeError("extraction failed")
    assert not writer.path.exists()
    assert _names(tmp_path / "runs") == []


def test_run_writer_overwrites_a_stale_partial_file(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / ".run-3.jsonl.partial").write_text("half a line from a crashed run", encoding="utf-8")
    with RunWriter(tmp_path, "run-3") as writer:
        writer.add(make_record("a"))
    assert writer.path.read_text(encoding="utf-8").count("\n") == 1
    assert _names(runs) == ["run-3.jsonl"]


def test_run_writer_empty_run_still_publishes(tmp_path: Path) -> None:
    with RunWriter(tmp_path, "run-4") as writer:
        pass
    assert writer.path.read_bytes() == b""


def test_run_writer_add_outside_block(tmp_path: Path) -> None:
    writer = RunWriter(tmp_path, "run-5")
    with pytest.raises(RuntimeError, match="outside"):
        writer.add(make_record())
    with writer:
        writer.add(make_record())
    with pytest.raises(RuntimeError, match="outside"):
        writer.add(make_record())
