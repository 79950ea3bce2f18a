"""What the acquisition layer remembers between runs, in the Store's database but in tables of its own.

* `fetch_log`: every fetch attempt with its outcome (fetched, not_modified, failed, blocked, disallowed,
  duplicate, near_duplicate), HTTP status, reason, attempts and size - `newsflow fetches` lists it.
* `http_cache`: per canonical URL the last validators (ETag, Last-Modified), content hash and decoded body,
  so a re-run makes conditional GETs and a 304 can still deliver a page whose earlier fetch never reached
  the store (nothing lost).
* `content_index`: per canonical URL the content hash and 64-bit SimHash of the main text, split into eight
  8-bit bands for lookup; `duplicate_links`: a page that is the same story as an earlier one (exact or
  near-duplicate) and which one.

SQLAlchemy 2 on SQLite or PostgreSQL; the tables are created on open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Engine,
    Index,
    Integer,
    String,
    Text,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from newsflow.storage.engine import UTCDateTime, create_engine_for, key_type

OUTCOMES = ("fetched", "not_modified", "failed", "blocked", "disallowed", "duplicate", "near_duplicate")


class FetchBase(DeclarativeBase):
    """Declarative base of the acquisition tables (separate from the Store's)."""


class FetchAttempt(FetchBase):
    __tablename__ = "fetch_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str | None] = mapped_column(String, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    host: Mapped[str] = mapped_column(String)
    kind: Mapped[str] = mapped_column(String, comment="article, feed, sitemap, listing")
    via: Mapped[str | None] = mapped_column(Text, nullable=True, comment="the feed/sitemap/listing that named it")
    outcome: Mapped[str] = mapped_column(String)
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_fetch_log_at", "at"), Index("ix_fetch_log_outcome", "outcome"))


class HttpCache(FetchBase):
    __tablename__ = "http_cache"

    canonical_url: Mapped[str] = mapped_column(key_type(), primary_key=True)
    final_url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_modified: Mapped[str | None] = mapped_column(Text, nullable=True)
    content_hash: Mapped[str] = mapped_column(String)
    media_type: Mapped[str] = mapped_column(String)
    body: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContentIndex(FetchBase):
    __tablename__ = "content_index"

    canonical_url: Mapped[str] = mapped_column(key_type(), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String, index=True)
    simhash: Mapped[int] = mapped_column(BigInteger, comment="64-bit SimHash as a signed integer")
    band0: Mapped[int] = mapped_column(Integer, index=True)
    band1: Mapped[int] = mapped_column(Integer, index=True)
    band2: Mapped[int] = mapped_column(Integer, index=True)
    band3: Mapped[int] = mapped_column(Integer, index=True)
    band4: Mapped[int] = mapped_column(Integer, index=True)
    band5: Mapped[int] = mapped_column(Integer, index=True)
    band6: Mapped[int] = mapped_column(Integer, index=True)
    band7: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DuplicateLink(FetchBase):
    __tablename__ = "duplicate_links"

    canonical_url: Mapped[str] = mapped_column(key_type(), primary_key=True)
    duplicate_of: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String, comment="exact or near")
    distance: Mapped[int] = mapped_column(Integer, comment="SimHash bits that differ (0 for exact)")
    at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Cached:
    canonical_url: str
    final_url: str
    etag: str | None
    last_modified: str | None
    content_hash: str
    media_type: str
    body: str
    fetched_at: datetime


@dataclass(frozen=True)
class Attempt:
    at: datetime
    url: str
    outcome: str
    kind: str
    status: int | None
    reason: str | None
    attempts: int
    via: str | None
    final_url: str | None
    run_id: str | None


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= (1 << 63) else value


def _unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


BANDS = 8  # 8-bit bands: two SimHashes at most 7 bits apart share at least one band (pigeonhole)


def _bands(simhash: int) -> list[int]:
    return [(simhash >> (8 * i)) & 0xFF for i in range(BANDS)]


