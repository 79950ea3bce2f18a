"""Near-duplicates on the record: a syndicated copy becomes a record that names the earlier story's record
(`duplicate_of`), is not translated again, and is stored once, in a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extractors.acquire.items import duplicate_link
from extractors.acquire.session import Acquirer
from extractors.fetch import Fetcher, RobotsCache
from extractors.sources import iter_sources
from newsflow.runtime import process
from newsflow.settings import Settings
from newsflow.storage import Store, raw_input_id
from newsflow.storage.fetchlog import FetchLog
from schemas.models import RawArticle
from tests.acquire_site import Site


def _settings() -> Settings:
    return Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0.0, fetch_retries=0, http_timeout=2.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'newsflow.db'}") as opened:
        yield opened


@pytest.fixture
def log(tmp_path: Path) -> Iterator[FetchLog]:
    """Overrides tests/acquire_fixtures.py's `log`: this one shares the Store's database file, as a run does."""
    with FetchLog(f"sqlite:///{tmp_path / 'newsflow.db'}") as opened:
        yield opened


def _ingest(sources: list[str], log: FetchLog, store: Store | None) -> list[RawArticle]:
    """One run: acquire, process (no translator), save (when `store` is given: None is a crash before saving)."""
    settings = _settings()
    stored = (lambda raw_id: store.get_raw(raw_id) is not None) if store is not None else (lambda raw_id: False)
    with (
        Fetcher(settings, robots=RobotsCache()) as fetcher,
        Acquirer(settings, log=log, fetcher=fetcher, is_stored=stored) as acquirer,
    ):
        raws = [i for i in iter_sources(sources, settings, acquirer=acquirer) if isinstance(i, RawArticle)]
    for raw in raws if store is not None else []:
        store.save(process(raw, None), raw)
    return raws


def test_the_copy_is_one_linked_record_and_nothing_is_stored_twice(site: Site, log: FetchLog, store: Store) -> None:
    raws = _ingest([f"feed:{site.base}/feed.xml"], log, store)
    first = store.get(process(raws[0], None).id)
    copy = store.get(process(raws[2], None).id)
    assert first is not None and copy is not None and store.count() == 3
    assert first.duplicate_of is None and first.translation.status == "pending"
    assert copy.duplicate_of is not None
    assert (copy.duplicate_of.id, copy.duplicate_of.url, copy.duplicate_of.kind) == (
        first.id,
        f"{site.base}/news/a1.html",
        "near",
    )
    assert copy.translation.status == "not_needed"  # the story's translation lives on `first`
    assert f"same story as {first.id}" in copy.pipeline.warnings[-1]
    assert copy.source.uri == f"{site.base}/feed.xml" and copy.title == "Long An: sơ kết quản lý đất đai quý I"
    # the raw page of the copy is kept, so `newsflow reprocess` has it
    assert store.get_raw(raw_input_id(raws[2])) is not None

    assert _ingest([f"feed:{site.base}/feed.xml"], log, store) == []  # a re-run adds nothing
    assert store.count() == 3 and site.hit("/syndicated/a1-copy.html") == 1


def test_a_word_for_word_copy_links_to_the_record_behind_a_redirect(site: Site, log: FetchLog, store: Store) -> None:
    original, copy = _ingest([f"{site.base}/redirect/a2", f"{site.base}/mirror/a2.html"], log, store)
    assert duplicate_link(original) is None
    link = duplicate_link(copy)
    assert link is not None
    # the earlier record was stored under the redirect's target, and that is the id the link names
    assert link.model_dump() == {
        "id": process(original, None).id,
        "url": f"{site.base}/news/a2.html",
        "kind": "exact",
        "distance": 0,
        "similarity": 1.0,
    }
    assert store.get(link.id) is not None


def test_a_copy_fetched_before_a_crash_is_delivered_later_still_linked(site: Site, log: FetchLog, store: Store) -> None:
    _ingest([f"feed:{site.base}/feed.xml"], log, None)  # fetched and linked, then the process died
    raws = _ingest([f"feed:{site.base}/feed.xml"], log, store)
    assert ("/syndicated/a1-copy.html", 304) in site.statuses  # not downloaded again ...
    (copy,) = [r for r in raws if r.url == f"{site.base}/syndicated/a1-copy.html"]
    link = duplicate_link(copy)  # ... delivered from the cache, with its link
    assert link is not None and link.url == f"{site.base}/news/a1.html" and link.distance == 5
    record = store.get(process(copy, None).id)
    assert record is not None and record.duplicate_of == link


def test_reprocessing_a_stored_copy_keeps_its_link(site: Site, log: FetchLog, store: Store) -> None:
    from extractors.acquire.session import relink

    raws = _ingest([f"feed:{site.base}/feed.xml"], log, store)
    copy_id = process(raws[2], None).id
    stored = {raw.url: raw for _, raw in store.iter_raw()}
    plain = stored[f"{site.base}/syndicated/a1-copy.html"]
    assert duplicate_link(plain) is None  # the store keeps the page as received, without the link ...
    assert process(plain, None).duplicate_of is None
    again = process(relink(plain, log), None)  # ... which the fetch log gives back
    assert again.duplicate_of == store.get(copy_id).duplicate_of  # type: ignore[union-attr]
    assert store.save(again, plain) == "unchanged"
    original = stored[f"{site.base}/news/a1.html"]
    assert relink(original, log) is original and relink(original, None) is original
