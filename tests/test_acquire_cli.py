"""`newsflow fetches` lists what failed and why; `newsflow reprocess` re-runs extraction on stored raw pages."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from extractors.pipeline import process
from extractors.sources import iter_sources
from newsflow.cli import app
from newsflow.settings import Settings
from newsflow.storage import Store
from tests.acquire_site import serve


def test_fetches_lists_failures_with_their_reason(isolated_settings: Path) -> None:
    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0, fetch_retries=0)
        items = list(iter_sources([f"{site.base}/news/a3.html", f"{site.base}/report.pdf"], settings))
    assert len(items) == 2
    result = CliRunner().invoke(app, ["fetches", "--json", "--outcome", "failed"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.output.splitlines()]
    assert row["url"] == f"{site.base}/report.pdf" and "content type 'application/pdf'" in row["reason"]
    table = CliRunner().invoke(app, ["fetches"])
    assert "fetched" in table.output and "failed" in table.output


def test_reprocess_reruns_extraction_without_fetching(isolated_settings: Path) -> None:
    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0)
        (raw,) = list(iter_sources([f"{site.base}/news/a3.html"], settings))
        hits = sum(site.hits.values())
        store = Store(settings.resolved_database_url)
        record = process(raw, None)
        assert store.save(record, raw) == "new"
        store.close()
        result = CliRunner().invoke(app, ["reprocess", "--translator", "none"])
        assert sum(site.hits.values()) == hits  # nothing fetched
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("failed=0")
    assert "new=0" in result.output and "failed=0" in result.output
    assert (isolated_settings / "output" / "records").is_dir() or "unchanged=1" in result.output


def test_site_check_prints_the_expected_form() -> None:
    page = Path(__file__).parent / "sites" / "vietnamplus-es" / "ben-tre-cocoteros-2024.html"
    spec = json.loads((page.with_suffix(".json")).read_text(encoding="utf-8"))
    result = CliRunner().invoke(app, ["site-check", str(page), "--url", spec["url"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == spec
