"""The `newsflow` command line."""

from __future__ import annotations

# Deferred imports: the commands import the pipeline, Prefect and the store inside their functions, so that
# `newsflow --help`, `--version` and a mistyped option answer at once instead of loading spaCy and Prefect first.
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console
from rich.table import Table

from extractors.translate.providers import TRANSLATOR_CHOICES
from newsflow.errors import UserError
from newsflow.prefectenv import start_local_prefect, use_local_prefect
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


def _print_version(value: bool) -> None:
    if value:
        from newsflow import __version__
        from schemas.models import SCHEMA_VERSION

        sys.stdout.write(f"newsflow {__version__} (record schema {SCHEMA_VERSION})\n")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print the version (and the record schema's) and exit.",
        ),
    ] = False,
) -> None:
    """Vietnamese provincial-government news (and its foreign-language editions) into structured JSON."""


if TYPE_CHECKING:  # mypy cannot read members built at run time; the code names none of them

    class Translator(StrEnum): ...

else:  # typer shows the members as the option's choices
    Translator = StrEnum("Translator", [(name, name) for name in TRANSLATOR_CHOICES], module=__name__)


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"


TranslatorOpt = Annotated[
    Translator | None,
    typer.Option(
        "--translator",
        "-t",
        help="Translation provider; 'auto' tries the configured ones in order, "
        "'none' turns translation off. Default: NEWSFLOW_TRANSLATOR or auto.",
    ),
]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the SQLite database and JSON output go (NEWSFLOW_DATA_DIR).")
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://host/db.")
]


def _pause_collector() -> Callable[..., None]:
    """Turn Python's cyclic garbage collector off; the function returned turns it on again (if it was on; calling
    it again does nothing). `resume(settle=True)` first collects and freezes what is alive (`gc.freeze`).

    Start-up imports Prefect, SQLAlchemy and spaCy and loads the models: hundreds of thousands of objects that live
    as long as the process, and almost no garbage. The collector walked them again and again as they were made:
    with it off, imports and warm-up took 10-25% less CPU here (2.4-2.5 s against 2.7-3.3 s). Settled (collected
    once, then frozen) before the run starts, while the local server is still starting, they are not walked again:
    the first collection after the pause walked them all (0.2 s) and the flow's own settling after its first batch
    walked them once more (`flows.ingest._settle_heap`, which then has only the run's own objects left to walk)."""
    import gc

    if not gc.isenabled():
        return lambda settle=False: None
    gc.disable()
    done = False

    def resume(settle: bool = False) -> None:
        nonlocal done
        if not done:
            done = True
            if settle:
                gc.collect()
                gc.freeze()
            gc.enable()

    return resume


def _warm_up() -> None:
    """Load now, while Prefect's local server starts, what the run would load on first use, after the server is up:
    the pipeline's models and rule data (spaCy, gazetteers, language profiles), the HTML path (trafilatura, lxml)
    and the parts of Prefect a flow call imports (its engines, FastAPI's encoder for the parameters, artifacts,
    concurrency). Measured: 194 modules, about 1 s, were imported after the server answered."""
    import contextlib
    from datetime import UTC, datetime

    from newsflow.runtime import process
    from schemas.models import RawArticle, SourceInfo

    sentence = "Sáng 5/3/2024, Sở Tài chính tỉnh Long An họp. Ông Trần Văn Khải chủ trì."
    raws = [
        RawArticle(
            source=SourceInfo(kind="text", uri="warm-up", fetched_at=datetime.now(UTC)),
            content=sentence,
            media_type="text/plain",
        ),
        RawArticle(
            source=SourceInfo(kind="file", uri="warm-up.html", fetched_at=datetime.now(UTC)),
            content=f"<html><head><title>Tin</title></head><body><article><p>{sentence}</p></article></body></html>",
            media_type="text/html",
        ),
    ]
    for raw in raws:
        with contextlib.suppress(Exception):  # a warm-up that fails costs nothing: the run loads what it needs
            process(raw, None)
    with contextlib.suppress(ImportError):
        import fastapi.encoders  # noqa: F401  (Prefect serialises a flow's parameters with it)
        import prefect.artifacts
        import prefect.concurrency.sync
        import prefect.flow_engine
        import prefect.task_engine
        import prefect.utilities.visualization  # noqa: F401


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
    for source in sources:
        if source == "-" or os.path.lexists(source):
            continue  # a path that exists (even a broken link or a FIFO) is read, or reported, by the run
        from extractors.acquire.session import PREFIXES  # here: files alone need none of the acquisition code

        prefix = next((p for p in PREFIXES if source.startswith(p)), "")
        url = source[len(prefix) :]
        if prefix or url.startswith(("http://", "https://")):
            problem = _url_problem(prefix, url)
            if problem:
                raise UserError(f"{_name(source)}: {problem}")
            continue
        raise UserError(
            f"{_name(source)}: no such file or directory "
            "(and not an http(s) URL, or feed:, sitemap: or listing: with one)"
        )
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
    configure(data_dir, database_url)
    paths = _check_sources(list(sources or []))
    from newsflow import interrupts  # signal handlers only: a light import

    def on_signal(name: str) -> None:
        err.print(
            f"[yellow]{name}: stopping[/yellow] after the article in hand; what was processed is "
            "stored and written (press Ctrl-C again to stop at once)"
        )

    resume_collector = _pause_collector()  # until the run starts: imports and models, no garbage to speak of
    state = None
    # The handlers from the start: a Ctrl-C while Prefect's server starts and the pipeline loads stops the command
    # the same way (without them, Typer turned it into a silent exit 130, and one that landed in code catching
    # every exception was lost: the run went on).
    with interrupts.graceful(on_signal):
        try:
            # Prefect's local server first: it takes seconds to start, and everything below (the database check,
            # importing Prefect and the pipeline, loading the models) happens meanwhile.
            server = start_local_prefect(verbose)
            from newsflow.runtime import open_store

            # Open the database before the run starts: a wrong URL is a one-line error, not a failed flow run (the
            # server started above is stopped at exit).
            open_store(get_settings().resolved_database_url).close()
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

            from flows.ingest import ingest
            from flows.runners import local_run_settings
            from newsflow import progress
        except BaseException:
            resume_collector()
            raise
        if interrupts.requested():
            resume_collector()
            err.print("interrupted before the run started: nothing was read")
            raise typer.Exit(interrupts.EXIT_CODE)

        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=err,
            transient=False,
        ) as bar:
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
                if server is not None and not interrupts.requested():
                    _warm_up()  # overlaps with the server's start-up (measured: 2.4-2.7 s and 2.3 s of CPU)
                resume_collector(settle=True)
                local_url = use_local_prefect(server, interrupts.requested)
                if not interrupts.requested():
                    with local_run_settings(local_url):
                        state = ingest(
                            sources=paths, translator=translator.value if translator else None, return_state=True
                        )
            finally:
                resume_collector()
                unsubscribe()
    if state is None:  # stopped before the run began
        err.print("interrupted before the run started: nothing was read")
        raise typer.Exit(interrupts.EXIT_CODE)
    summary = _run_summary(state)
    _print_summary(summary)
    if summary.interrupted:
        raise typer.Exit(interrupts.EXIT_CODE)
    if summary.failed:  # as `extract`: 1 when any input failed (every other input is stored)
        raise typer.Exit(1)


