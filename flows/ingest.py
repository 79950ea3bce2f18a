"""The ingest flow: receive -> extract -> detect language -> translate -> entities -> validate -> store.

The flow only orchestrates; every stage is a plain function in `extractors/` (tested directly). Articles
travel in batches (NEWSFLOW_BATCH_SIZE, 50) so a thousand articles are forty task runs (twenty batches, each
processed and stored), not two thousand (a task run costs 12-16 ms of orchestration here). Only the tasks
that write to the database retry, and only on transient database errors.
Sources are read lazily and at most a few batches are in flight: each batch's records are stored, written
and counted, then released, so memory stays flat however large the corpus.

`run_pipeline` is the part every flow shares (ingest, the deployments in `flows/ops.py`): it processes
batches, stores them, writes the run's JSONL, records the run and publishes the Prefect artifacts.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import BaseAnnotation, opaque
from sqlalchemy.exc import OperationalError

import extractors
from extractors.acquire.items import duplicate_link
from extractors.pipeline import failure_reason
from extractors.sources import InputError
from flows import report
from flows.limits import LimitedTranslator
from flows.limits import site_slot as _site_slot
from flows.runners import NewsflowTaskRunner
from flows.summary import ENTITY_TYPES, ArticleOutcome, Failure, NameCount, RunSummary, SummaryBuilder
from newsflow import interrupts, progress
from newsflow.output import RunWriter, partial_files, stale_among, write_records
from newsflow.runtime import runtime, shared_store
from newsflow.settings import Settings, TranslatorName, get_settings, portable, settings_in_force
from newsflow.storage import SaveStatus, StorageError, Store
from schemas.models import ArticleRecord, RawArticle

__all__ = [
    "COMPLETED_WITH_FAILURES",
    "ENTITY_TYPES",
    "FAILURES_EVENT",
    "ArticleOutcome",
    "Failure",
    "InputsFailed",
    "NameCount",
    "RunSummary",
    "final_state",
    "ingest",
    "run_pipeline",
]

Result = tuple[RawArticle, ArticleRecord | None, str | None]
BatchInput = list[RawArticle] | Any  # a list, or a future that resolves to one
IN_FLIGHT = 2  # batches submitted ahead of the one being collected, per worker thread
JSON_WRITERS = 4  # threads writing a batch's JSON files, so their fsyncs overlap
_SQLITE_WRITER = threading.Lock()
NOT_PROCESSED = "not processed: the run was interrupted"  # an article left when the run was asked to stop


def _as_is(value: Any) -> Any:
    return value


_SETTLED = threading.Event()


def _settle_heap() -> None:
    """Once per process, after the first batch: move everything alive then out of the collector's sight.

    By then the spaCy pipelines, gazetteers, language profiles and Prefect are loaded; they live as long as
    the process, yet every full collection walked them again (about 6% of the processing time). Garbage is
    collected first, so only live objects are frozen. A frozen object that is later dropped is still freed
    by its reference count; only a cycle among frozen objects would stay, and those are the first batch's
    few (its articles and results), once per process.
    """
    if _SETTLED.is_set():
        return
    _SETTLED.set()
    gc.collect()
    gc.freeze()


def _writer_turn(dialect: str) -> AbstractContextManager[object]:
    """The process's SQLite writer lock, or nothing for a database with concurrent writers.

    A function, not the lock itself, is what tasks refer to: Dask pickles a task's function by value,
    with the globals it names, and a lock cannot be pickled (a module-level function goes by reference).
    """
    return _SQLITE_WRITER if dialect == "sqlite" else nullcontext()


# --- plain helpers -----------------------------------------------------------------------------------


def is_transient_db_error(exc: BaseException) -> bool:
    """True when the database itself hiccuped (locked, connection dropped), which a retry may fix."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OperationalError):
            return True
        seen.add(id(current))
        current = current.__cause__ if isinstance(current, StorageError) else None
    return False


