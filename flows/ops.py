"""The flows behind the deployments (`newsflow serve`, prefect.yaml): each takes one parameter model.

They only orchestrate: reading the inputs, then `run_pipeline` (flows/ingest.py) for everything that
processes articles. The parameter models (flows/params.py) make the UI's forms and are checked before a
run starts.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import Counter
from datetime import UTC, datetime, time, timedelta, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from pydantic import BaseModel, Field

from flows import report
from flows.ingest import _store, _transient_db_error, ingest_raw, receive
from flows.params import (
    ExportFormat,
    ExportParams,
    IngestSiteParams,
    IngestSourcesParams,
    ProcessTextParams,
    ReprocessParams,
)
from flows.runners import NewsflowTaskRunner
from flows.summary import RunSummary
from newsflow.output import atomic_write_text
from newsflow.settings import get_settings
from newsflow.storage import Store
from schemas.models import RawArticle, SourceInfo

VIETNAM = timezone(timedelta(hours=7))
_HTML = re.compile(r"^\s*<(!doctype|html|head|body|article|div|p|h[1-6])\b", re.IGNORECASE)


# --- plain helpers -----------------------------------------------------------------------------------


def raw_from_paste(params: ProcessTextParams, now: datetime | None = None) -> RawArticle:
    """The pasted article as a raw input; its uri is the URL given, else `paste:<sha256 prefix>`."""
    digest = hashlib.sha256(params.text.encode("utf-8")).hexdigest()[:16]
    published = params.published_at
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=VIETNAM)
    source = SourceInfo(
        kind="text",
        uri=params.url or f"paste:{digest}",
        fetched_at=now or datetime.now(UTC),
        site=(params.url.split("/")[2].lower() if params.url else None),
    )
    return RawArticle(
        source=source,
        content=params.text,
        media_type="text/html" if _HTML.match(params.text) else "text/plain",
        url=params.url,
        title=params.title,
        published_at=published,
        language_hint=params.language.value if params.language else None,
    )


class ExportResult(BaseModel):
    path: str
    count: int
    format: str
    since: str | None = None
    languages: dict[str, int] = Field(default_factory=dict)
    translation: dict[str, int] = Field(default_factory=dict)


def write_export(store: Store, path: Path, since: datetime | None, fmt: ExportFormat) -> ExportResult:
    """Write the stored records (updated at/after `since`) to `path` atomically; count them."""
    languages: Counter[str] = Counter()
    translation: Counter[str] = Counter()
    lines: list[str] = []
    for record in store.iter_records(since=since):
        lines.append(record.model_dump_json())
        languages[record.language.code] += 1
        translation[record.translation.status] += 1
    text = "".join(x + "\n" for x in lines) if fmt is ExportFormat.jsonl else "[" + ",\n".join(lines) + "]\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    return ExportResult(
        path=str(path), count=len(lines), format=fmt.value, since=since.isoformat() if since else None,
        languages=dict(languages), translation=dict(translation),
    )  # fmt: skip


def export_markdown(result: ExportResult, link: str | None) -> str:
    """The export's summary artifact; every value escaped and the link checked (see flows/report.py)."""
    md, target = report.markdown_text, report.markdown_url(link)
    lines = [
        "# newsflow export",
        "",
        f"- records: **{md(result.count)}**" + (f" \\(updated since {md(result.since)}\\)" if result.since else ""),
        f"- format: {md(result.format)}",
        f"- file: [{md(result.path)}]({target})" if target else f"- file: {md(result.path)}",
        "",
        "| language | records |",
        "|---|---:|",
        *(f"| {md(k)} | {md(v)} |" for k, v in sorted(result.languages.items())),
        "",
        "| translation | records |",
        "|---|---:|",
        *(f"| {md(k)} | {md(v)} |" for k, v in sorted(result.translation.items())),
    ]
    return "\n".join(lines) + "\n"


def languages_table(result: ExportResult) -> list[dict[str, object]]:
    """The export's table artifact; the UI renders string cells as markdown, so they are escaped too."""
    return [{"language": report.markdown_text(k), "records": v} for k, v in sorted(result.languages.items())]


# --- tasks ---------------------------------------------------------------------------------------------


