"""The acquisition layer against a local site on 127.0.0.1: feeds, sitemaps, robots.txt, conditional GET,
failures named with their reason, the SSRF guard, nothing fetched twice, near-duplicates linked."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from extractors.acquire.items import duplicate_link
from extractors.acquire.session import Acquirer
from extractors.fetch import Fetcher, HostGate, RobotsCache
from extractors.html import SiteProfile
from extractors.sources import InputError, iter_sources
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from newsflow.storage.fetchlog import FetchLog
from schemas.models import RawArticle
from tests.acquire_site import Site, bomb

LOCAL = ["127.0.0.1/32"]


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_allow_addresses": LOCAL,
        "fetch_min_interval": 0.0,
        "fetch_backoff": 0.01,
        "fetch_retries": 1,
        "http_timeout": 0.5,
        "max_body_bytes": 200_000,
        "max_redirects": 2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class FakeStore:
    """Stands for the Store: what the pipeline saved (raw ids)."""

    def __init__(self) -> None:
        self.raw_ids: set[str] = set()

    def save(self, items: list) -> None:
        for item in items:
            if isinstance(item, RawArticle):
                self.raw_ids.add(hashlib.sha256(item.content.encode("utf-8")).hexdigest())

    def __contains__(self, raw_id: str) -> bool:
        return raw_id in self.raw_ids


def _run(
    sources: list[str],
    settings: Settings,
    log: FetchLog | None,
    store: FakeStore | None = None,
    fetcher: Fetcher | None = None,
) -> list:
    """One run; each run has its own robots.txt cache (a new process would), the fetch log persists."""
    store = store if store is not None else FakeStore()
    fetcher = fetcher or Fetcher(settings, robots=RobotsCache())
    with fetcher, Acquirer(settings, log=log, is_stored=store.__contains__, fetcher=fetcher) as acquirer:
        items = list(iter_sources(sources, settings, acquirer=acquirer))
    store.save(items)
    return items


def _articles(items: list) -> list[RawArticle]:
    return [i for i in items if isinstance(i, RawArticle)]


def _errors(items: list) -> dict[str, str]:
    return {i.source: i.reason for i in items if isinstance(i, InputError)}


def test_feed_gives_records_names_failures_and_links_the_syndicated_copy(site: Site, log: FetchLog) -> None:
    items = _run([f"feed:{site.base}/feed.xml"], _settings(), log)
    articles = _articles(items)
    # canonical URLs: the feed's tracking parameters are gone; the syndicated copy comes linked
    assert [a.url for a in articles] == [
        f"{site.base}/news/a1.html",
        f"{site.base}/news/a2.html",
        f"{site.base}/syndicated/a1-copy.html",
    ]
    assert [duplicate_link(a) is not None for a in articles] == [False, False, True]
    assert {a.source.kind for a in articles} == {"feed"}
    assert all(a.source.uri == f"{site.base}/feed.xml" for a in articles)
    assert articles[0].title == "Long An sơ kết công tác quản lý đất đai quý I"  # the feed's own title
    assert articles[0].published_at is not None and articles[0].published_at.isoformat() == "2024-05-15T09:30:00+00:00"

    errors = _errors(items)
    assert errors[f"{site.base}/private/secret.html"].startswith("robots.txt of 127.0.0.1 disallows this URL")
    assert errors[f"{site.base}/news/missing.html"] == f"HTTP 404 (listed in {site.base}/feed.xml)"
    assert site.hit("/private/secret.html") == 0  # robots.txt: never requested

    # the syndicated copy (one phrase changed) is linked to the first story
    assert list(log.duplicates()) == [(f"{site.base}/syndicated/a1-copy.html", f"{site.base}/news/a1.html", "near", 5)]
    outcomes = {a.url.replace(site.base, ""): (a.outcome, a.reason) for a in log.attempts()}
    assert outcomes["/syndicated/a1-copy.html"][0] == "near_duplicate"
    assert outcomes["/syndicated/a1-copy.html"][1].startswith(f"same story as {site.base}/news/a1.html")
    assert outcomes["/private/secret.html"][0] == "disallowed"
    assert outcomes["/news/missing.html"] == ("failed", "HTTP 404")
    assert outcomes["/feed.xml"] == ("fetched", None)

    # the expected records
    record = process(articles[1], None)
    assert record.title == "Bến Tre chuẩn bị ứng phó hạn mặn mùa khô" and record.language.code == "vi"
    assert [p.name for p in record.entities.provinces] == ["Bến Tre"]
    assert "Cơ quan chủ quản" not in record.text and "Trang chủ" not in record.text
    assert record.duplicate_of is None
    # the copy's record names the first story's record; it is not translated again
    first, copy = process(articles[0], None), process(articles[2], None)
    assert copy.duplicate_of is not None and copy.duplicate_of.model_dump() == {
        "id": first.id,
        "url": f"{site.base}/news/a1.html",
        "kind": "near",
        "distance": 5,
        "similarity": 0.9219,
    }
    assert copy.id != first.id and copy.translation.status == "not_needed"
    assert first.translation.status == "pending"  # no translator in this test: the original waits for one


def test_a_rerun_fetches_only_what_changed(site: Site, log: FetchLog) -> None:
    store = FakeStore()
    first = _run([f"feed:{site.base}/feed.xml"], _settings(), log, store)
    assert len(_articles(first)) == 3  # a1, a2 and a1's syndicated copy (linked to a1)
    hits = dict(site.hits)

    second = _run([f"feed:{site.base}/feed.xml"], _settings(), log, store)
    assert _articles(second) == []
    # known pages (stored, or linked as a duplicate) named again by the feed are not requested at all
    for path in ("/news/a1.html", "/news/a2.html", "/syndicated/a1-copy.html"):
        assert site.hit(path) == hits[path], path
    assert site.hit("/feed.xml") == hits["/feed.xml"] + 1  # the feed itself is re-read each run
    # the failures are tried again (and named again)
    assert set(_errors(second)) == {f"{site.base}/private/secret.html", f"{site.base}/news/missing.html"}

    # a page given directly: conditional GET, the server answers 304, nothing is delivered
    third = _run([f"{site.base}/news/a1.html"], _settings(), log, store)
    assert third == []
    assert site.statuses[-1] == ("/news/a1.html", 304)
    assert log.attempts(limit=1)[0].outcome == "not_modified"


def test_nothing_lost_when_an_earlier_fetch_never_reached_the_store(site: Site, log: FetchLog) -> None:
    url = f"{site.base}/news/a2.html"
    _run([url], _settings(), log, FakeStore())  # fetched, then the process died before storing
    store = FakeStore()
    items = _run([url], _settings(), log, store)
    assert site.statuses[-1] == ("/news/a2.html", 304)  # not downloaded again ...
    (raw,) = _articles(items)  # ... but delivered from the cache
    assert "Bến Tre" in raw.content
    assert log.attempts(limit=1)[0].reason == "delivered from the cache: the earlier fetch was never stored"


def test_sitemap_index_and_feed_in_one_run_fetch_each_page_once(site: Site, log: FetchLog) -> None:
    items = _run([f"sitemap:{site.base}/sitemap_index.xml", f"{site.base}/feed.xml"], _settings(), log)
    urls = [a.url for a in _articles(items)]
    # the sitemap's AMP variant of a1 and the redirect to a2 are the same pages the feed names
    assert urls == [
        f"{site.base}/news/a1.html",
        f"{site.base}/news/a3.html",
        f"{site.base}/news/a2.html",
        f"{site.base}/syndicated/a1-copy.html",
    ]
    assert site.hit("/news/a1.html") + site.hit("/amp/news/a1.html") == 1
    assert site.hit("/news/a2.html") == 1
    kinds = [a.source.kind for a in _articles(items)]
    assert kinds == ["sitemap", "sitemap", "sitemap", "feed"]  # the copy is only in the feed


def test_plain_url_is_recognised_as_a_feed_by_its_root(site: Site) -> None:
    items = _run([f"{site.base}/feed.xml"], _settings(), None)
    assert {a.source.kind for a in _articles(items)} == {"feed"}
    assert len(_articles(items)) == 3  # no fetch log: the near-duplicate cannot be linked across the run


def test_forced_kind_that_does_not_match_is_named(site: Site) -> None:
    (item,) = _run([f"sitemap:{site.base}/feed.xml"], _settings(), None)
    assert isinstance(item, InputError) and item.reason == "not a sitemap: the document is feed"


@pytest.mark.parametrize(
    ("path", "reason", "outcome"),
    [
        ("/slow", "timed out (read, limit 0.5 s) (after 2 attempts)", "failed"),
        ("/always-500", "HTTP 500 (after 2 attempts)", "failed"),
        ("/too-many", "HTTP 429; Retry-After 3600 s is over the limit of 120 s", "failed"),
        ("/big", "body larger than 200000 bytes (Content-Length 3000", "failed"),
        ("/bomb", "decompression bomb guard", "failed"),
        ("/photo.png", "content type 'image/png' is not allowed here", "failed"),
        ("/binary-as-html", "binary content (NUL bytes), not text", "failed"),
        ("/loop", "more than 2 redirects", "failed"),
        ("/private/secret.html", "robots.txt of 127.0.0.1 disallows this URL for 'newsflow'", "disallowed"),
        ("/to-metadata", "host '169.254.169.254' resolves to 169.254.169.254, a non-public address", "blocked"),
        ("/nowhere", "HTTP 404", "failed"),
    ],
)
def test_every_failure_is_named_and_logged(site: Site, log: FetchLog, path: str, reason: str, outcome: str) -> None:
    bomb("gzip")  # compressed before the read timeout starts counting
    (item,) = _run([site.base + path], _settings(), log)
    assert isinstance(item, InputError) and item.source == site.base + path
    assert reason in item.reason
    (attempt,) = log.attempts()
    assert attempt.outcome == outcome and reason in (attempt.reason or "")


def test_transient_errors_are_retried_with_backoff(site: Site, log: FetchLog) -> None:
    waits: list[float] = []
    settings = _settings(fetch_backoff=0.02)
    (raw,) = _run(
        [f"{site.base}/flaky"], settings, log, fetcher=Fetcher(settings, sleep=waits.append, robots=RobotsCache())
    )
    assert isinstance(raw, RawArticle)
    assert site.hit("/flaky") == 2 and waits == [0.02]
    assert log.attempts()[0].attempts == 2
    # a permanent error is not retried
    _run([f"{site.base}/nowhere"], _settings(), log)
    assert site.hit("/nowhere") == 1


def test_robots_override_for_sites_the_operator_owns(site: Site) -> None:
    items = _run([f"{site.base}/private/secret.html"], _settings(fetch_ignore_robots=["127.0.0.1"]), None)
    assert isinstance(items[0], RawArticle) and site.hit("/robots.txt") == 0


def test_unreachable_robots_txt_disallows_everything(site: Site) -> None:
    site.robots_status = 503
    (item,) = _run([f"{site.base}/news/a3.html"], _settings(), None)
    assert isinstance(item, InputError)
    assert item.reason.startswith("robots.txt unreachable (HTTP 503 (after 2 attempts))")
    assert site.hit("/news/a3.html") == 0


def test_per_host_spacing_follows_crawl_delay(site: Site) -> None:
    site.robots_delay = 2
    slept: list[float] = []
    gate = HostGate(clock=lambda: 100.0, sleep=slept.append)  # time stands still: every wait is visible
    settings = _settings()
    with Fetcher(settings, gate=gate, robots=RobotsCache()) as fetcher:
        for path in ("/news/a3.html", "/news/a2.html", "/gzipped"):
            fetcher.get(site.base + path)
    # robots.txt (spaced by fetch_min_interval=0), then three pages 2 s (the Crawl-delay) apart
    assert slept == [2.0, 4.0]


def test_user_agent_names_the_tool_and_the_contact(site: Site) -> None:
    from extractors.fetch import user_agent

    assert user_agent(_settings(contact="ops@example.vn")).endswith("contact: ops@example.vn")
    assert user_agent(_settings()).startswith("newsflow/")


@pytest.mark.parametrize("path", ["/cp1258.html", "/wrong-declared.html", "/undeclared-cp1258.html", "/mojibake.html"])
def test_encodings(site: Site, path: str) -> None:
    (raw,) = _run([site.base + path], _settings(), None)
    assert isinstance(raw, RawArticle), raw
    assert "Tiền Giang và Bến Tre ký kết giao ước thi đua" in raw.content


def test_gzip_body_is_decoded(site: Site) -> None:
    (raw,) = _run([f"{site.base}/gzipped"], _settings(), None)
    assert isinstance(raw, RawArticle) and "Trà Vinh khai mạc hội chợ OCOP" in raw.content


@pytest.mark.parametrize("prefix", ["", "feed:", "sitemap:", "listing:"])
@pytest.mark.parametrize(
    "target",
    [
        "LOCAL/news/a3.html",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
def test_ssrf_guard_blocks_private_targets_unless_allow_listed(
    site: Site, prefix: str, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from extractors import html

    monkeypatch.setattr(html, "PROFILES", [SiteProfile(name="any", domains=("*",), body="article", listing="body")])
    url = target.replace("LOCAL", site.base)
    (item,) = list(runtime(Settings(fetch_min_interval=0)).iter_sources([prefix + url]))
    assert isinstance(item, InputError) and item.source == url
    assert "a non-public address (not allow-listed)" in item.reason
    assert sum(site.hits.values()) == 0


def test_allow_listing_is_what_lets_the_local_site_through(site: Site) -> None:
    (item,) = list(runtime(_settings()).iter_sources([f"{site.base}/news/a3.html"]))
    assert isinstance(item, RawArticle)


def test_listing_page_with_a_site_profile(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    from extractors import html

    listing = (Path(__file__).parent / "sites" / "vietnamplus-editions" / "listing.html").read_text(encoding="utf-8")
    profile = SiteProfile(
        name="local", domains=("127.0.0.1",), body="article", listing=".story-list", article_pattern=r"-post\d+\.vnp$"
    )
    monkeypatch.setattr(html, "PROFILES", [profile])
    from extractors.acquire.discover import listing_links

    found = [f.url for f in listing_links(listing, f"{site.base}/sociedad/", profile.listing, profile.article_pattern)]
    assert found == [
        f"{site.base}/ben-tre-impulsa-la-exportacion-de-productos-de-coco-post201455.vnp",
        f"{site.base}/tra-vinh-mejora-la-atencion-medica-de-base-post201460.vnp?utm_source=home",
    ]
    items = _run([f"listing:{site.base}/news/a3.html"], _settings(), None)
    assert items == []  # the page has no .story-list: no links, nothing fetched beyond it
    monkeypatch.setattr(html, "PROFILES", [])
    (error,) = _run([f"listing:{site.base}/news/a3.html"], _settings(), None)
    assert isinstance(error, InputError)
    assert error.reason == "no site profile with a 'listing' selector matches this host"
