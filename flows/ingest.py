"""The ingest flow: receive -> extract -> detect language -> translate -> entities -> validate -> store.

The flow only orchestrates; every stage is a plain function in `extractors/` (tested directly). Articles
travel in batches so a thousand articles are forty task runs, not a thousand (a task run costs 12-16 ms
of orchestration here). Only the storing task retries, and only on transient database errors.
"""

from __future__ import annotations

import uuid
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError

from extractors.pipeline import ArticleError, process
from extractors.sources import InputError, iter_sources
from extractors.translate import Translator
from newsflow import progress
from newsflow.output import RunWriter, write_record
from newsflow.settings import Settings, TranslatorName, get_settings
from newsflow.storage import Store
from schemas.models import ArticleRecord, RawArticle

ENTITY_TYPES = ("provinces", "departments", "officials", "themes", "organizations", "dates")


class Failure(BaseModel):
    source: str
    reason: str


class RunSummary(BaseModel):
    """What one run did, for the CLI's table, Prefect's UI and scripts."""

    run_id: str
    received: int = 0
    processed: int = 0
    failed: list[Failure] = Field(default_factory=list)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    entities: dict[str, int] = Field(default_factory=dict)
    translation: dict[str, int] = Field(default_factory=dict)
    database: str | None = None
    records_dir: str | None = None
    run_file: str | None = None


@lru_cache(maxsize=4)
def _store(url: str) -> Store:
    return Store(url)


def _transient_db_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry storing only when the database itself hiccuped (locked, connection dropped)."""
    try:
        state.result()
    except OperationalError:
        return True
    except Exception:
        return False
    return False


@task(name="receive-sources")
def receive(sources: list[str]) -> tuple[list[RawArticle], list[Failure]]:
    """Read every source into raw articles; unreadable inputs become failures naming the input."""
    raws: list[RawArticle] = []
    failures: list[Failure] = []
    for item in iter_sources(sources, get_settings()):
        if isinstance(item, InputError):
            failures.append(Failure(source=item.source, reason=item.reason))
            progress.emit("failed")
        else:
            raws.append(item)
            progress.emit("received")
    return raws, failures


@task(name="process-batch", task_run_name="process-batch-{index}")
def process_batch(
    batch: list[RawArticle], index: int, translator: str
) -> list[tuple[RawArticle, ArticleRecord | None, str | None]]:
    """Run the pipeline on one batch; an article that fails is reported, the rest go on."""
    settings = get_settings()
    engine = Translator(settings, translator)
    out: list[tuple[RawArticle, ArticleRecord | None, str | None]] = []
    for raw in batch:
        try:
            record = process(raw, engine, settings.translation_target)
            out.append((raw, record, None))
            progress.emit("processed")
        except ArticleError as exc:
            out.append((raw, None, str(exc)))
            progress.emit("failed")
    return out


@task(name="store-batch", task_run_name="store-batch-{index}", retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=_transient_db_error)  # fmt: skip
def store_batch(
    results: list[tuple[RawArticle, ArticleRecord | None, str | None]], index: int, database_url: str, out_dir: str
) -> Counter[str]:
    """Upsert records (idempotent: a retried batch stores nothing twice) and write one JSON file each."""
    store = _store(database_url)
    counts: Counter[str] = Counter()
    for raw, record, _ in results:
        if record is None:
            continue
        counts[store.save(record, raw)] += 1
        write_record(Path(out_dir), record)
        progress.emit("stored")
    return counts


@flow(name="newsflow-ingest", log_prints=False)
def ingest(sources: list[str], translator: TranslatorName | None = None) -> RunSummary:
    """Ingest articles from files, directories, stdin or URLs; store them and write JSON records."""
    logger = get_run_logger()
    settings: Settings = get_settings()
    name = translator or settings.translator
    run_id = str(uuid.uuid4())
    out_dir = settings.resolved_output_dir
    database_url = settings.resolved_database_url
    store = _store(database_url)
    store.start_run(run_id)
    summary = RunSummary(run_id=run_id, database=_masked(database_url), records_dir=str(out_dir / "records"))

    raws, failures = receive(sources)
    summary.received = len(raws) + len(failures)
    progress.emit("received_total", summary.received)
    summary.failed.extend(failures)
    batches = [raws[i : i + settings.batch_size] for i in range(0, len(raws), settings.batch_size)]
    processed = [process_batch.submit(b, i, name) for i, b in enumerate(batches)]
    # A future as an argument: Prefect resolves it, so storing batch i starts as soon as batch i is processed.
    stored = [
        store_batch.submit(p, i, database_url, str(out_dir))  # type: ignore[call-overload]
        for i, p in enumerate(processed)
    ]
    entity_counts: Counter[str] = Counter()
    translation_counts: Counter[str] = Counter()
    with RunWriter(out_dir, run_id) as writer:
        for future in processed:
            for raw, record, error in future.result():
                if record is None:
                    summary.failed.append(Failure(source=raw.source.uri, reason=error or "unknown error"))
                    continue
                summary.processed += 1
                writer.add(record)
                translation_counts[record.translation.status] += 1
                for kind in ENTITY_TYPES:
                    entity_counts[kind] += len(getattr(record.entities, kind))
        counts: Counter[str] = Counter()
        for future in stored:
            counts.update(future.result())
    summary.run_file = str(writer.path)
    summary.new, summary.updated, summary.unchanged = counts["new"], counts["updated"], counts["unchanged"]
    summary.entities = {k: entity_counts[k] for k in ENTITY_TYPES}
    summary.translation = dict(translation_counts)
    store.finish_run(run_id, "completed", summary.model_dump(exclude={"failed"}), summary.run_file)
    for failure in summary.failed:
        logger.warning("failed: %s: %s", failure.source, failure.reason)
    logger.info(
        "run %s: %d processed, %d failed, %d new, %d updated, %d unchanged",
        run_id, summary.processed, len(summary.failed), summary.new, summary.updated, summary.unchanged,
    )  # fmt: skip
    return summary


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
