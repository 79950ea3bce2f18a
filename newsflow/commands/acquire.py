"""Acquisition commands: `newsflow fetches` (the fetch log), `newsflow reprocess` (extraction again on stored
raw pages, no fetching) and `newsflow site-check` (what a stored page gives, for writing a site profile)."""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newsflow.errors import UserError
from newsflow.settings import configure, get_settings


class Outcome(StrEnum):
    fetched = "fetched"
    not_modified = "not_modified"
    failed = "failed"
    blocked = "blocked"
    disallowed = "disallowed"
    duplicate = "duplicate"
    near_duplicate = "near_duplicate"


DataDir = Annotated[Path | None, typer.Option("--data-dir", help="Where the database is (NEWSFLOW_DATA_DIR).")]
Database = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL (NEWSFLOW_DATABASE_URL).")]


def fetches(
    outcome: Annotated[Outcome | None, typer.Option("--outcome", "-o", help="Only attempts with this outcome.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Only this host.")] = None,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this acquisition run id.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Latest N attempts.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines instead of a table.")] = False,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """List fetch attempts, latest first: what was fetched, what failed and why."""
    if run_id is not None:
        import uuid

        try:  # acquisition run ids are UUIDs, stored in canonical (lower-case) form
            run_id = str(uuid.UUID(run_id))
        except ValueError:
            raise UserError(f"--run {run_id!r}: not a run id (run ids are UUIDs, see `fetches --json`)") from None
    configure(data_dir, database_url)
    from newsflow.runtime import open_fetch_log

    try:
        log = open_fetch_log(get_settings().resolved_database_url)
    except Exception as exc:
        raise UserError(f"cannot open the fetch log: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
    with log:
        rows = log.attempts(outcome=outcome.value if outcome else None, host=host, run_id=run_id, limit=limit)
    if as_json:
        for a in rows:
            sys.stdout.write(
                json.dumps(
                    {
                        "at": a.at.isoformat(),
                        "url": a.url,
                        "kind": a.kind,
                        "outcome": a.outcome,
                        "status": a.status,
                        "reason": a.reason,
                        "attempts": a.attempts,
                        "via": a.via,
                        "final_url": a.final_url,
                        "run_id": a.run_id,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        return
    table = Table(title=f"fetch attempts ({len(rows)})")
    for column in ("at (UTC)", "outcome", "status", "kind", "url", "reason"):
        table.add_column(column, overflow="fold")
    for a in rows:
        table.add_row(a.at.strftime("%Y-%m-%d %H:%M:%S"), a.outcome, str(a.status or ""), a.kind, a.url, a.reason or "")
    Console().print(table)


def reprocess(
    translator: Annotated[
        str | None,
        typer.Option("--translator", "-t", help="As for `run` (the translation cache makes unchanged texts free)."),
    ] = None,
    write_json: Annotated[
        bool, typer.Option("--json/--no-json", help="Rewrite output/records/<id>.json of new and updated records.")
    ] = True,
    failed_only: Annotated[
        bool,
        typer.Option(
            "--failed", help="Only raw inputs whose processing failed or never finished (no record made from them yet)."
        ),
    ] = False,
    data_dir: DataDir = None,
    database_url: Database = None,
) -> None:
    """Run extraction again on every stored raw page (after an extractor fix): nothing is fetched.

    Raw inputs whose extraction failed are kept too, so they are retried here; one that fails again is
    marked failed with the reason (`--failed` retries only those)."""
    configure(data_dir, database_url)
    from extractors.acquire.session import relink
    from extractors.pipeline import failure_reason
    from extractors.sources import display_name
    from newsflow.output import write_record
    from newsflow.runtime import open_store, runtime

    settings = get_settings()
    here = runtime(settings)
    err = Console(stderr=True)
    try:
        engine = here.translator(translator)
    except ValueError as exc:  # an unknown or unusable provider: one line, not a traceback
        raise UserError(f"--translator {translator}: {exc}") from None
    counts = {"new": 0, "updated": 0, "unchanged": 0, "failed": 0}
    store = open_store(settings.resolved_database_url)
    log = None
    try:
        log = here.fetch_log()  # stored raw pages do not keep a syndicated copy's link: the fetch log has it
        for raw_id, raw in store.iter_raw(status=("failed", "pending") if failed_only else None):
            try:
                record = here.process(relink(raw, log), engine, settings.translation_target)
            except Exception as exc:  # any error of one article fails that article only
                reason = failure_reason(exc)
                err.print(
                    f"error: raw {raw_id[:12]} ({display_name(raw.source.uri)}): {reason}",
                    markup=False,
                    highlight=False,
                )
                store.record_raw_failure(raw, reason)
                counts["failed"] += 1
                continue
            status = store.save(record, raw)
            counts[status] += 1
            if write_json and status != "unchanged":
                write_record(settings.resolved_output_dir, record)
    finally:
        store.close()
        if log is not None:
            log.close()
    sys.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()) + "\n")
    if counts["failed"]:
        raise typer.Exit(1)


def site_check(
    page: Annotated[Path, typer.Argument(help="A stored HTML page.")],
    url: Annotated[str, typer.Option("--url", help="The URL the page was fetched from (chooses the profile).")],
) -> None:
    """Print what extraction gives for a page, in the form of tests/sites/<profile>/<name>.json."""
    from urllib.parse import urlsplit

    from extractors.html import extract_html

    try:
        parts = urlsplit(url)
        valid = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a bad IPv6 literal
        valid = False
    if not valid:
        raise UserError(f"--url {url!r}: not an http(s) URL with a host (e.g. https://site.example.vn/a.html)")
    if not page.is_file():
        raise UserError(f"{page}: no such file")
    e = extract_html(page.read_text(encoding="utf-8"), url=url)
    expected = {
        "method": e.method,
        "title": e.title,
        "published_at": e.published_at.isoformat() if e.published_at else None,
        "authors": e.authors,
        "language_hint": e.language_hint,
        "canonical_url": e.canonical_url,
        "text": e.text,
    }
    sys.stdout.write(json.dumps({"url": url, "expected": expected}, ensure_ascii=False, indent=2) + "\n")


def register(app: typer.Typer) -> None:
    app.command("fetches")(fetches)
    app.command("reprocess")(reprocess)
    app.command("site-check")(site_check)
