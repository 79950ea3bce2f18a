"""The article store: processed records, the raw inputs they came from, and pipeline runs.

One `Store` speaks to SQLite (the default, a file in the data directory) or PostgreSQL through
SQLAlchemy 2. JSON payloads are kept as JSON *text* so both databases store and return exactly the same
bytes, and every timestamp is normalised to UTC so SQLite (which has no time-zone type) orders and
compares them like PostgreSQL does.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sqlite3
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import ValidationError
from sqlalchemy import (
    URL,
    Connection,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    Select,
    String,
    Text,
    and_,
    create_engine,
    event,
    func,
    make_url,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from extractors.storable import storable, storable_raw
from extractors.text import one_line
from extractors.translate import CachedTranslation
from schemas.models import ArticleRecord, RawArticle

__all__ = [
    "Article",
    "Base",
    "CachedTranslationRow",
    "RawInput",
    "RawState",
    "RawStatus",
    "Run",
    "RunInfo",
    "SaveStatus",
    "StorageError",
    "Store",
    "mask_url",
    "raw_input_id",
]

SaveStatus = Literal["new", "updated", "unchanged"]
RawStatus = Literal["pending", "processed", "failed"]

_SQLITE_BUSY_TIMEOUT_MS = 30_000  # parallel Prefect tasks queue for the single SQLite writer lock
_PG_CONNECT_TIMEOUT_S = 10  # fail fast with a clear StorageError instead of hanging on a dead host
# Serialises CREATE TABLE across processes starting at once on an empty PostgreSQL database.
_PG_SCHEMA_LOCK = zlib.crc32(b"newsflow.storage.schema")
_WRITE_OPTION = "newsflow_write"  # execution option: this SQLite transaction will write
# Fields that change on every run without the article changing; ignored when deciding "unchanged".
_VOLATILE_FIELDS = (("pipeline", "processed_at"), ("source", "fetched_at"))


class StorageError(Exception):
    """The database cannot be opened or used; the message names the (password-masked) URL and why."""


# --- column types -----------------------------------------------------------------------------------


class UTCDateTime(TypeDecorator[datetime]):
    """A time-zone-aware timestamp stored in UTC and always returned aware (UTC).

    SQLite keeps no offset, so values are converted to UTC before they are written; that also makes
    its text timestamps sort chronologically. Naive datetimes are refused rather than guessed.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: timestamps must be aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def key_type() -> String:
    # Ids are opaque: PostgreSQL's locale collation would order them differently from SQLite (and
    # ignore punctuation), so keyset pagination uses byte order ("C") on both.
    return String().with_variant(String(collation="C"), "postgresql")


# --- models -----------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    """Declarative base of the store's tables."""


class RawInput(Base):
    """An input as received, content-addressed so the same bytes are kept once."""

    __tablename__ = "raw_inputs"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True, comment="sha256 of the content")
    media_type: Mapped[str] = mapped_column(String)
    source_uri: Mapped[str] = mapped_column(Text)
    source_kind: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, comment="when the store first saw it")
    content: Mapped[str] = mapped_column(Text)
    # `metadata` is reserved on declarative classes, hence the attribute name.
    meta: Mapped[str] = mapped_column("metadata", Text, comment="the RawArticle minus content, as JSON")
    # Migration 0003: stored before processing, so a failed extraction keeps its input for `reprocess`.
    status: Mapped[str] = mapped_column(String, server_default="processed", comment="pending, processed or failed")
    error: Mapped[str | None] = mapped_column(Text, comment="why the last processing failed")

    __table_args__ = (Index("ix_raw_inputs_received_at_id", "received_at", "id"),)


class Article(Base):
    """The latest ArticleRecord of one article id, with a few columns copied out for querying."""

    __tablename__ = "articles"

    id: Mapped[str] = mapped_column(key_type(), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String)
    schema_version: Mapped[str] = mapped_column(String)
    title: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String, comment="ISO 639-1 code or 'und'")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source_uri: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    record: Mapped[str] = mapped_column(Text, comment="the full ArticleRecord as JSON")
    raw_id: Mapped[str] = mapped_column(key_type(), ForeignKey("raw_inputs.id"))

    # iter_records walks (updated_at, id) in order; raw_id is joined on (migration 0002).
    __table_args__ = (
        Index("ix_articles_updated_at_id", "updated_at", "id"),
        Index("ix_articles_raw_id", "raw_id"),
    )


