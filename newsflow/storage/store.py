"""`Store`: one object over the article store's database, composed of its parts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from newsflow.storage.base import _utcnow
from newsflow.storage.engine import StorageError, create_engine_for, mask_url
from newsflow.storage.raws import RawsMixin
from newsflow.storage.records import RecordsMixin
from newsflow.storage.runs import RunsMixin
from newsflow.storage.schema import SchemaMixin
from newsflow.storage.translations import TranslationsMixin


class Store(SchemaMixin, RecordsMixin, RawsMixin, RunsMixin, TranslationsMixin):
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
