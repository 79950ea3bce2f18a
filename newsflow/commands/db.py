"""`newsflow db`: the database schema (Alembic migrations) by hand.

Every command that opens the store already upgrades it; `db upgrade` is for doing it ahead of a
deployment (or on a database only read by other tools), `db current` says where a database is.
"""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from newsflow.storage import Store

DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the SQLite database is (NEWSFLOW_DATA_DIR).")
]
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (NEWSFLOW_DATABASE_URL).")]

db = typer.Typer(help="Database schema: upgrade, show or downgrade the Alembic revision.", no_args_is_help=True)


def _open(data_dir: Path | None, database_url: str | None) -> Store:
    from newsflow.runtime import open_store
    from newsflow.settings import configure, get_settings

    configure(data_dir, database_url)
    return open_store(get_settings().resolved_database_url, migrate=False)


@db.command()
def upgrade(
    revision: Annotated[str, typer.Option("--revision", help="Target revision (default: the newest).")] = "head",
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Upgrade the schema (an empty database gets every table; a pre-migration one is upgraded in place)."""
    store = _open(data_dir, database_url)
    with store:
        before = store.schema_revision()
        store.create_schema(revision)
        after = store.schema_revision()
    typer.echo(f"{store.url}: schema revision {before or 'none'} -> {after}")


@db.command()
def current(data_dir: DataDirOpt = None, database_url: DatabaseOpt = None) -> None:
    """Print the schema revision of the database and the newest one this newsflow knows."""
    from newsflow import migrations

    store = _open(data_dir, database_url)
    with store:
        at = store.schema_revision()
    newest = migrations.head()
    state = "up to date" if at == newest else f"behind: run `newsflow db upgrade` to reach {newest}"
    typer.echo(f"{store.url}: schema revision {at or 'none'} ({state})")


@db.command()
def downgrade(
    revision: Annotated[str, typer.Argument(help="Revision to go back to; 'base' drops the store's tables.")],
    yes: Annotated[bool, typer.Option("--yes", help="Needed for 'base', which deletes every stored row.")] = False,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Downgrade the schema to REVISION (for rolling back a newsflow upgrade)."""
    from newsflow import migrations
    from newsflow.errors import UserError

    known = [line.split(":", 1)[0] for line in migrations.history()]
    if revision not in (*known, "base"):
        raise UserError(f"db downgrade {revision!r}: unknown revision (known: base, {', '.join(known)})")
    if revision == "base" and not yes:
        raise UserError("db downgrade base: this drops every stored article; add --yes to do it")
    store = _open(data_dir, database_url)
    with store:
        store.downgrade_schema(revision)
        after = store.schema_revision()
    typer.echo(f"{store.url}: schema revision now {after or 'none'}")


def register(app: typer.Typer) -> None:
    app.add_typer(db, name="db")