class Run(Base):
    """One pipeline run."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String, primary_key=True, comment="a UUID")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String)
    counts: Mapped[str | None] = mapped_column(Text, comment="JSON object")
    output: Mapped[str | None] = mapped_column(Text, comment="path of the run's output")
    # Migration 0003: who runs it, so a run whose process died can be told from one still going.
    pid: Mapped[int | None] = mapped_column(Integer, comment="process id of the run")
    host: Mapped[str | None] = mapped_column(String, comment="host name of that process")


class CachedTranslationRow(Base):
    """One translated chunk, keyed by (provider, source, target, sha256 of the text sent to the provider)."""

    __tablename__ = "translation_cache"

    provider: Mapped[str] = mapped_column(String, primary_key=True)
    source: Mapped[str] = mapped_column(String, primary_key=True)
    target: Mapped[str] = mapped_column(String, primary_key=True)
    text_hash: Mapped[str] = mapped_column(String, primary_key=True, comment="sha256 of the text sent")
    translation: Mapped[str] = mapped_column(Text)
    engine: Mapped[str | None] = mapped_column(Text, comment="engine and versions that translated it")
    translated_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


@dataclass(frozen=True)
class RawState:
    """Where a stored raw input is in processing."""

    id: str
    status: RawStatus
    error: str | None


# --- helpers ----------------------------------------------------------------------------------------

_PASSWORD_IN_NETLOC = re.compile(r"(://[^/?#@:]*:)[^@/?#]*@")
_PASSWORD_IN_QUERY = re.compile(r"(?i)((?:^|[?&])password=)[^&]*")


def mask_url(url: str | URL) -> str:
    """The URL as text with any password replaced by `***` (safe for logs and error messages)."""
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        rendered = _PASSWORD_IN_NETLOC.sub(r"\1***@", str(url))
    return _PASSWORD_IN_QUERY.sub(r"\1***", rendered)


def raw_input_id(raw: RawArticle) -> str:
    """The id a raw input is stored under: sha256 of its content (UTF-8), as stored (extractors.storable)."""
    return hashlib.sha256(storable(raw.content).encode("utf-8")).hexdigest()


def _utcnow() -> datetime:
    return datetime.now(UTC)


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


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record's JSON object without the fields that change on every run."""
    out = dict(record)
    for parent, key in _VOLATILE_FIELDS:
        if isinstance(out.get(parent), dict):
            out[parent] = {k: v for k, v in out[parent].items() if k != key}
    return out


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be time-zone aware, got {value.isoformat()}")


# --- the store --------------------------------------------------------------------------------------


