"""The article store: processed records, the raw inputs they came from, and pipeline runs.

One `Store` speaks to SQLite (the default, a file in the data directory) or PostgreSQL through
SQLAlchemy 2. JSON payloads are kept as JSON *text* so both databases store and return exactly the same
bytes, and every timestamp is normalised to UTC so SQLite (which has no time-zone type) orders and
compares them like PostgreSQL does.

What lives where:

* `engine`: opening a database (`create_engine_for`: SQLite hooks and WAL, PostgreSQL timeouts), the shared
  column types, `mask_url` and `StorageError`.
* `tables`: the declarative `Base` and the Store's tables (versioned by newsflow.migrations).
* `base`: the state and connection/error plumbing the Store's parts share.
* `schema`, `records`, `raws`, `runs`, `translations`: the Store's methods, one part each.
* `store`: `Store`, composed of those parts (opening, closing).
* `fetchlog`: the acquisition layer's `FetchLog` and its own tables (not re-exported here).
"""

from __future__ import annotations

from newsflow.storage.engine import StorageError, create_engine_for, mask_url
from newsflow.storage.raws import RawState, RawStatus, raw_input_id
from newsflow.storage.records import SaveStatus
from newsflow.storage.runs import RunInfo
from newsflow.storage.store import Store
from newsflow.storage.tables import Article, Base, CachedTranslationRow, RawInput, Run

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
    "create_engine_for",
    "mask_url",
    "raw_input_id",
]
