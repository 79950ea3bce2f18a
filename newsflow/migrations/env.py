"""Alembic environment: runs on the connection newsflow hands over (see newsflow.migrations.upgrade).

There is no alembic.ini and no URL here: the Store (or `newsflow db`) opens the database with its own
engine settings (busy timeout, WAL, connect timeout) and passes a connection already inside the
transaction that holds the schema lock.
"""

from __future__ import annotations

from alembic import context

from newsflow.migrations import STORE_TABLES
from newsflow.storage.tables import Base


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # The acquisition tables (newsflow/storage/fetchlog.py) live in the same database but are not migrated here.
    return not (type_ == "table" and name not in STORE_TABLES)


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=_include,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table instead
)
with context.begin_transaction():
    context.run_migrations()
