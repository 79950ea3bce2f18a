"""The Store's schema: Alembic migrations (newsflow.migrations) run under a lock."""

from __future__ import annotations

import zlib
from typing import Literal

from sqlalchemy import text

from newsflow import migrations
from newsflow.storage.base import StoreBase
from newsflow.storage.engine import StorageError

# Serialises CREATE TABLE across processes starting at once on an empty PostgreSQL database.
_PG_SCHEMA_LOCK = zlib.crc32(b"newsflow.storage.schema")


class SchemaMixin(StoreBase):
    """Creating, reading and downgrading the schema revision."""

    def create_schema(self, revision: str = "head") -> None:
        """Upgrade the schema to `revision` with the Alembic migrations (an empty database gets every
        table; one made before migrations existed is upgraded in place, rows kept)."""
        if revision == "head":
            # Fast path for every open after the first: one read, no lock.
            with self._errors("cannot open database"), self.engine.connect() as conn:
                if migrations.current(conn) == migrations.head():
                    return
        self._migrate("upgrade", revision)

    def schema_revision(self) -> str | None:
        """The migration revision the database is at (None: empty or made before migrations)."""
        with self._errors("cannot read the schema revision of"), self.engine.connect() as conn:
            return migrations.current(conn)

    def downgrade_schema(self, revision: str) -> None:
        """Downgrade the schema to `revision` ('base' drops the store's tables and their rows)."""
        self._migrate("downgrade", revision)

    def _migrate(self, action: Literal["upgrade", "downgrade"], revision: str) -> None:
        """Run the Alembic `action` to `revision` in one write transaction, under the schema lock."""
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