@task(name="load-stored-raw", retries=3, retry_delay_seconds=[1, 4, 10], retry_condition_fn=_transient_db_error)
def load_raw(database_url: str, limit: int | None) -> list[RawArticle]:
    """The raw inputs the store kept (oldest first), up to `limit`; a syndicated copy gets its fetch-log link
    back (`relink`), so its record keeps `duplicate_of`."""
    from extractors.acquire.session import relink
    from newsflow.fetchlog import FetchLog

    log = FetchLog(database_url) if get_settings().fetch_log else None
    try:
        out: list[RawArticle] = []
        for _, raw in _store(database_url).iter_raw():
            if limit is not None and len(out) >= limit:
                break
            out.append(relink(raw, log))
        return out
    finally:
        if log is not None:
            log.close()


@task(name="export-records", task_run_name="export to {name}", retries=3, retry_delay_seconds=[1, 4, 10],
      retry_condition_fn=_transient_db_error)  # fmt: skip
def export_task(database_url: str, out_dir: str, name: str, since: datetime | None, fmt: ExportFormat) -> ExportResult:
    """Idempotent: a retry rewrites the same file."""
    return write_export(_store(database_url), Path(out_dir) / "exports" / name, since, fmt)


# --- flows ---------------------------------------------------------------------------------------------


@flow(name="newsflow-ingest-sources", task_runner=NewsflowTaskRunner())
def ingest_sources(params: IngestSourcesParams) -> RunSummary:
    """Ingest articles from paths (as the worker sees them) and http(s) URLs."""
    raws, failures = receive(list(params.sources))
    return ingest_raw(raws, failures, flow_name="ingest-sources", translator=params.translator,
                      target=params.target_language.value)  # fmt: skip


@flow(name="newsflow-ingest-site", task_runner=NewsflowTaskRunner())
def ingest_site(params: IngestSiteParams) -> RunSummary:
    """Ingest pages of one site (the scheduled deployment); fetches hold the site's concurrency limit."""
    get_run_logger().info("site %s: %d page(s)", params.site, len(params.urls))
    raws, failures = receive(list(params.urls))
    return ingest_raw(raws, failures, flow_name="ingest-site", translator=params.translator,
                      target=params.target_language.value)  # fmt: skip


@flow(name="newsflow-process-text", task_runner=NewsflowTaskRunner())
def process_text(params: ProcessTextParams) -> RunSummary:
    """Process one pasted article, store it and write its JSON."""
    raw = raw_from_paste(params)
    return ingest_raw([raw], [], flow_name="process-text", translator=params.translator,
                      target=params.target_language.value)  # fmt: skip


@flow(name="newsflow-reprocess", task_runner=NewsflowTaskRunner())
def reprocess(params: ReprocessParams) -> RunSummary:
    """Run extraction again on the stored raw inputs and upsert the records (nothing is fetched)."""
    raws = load_raw(get_settings().resolved_database_url, params.limit)
    get_run_logger().info("re-processing %d stored raw input(s)", len(raws))
    return ingest_raw(raws, [], flow_name="reprocess", translator=params.translator,
                      target=params.target_language.value)  # fmt: skip


@flow(name="newsflow-export", task_runner=NewsflowTaskRunner())
def export_records(params: ExportParams) -> ExportResult:
    """Write stored records to output/exports/<file>, with a link to it in the run's artifacts."""
    settings = get_settings()
    since = datetime.combine(params.since, time.min, tzinfo=UTC) if params.since else None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"export-{stamp}-{uuid.uuid4().hex[:8]}.{params.format.value}"
    out_dir = settings.resolved_output_dir
    result = export_task(settings.resolved_database_url, str(out_dir), name, since, params.format)
    link = report.markdown_url(report.output_link(result.path, settings.output_url, out_dir))
    create_markdown_artifact(markdown=export_markdown(result, link), key=report.artifact_key("export", "summary"),
                             description="newsflow export: records by language and translation status")
    create_table_artifact(table=languages_table(result), key=report.artifact_key("export", "languages"),
                          description="Exported records by language")
    if link:
        create_link_artifact(link=link, link_text=report.markdown_text(name),
                             key=report.artifact_key("export", "output"), description="The exported records")
    get_run_logger().info("exported %d record(s) to %s", result.count, result.path)
    return result
