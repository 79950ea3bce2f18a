"""Alembic migrations of the Store's tables, run through newsflow's own engine (no alembic.ini).

`Store` calls `upgrade` when it opens a database, so every command works on an up-to-date schema;
`newsflow db upgrade|current|downgrade` runs them by hand. Revision 0001 creates only what is missing,
so a database made before newsflow used Alembic (the same tables, no `alembic_version`) is upgraded in
place with its rows.

The acquisition tables of `newsflow/storage/fetchlog.py` share the database but are not migrated: they are a
log and caches that `FetchLog` creates on open, and its models are not this package's to version.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported inside the functions: the store imports this package, and a command that opens no
# database (`newsflow extract`, `--help`) should not pay for loading Alembic (about 60 ms).

__all__ = ["STORE_TABLES", "MigrationError", "current", "downgrade", "head", "history", "upgrade"]

STORE_TABLES = frozenset({"raw_inputs", "articles", "runs", "translation_cache"})
_HERE = Path(__file__).resolve().parent


class MigrationError(Exception):
    """A migration cannot run (for example the database is newer than this newsflow)."""


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE))
    cfg.attributes["connection"] = connection
    return cfg


@lru_cache(maxsize=1)
def head() -> str:
    """The newest revision this newsflow knows (read once: every Store open compares against it)."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(_config()).get_current_head()
    assert found is not None
    return found


def history() -> list[str]:
    """Every known revision, oldest first, as 'id: message'."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_config())
    return [f"{s.revision}: {s.doc}" for s in reversed(list(scripts.walk_revisions()))]


def current(connection: Connection) -> str | None:
    """The revision the database is at (None: empty, or made before newsflow used Alembic)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _known(revision: str | None) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(_config()).get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade to `revision`, inside the caller's transaction (which should hold the schema lock)."""
    from alembic import command
    from alembic.util import CommandError

    at = current(connection)
    if not _known(at):
        raise MigrationError(
            f"the database is at schema revision {at}, which this newsflow does not know "
            f"(its newest is {head()}): upgrade newsflow"
        )
    try:
        command.upgrade(_config(connection), revision)
    except CommandError as exc:
        raise MigrationError(str(exc)) from exc


def downgrade(connection: Connection, revision: str) -> None:
    """Downgrade to `revision` ('base' drops the store's tables and every row in them)."""
    from alembic import command
    from alembic.util import CommandError

    try:
        command.downgrade(_config(connection), revision)
    except CommandError as exc:
        raise MigrationError(str(exc)) from exc
