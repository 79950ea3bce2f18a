"""`newsflow retranslate`: give stored records whose translation is pending another try."""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
from typing import Annotated

import typer

from extractors.translate.providers import PROVIDERS

_CHOICES = ("auto", *PROVIDERS)  # 'none' makes no sense for retranslate


def register(app: typer.Typer) -> None:
    @app.command()
    def retranslate(
        limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="At most this many records.")] = None,
        translator: Annotated[
            str | None,
            typer.Option(
                "--translator",
                "-t",
                help=f"{', '.join(_CHOICES[:-1])} or {_CHOICES[-1]} (default: NEWSFLOW_TRANSLATOR).",
            ),
        ] = None,
        data_dir: Annotated[
            str | None, typer.Option("--data-dir", help="Where the database is (NEWSFLOW_DATA_DIR).")
        ] = None,
        database_url: Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL.")] = None,
        verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")] = False,
    ) -> None:
        """Translate stored records whose translation is pending (no provider was reachable), in place."""
        from pathlib import Path

        from rich.console import Console

        from newsflow.errors import UserError
        from newsflow.runtime import open_store, runtime
        from newsflow.settings import configure, get_settings

        configure(Path(data_dir) if data_dir else None, database_url)
        settings = get_settings()
        name = translator or settings.translator
        if name not in _CHOICES:
            raise UserError(f"--translator {name!r}: use auto or one of {', '.join(PROVIDERS)}")
        try:
            runtime(settings).translator(name, cache=False)  # an unusable choice (no key, no apertium): one line
        except ValueError as exc:
            raise UserError(f"--translator {name}: {exc}") from None
        open_store(settings.resolved_database_url).close()  # a wrong URL is a one-line error, before Prefect starts
        from pydantic import ValidationError

        from flows.params import RetranslateParams, RetranslateProvider

        try:
            params = RetranslateParams(limit=0 if limit is None else limit, translator=RetranslateProvider(name))
        except ValidationError as exc:  # the deployment's bounds hold for the command too
            raise UserError(f"--limit {limit}: {exc.errors()[0]['msg']}") from None
        from newsflow import interrupts
        from newsflow.prefectenv import start_local_prefect, use_local_prefect

        err = Console(stderr=True)

        def on_signal(signal_name: str) -> None:
            err.print(
                f"[yellow]{signal_name}: stopping[/yellow] after the record in hand; what was translated is stored "
                "and written (press Ctrl-C again to stop at once)"
            )

        state = None
        # The handlers from the start, as `newsflow run`: a Ctrl-C while the server starts and the flow loads stops
        # the command too.
        with interrupts.graceful(on_signal):
            # Prefect's local server, started by the command in a session of its own (as `newsflow run`): a Ctrl-C
            # in the terminal reaches the whole process group and would otherwise stop it under the run.
            server = start_local_prefect(verbose)
            from flows.retranslate import RetranslateSummary
            from flows.retranslate import retranslate as flow
            from flows.runners import local_run_settings

            local_url = use_local_prefect(server, interrupts.requested)
            if not interrupts.requested():
                with local_run_settings(local_url):
                    state = flow(limit=params.limit, translator=params.translator, return_state=True)
        if state is None:  # stopped before the run began
            err.print("interrupted before the run started: nothing was translated")
            raise typer.Exit(interrupts.EXIT_CODE)
        summary = state.result(raise_on_failure=False)
        if isinstance(summary, BaseException):
            raise summary
        assert isinstance(summary, RetranslateSummary)
        statuses = ", ".join(f"{k} {v}" for k, v in summary.translation.items()) or "-"
        Console().print(
            f"retranslate: {summary.picked} pending record(s) picked; now {statuses}; "
            f"{summary.updated} updated, {summary.unchanged} unchanged"
            + (f" (interrupted: {summary.not_processed} left pending for a later run)" if summary.interrupted else "")
        )
        if summary.interrupted:
            raise typer.Exit(interrupts.EXIT_CODE)
