"""Storage test fixtures: `db_url` (SQLite and PostgreSQL), `clock` and `store`; for the reliability tests
`cli` (the CLI in a subprocess), `prefect_server` (one per session) and `flow_cli` (the CLI using it).

Test modules load it with `pytest_plugins = ["conftest_storage"]` and must not import it at run time
(pytest would then warn that it cannot rewrite its asserts). The PostgreSQL side comes from the `pg_url`
fixture of tests/conftest.py (a fresh schema per test; skipped when PostgreSQL is unreachable, failing
under CI=true). These fixtures are meant to move into tests/conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from newsflow.storage import Store
from tests.prefect_servers import _prefect_server

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


# --- the CLI as a user runs it, and a Prefect server for the runs (reliability tests) ----------------------

REPO = Path(__file__).resolve().parent.parent


class Cli:
    """Runs `python -m newsflow.cli ...` as a user would: no NEWSFLOW_*/PREFECT_API settings inherited,
    plus `env` (and the session's Prefect server, when one was asked for)."""

    def __init__(self, base_env: dict[str, str]) -> None:
        self.base_env = base_env

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        full = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
        full.update(self.base_env)
        full.update(extra or {})
        return full

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "newsflow.cli", *args]

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(*args), cwd=cwd or REPO, env=self.env(env), capture_output=True, text=True, timeout=timeout
        )

    def start(self, *args: str, env: dict[str, str] | None = None, log: Path) -> subprocess.Popen[bytes]:
        """The command in the background (its own process group), stdout+stderr to `log`."""
        with log.open("wb") as out:
            return subprocess.Popen(
                self.argv(*args),
                cwd=REPO,
                env=self.env(env),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


@pytest.fixture
def cli() -> Cli:
    """The CLI without Prefect server (commands that do not start a flow)."""
    return Cli({})


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `prefect server start` of its own for the session (tests/prefect_servers.py starts it); its API URL.

    One server for every `newsflow run` of the session: an ephemeral server per run costs 13-30 s here. Not the
    session's shared server (`prefect_api`): the CLI tests' runs in its database made the operator tests flaky
    under load. No schedules run here, so the scheduler keeps Prefect's own pace.
    """
    home = tmp_path_factory.mktemp("prefect-home")
    with _prefect_server(home, PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="60") as server:
        yield server.api


@pytest.fixture
def flow_cli(prefect_server: str, tmp_path: Path) -> Cli:
    """The CLI with PREFECT_API_URL set to the session's server (for `newsflow run`)."""
    return Cli(
        {
            "PREFECT_API_URL": prefect_server,
            "PREFECT_HOME": str(tmp_path / "prefect-client"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
    )