class Store:
    """Articles, raw inputs and runs in one SQLite or PostgreSQL database.

    Thread-safe (one engine with a connection pool); create one Store per process.
    """

    def __init__(self, url: str, *, clock: Callable[[], datetime] = _utcnow, migrate: bool = True) -> None:
        """Open the database at `url` (a SQLAlchemy URL) and upgrade its schema to the newest migration.

        `clock` supplies the stored timestamps (tests and replays pass their own); it must return
        time-zone-aware datetimes. `migrate=False` leaves the schema as it is (`newsflow db`).
        Raises StorageError when the URL is invalid or the database cannot be reached.
        """
        self.url = mask_url(url)
        self._clock = clock
        self._secret: str | None = None
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StorageError(f"cannot open database {self.url}: invalid database URL ({exc})") from exc
        self._secret = parsed.password if isinstance(parsed.password, str) and parsed.password else None
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StorageError(
                f"cannot open database {self.url}: unsupported database {backend!r} "
                "(newsflow supports sqlite and postgresql)"
            )
        self.dialect: Literal["sqlite", "postgresql"] = backend  # type: ignore[assignment]
        try:
            self.engine: Engine = create_engine_for(parsed, self.dialect)
        except (ArgumentError, NoSuchModuleError, ImportError, OSError, TypeError) as exc:
            raise StorageError(f"cannot open database {self.url}: {self._reason(exc)}") from exc
        if not migrate:
            return
        try:
            self.create_schema()
        except BaseException:
            self.engine.dispose()
            raise

    # --- plumbing ---

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

    # --- schema ---

    def create_schema(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision` with the Alembic migrations (an empty database gets every
        table; one made before migrations existed is upgraded in place, rows kept)."""
        from newsflow import migrations

        if revision == "head":
            # Fast path for every open after the first: one read, no lock.
            with self._errors("cannot open database"), self.engine.connect() as conn:
                if migrations.current(conn) == migrations.head():
                    return
        self._migrate("upgrade", revision)

    def schema_revision(self) -> str | None:
        """The migration revision the database is at (None: empty or made before migrations)."""
        from newsflow import migrations

        with self._errors("cannot read the schema revision of"), self.engine.connect() as conn:
            return migrations.current(conn)

    def downgrade_schema(self, revision: str) -> None:
        """Downgrade the schema to `revision` ('base' drops the store's tables and their rows)."""
        self._migrate("downgrade", revision)

    def _migrate(self, action: Literal["upgrade", "downgrade"], revision: str) -> None:
        """Run the Alembic `action` to `revision` in one write transaction, under the schema lock."""
        from newsflow import migrations

        step = migrations.upgrade if action == "upgrade" else migrations.downgrade
        # Driver errors keep the wording each public method had ("open" for upgrades).
        doing = "cannot open database" if action == "upgrade" else "cannot downgrade database"
        with self._errors(doing), self._write() as conn:
            if self.dialect == "postgresql":
                # Serialises migrations across processes opening the same database at once.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_SCHEMA_LOCK})
            try:
                step(conn, revision)
            except migrations.MigrationError as exc:
                raise StorageError(f"cannot {action} database {self.url}: {exc}") from exc

    # --- articles ---

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
            for i in order:
                record, raw = pairs[i]
                statuses[i] = self._save_in(conn, record, raw, now)
        return statuses

    def _save_in(self, conn: Connection, record: ArticleRecord, raw: RawArticle, now: datetime) -> SaveStatus:
        raw = storable_raw(raw)[0]  # as in _raw_values
        raw_id = raw_input_id(raw)
        record_json = record.model_dump_json()
        columns = {
            "content_hash": record.content_hash,
            "schema_version": record.schema_version,
            "title": record.title,
            "language": record.language.code,
            "published_at": record.published_at,
            "source_uri": record.source.uri,
            "record": record_json,
            "raw_id": raw_id,
        }
        conn.execute(
            self._insert(RawInput)
            .values(
                id=raw_id,
                media_type=raw.media_type,
                source_uri=raw.source.uri,
                source_kind=raw.source.kind,
                received_at=now,
                content=raw.content,
                meta=raw.model_dump_json(exclude={"content"}),
                status="processed",
                error=None,
            )
            .on_conflict_do_update(
                index_elements=["id"],
                set_={"status": "processed", "error": None},
                where=RawInput.status != "processed",  # no write when it already is
            )
        )
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
        if _comparable(json.loads(stored)) == _comparable(json.loads(record_json)):
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

    # --- translation cache (extractors.translate.TranslationCache) ---

    def get_translation(self, provider: str, source: str, target: str, text_hash: str) -> CachedTranslation | None:
        """The cached translation of one chunk, or None."""
        key = (
            (CachedTranslationRow.provider == provider)
            & (CachedTranslationRow.source == source)
            & (CachedTranslationRow.target == target)
            & (CachedTranslationRow.text_hash == text_hash)
        )
        stmt = select(CachedTranslationRow.translation, CachedTranslationRow.engine, CachedTranslationRow.translated_at)
        with self._errors("cannot read the translation cache of"), self.engine.connect() as conn:
            row = conn.execute(stmt.where(key)).one_or_none()
        return None if row is None else CachedTranslation(row.translation, row.engine, row.translated_at)

    def put_translation(
        self, provider: str, source: str, target: str, text_hash: str, value: CachedTranslation
    ) -> None:
        """Keep one chunk's translation (the first one kept for a key stays)."""
        with self._errors("cannot write the translation cache of"), self._write() as conn:
            conn.execute(
                self._insert(CachedTranslationRow)
                .values(
                    provider=provider,
                    source=source,
                    target=target,
                    text_hash=text_hash,
                    translation=value.text,
                    engine=value.engine,
                    translated_at=value.translated_at,
                )
                .on_conflict_do_nothing()
            )

    def count_translations(self) -> int:
        """Number of cached chunk translations."""
        with self._errors("cannot count cached translations in"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(CachedTranslationRow)).scalar_one())

    def count(self) -> int:
        """Number of stored articles."""
        with self._errors("cannot count articles in"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(Article)).scalar_one())

    # --- raw inputs ---

    def _raw_values(self, raw: RawArticle, status: RawStatus, error: str | None, now: datetime) -> dict[str, Any]:
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
            values = self._raw_values(raw, "pending", None, now)
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
        values = self._raw_values(raw, "failed", reason, self._now())
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

    # --- runs ---

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

    # --- lifecycle ---

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"


def _run_key(run_id: str) -> str:
    """Canonical text of a run UUID (so 'ABC…' and 'abc…' are one run)."""
    try:
        return str(uuid.UUID(run_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"run id must be a UUID, got {run_id!r}") from exc


def create_engine_for(url: URL, dialect: str) -> Engine:
    """An engine for a newsflow database: psycopg 3 with a connect timeout on PostgreSQL; on SQLite the
    parent directory created, busy timeout, WAL and explicit transactions (shared by Store and FetchLog)."""
    if dialect == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            # A bare postgresql:// means psycopg2 to SQLAlchemy; newsflow ships psycopg 3.
            url = url.set(drivername="postgresql+psycopg")
        connect_args: dict[str, Any] = {}
        if "connect_timeout" not in url.query:
            connect_args["connect_timeout"] = _PG_CONNECT_TIMEOUT_S
        # pre_ping: flows run for hours and PostgreSQL may drop idle connections meanwhile.
        return create_engine(url, pool_pre_ping=True, connect_args=connect_args)

    database = url.database or ""
    if database and database != ":memory:" and not url.query.get("uri"):
        path = Path(database).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(f"cannot create directory {path.parent}: {exc.strerror or exc}") from exc
    engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # SQLAlchemy's documented recipe: stop the sqlite3 module from issuing its own BEGINs (it skips
    # them for SELECT and DDL), and issue them in _sqlite_on_begin instead.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the database to WAL, which lets readers (exports) run while a writer saves.

    The switch needs an exclusive lock and SQLite reports "database is locked" at once, without
    waiting busy_timeout, when several connections open a new database together (parallel tasks on
    a first run), so it is retried here for up to busy_timeout.
    """
    deadline = time.monotonic() + _SQLITE_BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            message = str(exc).lower()
            if ("locked" not in message and "busy" not in message) or time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _sqlite_on_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE_OPTION, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
