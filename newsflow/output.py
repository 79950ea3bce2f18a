"""JSON output files, written so a reader never sees a half-written file under its final name.

Every file is written to a temporary name in the same directory (same file system, so the rename is
atomic), flushed and fsynced, then renamed over the final name; the directory is fsynced so the rename
itself survives a crash (once per batch for `write_records`).

Records are serialised by pydantic's own JSON serialiser (`model_dump_json`): the same text as
`json.dumps(record.model_dump(mode="json"), indent=2, ensure_ascii=False)`, at about a quarter of the cost.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import IO

from schemas.models import ArticleRecord

__all__ = ["RunWriter", "atomic_write_text", "record_json_line", "write_record", "write_records"]


def _fsync_dir(directory: Path) -> None:
    """Persist a rename in `directory` (POSIX only: Windows cannot open a directory for fsync)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _name_path(exc: BaseException, path: Path) -> None:
    """Make `exc` name the final path (not the temporary one) before it is re-raised."""
    if isinstance(exc, OSError) and exc.errno is not None and exc.filename2 is None:
        # OSError's message shows `filename`: "[Errno 27] File too large: '<path>'". (With filename2
        # set, as from os.replace, the message already names both the temporary and the final path.)
        exc.filename = str(path)
    else:
        exc.add_note(f"while writing {path} (the file was left as it was)")


def _discard(path: Path) -> None:
    # The original error matters more than a leftover temporary file.
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str, *, sync_dir: bool = True) -> None:
    """Replace `path` with `text` (UTF-8) atomically: readers see the old file or the new one.

    On error the temporary file is removed, `path` is left as it was, and the error is re-raised
    naming `path`. `sync_dir=False` leaves fsyncing the directory (which makes the rename durable)
    to the caller, who writes several files and fsyncs it once.
    """
    path = Path(path)
    # A unique, hidden name; O_EXCL so we never write into someone else's file, and mode 0o666
    # so the umask applies as for an ordinary open() (mkstemp would make the output 0600).
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        data = text.encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        if sync_dir:
            _fsync_dir(path.parent)
    except BaseException as exc:
        _discard(tmp)
        _name_path(exc, path)
        raise


def _safe_name(record_id: str) -> str:
    # Ids come from data: refuse anything that would leave records/ or hide the file.
    if not record_id or record_id.startswith(".") or any(c in record_id for c in "/\\\0"):
        raise ValueError(f"record id {record_id!r} cannot be used as a file name")
    return record_id


def _records_dir(out_dir: Path) -> Path:
    return Path(out_dir) / "records"


def _record_path(out_dir: Path, record: ArticleRecord) -> Path:
    return _records_dir(out_dir) / f"{_safe_name(record.id)}.json"


def _pretty(record: ArticleRecord) -> str:
    return record.model_dump_json(indent=2) + "\n"


def write_record(out_dir: Path, record: ArticleRecord) -> Path:
    """Write `record` to `out_dir/records/<id>.json` (pretty, UTF-8) atomically; return the path."""
    path = _record_path(out_dir, record)
    text = _pretty(record)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return path


def write_records(out_dir: Path, records: Sequence[ArticleRecord], *, workers: int = 1) -> list[Path | OSError]:
    """`write_record` for a batch: each file replaced atomically, the directory fsynced once at the end.

    Returns, in input order, the path written or the OSError (disk full...) that kept that one file from
    being written; the other files are written all the same. With `workers` > 1 the files are written by
    that many threads, so their fsyncs overlap. Every rename is durable when this returns.
    """
    directory = _records_dir(out_dir)
    # Ids are checked and texts serialised before any file is touched: a record that cannot be written
    # as JSON is a bug, not a full disk, and raises here.
    jobs = [(_record_path(out_dir, record), _pretty(record)) for record in records]
    if not jobs:
        return []
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return [exc] * len(jobs)

    def write(job: tuple[Path, str]) -> Path | OSError:
        try:
            atomic_write_text(job[0], job[1], sync_dir=False)
        except OSError as exc:
            return exc
        return job[0]

    if workers > 1 and len(jobs) > 1:
        with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="newsflow-json") as pool:
            results = list(pool.map(write, jobs))
    else:
        results = [write(job) for job in jobs]
    if any(isinstance(result, Path) for result in results):
        # One fsync for the batch: per file it was a third of the writing's system calls, and each system
        # call hands the GIL to the thread processing the next batch and back.
        try:
            _fsync_dir(directory)
        except OSError as exc:  # the renames may not survive a crash: say so for every file
            return [exc] * len(jobs)
    return results


