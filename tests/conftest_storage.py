"""Storage test fixtures: `db_url` (SQLite and PostgreSQL), `clock` and `store`.

Test modules load it with `pytest_plugins = ["conftest_storage"]` and must not import it at run time
(pytest would then warn that it cannot rewrite its asserts). The PostgreSQL side comes from the `pg_url`
fixture of tests/conftest.py (a fresh schema per test; skipped when PostgreSQL is unreachable, failing
under CI=true). These fixtures are meant to move into tests/conftest.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsflow.storage import Store

CLOCK_START = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    """A hand-driven clock for Store(clock=...): time moves only when a test says so."""

    def __init__(self, start: datetime = CLOCK_START) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float = 1.0) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database: a SQLite file under tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'newsflow.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def clock() -> Clock:
    """The clock `store` uses; starts at CLOCK_START and moves on clock.advance()."""
    return Clock()


@pytest.fixture
def store(db_url: str, clock: Clock) -> Iterator[Store]:
    """A Store on `db_url` whose timestamps come from `clock`."""
    opened = Store(db_url, clock=clock)
    try:
        yield opened
    finally:
        opened.close()
