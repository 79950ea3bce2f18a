"""The flows behind the deployments (`newsflow serve`, prefect.yaml).

Each takes its parameters at the top level, typed with the annotated fields of flows/params.py (the UI's
form shows them directly), and builds its parameter model from them first (`build_params`: every
validator runs before any task). They only orchestrate: reading the inputs, then `run_pipeline`
(flows/ingest.py) for everything that processes articles.
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.states import Failed
from pydantic import BaseModel, Field

from extractors.acquire.session import is_url_source, relink
from extractors.sources import display_name
from flows import report
from flows.ingest import _transient_db_error, final_state, ingest_raw, receive
from flows.params import (
    DEFAULT_SOURCES,
    ExportFormat,
    ExportFormatField,
    ExportParams,
    IngestSiteParams,
    IngestSourcesParams,
    Pages,
    PastedLanguage,
    PastedText,
    PastedTitle,
    PastedUrl,
    ProcessTextParams,
    PublishedAt,
    ReprocessLimit,
    ReprocessParams,
    Since,
    Site,
    Sources,
    TargetField,
    TargetLanguage,
    TextLanguageChoice,
    TranslatorChoice,
    TranslatorChoiceField,
    build_params,
    translator_name,
)
from flows.runners import NewsflowTaskRunner
from flows.summary import RunSummary
from newsflow.output import atomic_write_text
from newsflow.runtime import runtime, shared_store
from newsflow.settings import get_settings
from newsflow.storage import Store
from schemas.models import RawArticle, SourceInfo

_HTML = re.compile(r"^\s*<(!doctype|html|head|body|article|div|p|h[1-6])\b", re.IGNORECASE)


# --- plain helpers -----------------------------------------------------------------------------------


def raw_from_paste(params: ProcessTextParams, now: datetime | None = None) -> RawArticle:
    """The pasted article as a raw input; its uri is the URL given, else `paste:<sha256 prefix>`."""
    digest = hashlib.sha256(params.text.encode("utf-8")).hexdigest()[:16]
    # A date without a zone stays so: processing gives it the site's zone with a warning, as every input gets.
    published = datetime.fromisoformat(params.published_at) if params.published_at else None
    url = params.url.strip() or None
    source = SourceInfo(
        kind="text",
        uri=url or f"paste:{digest}",
        fetched_at=now or datetime.now(UTC),
        site=(url.split("/")[2].lower() if url else None),
    )
    return RawArticle(
        source=source,
        content=params.text,
        media_type="text/html" if _HTML.match(params.text) else "text/plain",
        url=url,
        title=params.title.strip() or None,
        published_at=published,
        language_hint=None if params.language is TextLanguageChoice.detect else params.language.value,
    )


class SourceNotAllowed(ValueError):
    """A deployment was asked to read a file outside the allowed input directories (NEWSFLOW_INPUT_ROOTS)."""


def refused_sources(sources: list[str], roots: list[Path]) -> list[str]:
    """Why each local source in `sources` may not be read by a deployment (URLs may): one line per refused path.

    A path is allowed when it is one of `roots` (absolute, resolved) or lies under one, after resolving `..`
    and symbolic links, so `samples/../../etc` or a link in an allowed directory to `/etc` is refused. Relative
    paths are read from the worker's working directory, as the run reads them.
    """
    refused = []
    for source in sources:
        if is_url_source(source):
            continue
        target = Path(os.path.realpath(source))
        if any(target == root or target.is_relative_to(root) for root in roots):
            continue
        leads = f" (it leads to {display_name(str(target))})" if str(Path(source).absolute()) != str(target) else ""
        refused.append(f"{display_name(source)}{leads}: outside the allowed input directories")
    return refused


def check_sources(sources: list[str], roots: list[Path]) -> None:
    """Raise SourceNotAllowed naming every refused path, the allowed directories and how to change them."""
    refused = refused_sources(sources, roots)
    if refused:
        allowed = ", ".join(str(root) for root in roots) or "(none)"
        raise SourceNotAllowed(
            f"{'; '.join(refused)}. Deployments read files only under {allowed} "
            "(NEWSFLOW_INPUT_ROOTS on the worker); URLs are not restricted"
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
        path=str(path),
        count=len(lines),
        format=fmt.value,
        since=since.isoformat() if since else None,
        languages=dict(languages),
        translation=dict(translation),
    )


def export_markdown(result: ExportResult, link: str | None) -> str:
    """The export's summary artifact; every value escaped and the link checked (see flows/report.py)."""
    md, target = report.markdown_text, report.markdown_url(link)
    lines = [
        "# newsflow export",
        "",
        f"- records: **{md(result.count)}**" + (f" \\(updated since {md(result.since)}\\)" if result.since else ""),
        f"- format: {md(result.format)}",
        f"- file: [{md(Path(result.path).name)}]({target})"
        if target and target.startswith(("http://", "https://"))
        else f"- file, on the machine that ran the export: {report.markdown_code(result.path)}",
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
    log = runtime(get_settings()).fetch_log()
    try:
        out: list[RawArticle] = []
        for _, raw in shared_store(database_url).iter_raw():
            if limit is not None and len(out) >= limit:
                break
            out.append(relink(raw, log))
        return out
    finally:
        if log is not None:
            log.close()


@task(
    name="export-records",
    task_run_name="export to {name}",
    retries=3,
    retry_delay_seconds=[1, 4, 10],
    retry_condition_fn=_transient_db_error,
)
def export_task(database_url: str, out_dir: str, name: str, since: datetime | None, fmt: ExportFormat) -> ExportResult:
    """Idempotent: a retry rewrites the same file."""
    return write_export(shared_store(database_url), Path(out_dir) / "exports" / name, since, fmt)


# --- flows ---------------------------------------------------------------------------------------------


@flow(name="newsflow-ingest-sources", task_runner=NewsflowTaskRunner())
def ingest_sources(
    sources: Sources = DEFAULT_SOURCES,
    translator: TranslatorChoiceField = TranslatorChoice.default,
    target_language: TargetField = TargetLanguage.en,
) -> RunSummary:
    """Ingest articles from paths (as the worker sees them) and http(s) URLs.

    Paths must lie under the allowed input directories (NEWSFLOW_INPUT_ROOTS): anything else fails the run
    before anything is read, naming the path. Symbolic links in a source directory are not followed out of it.
    Every parameter has a default: the form starts filled in and the UI's Quick run (no parameters) works.
    """
    params = build_params(IngestSourcesParams, sources=sources, translator=translator, target_language=target_language)
    settings = get_settings()
    try:
        check_sources(list(params.sources), settings.resolved_input_roots)
    except SourceNotAllowed as exc:
        get_run_logger().error("%s", exc)
        return Failed(message=str(exc), data=exc)  # type: ignore[return-value]
    confined = settings.model_copy(update={"follow_symlinks": False})
    raws, failures = receive(list(params.sources), settings=confined)
    summary = ingest_raw(
        raws,
        failures,
        flow_name="ingest-sources",
        translator=translator_name(params.translator),
        target=params.target_language.value,
    )
    return final_state(summary)


@flow(name="newsflow-ingest-site", task_runner=NewsflowTaskRunner())
def ingest_site(
    site: Site,
    urls: Pages,
    translator: TranslatorChoiceField = TranslatorChoice.default,
    target_language: TargetField = TargetLanguage.en,
) -> RunSummary:
    """Ingest pages of one site (the scheduled deployment); fetches hold the site's concurrency limit."""
    params = build_params(
        IngestSiteParams, site=site, urls=urls, translator=translator, target_language=target_language
    )
    get_run_logger().info("site %s: %d page(s)", params.site, len(params.urls))
    raws, failures = receive(list(params.urls))
    summary = ingest_raw(
        raws,
        failures,
        flow_name="ingest-site",
        translator=translator_name(params.translator),
        target=params.target_language.value,
    )
    return final_state(summary)


@flow(name="newsflow-process-text", task_runner=NewsflowTaskRunner())
def process_text(
    text: PastedText,
    title: PastedTitle = "",
    url: PastedUrl = "",
    published_at: PublishedAt = "",
    language: PastedLanguage = TextLanguageChoice.detect,
    translator: TranslatorChoiceField = TranslatorChoice.default,
    target_language: TargetField = TargetLanguage.en,
) -> RunSummary:
    """Process one pasted article, store it and write its JSON."""
    params = build_params(
        ProcessTextParams,
        text=text,
        title=title,
        url=url,
        published_at=published_at,
        language=language,
        translator=translator,
        target_language=target_language,
    )
    raw = raw_from_paste(params)
    summary = ingest_raw(
        [raw],
        [],
        flow_name="process-text",
        translator=translator_name(params.translator),
        target=params.target_language.value,
    )
    return final_state(summary)


@flow(name="newsflow-reprocess", task_runner=NewsflowTaskRunner())
def reprocess(
    limit: ReprocessLimit = 0,
    translator: TranslatorChoiceField = TranslatorChoice.default,
    target_language: TargetField = TargetLanguage.en,
) -> RunSummary:
    """Run extraction again on the stored raw inputs and upsert the records (nothing is fetched)."""
    params = build_params(ReprocessParams, limit=limit, translator=translator, target_language=target_language)
    raws = load_raw(get_settings().resolved_database_url, params.limit or None)
    get_run_logger().info("re-processing %d stored raw input(s)", len(raws))
    summary = ingest_raw(
        raws,
        [],
        flow_name="reprocess",
        translator=translator_name(params.translator),
        target=params.target_language.value,
    )
    return final_state(summary)


@flow(name="newsflow-export", task_runner=NewsflowTaskRunner())
def export_records(since: Since = "", format: ExportFormatField = ExportFormat.jsonl) -> ExportResult:
    """Write stored records to output/exports/<file>, with a link to it in the run's artifacts."""
    params = build_params(ExportParams, since=since, format=format)
    settings = get_settings()
    start = datetime.combine(date.fromisoformat(params.since), time.min, tzinfo=UTC) if params.since else None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"export-{stamp}-{uuid.uuid4().hex[:8]}.{params.format.value}"
    out_dir = settings.resolved_output_dir
    result = export_task(settings.resolved_database_url, str(out_dir), name, start, params.format)
    link = report.markdown_url(report.output_link(result.path, settings.output_url, out_dir))
    create_markdown_artifact(
        markdown=export_markdown(result, link),
        key=report.artifact_key("export", "summary"),
        description="newsflow export: records by language and translation status",
    )
    create_table_artifact(
        table=languages_table(result),
        key=report.artifact_key("export", "languages"),
        description="Exported records by language",
    )
    create_markdown_artifact(
        markdown=report.output_markdown("Exported records", result.path, out_dir, settings.output_url),
        key=report.artifact_key("export", "output"),
        description="The exported records: a link when NEWSFLOW_OUTPUT_URL is set, and the path",
    )
    get_run_logger().info("exported %d record(s) to %s", result.count, result.path)
    return result
