"""The `newsflow` command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from newsflow.errors import UserError
from newsflow.settings import configure, get_settings

app = typer.Typer(
    name="newsflow",
    help="Vietnamese provincial-government news (and its foreign-language editions) into structured JSON.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
err = Console(stderr=True)

SOURCES_HELP = (
    "Files (.txt, .html/.htm, .json, .jsonl, .pdf, .docx), directories (recursively), '-' for stdin, http(s) "
    "URLs, or feed:URL, sitemap:URL, listing:URL."
)


class Translator(StrEnum):
    auto = "auto"
    none = "none"
    google = "google"
    mymemory = "mymemory"
    libre = "libre"
    deepl = "deepl"
    microsoft = "microsoft"
    apertium = "apertium"


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"


TranslatorOpt = Annotated[
    Translator | None,
    typer.Option("--translator", "-t", help="Translation provider; 'auto' tries the configured ones in order, "
                 "'none' turns translation off. Default: NEWSFLOW_TRANSLATOR or auto."),
]  # fmt: skip
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the SQLite database and JSON output go (NEWSFLOW_DATA_DIR).")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://host/db.")
]


def _configure(data_dir: Path | None, database_url: str | None) -> None:
    configure(data_dir, database_url)


def _prefect_environment(verbose: bool) -> None:
    """Embedded defaults for Prefect's local (ephemeral) mode, set before Prefect is imported."""
    settings = get_settings()
    # The ephemeral server needs more than the default 20 s to create its database on 2 cores.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(settings.prefect_startup_timeout))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Without -v only critical logs: a failed task's log carries a traceback, and the CLI already reports
    # every failure itself, in one line (per article, or the error that stopped the run).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    # Prefect's local server is a child process: it now ends with this one, even after a kill -9.
    from newsflow.localserver import guard_local_server

    guard_local_server()


def _name(source: str) -> str:
    """An input's name for a one-line message: `extractors.sources.display_name` (control characters escaped)."""
    from extractors.sources import display_name

    return display_name(source)


def _one_line(text: str) -> str:
    """A reason as one line: whitespace runs (newlines too) become one space, other unprintables escaped."""
    from extractors.text import one_line

    joined = one_line(text)
    return joined if joined.isprintable() else repr(joined)[1:-1]


def _url_problem(prefix: str, url: str) -> str | None:
    """Why `prefix` + `url` is not a URL source (None when `url` is an http(s) URL with a host)."""
    if not url.startswith(("http://", "https://")):
        example = {"feed:": "rss.xml", "sitemap:": "sitemap.xml", "listing:": "tin-tuc/"}.get(prefix, "")
        return f"{prefix} must be followed by an http(s) URL (e.g. {prefix}https://example.gov.vn/{example})"
    try:
        host = urlsplit(url).hostname
    except ValueError as exc:
        return f"not a valid URL ({exc})"
    return None if host else "URL has no host"


def _check_sources(sources: list[str]) -> list[str]:
    """Every SOURCE form the README lists: '-', an existing path, an http(s) URL, or feed:/sitemap:/listing:
    followed by an http(s) URL. Anything else is a one-line UserError naming it."""
    if not sources:
        default = Path("samples")
        if not default.is_dir():
            raise UserError("no SOURCE given and no samples/ directory here; pass files, directories or URLs")
        return [str(default)]
    from extractors.acquire.session import PREFIXES

    for source in sources:
        if source == "-" or os.path.lexists(source):
            continue  # a path that exists (even a broken link or a FIFO) is read, or reported, by the run
        prefix = next((p for p in PREFIXES if source.startswith(p)), "")
        url = source[len(prefix) :]
        if prefix or url.startswith(("http://", "https://")):
            problem = _url_problem(prefix, url)
            if problem:
                raise UserError(f"{_name(source)}: {problem}")
            continue
        raise UserError(f"{_name(source)}: no such file or directory "
                        "(and not an http(s) URL, or feed:, sitemap: or listing: with one)")  # fmt: skip
    return sources


@app.command()
def run(
    sources: Annotated[list[str] | None, typer.Argument(help=SOURCES_HELP + " Default: samples/")] = None,
    translator: TranslatorOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")] = False,
) -> None:
    """Run the ingest flow (Prefect, local mode): process SOURCES, store records and write JSON files."""
    _configure(data_dir, database_url)
    paths = _check_sources(list(sources or []))
    from newsflow.storage import Store

    # Open the database before Prefect starts: a wrong URL is a one-line error, not a failed flow run.
    Store(get_settings().resolved_database_url).close()
    _prefect_environment(verbose)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    from flows.ingest import ingest
    from flows.runners import local_run_settings
    from newsflow import progress

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=err, transient=False) as bar:  # fmt: skip
        received = bar.add_task("received", total=None)
        processed = bar.add_task("processed", total=None)
        stored = bar.add_task("stored", total=None)
        bar.update(received, description="starting Prefect (local mode) ...")

        def on_event(event: str, count: int) -> None:
            if event == "received_total":
                bar.update(received, total=count)
            if event in ("received", "failed"):
                bar.advance(received, count)
                bar.update(received, description="received")
                total = bar.tasks[received].completed
                bar.update(processed, total=total)
                bar.update(stored, total=total)
            if event in ("processed", "failed"):
                bar.advance(processed, count)
            if event == "stored":
                bar.advance(stored, count)

        unsubscribe = progress.subscribe(on_event)
        try:
            with local_run_settings():
                summary = ingest(sources=paths, translator=translator.value if translator else None)
        finally:
            unsubscribe()
    _print_summary(summary)
    if summary.processed == 0 and summary.failed:
        raise typer.Exit(1)