class FetchLog:
    """The acquisition tables at a SQLAlchemy URL (the Store's `settings.resolved_database_url`)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"unsupported database {self.dialect!r} (sqlite and postgresql only)")
        self.engine: Engine = create_engine_for(parsed, self.dialect)  # the Store's engine set-up
        self._lock = threading.Lock()  # SQLite: one writer at a time from this process
        _create_tables(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> FetchLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _insert(self, model: type[FetchBase]) -> Any:
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(model)

    # --- attempts ---

    def record(self, **values: Any) -> None:
        """One fetch attempt (columns of `fetch_log`; `at` defaults to now)."""
        if values.get("outcome") not in OUTCOMES:
            raise ValueError(f"unknown outcome {values.get('outcome')!r}; expected one of {OUTCOMES}")
        values.setdefault("at", datetime.now(UTC))
        with self._lock, self.engine.begin() as conn:
            conn.execute(self._insert(FetchAttempt).values(**values))

    def attempts(
        self, *, outcome: str | None = None, host: str | None = None, run_id: str | None = None, limit: int = 100
    ) -> list[Attempt]:
        """The latest attempts first."""
        stmt = select(FetchAttempt).order_by(FetchAttempt.id.desc()).limit(limit)
        if outcome:
            stmt = stmt.where(FetchAttempt.outcome == outcome)
        if host:
            stmt = stmt.where(FetchAttempt.host == host)
        if run_id:
            stmt = stmt.where(FetchAttempt.run_id == run_id)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt).all()  # a Core connection: rows of columns, not ORM objects
        return [
            Attempt(
                at=r.at,
                url=r.url,
                outcome=r.outcome,
                kind=r.kind,
                status=r.status,
                reason=r.reason,
                attempts=r.attempts,
                via=r.via,
                final_url=r.final_url,
                run_id=r.run_id,
            )
            for r in rows
        ]

    def count(self, **where: Any) -> int:
        stmt = select(FetchAttempt.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(FetchAttempt, key) == value)
        with self.engine.connect() as conn:
            return len(conn.execute(stmt).all())

    # --- validators and bodies ---

    def cached(self, canonical_url: str) -> Cached | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(HttpCache).where(HttpCache.canonical_url == canonical_url)).first()
        if row is None:
            return None
        c = row
        return Cached(
            c.canonical_url, c.final_url, c.etag, c.last_modified, c.content_hash, c.media_type, c.body, c.fetched_at
        )

    def remember(
        self,
        canonical_url: str,
        *,
        final_url: str,
        etag: str | None,
        last_modified: str | None,
        content_hash: str,
        media_type: str,
        body: str,
    ) -> None:
        values = {
            "final_url": final_url,
            "etag": etag,
            "last_modified": last_modified,
            "content_hash": content_hash,
            "media_type": media_type,
            "body": body,
            "fetched_at": datetime.now(UTC),
        }
        stmt = self._insert(HttpCache).values(canonical_url=canonical_url, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
        with self._lock, self.engine.begin() as conn:
            conn.execute(stmt)

    # --- duplicates ---

    def find_duplicate(
        self, canonical_url: str, content_hash: str, simhash: int, max_bits: int
    ) -> tuple[str, int] | None:
        """(earlier canonical URL, differing bits) of a page with the same or a near-identical text, or None."""
        with self.engine.connect() as conn:
            same = conn.execute(
                select(ContentIndex.canonical_url)
                .where(
                    ContentIndex.content_hash == content_hash,
                    ContentIndex.canonical_url != canonical_url,
                )
                .order_by(ContentIndex.at, ContentIndex.canonical_url)
                .limit(1)
            ).first()
            if same is not None:
                return same[0], 0
            if max_bits == 0:
                return None
            bands = _bands(simhash)
            rows = conn.execute(
                select(ContentIndex.canonical_url, ContentIndex.simhash)
                .where(
                    ContentIndex.canonical_url != canonical_url,
                    or_(*(getattr(ContentIndex, f"band{i}") == bands[i] for i in range(BANDS))),
                )
                .order_by(ContentIndex.at, ContentIndex.canonical_url)
            ).all()
        for url, other in rows:
            distance = bin(_unsigned(other) ^ simhash).count("1")
            if distance <= max_bits:
                return url, distance
        return None

    def index_content(self, canonical_url: str, content_hash: str, simhash: int) -> None:
        bands = _bands(simhash)
        values = {
            "content_hash": content_hash,
            "simhash": _signed(simhash),
            "at": datetime.now(UTC),
            **{f"band{i}": bands[i] for i in range(BANDS)},
        }
        stmt = self._insert(ContentIndex).values(canonical_url=canonical_url, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
        with self._lock, self.engine.begin() as conn:
            conn.execute(stmt)

    def link_duplicate(self, canonical_url: str, duplicate_of: str, distance: int) -> None:
        values = {
            "duplicate_of": duplicate_of,
            "kind": "exact" if distance == 0 else "near",
            "distance": distance,
            "at": datetime.now(UTC),
        }
        stmt = self._insert(DuplicateLink).values(canonical_url=canonical_url, **values)
        stmt = stmt.on_conflict_do_update(index_elements=["canonical_url"], set_=values)
        with self._lock, self.engine.begin() as conn:
            conn.execute(stmt)

    def duplicate_of(self, canonical_url: str) -> str | None:
        """The page this one was linked to as the same story, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(DuplicateLink.duplicate_of).where(DuplicateLink.canonical_url == canonical_url)
            ).first()
        return None if row is None else str(row[0])

    def duplicate_link(self, canonical_url: str) -> tuple[str, str, int] | None:
        """(duplicate_of, kind, distance) of a page linked as the same story as another, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(DuplicateLink.duplicate_of, DuplicateLink.kind, DuplicateLink.distance).where(
                    DuplicateLink.canonical_url == canonical_url
                )
            ).first()
        return None if row is None else (str(row[0]), str(row[1]), int(row[2]))

    def duplicates(self) -> Iterator[tuple[str, str, str, int]]:
        """(url, duplicate_of, kind, distance) for every linked page."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    DuplicateLink.canonical_url, DuplicateLink.duplicate_of, DuplicateLink.kind, DuplicateLink.distance
                ).order_by(DuplicateLink.at)
            ).all()
        for row in rows:
            yield row[0], row[1], row[2], row[3]


_SCHEMA_LOCK = threading.Lock()


def _create_tables(engine: Engine, attempts: int = 8) -> None:
    """Create the fetch-log tables if missing.

    Runs that start together on a new SQLite file all create the tables at once: one lock in this process
    orders its threads, and "database is locked" from another process is retried with a short backoff.
    """
    for attempt in range(attempts):
        try:
            with _SCHEMA_LOCK:
                FetchBase.metadata.create_all(engine)
            return
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
