"""The Prefect artifacts of a run: plain functions that build their content, and one that publishes them.

Every run publishes three artifacts, so an operator sees the result in the UI without opening a file:
a markdown summary, a table of the articles (new/updated/unchanged/failed with the reason) and a link
to the JSON output. Keys are stable per deployment (`newsflow-<flow>-summary`, `-articles`, `-output`),
so the UI's Artifacts page shows each one's history across runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote, urlsplit

from flows.summary import MAX_ARTICLE_ROWS as MAX_TABLE_ROWS
from flows.summary import RunSummary

# What markdown_text replaces: HTML's special characters by entities, markdown's by a backslash escape, and
# control characters (newlines too) and the Unicode line/paragraph separators by a space.
_ESCAPES: dict[int, str] = {
    **{ord(c): f"&{name};" for c, name in (("&", "amp"), ("<", "lt"), (">", "gt"), ('"', "quot"))},
    ord("'"): "&#39;",
    **{ord(c): "\\" + c for c in "\\`*_[]()#+-!|~"},
    **{code: " " for code in (*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029)},
}
_URL_SCHEMES = ("http", "https", "file")
_URL_SAFE = "/:?#[]@!$&*+,;=%-._~"  # percent-encoded besides: spaces, quotes, parentheses, <>, backslash, ...


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


def markdown_text(value: object) -> str:
    """`value` as literal text in a Prefect markdown artifact (headings, table cells, list items, link text).

    Prefect's UI renders markdown with marked (GFM), which passes HTML through, so a file name or a URL
    like `<img src=x onerror=...>` or `[x](javascript:...)` would become markup. Here nothing can: `<>&"'`
    become entities, the markdown specials `\\`*_[]()#+-!|~` get a backslash, and control characters
    (newlines too) become spaces, so the value stays on its line and in its table cell. What an operator
    reads is the original text. Every value newsflow puts into a markdown artifact goes through this.
    """
    return str(value).translate(_ESCAPES)


def markdown_url(url: str | None) -> str | None:
    """`url` as a markdown link target, or None when it must not be one: only http(s) (with a host) and file
    URLs are links; spaces, quotes, parentheses, `<>` and control characters are percent-encoded."""
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)  # (it also drops tabs and newlines, so "java\tscript:" reads as javascript:)
    if parts.scheme.lower() not in _URL_SCHEMES or (parts.scheme.lower() != "file" and not parts.netloc):
        return None
    return quote(url, safe=_URL_SAFE)


def markdown_code(value: object) -> str:
    """`value` as inline code in an artifact (a path to copy): marked shows a code span's text as it is, HTML
    included, so only a backtick (which would end the span) or a control character needs care; such a value
    is escaped text instead (`markdown_text`), which reads the same."""
    text = str(value)
    if "`" in text or not text.isprintable():
        return markdown_text(text)
    return f"`{text}`"


SERVE_HINT = (
    "A browser does not open file:// links from a web page such as this one: copy the path. For links that "
    "open, serve the output directory over http and set NEWSFLOW_OUTPUT_URL to its address."
)


def output_markdown(
    title: str, path: str | None, output_dir: Path, base_url: str | None, rows: Sequence[tuple[str, str]] = ()
) -> str:
    """The `-output` artifact: where a run's output is, as a link that opens in a browser when the output
    directory is served (NEWSFLOW_OUTPUT_URL), and always as a path to copy, with the file:// link for tools
    that take one. `rows`: more (what, path) pairs for the table (records directory, database)."""
    md = markdown_text
    lines = [f"# {md(title)}", ""]
    web = markdown_url(output_link(path, base_url, output_dir)) if base_url else None
    if web and web.startswith(("http://", "https://")):
        lines += [f"Open: [{md(Path(path or web).name)}]({web})", ""]
    lines += ["| what | where |", "|---|---|"]
    if path:
        lines.append(f"| file | {markdown_code(Path(path).resolve())} |")
    lines += [f"| {md(what)} | {markdown_code(where)} |" for what, where in rows]
    local = markdown_url(Path(path).resolve().as_uri()) if path else None
    if local:
        lines += ["", f"file:// link, for tools that take one: [{md(Path(path or local).name)}]({local})"]
    if not (web and web.startswith(("http://", "https://"))):
        lines += ["", md(SERVE_HINT)]
    return "\n".join(lines) + "\n"


def summary_markdown(summary: RunSummary, link: str | None = None) -> str:
    """The run in a few tables: counts, entities by type, translation status, top provinces and officials.

    Every value is escaped (`markdown_text`) and the link checked (`markdown_url`): sources, reasons and
    names come from the input."""
    md = markdown_text
    lines = [
        f"# newsflow {md(summary.flow)}: run {md(summary.run_id)}",
        "",
        "| articles | count |",
        "|---|---:|",
        f"| received | {md(summary.received)} |",
        f"| processed | {md(summary.processed)} |",
        f"| failed | {md(len(summary.failed))} |",
        f"| new | {md(summary.new)} |",
        f"| updated | {md(summary.updated)} |",
        f"| unchanged | {md(summary.unchanged)} |",
        "",
        "## Entities by type",
        "",
        "| type | found |",
        "|---|---:|",
        *(f"| {md(kind)} | {md(count)} |" for kind, count in summary.entities.items()),
        "",
        "## Translation status",
        "",
        "| status | articles |",
        "|---|---:|",
        *(f"| {md(status)} | {md(count)} |" for status, count in sorted(summary.translation.items())),
    ]
    for title, items in (("Top provinces", summary.top_provinces), ("Top officials", summary.top_officials)):
        lines += ["", f"## {title}", "", "| name | articles |", "|---|---:|"]
        lines += [f"| {md(item.name)} | {md(item.articles)} |" for item in items] or ["| \\(none\\) | 0 |"]
    if summary.failed:
        lines += ["", "## Failures", "", "| input | reason |", "|---|---|"]
        lines += [f"| {md(f.source)} | {md(f.reason)} |" for f in summary.failed[:MAX_TABLE_ROWS]]
    lines += ["", "## Output", ""]
    target = markdown_url(link)
    if target and target.startswith(("http://", "https://")):
        lines.append(f"- JSONL of this run: [{md(Path(summary.run_file or target).name)}]({target})")
    if summary.run_file:
        lines.append(f"- JSONL of this run, on the machine that ran it: {markdown_code(summary.run_file)}")
    if summary.records_dir:
        lines.append(f"- one JSON file per record in {markdown_code(summary.records_dir)}")
    if summary.database:
        lines.append(f"- database: {markdown_code(summary.database)}")
    return "\n".join(lines) + "\n"


def articles_table(summary: RunSummary) -> list[dict[str, object]]:
    """One row per article (the first MAX_TABLE_ROWS): what happened to it and why.

    Prefect's UI renders every string cell of a table artifact as markdown, so the cells that carry input
    (source, title, reason) are escaped like the summary; status, id, language and translation are newsflow's
    own values."""
    md = markdown_text
    rows: list[dict[str, object]] = []
    for a in summary.articles[:MAX_TABLE_ROWS]:
        rows.append(
            {
                "status": a.status,
                "source": md(a.source),
                "id": a.id or "",
                "title": md(a.title or ""),
                "language": a.language or "",
                "translation": a.translation or "",
                "provinces": a.provinces,
                "officials": a.officials,
                "reason": md(a.reason or ""),
            }
        )
    return rows


def publish(summary: RunSummary, base_url: str | None, output_dir: Path) -> None:
    """Create the run's three artifacts (inside a flow run: they attach to it)."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    link = markdown_url(output_link(summary.run_file, base_url, output_dir))
    create_markdown_artifact(
        markdown=summary_markdown(summary, link),
        key=artifact_key(summary.flow, "summary"),
        description=f"newsflow {markdown_text(summary.flow)}: counts, entities, translation, top provinces and "
        "officials",
    )
    more = max(summary.article_rows, len(summary.articles)) - MAX_TABLE_ROWS
    create_table_artifact(
        table=articles_table(summary),
        key=artifact_key(summary.flow, "articles"),
        description="Articles of this run"
        + (f" (first {MAX_TABLE_ROWS}; {more} more in the JSONL)" if more > 0 else ""),
    )
    if summary.run_file:
        rows = [("JSON file per record", summary.records_dir)] if summary.records_dir else []
        create_markdown_artifact(
            markdown=output_markdown("JSONL of this run", summary.run_file, output_dir, base_url, rows),
            key=artifact_key(summary.flow, "output"),
            description="The JSON output of this run (one record per line): a link when NEWSFLOW_OUTPUT_URL is set, "
            "and the path",
        )
