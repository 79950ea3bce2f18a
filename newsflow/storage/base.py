"""What every part of the Store shares: its engine, URL and clock, and the connection and error plumbing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Select, and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from extractors.text import one_line
from newsflow.storage.engine import _WRITE_OPTION, StorageError
from newsflow.storage.tables import Base
from schemas.models import ArticleRecord, RawArticle


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got {value.isoformat()}")


class StoreBase:
    """The state and plumbing the Store's parts (schema, records, raws, runs, translations) work through."""

    url: str
    dialect: Literal["sqlite", "postgresql"]
    engine: Engine
    _clock: Callable[[], datetime]
    _secret: str | None

    def _reason(self, exc: BaseException) -> str:
        """One line saying why `exc` happened, without the password."""
        cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        reason = " ".join(str(cause).split()) or type(cause).__name__
        if self._secret:
            reason = reason.replace(self._secret, "***")
        return reason

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Turn driver errors into StorageError("<doing> <url>: <reason>")."""
        try:
            yield
        except DBAPIError as exc:
            raise StorageError(f"{doing} {self.url}: {self._reason(exc)}") from exc

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed when the block exits cleanly."""
        with self.engine.connect() as conn:
            # On SQLite this makes the transaction BEGIN IMMEDIATE: the writer lock is taken up front
            # (waiting busy_timeout), so a read-then-write can't fail with SQLITE_BUSY midway.
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def _insert(self, model: type[Base]) -> sqlite.Insert | postgresql.Insert:
        # Dialect inserts for ON CONFLICT DO NOTHING, so concurrent savers never race on a key.
        factory = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        return factory(model)

    def _now(self) -> datetime:
        now = self._clock()
        _require_aware(now, "clock()")
        return now

    def _load(self, article_id: str, data: str) -> ArticleRecord:
        try:
            return ArticleRecord.model_validate_json(data)
        except ValidationError as exc:
            raise StorageError(f"stored article {article_id} in {self.url} does not validate: {exc}") from exc

    def _load_raw(self, raw_id: str, meta: str, content: str) -> RawArticle:
        try:
            return RawArticle.model_validate({**json.loads(meta), "content": content})
        except (ValidationError, ValueError) as exc:
            raise StorageError(f"stored raw input {raw_id} in {self.url} does not validate: {exc}") from exc

    def _keyset(
        self,
        stmt: Select[Any],
        time_col: Any,
        id_col: Any,
        batch: int,
        doing: str,
        on_error: Callable[[str, str], None] | None = None,
    ) -> Iterator[Any]:
        """Rows of `stmt` (selecting id, time, ...) in (time, id) order, `batch` rows per query.

        Keyset pagination (not OFFSET) so each batch is an index range scan and no connection or
        transaction stays open while the caller works on a batch. With `on_error`, a page the driver
        cannot read (a row whose text is not UTF-8) is read again row by row: each unreadable row goes to
        `on_error(id, reason)` and is skipped; without it the error raises StorageError.
        """
        last: tuple[datetime, str] | None = None
        while True:
            page = stmt.order_by(time_col, id_col).limit(batch)
            if last is not None:
                page = page.where(or_(time_col > last[0], and_(time_col == last[0], id_col > last[1])))
            try:
                with self._errors(doing), self.engine.connect() as conn:
                    rows = conn.execute(page).all()
                keys = [(row[1], row[0]) for row in rows]
            except StorageError:
                if on_error is None:
                    raise
                keys, rows = self._rows_one_by_one(stmt, page, time_col, id_col, doing, on_error)
            yield from rows
            if len(keys) < batch:
                return
            last = keys[-1]

    def _rows_one_by_one(
        self,
        stmt: Select[Any],
        page: Select[Any],
        time_col: Any,
        id_col: Any,
        doing: str,
        on_error: Callable[[str, str], None],
    ) -> tuple[list[tuple[datetime, str]], list[Any]]:
        """The page's keys (these columns read), and those of its rows that can be read (one query each)."""
        with self._errors(doing), self.engine.connect() as conn:  # an error here is not one row's: it raises
            keys = [(row[1], row[0]) for row in conn.execute(page.with_only_columns(id_col, time_col)).all()]
        rows = []
        with self._errors(doing), self.engine.connect() as conn:
            for _, key in keys:
                try:
                    rows.append(conn.execute(stmt.where(id_col == key)).one())
                except DBAPIError as exc:
                    if conn.invalidated:
                        raise
                    on_error(key, one_line(f"cannot be read: {self._reason(exc)}", 300))
                    conn.rollback()
        return keys, rows