def _print_summary(summary: object) -> None:
    from flows.ingest import RunSummary

    assert isinstance(summary, RunSummary)
    table = Table(title=f"newsflow run {summary.run_id}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("articles received", str(summary.received))
    table.add_row("processed", str(summary.processed))
    table.add_row("failed", str(len(summary.failed)))
    table.add_row("stored: new / updated / unchanged", f"{summary.new} / {summary.updated} / {summary.unchanged}")
    for kind, count in summary.entities.items():
        table.add_row(f"entities: {kind}", str(count))
    table.add_row("translation", ", ".join(f"{k} {v}" for k, v in sorted(summary.translation.items())) or "-")
    table.add_row("database", summary.database or "-")
    table.add_row("JSON records", summary.records_dir or "-")
    table.add_row("JSONL of this run", summary.run_file or "-")
    Console().print(table)
    from rich.markup import escape

    for failure in summary.failed:
        # One line per failure (soft_wrap), and a source or reason with [brackets] is not markup.
        err.print(f"[red]failed[/red] {escape(_name(failure.source))}: {escape(_one_line(failure.reason))}",
                  soft_wrap=True)  # fmt: skip


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(help=SOURCES_HELP)],
    translator: TranslatorOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="json: an array; jsonl: one record per line.")] = (
        Format.jsonl
    ),
) -> None:
    """Process SOURCES like `run` but store nothing: records go to stdout, in input order."""
    _configure(None, None)
    paths = _check_sources(sources)
    from extractors.pipeline import failure_reason, process
    from extractors.sources import InputError, iter_sources
    from extractors.translate import Translator as Engine

    settings = get_settings()
    engine = Engine(settings, translator.value if translator else None)
    failures = 0
    records = []
    from extractors.acquire.session import Acquirer

    # `extract` stores nothing: no fetch log either.
    for item in iter_sources(paths, settings, acquirer=Acquirer(settings, log=None)):
        if isinstance(item, InputError):
            err.print(f"error: {_name(item.source)}: {_one_line(item.reason)}", markup=False, highlight=False,
                      soft_wrap=True)  # fmt: skip
            failures += 1
            continue
        try:
            record = process(item, engine, settings.translation_target)
        except Exception as exc:  # any error of one article fails that article only
            err.print(f"error: {_name(item.source.uri)}: {_one_line(failure_reason(exc))}", markup=False,
                      highlight=False, soft_wrap=True)  # fmt: skip
            failures += 1
            continue
        if fmt is Format.jsonl:
            sys.stdout.write(record.model_dump_json() + "\n")
            sys.stdout.flush()
        else:
            records.append(record.model_dump(mode="json"))
    if fmt is Format.json:
        sys.stdout.write(json.dumps(records[0] if len(records) == 1 else records, ensure_ascii=False, indent=2))
        sys.stdout.write("\n")
    if failures and not records and fmt is Format.json:
        raise typer.Exit(1)
    if failures:
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a record (what downstream systems validate against)."""
    from schemas.generate import render

    sys.stdout.write(render())


def _parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UserError(f"--since {value!r}: not an ISO 8601 date or datetime (e.g. 2024-03-05)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@app.command()
def export(
    since: Annotated[str | None, typer.Option(help="Only records stored or updated at/after this ISO date.")] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="jsonl (default) or json (an array).")] = Format.jsonl,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """Write stored records to stdout, for downstream systems.

    A stored record that cannot be read is left out and named on stderr; the others are written, and the
    exit code is then 1.
    """
    _configure(data_dir, database_url)
    moment = _parse_since(since)
    from newsflow.storage import Store

    skipped: list[str] = []

    def skip(record_id: str, reason: str) -> None:
        skipped.append(record_id)
        err.print(f"error: stored record {record_id} skipped: {reason}", markup=False, highlight=False,
                  soft_wrap=True)  # fmt: skip

    store = Store(get_settings().resolved_database_url)
    try:
        first = True
        if fmt is Format.json:
            sys.stdout.write("[")
        for record in store.iter_records(since=moment, on_error=skip):
            if fmt is Format.jsonl:
                sys.stdout.write(record.model_dump_json() + "\n")
            else:
                sys.stdout.write(("" if first else ",\n") + record.model_dump_json())
            first = False
        if fmt is Format.json:
            sys.stdout.write("]\n")
    finally:
        store.close()
    if skipped:
        err.print(f"error: {len(skipped)} stored record(s) could not be read and were left out (named above)",
                  markup=False, highlight=False, soft_wrap=True)  # fmt: skip
        raise typer.Exit(1)


def _register_areas() -> None:
    from newsflow.commands import register_all

    register_all(app)


_register_areas()


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    import errno

    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    from typer.exceptions import Abort

    from newsflow.storage import StorageError

    try:
        # Not standalone: Typer would print a usage error as a multi-line box; here it is one line.
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as exc:
        exc.show()
        raise SystemExit(2) from None
    except ClickException as exc:
        where = exc.ctx.command_path if isinstance(exc, UsageError) and exc.ctx else "newsflow"
        message = " ".join(exc.format_message().split())
        err.print(f"error: {where}: {message} (see '{where} --help')", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(exc.exit_code) from None
    except Abort:
        err.print("aborted")
        raise SystemExit(1) from None
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
        # stdout closed early (`newsflow export | head`): not an error worth a traceback.
        raise SystemExit(1) from None
    except (UserError, StorageError) as exc:
        # One line: drivers (psycopg) put hints on extra lines.
        err.print("error: " + " ".join(str(exc).split()), markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        err.print("interrupted")
        raise SystemExit(130) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)


if __name__ == "__main__":
    main()
