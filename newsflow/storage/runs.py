"""Pipeline runs: started and finished in the store, with the process that runs them to tell dead ones."""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from extractors.storable import storable
from extractors.text import one_line
from newsflow.storage.base import StoreBase
from newsflow.storage.engine import StorageError
from newsflow.storage.tables import Run


@dataclass(frozen=True)
class RunInfo:
    """A run as stored."""

    id: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, Any]
    output: str | None
    pid: int | None = None
    host: str | None = None


def _host() -> str:
    return socket.gethostname()


def _process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 checks without signalling)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return True  # cannot tell: never mark a run interrupted on a guess
    try:  # a killed child its parent has not reaped yet is a zombie: gone, though kill(0) succeeds
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _run_key(run_id: str) -> str:
    """Canonical text of a run UUID (so 'ABC…' and 'abc…' are one run)."""
    try:
        return str(uuid.UUID(run_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"run id must be a UUID, got {run_id!r}") from exc


class RunsMixin(StoreBase):
    """Starting, ending and reading runs, and marking those whose process died."""

    def start_run(self, run_id: str) -> None:
        """Record that run `run_id` (a UUID) started now in this process, with status "running".

        Runs of this host still "running" whose process is gone (killed) are marked "interrupted" first.
        """
        run_id = _run_key(run_id)
        self.mark_interrupted_runs()
        try:
            with self._errors(f"cannot start run {run_id} in"), self._write() as conn:
                conn.execute(
                    self._insert(Run).values(
                        id=run_id, started_at=self._now(), status="running", pid=os.getpid(), host=_host()
                    )
                )
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise StorageError(f"run {run_id} already exists in {self.url}") from exc.__cause__
            raise

    def mark_interrupted_runs(self) -> list[str]:
        """Mark "interrupted" the runs of this host still "running" whose process no longer exists.

        Only this host's processes can be checked: a run of another host (or one stored before runs
        kept their pid) stays as it is. Returns the ids marked.
        """
        host = _host()
        doing = "cannot check interrupted runs in"
        with self._errors(doing), self.engine.connect() as conn:
            rows = conn.execute(
                select(Run.id, Run.pid).where(Run.status == "running", Run.host == host, Run.pid.is_not(None))
            ).all()
        dead = [row.id for row in rows if row.pid != os.getpid() and not _process_alive(int(row.pid))]
        if not dead:
            return []
        with self._errors(doing), self._write() as conn:
            # Status re-checked: a run that finished meanwhile keeps its final status.
            conn.execute(update(Run).where(Run.id.in_(dead), Run.status == "running").values(status="interrupted"))
        return dead

    def running_run_ids(self) -> list[str]:
        """Ids of the runs whose status is still "running" (on any host)."""
        with self._errors("cannot read runs in"), self.engine.connect() as conn:
            return [row.id for row in conn.execute(select(Run.id).where(Run.status == "running"))]

    def finish_run(self, run_id: str, status: str, counts: Mapping[str, Any], output: str | None = None) -> None:
        """Record the end of run `run_id`: its final status, counts and output path."""
        run_id = _run_key(run_id)
        with self._errors(f"cannot finish run {run_id} in"), self._write() as conn:
            done = conn.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    finished_at=self._now(),
                    status=status,
                    counts=json.dumps(dict(counts), sort_keys=True),
                    output=output,
                )
                .returning(Run.id)
            ).first()
            if done is None:
                raise StorageError(f"run {run_id} was never started in {self.url}")

    def end_run(self, run_id: str, status: str, reason: str) -> bool:
        """Record that run `run_id` stopped early with `status` ("failed", "interrupted") and why (one line,
        in counts["error"]); only while it is still "running", so a final status stays. True when marked."""
        run_id = _run_key(run_id)
        counts = json.dumps({"error": storable(one_line(reason, 1000))})
        with self._errors(f"cannot end run {run_id} in"), self._write() as conn:
            done = conn.execute(
                update(Run)
                .where(Run.id == run_id, Run.status == "running")
                .values(finished_at=self._now(), status=status, counts=counts)
                .returning(Run.id)
            ).first()
        return done is not None

    def get_run(self, run_id: str) -> RunInfo | None:
        """The stored run, or None."""
        run_id = _run_key(run_id)
        with self._errors(f"cannot read run {run_id} from"), self.engine.connect() as conn:
            run = conn.execute(
                select(
                    Run.id, Run.started_at, Run.finished_at, Run.status, Run.counts, Run.output, Run.pid, Run.host
                ).where(Run.id == run_id)
            ).one_or_none()
        if run is None:
            return None
        return RunInfo(
            id=run.id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            counts=json.loads(run.counts) if run.counts else {},
            output=run.output,
            pid=run.pid,
            host=run.host,
        )
