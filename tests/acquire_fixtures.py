"""Acquisition test fixtures: `site` (the local news site of tests/acquire_site.py on 127.0.0.1) and `log` (a
fetch log in its own SQLite file).

Registered for every test by `pytest_plugins` in tests/conftest.py; test modules take them as arguments and
must not import them (ruff would flag the argument as redefining the import, F811). A module needing a
different `log` (e.g. sharing the Store's database) defines its own fixture of that name, which wins.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from newsflow.storage.fetchlog import FetchLog
from tests.acquire_site import Site, serve


@pytest.fixture
def site() -> Iterator[Site]:
    """The local site on 127.0.0.1 (a free port), shut down after the test."""
    with serve() as running:
        yield running


@pytest.fixture
def log(tmp_path: Path) -> Iterator[FetchLog]:
    """A fetch log of its own (tmp_path/fetch.db), closed after the test."""
    with FetchLog(f"sqlite:///{tmp_path / 'fetch.db'}") as opened:
        yield opened