def record_json_line(record: ArticleRecord) -> str:
    """`record` as one JSON Lines line (with its newline)."""
    line = record.model_dump_json()
    # Raw U+2028/U+2029 are valid JSON but line breaks to str.splitlines() and many JSONL readers;
    # they can only occur inside strings, where the escaped form means the same.
    return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def partial_files(out_dir: Path) -> list[Path]:
    """Every `.<run-id>.jsonl.partial` under `out_dir/runs` (none when the directory cannot be read)."""
    try:
        return list((Path(out_dir) / "runs").glob(".*.jsonl.partial"))
    except OSError:
        return []


def stale_among(paths: Collection[Path], running: Collection[str]) -> list[Path]:
    """The partial run files of `paths` whose run is not `running`: files killed runs left half-written.

    A lost machine's run is never renamed into place; its partial file would stay for good otherwise. Files of
    runs still running (here or on another machine sharing the directory) are left alone.
    """
    alive = {r.lower() for r in running}
    return [p for p in paths if p.name[1:].removesuffix(".jsonl.partial").lower() not in alive]


class RunWriter:
    """Collects a run's records into `out_dir/runs/<run_id>.jsonl`, which appears only on success.

    Records are appended to `.<run_id>.jsonl.partial` next to it; a clean exit from the `with` block
    fsyncs it and renames it to the final name, an exception removes it. A file `.<run_id>.jsonl.partial`
    left by a killed run is never read (a rerun has a new run id).
    """

    def __init__(self, out_dir: Path, run_id: str, *, strict: bool = True) -> None:
        """`strict=False`: a write error (disk full) does not raise; the file is dropped, later records are
        ignored and `error` says why, so the caller can report it and finish the run."""
        directory = Path(out_dir) / "runs"
        self._path = directory / f"{_safe_name(run_id)}.jsonl"
        self._partial = directory / f".{self._path.name}.partial"
        self._fh: IO[bytes] | None = None
        self._lock = threading.Lock()  # Prefect may hand records over from several task threads
        self._strict = strict
        self.count = 0
        self.error: str | None = None

    @property
    def path(self) -> Path:
        """The final path (which exists only after a successful exit)."""
        return self._path

    def __enter__(self) -> RunWriter:
        self.count = 0
        self.error = None
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # "wb" truncates a partial file left by a crashed run with the same id.
            self._fh = open(self._partial, "wb")  # closed in __exit__
        except OSError as exc:
            if self._strict:
                raise
            self._failed(exc)
        return self

    def _failed(self, exc: OSError) -> None:
        """Give up on the file after a write error (non-strict): drop the partial file, keep the reason."""
        fh, self._fh = self._fh, None
        if fh is not None:
            with contextlib.suppress(OSError):
                fh.close()
        _discard(self._partial)
        if self.error is None:
            self.error = f"cannot write {self._path}: {exc.strerror or exc}"

    def add(self, record: ArticleRecord) -> None:
        """Append one record (one JSON object per line)."""
        line = record_json_line(record).encode("utf-8")
        with self._lock:
            if self._fh is None:
                if self.error is not None:
                    return  # non-strict and already failed: the run goes on without its JSONL
                raise RuntimeError("RunWriter.add() called outside its `with` block")
            try:
                self._fh.write(line)
            except OSError as exc:
                if self._strict:
                    raise
                self._failed(exc)
                return
            self.count += 1

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        with self._lock:
            fh, self._fh = self._fh, None
        if fh is None:
            return
        if exc_type is not None:
            fh.close()
            _discard(self._partial)
            return
        try:
            with fh:
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(self._partial, self._path)
            _fsync_dir(self._path.parent)
        except OSError as err:
            _discard(self._partial)
            if not self._strict:
                self.error = self.error or f"cannot write {self._path}: {err.strerror or err}"
                return
            _name_path(err, self._path)
            raise
        except BaseException as err:
            _discard(self._partial)
            _name_path(err, self._path)
            raise

    def __repr__(self) -> str:
        state = "open" if self._fh is not None else "closed"
        return f"RunWriter({str(self._path)!r}, {state}, {self.count} records)"
