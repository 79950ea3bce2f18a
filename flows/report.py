"""The Prefect artifacts of a run: plain functions that build their content, and one that publishes them.

Every run publishes three artifacts, so an operator sees the result in the UI without opening a file:
a markdown summary, a table of the articles (new/updated/unchanged/failed with the reason) and a link
to the JSON output. Keys are stable per deployment (`newsflow-<flow>-summary`, `-articles`, `-output`),
so the UI's Artifacts page shows each one's history across runs.
"""

from __future__ import annotations

from pathlib import Path

from flows.summary import MAX_ARTICLE_ROWS as MAX_TABLE_ROWS
from flows.summary import RunSummary


def artifact_key(flow: str, part: str) -> str:
    """`newsflow-<flow>-<part>` in the form Prefect requires: lowercase letters, digits and dashes."""
    raw = f"newsflow-{flow}-{part}".lower()
    return "".join(c if c.isalnum() and c.isascii() else "-" for c in raw).strip("-")


def output_link(path: str | None, base_url: str | None, output_dir: Path) -> str | None:
    """Where an operator opens `path`: under `base_url` when the output directory is served, else file://."""
    if not path:
        return None
    target = Path(path).resolve()
    if base_url:
        try:
            relative = target.relative_to(output_dir.resolve())
        except ValueError:
            return target.as_uri()
        return base_url.rstrip("/") + "/" + relative.as_posix()
    return target.as_uri()


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def summary_markdown(summary: RunSummary, link: str | None = None) -> str:
    """The run in a few tables: counts, entities by type, translation status, top provinces and officials."""
    lines = [
        f"# newsflow {summary.flow}: run {summary.run_id}",
        "",
        "| articles | count |",
        "|---|---:|",
        f"| received | {summary.received} |",
        f"| processed | {summary.processed} |",
        f"| failed | {len(summary.failed)} |",
        f"| new | {summary.new} |",
        f"| updated | {summary.updated} |",
        f"| unchanged | {summary.unchanged} |",
        "",
        "## Entities by type",
        "",
        "| type | mentions |",
        "|---|---:|",
        *(f"| {kind} | {count} |" for kind, count in summary.entities.items()),
        "",
        "## Translation status",
        "",
        "| status | articles |",
        "|---|---:|",
        *(f"| {status} | {count} |" for status, count in sorted(summary.translation.items())),
    ]
    for title, items in (("Top provinces", summary.top_provinces), ("Top officials", summary.top_officials)):
        lines += ["", f"## {title}", "", "| name | articles |", "|---|---:|"]
        lines += [f"| {_cell(item.name)} | {item.articles} |" for item in items] or ["| (none) | 0 |"]
    if summary.failed:
        lines += ["", "## Failures", "", "| input | reason |", "|---|---|"]
        lines += [f"| {_cell(f.source)} | {_cell(f.reason)} |" for f in summary.failed[:MAX_TABLE_ROWS]]
    lines += ["", "## Output", ""]
    if link:
        lines.append(f"- JSONL of this run: [{_cell(summary.run_file)}]({link})")
    if summary.records_dir:
        lines.append(f"- one JSON file per record in `{summary.records_dir}`")
    if summary.database:
        lines.append(f"- database: `{summary.database}`")
    return "\n".join(lines) + "\n"


def articles_table(summary: RunSummary) -> list[dict[str, object]]:
    """One row per article (the first MAX_TABLE_ROWS): what happened to it and why."""
    rows: list[dict[str, object]] = []
    for a in summary.articles[:MAX_TABLE_ROWS]:
        rows.append({
            "status": a.status, "source": a.source, "id": a.id or "", "title": a.title or "",
            "language": a.language or "", "translation": a.translation or "", "provinces": a.provinces,
            "officials": a.officials, "reason": a.reason or "",
        })  # fmt: skip
    return rows


def publish(summary: RunSummary, base_url: str | None, output_dir: Path) -> None:
    """Create the run's three artifacts (inside a flow run: they attach to it)."""
    from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

    link = output_link(summary.run_file, base_url, output_dir)
    create_markdown_artifact(
        markdown=summary_markdown(summary, link),
        key=artifact_key(summary.flow, "summary"),
        description=f"newsflow {summary.flow}: counts, entities, translation, top provinces and officials",
    )
    more = max(summary.article_rows, len(summary.articles)) - MAX_TABLE_ROWS
    create_table_artifact(
        table=articles_table(summary),
        key=artifact_key(summary.flow, "articles"),
        description="Articles of this run" + (f" (first {MAX_TABLE_ROWS}; {more} more in the JSONL)" if more > 0
                                               else ""),
    )  # fmt: skip
    if link:
        create_link_artifact(
            link=link,
            link_text=Path(summary.run_file or link).name,
            key=artifact_key(summary.flow, "output"),
            description="The JSON output of this run (one record per line)",
        )
