"""`newsflow fetches` lists what failed and why; `newsflow reprocess` re-runs extraction on stored raw pages."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from newsflow.cli import app
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from newsflow.storage import Store
from schemas.models import RawArticle
from tests.acquire_site import serve


def test_fetches_lists_failures_with_their_reason(isolated_settings: Path) -> None:
    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0, fetch_retries=0)
        items = list(runtime(settings).iter_sources([f"{site.base}/news/a3.html", f"{site.base}/photo.png"]))
    assert len(items) == 2
    result = CliRunner().invoke(app, ["fetches", "--json", "--outcome", "failed"])
    assert result.exit_code == 0, result.output
    (row,) = [json.loads(line) for line in result.output.splitlines()]
    assert row["url"] == f"{site.base}/photo.png" and "content type 'image/png'" in row["reason"]
    table = CliRunner().invoke(app, ["fetches"])
    assert "fetched" in table.output and "failed" in table.output


def test_reprocess_reruns_extraction_without_fetching(isolated_settings: Path) -> None:
    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0)
        (raw,) = list(runtime(settings).iter_sources([f"{site.base}/news/a3.html"]))
        assert isinstance(raw, RawArticle)
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
    page = Path(__file__).parent / "sites" / "vietnamplus-editions" / "ben-tre-cocoteros-2024.html"
    spec = json.loads((page.with_suffix(".json")).read_text(encoding="utf-8"))
    result = CliRunner().invoke(app, ["site-check", str(page), "--url", spec["url"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == spec


def test_reprocess_keeps_the_near_duplicate_link(isolated_settings: Path) -> None:
    """A syndicated copy's stored raw page has no link; reprocess takes it back from the fetch log."""
    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0, fetch_retries=0)
        raws = [i for i in runtime(settings).iter_sources([f"feed:{site.base}/feed.xml"]) if isinstance(i, RawArticle)]
        (copy,) = [r for r in raws if r.url == f"{site.base}/syndicated/a1-copy.html"]
        copy_id = process(copy, None).id
        with Store(settings.resolved_database_url) as store:
            for raw in raws:
                store.save(process(raw, None), raw)
            before = store.get(copy_id)
        hits = sum(site.hits.values())
        result = CliRunner().invoke(app, ["reprocess", "--translator", "none", "--no-json"])
        assert sum(site.hits.values()) == hits  # nothing fetched
    assert result.exit_code == 0, result.output
    assert before is not None and before.duplicate_of is not None
    assert before.duplicate_of.url == f"{site.base}/news/a1.html" and before.duplicate_of.kind == "near"
    with Store(settings.resolved_database_url) as store:
        after = store.get(copy_id)
    assert after is not None and after.duplicate_of == before.duplicate_of
    assert after.translation.status == "not_needed"  # still the copy of a story translated on its original


def test_reprocess_flow_loads_raw_pages_with_their_duplicate_link(isolated_settings: Path) -> None:
    """The reprocess deployment's loader gives a syndicated copy its fetch-log link back, like the CLI."""
    from extractors.acquire.items import duplicate_link
    from flows.ops import load_raw

    with serve() as site:
        settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0, fetch_retries=0)
        raws = [i for i in runtime(settings).iter_sources([f"feed:{site.base}/feed.xml"]) if isinstance(i, RawArticle)]
    with Store(settings.resolved_database_url) as store:
        for raw in raws:
            store.save(process(raw, None), raw)
    loaded = {raw.url: raw for raw in load_raw.fn(settings.resolved_database_url, None)}
    copy = loaded[f"{site.base}/syndicated/a1-copy.html"]
    link = duplicate_link(copy)
    assert link is not None and link.url == f"{site.base}/news/a1.html"
    assert duplicate_link(loaded[f"{site.base}/news/a1.html"]) is None
