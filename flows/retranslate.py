"""The retranslate flow: stored records whose translation is `pending` get another try, in place.

A record is `pending` when no provider could be reached while it was ingested (no network, every
provider hanging or rate-limited). This flow picks such records from the store, runs the translation
step again (`extractors.pipeline.translate_record`: the same name protection, language runs, cache and
entity merge as ingest) and saves each record under its own id, with the provider, the engine version
and the time of the translation. Records that are still pending stay pending, with the new reason.

Like the ingest flows it takes its parameters at the top level (the UI's form) and builds its model
(`RetranslateParams`) from them, runs its
batches on the configured task runner (thread pool, or Dask: flows/runners.py), records the run in the
store and publishes the same three artifacts (summary, article table, link to the run's JSONL).

Limits (flows/limits.py): every article translation holds a slot of `newsflow:translate:<provider>`
(a Prefect global concurrency limit, if it exists), as in ingest. Every provider request waits for the
in-process limiter (`translation_rate_limits`); with `NEWSFLOW_TRANSLATION_PREFECT_LIMITS=true` it also
takes a slot of the rate limit `newsflow:translate-rate:<provider>`, which holds across processes and
machines, e.g. `prefect gcl create newsflow:translate-rate:google --limit 5 --slot-decay-per-second 1`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field

from extractors.pipeline import translate_record
from flows import report
from flows.ingest import IN_FLIGHT, tracked_run
from flows.limits import LimitedTranslator, prefect_rate_limit
from flows.params import (
    RetranslateLimit,
    RetranslateParams,
    RetranslateProvider,
    RetranslateTarget,
    RetranslateTargetChoice,
    RetranslateTranslator,
    build_params,
    translator_name,
)
from flows.runners import NewsflowTaskRunner
from flows.summary import RunSummary, SummaryBuilder
from newsflow import interrupts
from newsflow.output import RunWriter, write_record
from newsflow.runtime import runtime, shared_store
from newsflow.settings import Settings, get_settings, portable, settings_in_force
from newsflow.storage import SaveStatus, Store
from schemas.models import ArticleRecord, RawArticle

FLOW = "retranslate"


class RetranslateSummary(BaseModel):
    """What one retranslate run did."""

    picked: int = 0
    translation: dict[str, int] = Field(default_factory=dict, description="New translation status -> records.")
    updated: int = 0
    unchanged: int = 0
    records_dir: str | None = None
    run_id: str | None = None
    run_file: str | None = None
    interrupted: bool = False  # stopped (Ctrl-C, SIGTERM, cancelled): what was translated is stored
    not_processed: int = 0  # picked records left as they were (still pending) because the run was stopped


def make_translator(settings: Settings, name: str | None, store: Store) -> LimitedTranslator:
    """The run's translator: the store as cache, the provider concurrency limits, Prefect rate limits if on."""
    acquire = prefect_rate_limit if settings.translation_prefect_limits else None
    return LimitedTranslator(runtime(settings).translator(name, cache=store, acquire=acquire))


def still_pending(old: ArticleRecord, new: ArticleRecord) -> ArticleRecord:
    """`new`, except that a pending record stays pending when this run's provider has no pair for it.

    "unsupported" would be final (this flow picks only pending records), although another provider (another run's
    `translator`, a key configured later) may well translate it.
    """
    if old.translation.status != "pending" or new.translation.status != "unsupported":
        return new
    reason = f"still pending: {new.translation.error or 'no provider of this run translates it'}"
    translation = new.translation.model_copy(update={"status": "pending", "error": reason})
    warnings = [w for w in new.pipeline.warnings if not w.startswith("translation ")]
    warnings.append(f"translation pending: {reason}")
    return new.model_copy(
        update={"translation": translation, "pipeline": new.pipeline.model_copy(update={"warnings": warnings})}
    )


def batch_label(batch: Sequence[tuple[ArticleRecord, RawArticle]], index: int) -> str:
    """A task run name that says which records: `#0 3f2a9c1e04b7 (+24)`."""
    if not batch:
        return f"#{index} (empty)"
    return f"#{index} {batch[0][0].id[:12]}" + (f" (+{len(batch) - 1})" if len(batch) > 1 else "")


@task(name="retranslate-batch", task_run_name="retranslate {label}")
def retranslate_batch(
    batch: list[tuple[ArticleRecord, RawArticle]],
    index: int,
    translator: str | None,
    target: str | None,
    database_url: str,
    out_dir: str,
    label: str,
    settings: Settings | None = None,
) -> list[tuple[ArticleRecord, SaveStatus]]:
    """Translate one batch of pending records again and save each in place (an upsert: a retry is harmless).

    `settings` are the flow's (a Dask worker's own environment may have no NEWSFLOW_* variables).
    """
    with settings_in_force(settings or get_settings()):
        return _retranslate_batch(batch, translator, target, database_url, out_dir)


