"""Raw inputs: kept content-addressed before processing, with where each stands (pending, processed, failed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import func, select

from extractors.storable import storable, storable_raw
from newsflow.storage.base import StoreBase
from newsflow.storage.tables import RawInput
from schemas.models import RawArticle

RawStatus = Literal["pending", "processed", "failed"]


@dataclass(frozen=True)
class RawState:
    """Where a stored raw input is in processing."""

    id: str
    status: RawStatus
    error: str | None


def raw_input_id(raw: RawArticle) -> str:
    """The id a raw input is stored under: sha256 of its content (UTF-8), as stored (extractors.storable)."""
    return hashlib.sha256(storable(raw.content).encode("utf-8")).hexdigest()


def raw_row(raw: RawArticle, status: RawStatus, error: str | None, now: datetime) -> dict[str, Any]:
    """The row a raw input is stored as, its id included."""
    # NUL and lone surrogates replaced (extractors.storable): PostgreSQL refuses NUL, and a lone surrogate
    # has no UTF-8 form for either database. Both databases keep the same text.
    raw = storable_raw(raw)[0]
    return {
        "id": raw_input_id(raw),
        "media_type": raw.media_type,
        "source_uri": raw.source.uri,
        "source_kind": raw.source.kind,
        "received_at": now,
        "content": raw.content,
        "meta": raw.model_dump_json(exclude={"content"}),
        "status": status,
        "error": None if error is None else storable(error),
    }


class RawsMixin(StoreBase):
    """Saving raw inputs, marking failures and reading them back (for reprocessing)."""

    def save_raw(self, raw: RawArticle) -> str:
        """Keep `raw` before it is processed and return its id (raw_input_id).

        Idempotent: a raw input already stored keeps its row, received_at and status. A new one is
        "pending" until `save` stores its record ("processed") or `record_raw_failure` says it failed.
        """
        return self.save_raws([raw])[0]

    def save_raws(self, raws: list[RawArticle]) -> list[str]:
        """`save_raw` for a batch, in one transaction; the ids in the order given."""
        if not raws:
            return []
        now = self._now()
        rows: dict[str, dict[str, Any]] = {}
        for raw in raws:  # one row per id: the same content twice in a batch is one raw input
            values = raw_row(raw, "pending", None, now)
            rows.setdefault(values["id"], values)
        with self._errors(f"cannot save {len(rows)} raw input(s) in"), self._write() as conn:
            conn.execute(
                self._insert(RawInput).values(list(rows.values())).on_conflict_do_nothing(index_elements=["id"])
            )
        return [raw_input_id(raw) for raw in raws]

    def record_raw_failure(self, raw: RawArticle, reason: str) -> str:
        """Keep `raw` (if new) marked "failed" with `reason`, so `reprocess` retries it; returns its id.

        The article's stored record, if an earlier run made one, is left as it is.
        """
        values = raw_row(raw, "failed", reason, self._now())
        with self._errors(f"cannot save raw input {values['id'][:12]} in"), self._write() as conn:
            conn.execute(
                self._insert(RawInput)
                .values(**values)
                .on_conflict_do_update(index_elements=["id"], set_={"status": "failed", "error": values["error"]})
            )
        return str(values["id"])

    def raw_state(self, raw_id: str) -> RawState | None:
        """The processing status of the raw input with this id, or None when it is not stored."""
        with self._errors(f"cannot read raw input {raw_id} from"), self.engine.connect() as conn:
            row = conn.execute(select(RawInput.status, RawInput.error).where(RawInput.id == raw_id)).one_or_none()
        return None if row is None else RawState(raw_id, row.status, row.error)

    def count_raw(self, status: RawStatus | None = None) -> int:
        """Number of stored raw inputs (with this status)."""
        stmt = select(func.count()).select_from(RawInput)
        if status is not None:
            stmt = stmt.where(RawInput.status == status)
        with self._errors("cannot count raw inputs in"), self.engine.connect() as conn:
            return int(conn.execute(stmt).scalar_one())

    def raw_status(self, raw_id: str) -> RawStatus | None:
        """Where the raw input with this id stands: "pending" (kept, no record yet), "processed", "failed"; None."""
        with self._errors(f"cannot read raw input {raw_id} from"), self.engine.connect() as conn:
            status = conn.execute(select(RawInput.status).where(RawInput.id == raw_id)).scalar_one_or_none()
        return cast(RawStatus, status) if status is not None else None

    def get_raw(self, raw_id: str) -> RawArticle | None:
        """The raw input with this id (see raw_input_id), or None."""
        with self._errors(f"cannot read raw input {raw_id} from"), self.engine.connect() as conn:
            row = conn.execute(
                select(RawInput.meta.label("meta"), RawInput.content).where(RawInput.id == raw_id)
            ).one_or_none()
        return None if row is None else self._load_raw(raw_id, row.meta, row.content)

    def iter_raw(
        self, batch: int = 100, *, status: Iterable[RawStatus] | None = None
    ) -> Iterator[tuple[str, RawArticle]]:
        """(id, raw input) pairs in the order they were received, `batch` at a time (for reprocessing).

        Every stored raw input by default, including those whose processing failed or never finished;
        `status` keeps only those (e.g. ("failed", "pending") to retry just what did not make a record).
        """
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        stmt = select(RawInput.id, RawInput.received_at, RawInput.meta.label("meta"), RawInput.content)
        if status is not None:
            stmt = stmt.where(RawInput.status.in_(list(status)))
        rows = self._keyset(stmt, RawInput.received_at, RawInput.id, batch, "cannot read raw inputs from")
        for row in rows:
            yield row.id, self._load_raw(row.id, row.meta, row.content)
