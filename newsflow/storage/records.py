"""Processed articles: the latest ArticleRecord per id, saved with its raw input and read back in order."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql

from extractors.text import one_line
from newsflow.storage.base import StoreBase, _require_aware
from newsflow.storage.raws import raw_row
from newsflow.storage.tables import Article, RawInput
from schemas.models import ArticleRecord, RawArticle

SaveStatus = Literal["new", "updated", "unchanged"]
# Fields that change on every run without the article changing; ignored when deciding "unchanged".
_VOLATILE_FIELDS = (("pipeline", "processed_at"), ("source", "fetched_at"))


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON object without the fields that change on every run."""
    out = dict(record)
    for parent, key in _VOLATILE_FIELDS:
        if isinstance(out.get(parent), dict):
            out[parent] = {k: v for k, v in out[parent].items() if k != key}
    return out


def _by_column(model: Any, row: dict[str, Any]) -> dict[str, Any]:
    """`row` (keyed by the model's attribute names) keyed by column names, as an executemany's parameters are
    (`RawInput.meta` is the column `metadata`)."""
    attrs = model.__mapper__.column_attrs
    return {attrs[key].columns[0].key: value for key, value in row.items()}


class RecordsMixin(StoreBase):
    """Saving, reading and counting articles."""

    def save(self, record: ArticleRecord, raw: RawArticle) -> SaveStatus:
        """Keep `raw` (if new; marked processed) and upsert `record` by id, in one transaction.

        "unchanged" (nothing written for the article) when the stored record equals `record` apart from
        pipeline.processed_at and source.fetched_at; "updated" otherwise, keeping first_seen_at.
        """
        with self._errors(f"cannot save article {record.id} in"), self._write() as conn:
            return self._save_in(conn, record, raw, self._now())

    def save_many(self, pairs: Sequence[tuple[ArticleRecord, RawArticle]]) -> list[SaveStatus]:
        """`save` for a batch in one transaction (one commit, not one per article); statuses in input order.

        Articles are written in id order, so two runs saving overlapping batches take row locks in the
        same order and cannot deadlock each other on PostgreSQL.
        """
        if not pairs:
            return []
        order = sorted(range(len(pairs)), key=lambda i: pairs[i][0].id)
        statuses: list[SaveStatus] = ["new"] * len(pairs)
        now = self._now()
        with self._errors(f"cannot save {len(pairs)} article(s) in"), self._write() as conn:
            if self.dialect == "sqlite":
                for i, status in zip(order, self._save_all_in(conn, [pairs[i] for i in order], now), strict=True):
                    statuses[i] = status
            else:
                for i in order:
                    record, raw = pairs[i]
                    statuses[i] = self._save_in(conn, record, raw, now)
        return statuses

    def _rows(self, record: ArticleRecord, raw: RawArticle, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
        """The raw input's row and the article's columns (without id and dates) for `record` made from `raw`."""
        values = raw_row(raw, "processed", None, now)
        raw_id = values["id"]
        columns = {
            "content_hash": record.content_hash,
            "schema_version": record.schema_version,
            "title": record.title,
            "language": record.language.code,
            "published_at": record.published_at,
            "source_uri": record.source.uri,
            "record": record.model_dump_json(),
            "raw_id": raw_id,
        }
        return values, columns

    def _keep_raws(self) -> Any:
        """The raw inputs' upsert: a new one is kept "processed", a kept one is marked so (no write when it is)."""
        return self._insert(RawInput).on_conflict_do_update(
            index_elements=["id"],
            set_={"status": "processed", "error": None},
            where=RawInput.status != "processed",
        )

    def _save_all_in(
        self, conn: Connection, pairs: list[tuple[ArticleRecord, RawArticle]], now: datetime
    ) -> list[SaveStatus]:
        """`_save_in` for every pair, in order, with a statement per kind of write instead of one per article.

        SQLite only: its transactions here are BEGIN IMMEDIATE (no other writer until the commit), so the ids read
        first are the ones stored. SQLAlchemy does not cache the compiled form of SQLite's INSERT ... ON CONFLICT,
        and compiling two of them per article took about a tenth of storing and processing a batch (profiled,
        10,000 articles); an executemany compiles each once per batch. The rows written are those of `_save_in`.
        """
        rows = [self._rows(record, raw, now) for record, raw in pairs]
        conn.execute(self._keep_raws(), [_by_column(RawInput, values) for values, _ in rows])
        ids = list(dict.fromkeys(record.id for record, _ in pairs))
        stored: dict[str, str] = {}
        for chunk in range(0, len(ids), 500):  # under SQLite's limit of bound parameters
            query = select(Article.id, Article.record).where(Article.id.in_(ids[chunk : chunk + 500]))
            stored.update((row.id, row.record) for row in conn.execute(query))
        statuses: list[SaveStatus] = []
        new_rows: list[dict[str, Any]] = []
        updates: list[tuple[str, dict[str, Any]]] = []
        for (record, _), (_, columns) in zip(pairs, rows, strict=True):
            before = stored.get(record.id)
            stored[record.id] = columns["record"]  # the same id again in the batch compares with this one
            if before is None:
                new_rows.append({"id": record.id, "first_seen_at": now, "updated_at": now, **columns})
                statuses.append("new")
            elif _comparable(json.loads(before)) == _comparable(json.loads(columns["record"])):
                statuses.append("unchanged")
            else:
                updates.append((record.id, columns))
                statuses.append("updated")
        if new_rows:
            conn.execute(
                self._insert(Article).on_conflict_do_nothing(index_elements=["id"]),
                [_by_column(Article, row) for row in new_rows],
            )
        for article_id, columns in updates:  # in order, after the inserts: an id new in this batch exists by now
            conn.execute(update(Article).where(Article.id == article_id).values(updated_at=now, **columns))
        return statuses

    def _save_in(self, conn: Connection, record: ArticleRecord, raw: RawArticle, now: datetime) -> SaveStatus:
        values, columns = self._rows(record, raw, now)
        conn.execute(self._keep_raws().values(**values))
        # RETURNING (not rowcount, which psycopg reports as -1 here) tells whether the row is ours.
        inserted = conn.execute(
            self._insert(Article)
            .values(id=record.id, first_seen_at=now, updated_at=now, **columns)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(Article.id)
        ).first()
        if inserted is not None:
            return "new"
        # The row exists (maybe committed a moment ago by another process); lock it so two
        # updaters of the same id take turns (SQLite needs no lock: BEGIN IMMEDIATE serialises).
        stored = conn.execute(select(Article.record).where(Article.id == record.id).with_for_update()).scalar_one()
        if _comparable(json.loads(stored)) == _comparable(json.loads(columns["record"])):
            return "unchanged"
        conn.execute(update(Article).where(Article.id == record.id).values(updated_at=now, **columns))
        return "updated"

    def get(self, article_id: str) -> ArticleRecord | None:
        """The stored record with this id, or None."""
        with self._errors(f"cannot read article {article_id} from"), self.engine.connect() as conn:
            data = conn.execute(select(Article.record).where(Article.id == article_id)).scalar_one_or_none()
        return None if data is None else self._load(article_id, data)

    def iter_records(
        self, since: datetime | None = None, batch: int = 500, *, on_error: Callable[[str, str], None] | None = None
    ) -> Iterator[ArticleRecord]:
        """Stored records ordered by (updated_at, id), read `batch` rows at a time.

        `since` (time-zone aware) keeps records with updated_at >= since: inclusive, because exporting
        a record twice is harmless and missing one is not. Records saved while iterating may appear
        (an updated record moves to the end).

        `on_error(id, reason)`: a stored record that cannot be read (its bytes are not UTF-8, its JSON does not
        validate) is reported there, in one line, and skipped; the others still come. Without it such a
        record raises StorageError. A database that cannot be read at all raises either way.
        """
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        stmt = select(Article.id, Article.updated_at, Article.record)
        if since is not None:
            _require_aware(since, "since")
            stmt = stmt.where(Article.updated_at >= since)
        rows = self._keyset(stmt, Article.updated_at, Article.id, batch, "cannot read articles from", on_error)
        for row in rows:
            if on_error is None:
                yield self._load(row.id, row.record)
                continue
            try:
                record = ArticleRecord.model_validate_json(row.record)
            except ValidationError as exc:
                on_error(row.id, one_line(f"does not validate: {exc}", 300))
                continue
            yield record

    def iter_pending_translation(
        self, limit: int | None = None, batch: int = 100
    ) -> Iterator[tuple[ArticleRecord, RawArticle]]:
        """Stored records whose translation.status is "pending", with their raw inputs, in id order.

        A scan of the stored JSON (no index): fine for a periodic retranslate run.
        """
        if batch < 1 or (limit is not None and limit < 1):
            raise ValueError(f"batch and limit must be >= 1, got batch={batch} limit={limit}")
        status = (
            func.json_extract(Article.record, "$.translation.status")
            if self.dialect == "sqlite"
            else Article.record.cast(postgresql.JSONB)["translation"]["status"].astext
        )
        stmt = (
            select(
                Article.id, Article.record, RawInput.meta.label("meta"), RawInput.content, RawInput.id.label("raw_id")
            )
            .join(RawInput, RawInput.id == Article.raw_id)
            .where(status == "pending")
            .order_by(Article.id)
        )
        last: str | None = None
        given = 0
        while True:
            page = stmt.limit(batch if limit is None else min(batch, limit - given))
            if last is not None:
                page = page.where(Article.id > last)
            with self._errors("cannot read pending translations from"), self.engine.connect() as conn:
                rows = conn.execute(page).all()
            for row in rows:
                yield self._load(row.id, row.record), self._load_raw(row.raw_id, row.meta, row.content)
            given += len(rows)
            if len(rows) < batch or (limit is not None and given >= limit):
                return
            last = rows[-1].id

    def count(self) -> int:
        """Number of stored articles."""
        with self._errors("cannot count articles in"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Article)).scalar_one())