def _retranslate_batch(
    batch: list[tuple[ArticleRecord, RawArticle]],
    translator: str | None,
    target: str | None,
    database_url: str,
    out_dir: str,
) -> list[tuple[ArticleRecord, SaveStatus]]:
    settings = get_settings()
    store = shared_store(database_url)
    engine = make_translator(settings, translator, store)
    out: list[tuple[ArticleRecord, SaveStatus]] = []
    for record, raw in batch:
        if interrupts.requested():  # stopped: the rest of the batch stays pending, untouched, for a later run
            break
        new = still_pending(
            record, translate_record(record, engine, target or record.translation.target or settings.translation_target)
        )
        out.append((new, store.save(new, raw)))
        write_record(Path(out_dir), new)
    return out


@flow(name="newsflow-retranslate", log_prints=False, task_runner=NewsflowTaskRunner())
def retranslate(
    limit: RetranslateLimit = 0,
    translator: RetranslateTranslator = RetranslateProvider.default,
    target_language: RetranslateTarget = RetranslateTargetChoice.default,
) -> RetranslateSummary:
    """Translate stored records whose translation is pending, and update them in place."""
    params = build_params(RetranslateParams, limit=limit, translator=translator, target_language=target_language)
    logger = get_run_logger()
    settings = portable(get_settings())  # absolute directories: tasks may run in other processes (Dask)
    provider = translator_name(params.translator) or settings.translator
    # An unusable choice (no key, no apertium) fails here, before any task.
    runtime(settings).translator(provider, cache=False)
    target = None if params.target_language is RetranslateTargetChoice.default else params.target_language.value
    database_url = settings.resolved_database_url
    out_dir = settings.resolved_output_dir
    store = shared_store(database_url)
    if provider == "none":  # a scheduled run while translation is switched off: nothing to do, say so
        logger.warning("translation is off (NEWSFLOW_TRANSLATOR=none): pending records are left as they are")
        pending = []
    else:
        pending = list(store.iter_pending_translation(limit=params.limit or None))
    # SIGTERM (under `newsflow retranslate`, or the runner cancelling a deployment's run) stops the run as a
    # first Ctrl-C does. The run's row: "failed" or "interrupted" if the block raises (never left "running").
    with interrupts.keep_handlers(), tracked_run(store, out_dir) as run_id:
        summary = RunSummary(
            run_id=run_id,
            flow=FLOW,
            received=len(pending),
            database=_masked(database_url),
            records_dir=str(out_dir / "records"),
        )
        builder = SummaryBuilder(summary)
        size = settings.batch_size
        batches = [pending[i : i + size] for i in range(0, len(pending), size)]
        workers = settings.dask_workers if settings.task_runner == "dask" else settings.thread_workers
        in_flight: deque[Any] = deque()
        with RunWriter(out_dir, run_id) as writer:

            def collect() -> None:
                for record, status in in_flight.popleft().result():
                    builder.processed(record)
                    builder.stored(record.id, status)
                    writer.add(record)

            # A few batches ahead of the one collected, not all at once: a stop (Ctrl-C, SIGTERM, a cancelled
            # deployment run) submits no new batch, and those in flight finish their record in hand.
            for n, b in enumerate(batches):
                if interrupts.requested():
                    break
                label = batch_label(b, n)
                in_flight.append(
                    retranslate_batch.submit(
                        b, n, provider, target, database_url, str(out_dir), label, settings=settings
                    )
                )
                while len(in_flight) > IN_FLIGHT * workers:
                    collect()
            while in_flight:
                collect()
        summary.run_file = str(writer.path)
        builder.finish()
        summary.interrupted = interrupts.requested()
        summary.not_processed = summary.received - summary.processed
        status = "interrupted" if summary.interrupted else "completed"
        store.finish_run(run_id, status, summary.model_dump(exclude={"failed", "articles"}), summary.run_file)
    report.publish(summary, settings.output_url, out_dir)
    logger.info("retranslate run %s: %d picked, %s", run_id, summary.received, summary.translation)
    result = RetranslateSummary(
        picked=summary.received,
        translation=dict(sorted(summary.translation.items())),
        updated=summary.updated,
        unchanged=summary.unchanged,
        records_dir=summary.records_dir,
        run_id=run_id,
        run_file=summary.run_file,
        interrupted=summary.interrupted,
        not_processed=summary.not_processed,
    )
    return retranslate_state(result)  # Prefect records the state; a caller gets `result`


def describe(summary: RetranslateSummary) -> str:
    """The run in one line, for its final state's message."""
    statuses = ", ".join(f"{k} {v}" for k, v in summary.translation.items()) or "none"
    counts = f"{summary.picked} picked: now {statuses} ({summary.updated} updated, {summary.unchanged} unchanged)"
    if summary.interrupted:
        return (
            f"interrupted ({interrupts.signal_name() or 'stop requested'}): {counts}, "
            f"{summary.not_processed} left pending"
        )
    return counts


def retranslate_state(summary: RetranslateSummary) -> Any:
    """Cancelled when the run was stopped (Ctrl-C, SIGTERM, cancelled from the UI), else Completed; with the counts."""
    from prefect.states import Cancelled, Completed

    if summary.interrupted:
        return Cancelled(message=describe(summary), data=summary)
    return Completed(message=describe(summary), data=summary)


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