def _transient_db_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry condition of the database tasks."""
    try:
        state.result()
    except Exception as exc:
        return is_transient_db_error(exc)
    return False


def site_of(source: str) -> str | None:
    """The host of an http(s) source, else None."""
    if source.startswith(("http://", "https://")):
        return (urlsplit(source).hostname or "").lower() or None
    return None


def short_uri(uri: str) -> str:
    """A source as a person scans it: `host/last-part` for a URL, the file name for a path."""
    if uri.startswith(("http://", "https://")):
        parts = urlsplit(uri)
        last = parts.path.rstrip("/").rsplit("/", 1)[-1]
        return f"{parts.hostname}/{last}" if last else str(parts.hostname)
    name = uri.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return name or uri


def batch_label(batch: Sequence[RawArticle], index: int) -> str:
    """A task run name that says which articles: `#3 longan.gov.vn/a.html (+24)`."""
    if not batch:
        return f"#{index} (empty)"
    first = short_uri(batch[0].source.uri)
    if len(first) > 80:
        first = first[:77] + "..."
    return f"#{index} {first}" + (f" (+{len(batch) - 1})" if len(batch) > 1 else "")


def make_batches(raws: Sequence[RawArticle], size: int) -> list[list[RawArticle]]:
    return [list(raws[i : i + size]) for i in range(0, len(raws), size)]


@lru_cache(maxsize=1)
def pipeline_fingerprint() -> str:
    """Hash of the extraction code and rule data: a cached batch is reused only with the same pipeline."""
    digest = hashlib.sha256()
    root = Path(extractors.__file__).parent
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".json") and p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def batch_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """Content hashes of the batch + translator + target + settings + pipeline code (not the run)."""
    digest = hashlib.sha256(pipeline_fingerprint().encode())
    batch = parameters["batch"]
    for raw in batch.unwrap() if isinstance(batch, BaseAnnotation) else batch:
        digest.update(raw.model_dump_json(exclude={"source": {"fetched_at"}}).encode())
        link = duplicate_link(raw)  # a near-duplicate link travels beside the raw input, not in its JSON
        if link is not None:
            digest.update(link.model_dump_json().encode())
    digest.update(f"|{parameters['translator']}|{parameters['target']}|".encode())
    digest.update(get_settings().model_dump_json().encode())
    return "newsflow-batch-" + digest.hexdigest()


# --- tasks ---------------------------------------------------------------------------------------------


def iter_received(sources: Iterable[str], settings: Settings) -> Iterator[RawArticle | Failure]:
    """Every article (or unreadable input, as a Failure) of `sources`, read lazily in order.

    A URL holds a slot of its site's concurrency limit while it is fetched; local files are streamed.
    """
    total = 0
    limits: dict[str, bool] = {}  # site limit name -> exists, asked once per site in this run
    for source in sources:
        host = site_of(source)
        items: Iterable[RawArticle | InputError] = runtime(settings).iter_sources([source])
        if host is not None:
            with _site_slot(host, limits):
                items = list(items)
        for item in items:
            if isinstance(item, InputError):
                progress.emit("failed")
                yield Failure(source=item.source, reason=item.reason)
            else:
                progress.emit("received")
                yield item
            total += 1
    progress.emit("received_total", total)


def read_sources(sources: list[str], settings: Settings) -> tuple[list[RawArticle], list[Failure]]:
    """Read every source into memory (the deployments that take a short list of inputs)."""
    raws: list[RawArticle] = []
    failures: list[Failure] = []
    for item in iter_received(sources, settings):
        if isinstance(item, Failure):
            failures.append(item)
        else:
            raws.append(item)
    return raws, failures


def stream_batches(
    items: Iterable[RawArticle | Failure], size: int, failures: list[Failure]
) -> Iterator[list[RawArticle]]:
    """Batches of `size` articles as `items` are read; failures go to `failures` as they come."""
    batch: list[RawArticle] = []
    for item in items:
        if interrupts.requested():  # Ctrl-C: read no further (what was read is processed below)
            break
        if isinstance(item, Failure):
            failures.append(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@task(name="receive-sources", cache_policy=NO_CACHE)
def receive(sources: list[str], settings: Settings | None = None) -> tuple[list[RawArticle], list[Failure]]:
    """Read every source into raw articles; unreadable inputs become failures naming the input.

    `settings`: the flow's, when it reads under other rules (a deployment follows no link out of a directory).
    """
    return read_sources(sources, settings or get_settings())


# Retried like storing: keeping the batch's raw inputs first writes to the database, which may drop the
# connection (a retry then redoes the batch; nothing of it was processed yet).
@task(
    name="process-batch",
    task_run_name="process {label}",
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_condition_fn=_transient_db_error,
)
def process_batch(
    batch: list[RawArticle], index: int, translator: str, target: str, label: str, settings: Settings | None = None
) -> list[Result]:
    """Run the pipeline on one batch; an article that fails is reported, the rest go on.

    `settings` are the flow's (a Dask worker's own environment may have no NEWSFLOW_* variables).
    """
    with settings_in_force(settings or get_settings()):
        return _process_batch(batch, translator, target)


def _process_batch(batch: list[RawArticle], translator: str, target: str) -> list[Result]:
    settings = get_settings()
    # Keep the inputs first: one whose extraction fails, or that a killed run never reaches, stays stored
    # for `newsflow reprocess` (idempotent, so a retried or cached batch adds nothing).
    here = runtime(settings)
    store = here.store
    with _writer_turn(store.dialect):  # SQLite: wait for the writer lock here, not in its sleep-polling busy handler
        store.save_raws(batch)
    engine = LimitedTranslator(here.translator(translator))
    out: list[Result] = []
    for raw in batch:
        if interrupts.requested():  # Ctrl-C: the rest of the batch stays stored raw ("pending") for a later run
            out.append((raw, None, NOT_PROCESSED))
            continue
        try:
            record = here.process(raw, engine, target)
            out.append((raw, record, None))
            progress.emit("processed")
        except Exception as exc:  # an ArticleError, or any other error of one article: that article fails
            if is_transient_db_error(exc):
                raise  # the translation cache's database hiccuped: the task's retry redoes the batch
            out.append((raw, None, failure_reason(exc)))
            progress.emit("failed")
    _settle_heap()
    return out


@task(
    name="store-batch",
    task_run_name="store {label}",
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_condition_fn=_transient_db_error,
)
def store_batch(
    results: list[Result], index: int, database_url: str, out_dir: str, label: str, settings: Settings | None = None
) -> list[tuple[str, SaveStatus, Failure | None]]:
    """Upsert records (idempotent: a retried batch stores nothing twice) and write one JSON file each.

    A JSON file that cannot be written (disk full) is a failure of that article only: its record is
    stored and the rest of the batch goes on.
    """
    with settings_in_force(settings or get_settings()):
        return _store_batch(results, database_url, out_dir)


def _store_batch(
    results: list[Result], database_url: str, out_dir: str
) -> list[tuple[str, SaveStatus, Failure | None]]:
    store = shared_store(database_url)
    ok = [(record, raw) for raw, record, _ in results if record is not None]
    # One transaction for the batch: a commit (and its fsync) per article cost more than the extraction.
    # SQLite has one writer at a time: batches stored in parallel threads would wait in its busy handler,
    # which polls with sleeps; a lock in this process hands the database over at once.
    with _writer_turn(store.dialect):
        for raw, record, error in results:
            if record is None and error != NOT_PROCESSED:
                store.record_raw_failure(raw, error or "unknown error")  # `reprocess --failed` retries it
        statuses = store.save_many(ok)
    # The JSON files once their records are committed.
    written = write_records(Path(out_dir), [record for record, _ in ok], workers=JSON_WRITERS)
    outcomes: list[tuple[str, SaveStatus, Failure | None]] = []
    for (record, raw), status, result in zip(ok, statuses, written, strict=True):
        problem = None
        if isinstance(result, OSError):
            problem = Failure(source=raw.source.uri, reason=f"stored, but its JSON file was not written: {result}")
        outcomes.append((record.id, status, problem))
        progress.emit("stored")
    return outcomes


def sweep_partials(store: Store, out_dir: Path) -> list[Path]:
    """Delete the half-written run files (`.<run-id>.jsonl.partial`) of runs no longer running; the paths.

    The files are listed before the runs are read. A run's row is committed before its file is created, so a file
    listed first belongs to a run this read sees. Read first, a run starting in between (runs at once over one
    directory) had its row missed but its new file listed, and lost it to this sweep.
    """
    listed = partial_files(out_dir)
    if not listed:
        return []
    try:
        running = store.running_run_ids()
    except StorageError:
        return []  # the run itself reports a database that went away
    removed = []
    for path in stale_among(listed, running):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


# --- the run's final state ------------------------------------------------------------------------------


class InputsFailed(Exception):
    """Every input of a run failed: the flow run ends Failed, and this (with the run's summary) is its result.

    Calling the flow raises it; `newsflow run` asks for the state and prints the summary from it.
    """

    def __init__(self, summary: RunSummary) -> None:
        super().__init__(describe_outcome(summary))
        self.summary = summary

    def __reduce__(self) -> tuple[Any, ...]:  # picklable (a persisted result) although __init__ takes the summary
        return (type(self), (self.summary,))


def describe_outcome(summary: RunSummary) -> str:
    """The run in one line, for its final state's message: counts, and the first failure when every input failed."""
    failed = len(summary.failed)
    counts = (
        f"{summary.processed} processed, {failed} failed ({summary.new} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged)"
    )
    if summary.interrupted:
        return (
            f"interrupted ({interrupts.signal_name() or 'stop requested'}): {counts}, "
            f"{summary.not_processed} received but not processed"
        )
    if summary.processed == 0 and failed:
        first = summary.failed[0]
        more = f" and {failed - 1} more" if failed > 1 else ""
        return f"every input failed: {counts}; {first.source}: {first.reason}{more}"
    return counts


COMPLETED_WITH_FAILURES = "Completed with failures"  # the state's name; its type stays COMPLETED
FAILURES_EVENT = "newsflow.run.completed-with-failures"  # what an automation triggers on (README: Run states)


def final_state(summary: RunSummary) -> Any:
    """What a flow returns so that Prefect records the run's outcome as its state.

    Interrupted (Ctrl-C, SIGTERM: `newsflow.interrupts`): Cancelled, with what was done in its message.
    Every input failed (nothing processed, something failed): Failed, with the first failure in its message,
    so schedules, automations and the UI's run list see it. Some failed: a completed state named "Completed with
    failures" (the run list shows the name), and a `newsflow.run.completed-with-failures` event for automations.
    Otherwise Completed, with the counts in its message. Calling the flow still returns the summary, or raises
    `InputsFailed` (with the summary) when the state is Failed.
    """
    from prefect.states import Cancelled, Completed, Failed

    if summary.interrupted:
        return Cancelled(message=describe_outcome(summary), data=summary)
    if summary.processed == 0 and summary.failed:
        return Failed(message=describe_outcome(summary), data=InputsFailed(summary))
    if summary.failed:
        _announce_failures(summary)
        return Completed(name=COMPLETED_WITH_FAILURES, message=describe_outcome(summary), data=summary)
    return Completed(message=describe_outcome(summary), data=summary)


def _announce_failures(summary: RunSummary) -> None:
    """Emit `FAILURES_EVENT` for the flow run in hand (about its run, flow and deployment), with the counts and the
    first failure; outside a flow run, nothing."""
    from prefect.context import FlowRunContext
    from prefect.events import emit_event

    ctx = FlowRunContext.get()
    run = ctx.flow_run if ctx is not None else None
    if run is None:
        return
    flow = {"prefect.resource.id": f"prefect.flow.{run.flow_id}", "prefect.resource.role": "flow"}
    if ctx is not None and ctx.flow is not None:
        flow["prefect.resource.name"] = ctx.flow.name  # what the notification automation matches ("newsflow-*")
    related = [flow]
    if run.deployment_id is not None:
        related.append(
            {"prefect.resource.id": f"prefect.deployment.{run.deployment_id}", "prefect.resource.role": "deployment"}
        )
    first = summary.failed[0]
    emit_event(
        event=FAILURES_EVENT,
        resource={"prefect.resource.id": f"prefect.flow-run.{run.id}", "prefect.resource.name": run.name},
        related=related,
        payload={
            "processed": summary.processed,
            "failed": len(summary.failed),
            "first_failure": f"{first.source}: {first.reason}",
            "message": describe_outcome(summary),
        },
    )


# --- the shared body -------------------------------------------------------------------------------------


def run_pipeline(
    batches: Iterable[BatchInput],
    labels: Iterable[str] | None = None,
    *,
    flow_name: str,
    translator: str | None,
    target: str | None = None,
    received: int | None = None,
    failures: Iterable[Failure] = (),
) -> RunSummary:
    """Process, store and report `batches` (lists of raw articles, or futures of them) inside a flow run.

    `batches` may be a lazy iterator: at most `IN_FLIGHT` batches (per worker) are submitted ahead of
    the one being collected, and a collected batch is released, so memory does not grow with the run.
    `labels` default to `batch_label` of each list. `failures` are read after the last batch, so a
    list that a lazy reader fills while `batches` is consumed is complete by then.

    The run's row is "completed" when this returns; when it raises, "failed" or "interrupted" (`tracked_run`).
    """
    settings = get_settings()
    store = shared_store(settings.resolved_database_url)
    # SIGTERM stops the run as a first Ctrl-C does: under `newsflow run`, and when a deployment's run is cancelled
    # (its runner sends SIGTERM): the batch in hand finishes and is stored, the run ends Cancelled with its counts.
    with interrupts.keep_handlers(), tracked_run(store, settings.resolved_output_dir) as run_id:
        return _run_pipeline(
            run_id,
            store,
            batches,
            labels,
            flow_name=flow_name,
            translator=translator,
            target=target,
            received=received,
            failures=failures,
        )


@contextmanager
def tracked_run(store: Store, out_dir: Path) -> Iterator[str]:
    """A new run's id, its row "running" for the block (the body records its end with `finish_run`).

    Starting marks this host's runs whose process is gone "interrupted" and deletes the half-written run
    files of runs no longer running. When the block raises, the row is marked "failed" (an exception) or
    "interrupted" (Ctrl-C, a cancelled flow run) with the reason, so it never stays "running".
    """
    run_id = str(uuid.uuid4())
    store.start_run(run_id)
    sweep_partials(store, out_dir)
    try:
        yield run_id
    except BaseException as exc:
        status = "failed" if isinstance(exc, Exception) else "interrupted"
        try:
            store.end_run(run_id, status, f"{type(exc).__name__}: {exc}")
        except Exception as mark:  # the database may be what failed: the run's own error is the one raised
            exc.add_note(f"run {run_id} could not be marked {status}: {mark}")
        raise


def _run_pipeline(
    run_id: str,
    store: Store,
    batches: Iterable[BatchInput],
    labels: Iterable[str] | None,
    *,
    flow_name: str,
    translator: str | None,
    target: str | None,
    received: int | None,
    failures: Iterable[Failure],
) -> RunSummary:
    logger = get_run_logger()
    # Absolute directories: the tasks may run in other processes (Dask workers) in other directories.
    settings = portable(get_settings())
    name = translator or settings.translator
    target = target or settings.translation_target
    out_dir = settings.resolved_output_dir
    database_url = settings.resolved_database_url
    summary = RunSummary(
        run_id=run_id, flow=flow_name, database=_masked(database_url), records_dir=str(out_dir / "records")
    )
    builder = SummaryBuilder(summary)

    # Prefect's default cache policy hashes every task's inputs (whole articles): pointless unless cached.
    processor = process_batch.with_options(cache_policy=NO_CACHE)
    if settings.task_cache_hours > 0:
        processor = process_batch.with_options(
            cache_key_fn=batch_cache_key,
            cache_expiration=timedelta(hours=settings.task_cache_hours),
            persist_result=True,
        )
    storer = store_batch.with_options(cache_policy=NO_CACHE)
    workers = settings.dask_workers if settings.task_runner == "dask" else settings.thread_workers
    ahead = IN_FLIGHT * workers
    count = 0
    skipped = 0  # articles of batches never submitted because the run was asked to stop
    in_flight: deque[tuple[Any, Any]] = deque()
    # Not strict: a full disk loses the run's JSONL (reported below), not the stored records.
    with RunWriter(out_dir, run_id, strict=False) as writer:

        def collect() -> int:
            processed, stored = in_flight.popleft()
            seen = 0
            for raw, record, error in processed.result():
                seen += 1
                if record is None and error == NOT_PROCESSED:
                    summary.not_processed += 1
                    continue
                if record is None:
                    builder.fail(raw.source.uri, error or "unknown error")
                    continue
                builder.processed(record)
                writer.add(record)
            for record_id, status, problem in stored.result():
                builder.stored(record_id, status)
                if problem is not None:
                    builder.fail(problem.source, problem.reason)
            return seen

        label_iter = iter(labels) if labels is not None else None
        # opaque: Prefect otherwise walks every field of every article to look for futures in them. Only on
        # the thread pool: Dask rebuilds tuples it meets in task arguments, and the annotation is a tuple.
        wrap: Callable[[Any], Any] = opaque if settings.task_runner == "thread" else _as_is
        for i, batch in enumerate(batches):
            if interrupts.requested():  # Ctrl-C: no new batch; those in flight finish below
                if received is not None and isinstance(batches, Sequence):  # read ahead: count what is left
                    skipped = sum(len(b) for b in batches[i:] if isinstance(b, list))
                break
            label = next(label_iter) if label_iter is not None else batch_label(batch, i)
            # The tasks are handed the flow's settings: they may run where NEWSFLOW_* is not set (Dask).
            processed = processor.submit(wrap(batch), i, name, target, label, settings=settings)
            # A future as an argument: Prefect resolves it, so storing batch i starts once batch i is processed.
            stored = storer.submit(wrap(processed), i, database_url, str(out_dir), label, settings=settings)
            in_flight.append((processed, stored))
            while len(in_flight) > ahead:
                count += collect()
        while in_flight:
            count += collect()
    failed_inputs = list(failures)
    for failure in failed_inputs:
        builder.fail(failure.source, failure.reason)
    summary.received = received if received is not None else count + len(failed_inputs)
    if writer.error:
        builder.fail(str(writer.path), writer.error)
    summary.run_file = None if writer.error else str(writer.path)
    builder.finish()
    summary.interrupted = interrupts.requested()
    summary.not_processed += skipped
    status = "interrupted" if summary.interrupted else "completed"
    store.finish_run(run_id, status, summary.model_dump(exclude={"failed", "articles"}), summary.run_file)
    for failure in summary.failed:
        logger.warning("failed: %s: %s", failure.source, failure.reason)
    logger.info(
        "%s run %s: %d processed, %d failed, %d new, %d updated, %d unchanged",
        flow_name,
        run_id,
        summary.processed,
        len(summary.failed),
        summary.new,
        summary.updated,
        summary.unchanged,
    )
    report.publish(summary, settings.output_url, out_dir)
    return summary


def ingest_raw(
    raws: list[RawArticle], failures: list[Failure], *, flow_name: str, translator: str | None, target: str | None
) -> RunSummary:
    """run_pipeline on articles already received, in batches of NEWSFLOW_BATCH_SIZE."""
    batches = make_batches(raws, get_settings().batch_size)
    return run_pipeline(
        batches,
        [batch_label(b, i) for i, b in enumerate(batches)],
        flow_name=flow_name,
        translator=translator,
        target=target,
        received=len(raws) + len(failures),
        failures=failures,
    )


@flow(name="newsflow-ingest", log_prints=False, task_runner=NewsflowTaskRunner())
def ingest(sources: list[str], translator: TranslatorName | None = None) -> RunSummary:
    """Ingest articles from files, directories, stdin or URLs; store them and write JSON records.

    The sources are read lazily, batch by batch, while earlier batches are processed and stored.
    """
    settings = get_settings()
    failures: list[Failure] = []
    batches = stream_batches(iter_received(sources, settings), settings.batch_size, failures)
    summary = run_pipeline(batches, flow_name="ingest", translator=translator, target=None, failures=failures)
    return final_state(summary)  # Prefect records it as the run's state; the caller gets the summary


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
