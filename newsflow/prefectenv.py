"""Prefect's local (ephemeral) mode: the environment `newsflow run` and `newsflow retranslate` set up."""

from __future__ import annotations

import os

from newsflow.localserver import guard_local_server
from newsflow.settings import get_settings


def prefect_environment(verbose: bool) -> None:
    """Embedded defaults for Prefect's local (ephemeral) mode, set before Prefect is imported (`newsflow
    retranslate`; `newsflow run` also starts the local server itself: `newsflow.cli._start_local_prefect`)."""
    settings = get_settings()
    # The ephemeral server needs more than the default 20 s to create its database on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(settings.prefect_startup_timeout))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without -v only critical logs: a failed task's log carries a traceback, and the CLI already reports
    # every failure itself, in one line (per article, or the error that stopped the run).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    # Prefect's local server is a child process: it now ends with this one, even after a kill -9.
    guard_local_server()
