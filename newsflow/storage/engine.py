"""How newsflow opens a database: engines (psycopg 3 on PostgreSQL; SQLite's connect/begin hooks and WAL),
the column types both databases share, URL masking and `StorageError` (defined in
`newsflow.errors`, shared by Store and FetchLog)."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, DateTime, Dialect, Engine, String, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.types import TypeDecorator

from newsflow.errors import StorageError as StorageError  # re-exported: the storage modules import it from here

_SQLITE_BUSY_TIMEOUT_MS = 30_000  # parallel Prefect tasks queue for the single SQLite writer lock
_PG_CONNECT_TIMEOUT_S = 10  # fail fast with a clear StorageError instead of hanging on a dead host
_WRITE_OPTION = "newsflow_write"  # execution option: this SQLite transaction will write


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


# --- URLs -------------------------------------------------------------------------------------------

_PASSWORD_IN_NETLOC = re.compile(r"(://[^/?#@:]*:)[^@/?#]*@")
_PASSWORD_IN_QUERY = re.compile(r"(?i)((?:^|[?&])password=)[^&]*")


def mask_url(url: str | URL) -> str:
    """The URL as text with any password replaced by `***` (safe for logs and error messages)."""
    try:
        rendered = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError, TypeError):
        rendered = _PASSWORD_IN_NETLOC.sub(r"\1***@", str(url))
    return _PASSWORD_IN_QUERY.sub(r"\1***", rendered)


# --- engines ----------------------------------------------------------------------------------------


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
