"""The retranslate flow: stored records whose translation is `pending` get another try, in place.

A record is `pending` when no provider could be reached while it was ingested (no network, every
provider hanging or rate-limited). This flow picks such records from the store, runs the translation
step again (`extractors.pipeline.translate_record`: the same name protection, language runs, cache and
entity merge as ingest) and saves each record under its own id, with the provider, the engine version
and the time of the translation. Records that are still pending stay pending, with the new reason.

Rate limits: every provider request waits for the in-process limiter (`translation_rate_limits`),
shared by the worker threads of the run. With `NEWSFLOW_TRANSLATION_PREFECT_LIMITS=true` each request
also takes a slot of the Prefect global rate limit `newsflow-translate-rate-<provider>`, which holds across
processes and machines of one Prefect server; create it once, e.g.
`prefect gcl create newsflow-translate-rate-google --limit 5 --slot-decay-per-second 5`. A limit that does
not exist is not enforced (Prefect's non-strict mode).
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from pathlib import Path

from prefect import flow, get_run_logger, task
from pydantic import BaseModel, Field

from extractors.pipeline import translate_record
from extractors.translate import PROVIDERS, Translator
from newsflow.output import write_record
from newsflow.settings import Settings, get_settings
from newsflow.storage import Store
from schemas.models import ArticleRecord, RawArticle

RATE_LIMIT_PREFIX = "newsflow-translate-rate-"


class RetranslateSummary(BaseModel):
    """What one retranslate run did."""

    picked: int = 0
    translation: dict[str, int] = Field(default_factory=dict, description="New translation status -> records.")
    updated: int = 0
    unchanged: int = 0
    records_dir: str | None = None


@lru_cache(maxsize=4)
def _store(url: str) -> Store:
    return Store(url)


def prefect_rate_limit(provider: str) -> None:
    """Take one slot of the Prefect global rate limit of `provider` (blocks until one is free)."""
    from prefect.concurrency.sync import rate_limit

    rate_limit(f"{RATE_LIMIT_PREFIX}{provider}", strict=False)


def make_translator(settings: Settings, name: str | None, store: Store) -> Translator:
    """The run's translator: the store as cache, Prefect rate limits when switched on."""
    acquire = prefect_rate_limit if settings.translation_prefect_limits else None
    return Translator(settings, name, cache=store, acquire=acquire)


@task(name="retranslate-batch", task_run_name="retranslate-batch-{index}")
def retranslate_batch(
    batch: list[tuple[ArticleRecord, RawArticle]], index: int, translator: str | None, database_url: str, out_dir: str
) -> Counter[str]:
    """Translate one batch of pending records again and save each in place."""
    settings = get_settings()
    store = _store(database_url)
    engine = make_translator(settings, translator, store)
    counts: Counter[str] = Counter()
    for record, raw in batch:
        new = translate_record(record, engine, record.translation.target or settings.translation_target)
        counts[f"status:{new.translation.status}"] += 1
        counts[store.save(new, raw)] += 1
        write_record(Path(out_dir), new)
    return counts


@flow(name="newsflow-retranslate", log_prints=False)
def retranslate(limit: int | None = None, translator: str | None = None) -> RetranslateSummary:
    """Translate stored records whose translation is pending, and update them in place."""
    logger = get_run_logger()
    settings = get_settings()
    if translator is not None and translator not in ("auto", *PROVIDERS):
        raise ValueError(f"unknown translator {translator!r}; use auto or one of {', '.join(PROVIDERS)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    database_url = settings.resolved_database_url
    out_dir = settings.resolved_output_dir
    store = _store(database_url)
    pending = list(store.iter_pending_translation(limit=limit))
    summary = RetranslateSummary(picked=len(pending), records_dir=str(out_dir / "records"))
    size = settings.batch_size
    futures = [
        retranslate_batch.submit(pending[i : i + size], n, translator, database_url, str(out_dir))
        for n, i in enumerate(range(0, len(pending), size))
    ]
    counts: Counter[str] = Counter()
    for future in futures:
        counts.update(future.result())
    summary.translation = {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("status:")}
    summary.updated, summary.unchanged = counts["updated"], counts["unchanged"]
    logger.info("retranslate: %d picked, %s", summary.picked, summary.translation)
    return summary
