"""The ingest flow: receive -> extract -> detect language -> translate -> entities -> validate -> store.

The flow only orchestrates; every stage is a plain function in `extractors/` (tested directly). Articles
travel in batches so a thousand articles are forty task runs, not a thousand (a task run costs 12-16 ms
of orchestration here). Only the storing task retries, and only on transient database errors.

`run_pipeline` is the part every flow shares (ingest, the deployments in `flows/ops.py`): it processes
batches, stores them, writes the run's JSONL, records the run and publishes the Prefect artifacts.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect import flow, get_run_logger, task
from prefect.concurrency.sync import concurrency
from sqlalchemy.exc import OperationalError

from extractors.pipeline import ArticleError, process
from extractors.sources import InputError, iter_sources
from extractors.translate import Translator
from flows import report
from flows.runners import NewsflowTaskRunner
from flows.summary import ENTITY_TYPES, ArticleOutcome, Failure, NameCount, RunSummary, SummaryBuilder
from newsflow import progress
from newsflow.output import RunWriter, write_record
from newsflow.settings import Settings, TranslatorName, get_settings
from newsflow.storage import SaveStatus, StorageError, Store
from schemas.models import ArticleRecord, RawArticle, Translation

__all__ = [
    "ENTITY_TYPES",
    "ArticleOutcome",
    "Failure",
    "NameCount",
    "RunSummary",
    "ingest",
    "run_pipeline",
]

Result = tuple[RawArticle, ArticleRecord | None, str | None]
BatchInput = list[RawArticle] | Any  # a list, or a future that resolves to one


@lru_cache(maxsize=4)
def _store(url: str) -> Store:
    return Store(url)


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


def site_limit(host: str) -> str:
    """Name of the global concurrency limit that bounds fetches from one site."""
    return f"newsflow-site-{host}"


def translate_limit(provider: str) -> str:
    """Name of the global concurrency limit that bounds calls to one translation provider."""
    return f"newsflow-translate-{provider}"


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
    import extractors

    digest = hashlib.sha256()
    root = Path(extractors.__file__).parent
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".json") and p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def batch_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """Content hashes of the batch + translator + target + settings + pipeline code (not the run)."""
    digest = hashlib.sha256(pipeline_fingerprint().encode())
    for raw in parameters["batch"]:
        digest.update(raw.model_dump_json(exclude={"source": {"fetched_at"}}).encode())
    digest.update(f"|{parameters['translator']}|{parameters['target']}|".encode())
    digest.update(get_settings().model_dump_json().encode())
    return "newsflow-batch-" + digest.hexdigest()


class LimitedTranslator:
    """A translator whose calls hold a slot of each provider's global concurrency limit (if one exists).

    Everything else (and any argument of `translate`) goes to the wrapped translator unchanged.
    """

    def __init__(self, engine: Translator) -> None:
        self.engine = engine
        providers = tuple(getattr(engine, "providers", ()) or ())
        self.limits = [translate_limit(p) for p in providers]

    def translate(self, *args: Any, **kwargs: Any) -> Translation:
        if not self.limits:
            return self.engine.translate(*args, **kwargs)
        with concurrency(self.limits, occupy=1, strict=False):
            return self.engine.translate(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)


@contextmanager
def _site_slot(host: str | None) -> Iterator[None]:
    if host is None:
        yield
        return
    with concurrency(site_limit(host), occupy=1, strict=False):
        yield


# --- tasks ---------------------------------------------------------------------------------------------


def read_sources(sources: list[str], settings: Settings) -> tuple[list[RawArticle], list[Failure]]:
    """Read every source; a URL holds a slot of its site's concurrency limit while it is fetched."""
    raws: list[RawArticle] = []
    failures: list[Failure] = []
    for source in sources:
        with _site_slot(site_of(source)):
            items = list(iter_sources([source], settings))
        for item in items:
            if isinstance(item, InputError):
                failures.append(Failure(source=item.source, reason=item.reason))
                progress.emit("failed")
            else:
                raws.append(item)
                progress.emit("received")
    return raws, failures


@task(name="receive-sources")
def receive(sources: list[str]) -> tuple[list[RawArticle], list[Failure]]:
    """Read every source into raw articles; unreadable inputs become failures naming the input."""
    return read_sources(sources, get_settings())


