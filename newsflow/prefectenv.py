"""Prefect's local (ephemeral) mode: the environment `newsflow run` and `newsflow retranslate` set up."""

from __future__ import annotations

import os
from typing import Any

from newsflow.errors import UserError
from newsflow.localserver import guard_local_server, start_local_server
from newsflow.settings import get_settings


def prefect_environment(verbose: bool) -> None:
    """Embedded defaults for Prefect's local (ephemeral) mode, set before Prefect is imported (`start_local_prefect`
    sets them for `newsflow run` and `newsflow retranslate`, then starts the local server)."""
    settings = get_settings()
    # The ephemeral server needs more than the default 20 s to create its database on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(settings.prefect_startup_timeout))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without -v only critical logs: a failed task's log carries a traceback, and the CLI already reports
    # every failure itself, in one line (per article, or the error that stopped the run).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    # Prefect's local server is a child process: it now ends with this one, even after a kill -9.
    guard_local_server()


def start_local_prefect(verbose: bool) -> Any:
    """`prefect_environment`, then Prefect's local server for the command, started now (it takes seconds: the run
    imports and loads its models meanwhile) in a session of its own, so a Ctrl-C in the terminal does not stop
    it under the run (`newsflow.localserver.LocalServer`). None when PREFECT_API_URL names a server."""
    prefect_environment(verbose)
    server = start_local_server()
    if server is not None:
        server.prime()
    return server


def use_local_prefect(server: Any, stop: Any) -> str | None:
    """The API URL of `server` once it answers (None: no server of ours, or a server configured in a Prefect
    profile, which is then used instead). Children of the run (Dask workers) are pointed at it too. Returns
    None early, with the server stopped, when `stop()` turns true while waiting (Ctrl-C)."""
    if server is None:
        return None
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():  # set in a Prefect profile or prefect.toml: that server is the one to use
        server.stop()
        return None
    try:
        ready = server.ready(get_settings().prefect_startup_timeout, stop=stop)
    except RuntimeError as exc:
        raise UserError(str(exc)) from None
    if not ready:
        server.stop()
        return None
    os.environ["PREFECT_API_URL"] = server.url
    return str(server.url)
