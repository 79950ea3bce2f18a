"""Shared fixtures: isolated settings per test, PostgreSQL when it runs here, and (from
tests/acquire_fixtures.py) the acquisition tests' local site and fetch log."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.settings import reset_settings

# The acquisition tests' `site` and `log` fixtures and the end-to-end tests' Prefect servers (one definition
# each, not a copy per module).
pytest_plugins = ["tests.acquire_fixtures", "tests.prefect_servers"]

REPO = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("NEWSFLOW_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and no inherited NEWSFLOW_* configuration."""
    for key in list(os.environ):
        if key.startswith("NEWSFLOW_"):
            monkeypatch.delenv(key)
    data = tmp_path / "newsflow-data"
    monkeypatch.setenv("NEWSFLOW_DATA_DIR", str(data))
    reset_settings()
    yield data
    reset_settings()


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    import sqlalchemy

    try:
        engine = sqlalchemy.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    return None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A URL to a fresh PostgreSQL schema of its own (dropped afterwards).

    Skips, saying why, where PostgreSQL does not run; under CI=true it fails instead, since CI has it.
    """
    import sqlalchemy

    reason = _pg_available()
    if reason:
        message = f"PostgreSQL at {PG_URL} unreachable: {reason}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"nf_test_{uuid.uuid4().hex[:10]}"
    admin = sqlalchemy.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