@task(name="process-batch", task_run_name="process {label}")
def process_batch(batch: list[RawArticle], index: int, translator: str, target: str, label: str) -> list[Result]:
    """Run the pipeline on one batch; an article that fails is reported, the rest go on."""
    settings = get_settings()
    engine = LimitedTranslator(Translator(settings, translator))
    out: list[Result] = []
    for raw in batch:
        try:
            record = process(raw, engine, target)
            out.append((raw, record, None))
            progress.emit("processed")
        except ArticleError as exc:
            out.append((raw, None, str(exc)))
            progress.emit("failed")
    return out


@task(name="store-batch", task_run_name="store {label}", retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=_transient_db_error)  # fmt: skip
def store_batch(
    results: list[Result], index: int, database_url: str, out_dir: str, label: str
) -> list[tuple[str, SaveStatus]]:
    """Upsert records (idempotent: a retried batch stores nothing twice) and write one JSON file each."""
    store = _store(database_url)
    outcomes: list[tuple[str, SaveStatus]] = []
    for raw, record, _ in results:
        if record is None:
            continue
        outcomes.append((record.id, store.save(record, raw)))
        write_record(Path(out_dir), record)
        progress.emit("stored")
    return outcomes


# --- the shared body -------------------------------------------------------------------------------------


def run_pipeline(
    batches: Sequence[BatchInput],
    labels: Sequence[str],
    *,
    flow_name: str,
    translator: str | None,
    target: str | None = None,
    received: int | None = None,
    failures: Sequence[Failure] = (),
) -> RunSummary:
    """Process, store and report `batches` (lists of raw articles, or futures of them) inside a flow run."""
    logger = get_run_logger()
    settings = get_settings()
    name = translator or settings.translator
    target = target or settings.translation_target
    run_id = str(uuid.uuid4())
    out_dir = settings.resolved_output_dir
    database_url = settings.resolved_database_url
    store = _store(database_url)
    store.start_run(run_id)
    summary = RunSummary(
        run_id=run_id, flow=flow_name, database=_masked(database_url), records_dir=str(out_dir / "records")
    )
    builder = SummaryBuilder(summary)
    for failure in failures:
        builder.fail(failure.source, failure.reason)

    processor = process_batch
    if settings.task_cache_hours > 0:
        processor = process_batch.with_options(
            cache_key_fn=batch_cache_key,
            cache_expiration=timedelta(hours=settings.task_cache_hours),
            persist_result=True,
        )
    processed = [
        processor.submit(b, i, name, target, labels[i])
        for i, b in enumerate(batches)
    ]
    # A future as an argument: Prefect resolves it, so storing batch i starts as soon as batch i is processed.
    stored = [
        store_batch.submit(p, i, database_url, str(out_dir), labels[i])  # type: ignore[call-overload]
        for i, p in enumerate(processed)
    ]
    count = 0
    with RunWriter(out_dir, run_id) as writer:
        for future in processed:
            for raw, record, error in future.result():
                count += 1
                if record is None:
                    builder.fail(raw.source.uri, error or "unknown error")
                    continue
                builder.processed(record)
                writer.add(record)
        for future in stored:
            for record_id, status in future.result():
                builder.stored(record_id, status)
    summary.received = received if received is not None else count + len(failures)
    summary.run_file = str(writer.path)
    builder.finish()
    store.finish_run(run_id, "completed", summary.model_dump(exclude={"failed", "articles"}), summary.run_file)
    for failure in summary.failed:
        logger.warning("failed: %s: %s", failure.source, failure.reason)
    logger.info(
        "%s run %s: %d processed, %d failed, %d new, %d updated, %d unchanged",
        flow_name, run_id, summary.processed, len(summary.failed), summary.new, summary.updated, summary.unchanged,
    )  # fmt: skip
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
    """Ingest articles from files, directories, stdin or URLs; store them and write JSON records."""
    raws, failures = receive(sources)
    progress.emit("received_total", len(raws) + len(failures))
    return ingest_raw(raws, failures, flow_name="ingest", translator=translator, target=None)


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