def _run_summary(state: Any) -> Any:
    """The summary of a finished ingest run: its result, or the summary its Failed state carries when every
    input failed (`flows.ingest.final_state`). Any other failure is raised, as the flow raised it."""
    from flows.ingest import InputsFailed

    result = state.result(raise_on_failure=False)
    if isinstance(result, InputsFailed):
        return result.summary
    if isinstance(result, BaseException):
        raise result
    return result


def _print_summary(summary: object) -> None:
    from flows.ingest import RunSummary

    assert isinstance(summary, RunSummary)
    title = f"newsflow run {summary.run_id}" + (" (interrupted)" if summary.interrupted else "")
    table = Table(title=title, show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", overflow="fold")
    if summary.interrupted:
        table.add_row(
            "interrupted",
            f"yes: {summary.not_processed} received but not processed (kept raw: "
            "`newsflow reprocess --failed`, or run again)",
        )
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
        err.print(
            f"[red]failed[/red] {escape(_name(failure.source))}: {escape(_one_line(failure.reason))}", soft_wrap=True
        )


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(help=SOURCES_HELP)],
    translator: TranslatorOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="json: an array; jsonl: one record per line.")] = (
        Format.jsonl
    ),
) -> None:
    """Process SOURCES like `run` but store nothing: records go to stdout, in input order."""
    configure(None, None)
    paths = _check_sources(sources)
    from extractors.acquire.session import Acquirer
    from extractors.pipeline import failure_reason
    from extractors.sources import InputError
    from newsflow.runtime import runtime

    settings = get_settings()
    here = runtime(settings)
    engine = here.translator(translator.value if translator else None)
    failures = 0
    records = []
    # `extract` stores nothing: no fetch log either.
    for item in here.iter_sources(paths, acquirer=Acquirer(settings, log=None)):
        if isinstance(item, InputError):
            err.print(
                f"error: {_name(item.source)}: {_one_line(item.reason)}", markup=False, highlight=False, soft_wrap=True
            )
            failures += 1
            continue
        try:
            record = here.process(item, engine, settings.translation_target)
        except Exception as exc:  # any error of one article fails that article only
            err.print(
                f"error: {_name(item.source.uri)}: {_one_line(failure_reason(exc))}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
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
    configure(data_dir, database_url)
    moment = _parse_since(since)
    from newsflow.runtime import open_store

    skipped: list[str] = []

    def skip(record_id: str, reason: str) -> None:
        skipped.append(record_id)
        err.print(f"error: stored record {record_id} skipped: {reason}", markup=False, highlight=False, soft_wrap=True)

    store = open_store(get_settings().resolved_database_url)
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
        err.print(
            f"error: {len(skipped)} stored record(s) could not be read and were left out (named above)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
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

    from newsflow.errors import StorageError  # not from newsflow.storage: that imports SQLAlchemy (0.3 s)

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
