"""Operations commands: `newsflow serve` (the deployments in one process) and `newsflow deployments`."""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newsflow.errors import UserError
from newsflow.settings import get_settings


def _api_url() -> str | None:
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def serve(
    limit: Annotated[
        int | None, typer.Option(help="Most flow runs at once in this process (default: no limit).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="NEWSFLOW_DATA_DIR for the runs.")] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="NEWSFLOW_DATABASE_URL for the runs.")
    ] = None,
) -> None:
    """Serve every deployment from this process; runs are started from the Prefect UI, the API or schedules.

    Needs a Prefect server: `prefect server start`, then PREFECT_API_URL=http://127.0.0.1:4200/api.
    """
    from newsflow.settings import configure

    configure(data_dir, database_url)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Runs send a heartbeat every 30 s (Prefect's default is 180), so `newsflow automation` marks a run whose
    # process died Crashed within 90 s; the served runs inherit this environment.
    os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "30")
    if not _api_url():
        raise UserError(
            "newsflow serve needs a Prefect server: run `prefect server start` and set "
            "PREFECT_API_URL=http://127.0.0.1:4200/api (a temporary local server would vanish with this process)"
        )
    from prefect import serve as prefect_serve

    from flows.deployments import build_deployments

    deployments, missing = build_deployments(get_settings())
    err = Console(stderr=True)
    for name in missing:
        err.print(f"[yellow]not served:[/yellow] {name} (its flow module does not exist yet)")
    prefect_serve(*deployments, limit=limit)


def automation(
    within: Annotated[int, typer.Option(help="Seconds without a heartbeat before a run is marked Crashed.")] = 90,
    notify: Annotated[
        str | None,
        typer.Option(
            help="Also notify through this Prefect notification block (type/name, e.g. slack-webhook/ops) when a "
            "newsflow run fails or completes with failures."
        ),
    ] = None,
) -> None:
    """Create (or replace) the Prefect automation that marks runs whose heartbeats stopped as Crashed, and with
    --notify the one that notifies on runs with failures.

    For a lost machine: its runs would otherwise stay Running for good. Needs a Prefect server (PREFECT_API_URL).
    """
    from flows.automations import (
        HEARTBEAT_SECONDS,
        NAME,
        NOTIFY_NAME,
        install_failures_automation,
        install_zombie_automation,
    )

    if not _api_url():
        raise UserError("newsflow automation needs a Prefect server: set PREFECT_API_URL=http://127.0.0.1:4200/api")
    if within <= HEARTBEAT_SECONDS:
        raise UserError(f"--within {within}: must be longer than the runs' heartbeat interval ({HEARTBEAT_SECONDS} s)")
    notify_id = None
    if notify is not None:
        try:
            notify_id = install_failures_automation(notify)
        except ValueError as exc:
            raise UserError(f"--notify {notify}: {exc}") from None
    automation_id = install_zombie_automation(within)
    Console().print(f"automation '{NAME}' ({automation_id}): runs with no heartbeat for {within} s become Crashed")
    if notify_id is not None:
        Console().print(f"automation '{NOTIFY_NAME}' ({notify_id}): failed runs and runs with failures notify {notify}")


def deployments() -> None:
    """List the deployments with their flows and schedules (as `newsflow serve` would create them)."""
    from flows.deployments import DEPLOYMENTS, schedule_for

    settings = get_settings()
    table = Table(title="newsflow deployments")
    for column in ("deployment", "entrypoint", "schedule", "description"):
        table.add_column(column, overflow="fold")
    for spec in DEPLOYMENTS:
        schedule = schedule_for(spec, settings)
        when = (
            "-"
            if schedule is None
            else (f"{schedule[0]} ({settings.schedule_timezone})" + ("" if schedule[1] else ", inactive"))
        )
        loaded = "" if spec.load_flow() is not None else " (missing)"
        table.add_row(spec.name, spec.entrypoint + loaded, when, spec.description)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(automation)
    app.command()(deployments)
