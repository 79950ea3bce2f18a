"""One run's acquisition: source URLs in, `RawArticle`s or `InputError`s out, every attempt logged.

A source URL is read by its prefix, or else by what it turns out to be:

* `feed:URL` - an RSS/Atom feed; `sitemap:URL` - a sitemap or sitemap index; `listing:URL` - a listing
  page read with the matching site profile's `listing` selector;
* a plain `http(s)://` URL - fetched once; an RSS/Atom/RDF root makes it a feed, `<urlset>`/`<sitemapindex>`
  a sitemap, a PDF/DOCX (by Content-Type or magic bytes) a document kept as base64 bytes
  (`extractors.documents`), anything else is the article.

Nothing twice: URLs are canonicalised (`extractors.acquire.urls`) and each canonical URL is fetched at most
once per run. Across runs the fetch log's `http_cache` gives conditional GETs (ETag/Last-Modified); a page
a feed or sitemap names again is not requested at all when its body is already in the store and the index
reports no newer date. A page whose main text equals (content hash) or nearly equals (SimHash) a page
already seen under another URL is linked to it in `duplicate_links` and delivered as a `LinkedRaw`: the
pipeline makes it a record with `duplicate_of` (the earlier record's id, URL, SimHash distance) and does not
translate it again.

Nothing lost: a 304 for a page whose earlier fetch never reached the store delivers the cached body.

Bounded: one source yields at most `discovery_max_urls` article URLs in all, however its sitemap indexes
nest (not that many per child sitemap), and fetches at most `SITEMAP_MAX_CHILDREN` child sitemaps; once
either is spent, no further child sitemap is requested.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from extractors.acquire import dedupe
from extractors.acquire.discover import DiscoveryError, Found, listing_links, parse_feed, parse_sitemap, sniff
from extractors.acquire.encoding import DecodeError, decode_body
from extractors.acquire.items import InputError, Item, LinkedRaw
from extractors.acquire.urls import canonicalize, host_of
from extractors.config import AcquireConfig, Limits
from extractors.dates import as_aware, site_zone
from extractors.documents import DOCUMENT_TYPES, DocumentError, fetched_document
from extractors.documents import sniff as sniff_document
from extractors.fetch import ARTICLE_TYPES, DISCOVERY_TYPES, Fetcher, FetchError, Response, gunzip_limited
from extractors.html import extract_html, profile_for
from extractors.ids import record_id
from schemas.models import DuplicateOf, RawArticle, SourceInfo

PREFIXES = ("feed:", "sitemap:", "listing:")
SourceKind = Literal["url", "feed", "sitemap"]
SITEMAP_MAX_CHILDREN = 100  # child sitemaps (and nested indexes) one source may fetch, at every level together
logger = logging.getLogger(__name__)


@dataclass
class _Budget:
    """What one source may still take: article URLs (`discovery_max_urls`, across every nested sitemap) and
    child sitemap fetches. An index may list 50,000 children; without one budget per source each child got
    the whole URL limit."""

    urls: int
    children: int = SITEMAP_MAX_CHILDREN

    def take(self, found: list[Found]) -> list[Found]:
        taken = found[: max(self.urls, 0)]
        self.urls -= len(taken)
        return taken


def split_prefix(given: str) -> tuple[str | None, str]:
    """('feed'|'sitemap'|'listing'|None, URL) of a source string."""
    for prefix in PREFIXES:
        if given.startswith(prefix) and given[len(prefix) :].startswith(("http://", "https://")):
            return prefix[:-1], given[len(prefix) :]
    return None, given


def is_url_source(given: str) -> bool:
    return split_prefix(given)[1].startswith(("http://", "https://"))


def _xml_bytes(text: str) -> bytes:
    """Decoded XML as UTF-8 bytes without its (now wrong) encoding declaration."""
    stripped = text.lstrip("\ufeff").lstrip()
    if stripped.startswith("<?xml"):
        stripped = stripped[stripped.find("?>") + 2 :]
    return stripped.encode("utf-8")


class Acquirer:
    """A run's acquisition (thread-safe). Use as a context manager, or call close().

    `log` is the fetch log (None: no persistence - no conditional GETs or cross-run de-duplication);
    `is_stored(raw_id)` says whether the store holds a record made from that raw input (None: nothing is, so an
    unchanged page is delivered again). `newsflow.runtime` builds one with both.
    """

    def __init__(
        self,
        settings: AcquireConfig,
        *,
        log: Any = None,
        fetcher: Fetcher | None = None,
        run_id: str | None = None,
        ignore_robots: list[str] | None = None,
        is_stored: Callable[[str], bool] | None = None,
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher or Fetcher(settings, ignore_robots=ignore_robots)
        self._own_fetcher = fetcher is None
        self.log = log
        self.run_id = run_id or str(uuid.uuid4())
        self._seen: set[str] = set()
        self._lock = threading.Lock()
        self._is_stored = is_stored

    def close(self) -> None:
        if self._own_fetcher:
            self.fetcher.close()
        if self.log is not None:
            self.log.close()

    def __enter__(self) -> Acquirer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- bookkeeping ---

    def _first_time(self, canonical: str) -> bool:
        with self._lock:
            if canonical in self._seen:
                return False
            self._seen.add(canonical)
            return True

    def _stored(self, body: str) -> bool:
        raw_id = hashlib.sha256(body.encode("utf-8")).hexdigest()
        return self._is_stored is not None and self._is_stored(raw_id)

    def _record(
        self,
        url: str,
        kind: str,
        outcome: str,
        *,
        via: str | None = None,
        status: int | None = None,
        reason: str | None = None,
        resp: Response | None = None,
        attempts: int = 1,
        content_hash: str | None = None,
        started: float | None = None,
    ) -> None:
        if self.log is None:
            return
        self.log.record(
            run_id=self.run_id,
            url=url,
            canonical_url=canonicalize(url),
            host=host_of(url),
            kind=kind,
            via=via,
            outcome=outcome,
            status=resp.status if resp else status,
            reason=reason,
            attempts=resp.attempts if resp else attempts,
            bytes=len(resp.body) if resp and resp.body else None,
            final_url=resp.final_url if resp else None,
            content_hash=content_hash,
            duration_ms=int((time.monotonic() - started) * 1000) if started else None,
        )

    def _fail(self, url: str, kind: str, exc: FetchError, via: str | None, started: float) -> InputError:
        self._record(
            url,
            kind,
            exc.kind if exc.kind != "failed" else "failed",
            via=via,
            status=exc.status,
            reason=exc.reason,
            attempts=exc.attempts,
            started=started,
        )
        where = f" (listed in {via})" if via else ""
        return InputError(url, exc.reason + where)

    # --- entry point ---

    def iter_source(self, given: str) -> Iterator[Item]:
        """Every article a source URL leads to (see the module docstring)."""
        forced, url = split_prefix(given)
        if forced == "listing":
            yield from self._listing(url)
            return
        canonical = canonicalize(url)
        if not self._first_time(canonical):
            return
        started = time.monotonic()
        cached = self.log.cached(canonical) if self.log is not None else None
        try:
            resp = self.fetcher.get(
                url,
                accept=DISCOVERY_TYPES,
                etag=cached.etag if cached else None,
                last_modified=cached.last_modified if cached else None,
            )
        except FetchError as exc:
            yield self._fail(url, forced or "article", exc, None, started)
            return
        if resp.not_modified and cached is not None:
            kind = forced or _cached_kind(cached.media_type)
            if kind in ("feed", "sitemap"):
                self._record(url, kind, "not_modified", resp=resp, started=started)
                yield from self._index(url, kind, _xml_bytes(cached.body), 0, _Budget(self.settings.discovery_max_urls))
            else:
                item = self._deliver_cached(url, cached, None, "url", resp, started, given)
                if item is not None:
                    yield item
            return
        body = resp.body
        if body[:2] == b"\x1f\x8b":
            try:
                body = gunzip_limited(body, self.settings)
            except FetchError as exc:
                yield self._fail(url, forced or "sitemap", exc, None, started)
                return
        if forced is None and (resp.content_type in DOCUMENT_TYPES or sniff_document(body) is not None):
            yield self._document(url, resp, body, started, given)
            return
        kind = sniff(resp.content_type, body)
        if (forced == "feed" and kind != "feed") or (forced == "sitemap" and kind not in ("sitemap", "sitemapindex")):
            self._record(
                url, forced, "failed", resp=resp, reason=f"not a {forced}: the document is {kind}", started=started
            )
            yield InputError(given, f"not a {forced}: the document is {kind}")
            return
        if kind in ("feed", "sitemap", "sitemapindex"):
            doc_kind = "feed" if kind == "feed" else "sitemap"
            try:
                text = decode_body(body, resp.charset).text
            except DecodeError as exc:
                self._record(url, doc_kind, "failed", resp=resp, reason=str(exc), started=started)
                yield InputError(given, str(exc))
                return
            if self.log is not None:
                self.log.remember(
                    canonical,
                    final_url=resp.final_url,
                    etag=resp.etag,
                    last_modified=resp.last_modified,
                    content_hash=dedupe.content_hash(text),
                    media_type=f"{doc_kind}+xml",
                    body=text,
                )
            self._record(url, doc_kind, "fetched", resp=resp, started=started)
            yield from self._index(url, doc_kind, _xml_bytes(text), 0, _Budget(self.settings.discovery_max_urls))
            return
        if resp.content_type not in ARTICLE_TYPES and resp.content_type:
            reason = f"content type {resp.content_type!r} is not an article, feed or sitemap"
            self._record(url, "article", "failed", resp=resp, reason=reason, started=started)
            yield InputError(given, reason)
            return
        item = self._accept(url, resp, cached, None, "url", None, started, given)
        if item is not None:
            yield item

    # --- indexes ---

    def _index(self, url: str, kind: str, body: bytes, depth: int, budget: _Budget) -> Iterator[Item]:
        try:
            if kind == "feed":
                found = parse_feed(body, url)
                source_kind: SourceKind = "feed"
            else:
                root, found = parse_sitemap(body, url)
                source_kind = "sitemap"
                if root == "sitemapindex":
                    yield from self._sitemap_index(url, found, depth, budget)
                    return
        except DiscoveryError as exc:
            yield InputError(url, str(exc))
            return
        yield from self._articles(budget.take(found), url, source_kind)

    def _sitemap_index(self, url: str, children: list[Found], depth: int, budget: _Budget) -> Iterator[Item]:
        if depth >= self.settings.sitemap_max_depth:
            yield InputError(url, f"sitemap index nested deeper than {self.settings.sitemap_max_depth} levels")
            return
        for number, child in enumerate(children):
            if budget.urls <= 0:
                break
            if budget.children <= 0:
                logger.warning(
                    "sitemap index %s: %d child sitemap(s) not read, over the limit of %d per source",
                    url,
                    len(children) - number,
                    SITEMAP_MAX_CHILDREN,
                )
                break
            canonical = canonicalize(child.url)
            if not self._first_time(canonical):
                continue
            budget.children -= 1
            started = time.monotonic()
            try:
                resp = self.fetcher.get(child.url, accept=DISCOVERY_TYPES)
                body = gunzip_limited(resp.body, self.settings) if resp.body[:2] == b"\x1f\x8b" else resp.body
                text = decode_body(body, resp.charset).text
            except FetchError as exc:
                yield self._fail(child.url, "sitemap", exc, url, started)
                continue
            except DecodeError as exc:
                yield InputError(child.url, f"{exc} (listed in {url})")
                continue
            self._record(child.url, "sitemap", "fetched", via=url, resp=resp, started=started)
            yield from self._index(child.url, "sitemap", _xml_bytes(text), depth + 1, budget)

    def _listing(self, url: str) -> Iterator[Item]:
        profile = profile_for(url)
        if profile is None or not profile.listing:
            yield InputError(url, "no site profile with a 'listing' selector matches this host")
            return
        if not self._first_time(canonicalize(url)):
            return
        started = time.monotonic()
        try:
            resp = self.fetcher.get(url)
            page = decode_body(resp.body, resp.charset).text
        except FetchError as exc:
            yield self._fail(url, "listing", exc, None, started)
            return
        except DecodeError as exc:
            yield InputError(url, str(exc))
            return
        found = listing_links(page, resp.final_url, profile.listing, profile.article_pattern)
        self._record(url, "listing", "fetched", resp=resp, reason=f"{len(found)} article links", started=started)
        yield from self._articles(found[: self.settings.discovery_max_urls], url, "url")

    def _articles(self, found: list[Found], via: str, kind: SourceKind) -> Iterator[Item]:
        """Fetch in parallel, then accept (hash, de-duplicate, log) in the index's order, in this thread, so
        which of two copies is "first" never depends on thread timing."""

        def one(entry: Found) -> Callable[[], Item | None]:
            return self._article(entry, via, kind)

        with ThreadPoolExecutor(max_workers=self.settings.fetch_workers, thread_name_prefix="acquire") as pool:
            for finish in pool.map(one, found):  # map keeps the index's order
                item = finish()
                if item is not None:
                    yield item

    # --- articles ---

    def _article(self, entry: Found, via: str, kind: SourceKind) -> Callable[[], Item | None]:
        """Fetch one page (in a worker thread); the returned function finishes it (in the consuming thread)."""
        canonical = canonicalize(entry.url)
        if not self._first_time(canonical):
            return _nothing
        cached = self.log.cached(canonical) if self.log is not None else None
        known = cached is not None and cached.media_type in ARTICLE_TYPES and self._stored(cached.body)
        if cached is not None and known:
            newer = entry.updated_at or entry.published_at
            if newer is not None:  # as the index wrote it: a date without a zone is in the site's zone
                newer = as_aware(newer, site_zone(entry.url))
            if newer is None or newer <= cached.fetched_at:
                return _nothing  # known, stored and not changed since: not requested at all
        started = time.monotonic()
        try:
            resp = self.fetcher.get(
                entry.url,
                accept=ARTICLE_TYPES,
                etag=cached.etag if cached else None,
                last_modified=cached.last_modified if cached else None,
            )
        except FetchError as exc:
            error = exc
            return lambda: self._fail(entry.url, "article", error, via, started)
        if resp.not_modified and cached is not None:
            return lambda: self._deliver_cached(entry.url, cached, via, kind, resp, started, entry.url, entry)
        final = canonicalize(resp.final_url)
        if final != canonical and not self._first_time(final):
            return _nothing  # a redirect to a page this run already has
        return lambda: self._accept(entry.url, resp, cached, via, kind, entry, started, entry.url)

    def _deliver_cached(
        self,
        url: str,
        cached: Any,
        via: str | None,
        kind: SourceKind,
        resp: Response,
        started: float,
        given: str,
        entry: Found | None = None,
    ) -> Item | None:
        stored = self._stored(cached.body)
        self._record(
            url,
            "article",
            "not_modified",
            via=via,
            resp=resp,
            content_hash=cached.content_hash,
            reason=None if stored else "delivered from the cache: the earlier fetch was never stored",
            started=started,
        )
        if stored:
            return None
        found = self.log.duplicate_link(cached.canonical_url) if self.log is not None else None
        link = self._duplicate_of(found[0], found[2]) if found else None
        return self._raw(cached.body, cached.media_type, cached.final_url, via, kind, entry, given, link)

    def _duplicate_of(self, other: str, bits: int) -> DuplicateOf:
        return duplicate_of(self.log, other, bits)

    def _accept(
        self,
        url: str,
        resp: Response,
        cached: Any,
        via: str | None,
        kind: SourceKind,
        entry: Found | None,
        started: float,
        given: str,
    ) -> Item | None:
        try:
            decoded = resp.decode()
        except DecodeError as exc:
            self._record(url, "article", "failed", via=via, resp=resp, reason=str(exc), started=started)
            return InputError(given, str(exc) + (f" (listed in {via})" if via else ""))
        text = decoded.text
        media = "text/plain" if resp.content_type == "text/plain" else "text/html"
        final = canonicalize(resp.final_url)
        canonical = canonicalize(url)
        with self._lock:
            self._seen.add(final)
        page_hash = dedupe.content_hash(text)
        if cached is not None and cached.content_hash == page_hash and self._stored(cached.body):
            self._record(
                url,
                "article",
                "fetched",
                via=via,
                resp=resp,
                content_hash=page_hash,
                reason="unchanged since the last fetch (no validators); not delivered again",
                started=started,
            )
            self._remember(canonical, resp, page_hash, media, text)
            return None
        main_hash, fingerprint, long_enough = self._fingerprint(text, media, resp.final_url)
        if self.log is not None:
            match = self.log.find_duplicate(
                canonical, main_hash, fingerprint, self.settings.near_duplicate_bits if long_enough else 0
            )
            if match is not None:
                other, bits = match
                outcome = "duplicate" if bits == 0 else "near_duplicate"
                reason = f"same story as {other}" + (f" (SimHash {bits} bits apart)" if bits else " (same text)")
                self.log.link_duplicate(canonical, other, bits)
                self._remember(canonical, resp, page_hash, media, text)
                self._record(
                    url, "article", outcome, via=via, resp=resp, reason=reason, content_hash=page_hash, started=started
                )
                link = self._duplicate_of(other, bits)
                return self._raw(text, media, resp.final_url, via, kind, entry, given, link)
            self.log.index_content(canonical, main_hash, fingerprint)
        self._remember(canonical, resp, page_hash, media, text)
        self._record(
            url, "article", "fetched", via=via, resp=resp, content_hash=page_hash, reason=decoded.note, started=started
        )
        return self._raw(text, media, resp.final_url, via, kind, entry, given)

    def _document(self, url: str, resp: Response, body: bytes, started: float, given: str) -> Item:
        """A PDF/DOCX at a URL: checked and kept as base64 bytes like a received file (extractors/documents.py)."""
        source = SourceInfo(kind="url", uri=given, fetched_at=datetime.now(UTC), site=host_of(resp.final_url) or None)
        try:
            raw = fetched_document(
                body, resp.content_type, source, canonicalize(resp.final_url), Limits.from_settings(self.settings)
            )
        except DocumentError as exc:
            reason = str(exc).removeprefix(f"{given}: ")
            self._record(url, "article", "failed", resp=resp, reason=reason, started=started)
            return InputError(given, reason)
        self._record(url, "article", "fetched", resp=resp, started=started)
        return raw

    def _remember(self, canonical: str, resp: Response, page_hash: str, media: str, text: str) -> None:
        if self.log is not None:
            self.log.remember(
                canonical,
                final_url=resp.final_url,
                etag=resp.etag,
                last_modified=resp.last_modified,
                content_hash=page_hash,
                media_type=media,
                body=text,
            )

    def _fingerprint(self, text: str, media: str, url: str) -> tuple[str, int, bool]:
        main = text
        if media == "text/html":
            try:
                main = extract_html(text, url=url).text
            except Exception:  # a page the extractor cannot read is still fetched; it just has no fingerprint
                main = text
        return dedupe.content_hash(main), dedupe.simhash(main), len(dedupe.words(main)) >= dedupe.MIN_WORDS

    def _raw(
        self,
        text: str,
        media: str,
        final_url: str,
        via: str | None,
        kind: SourceKind,
        entry: Found | None,
        given: str,
        duplicate_of: DuplicateOf | None = None,
    ) -> RawArticle:
        source = SourceInfo(kind=kind, uri=via or given, fetched_at=datetime.now(UTC), site=host_of(final_url) or None)
        raw = RawArticle(
            source=source,
            content=text,
            media_type=media,  # type: ignore[arg-type]
            url=canonicalize(final_url),
            title=entry.title if entry else None,
            published_at=entry.published_at if entry else None,
        )
        return raw if duplicate_of is None else LinkedRaw.linked(raw, duplicate_of)


def duplicate_of(log: Any, other: str, bits: int) -> DuplicateOf:
    """The link to the earlier page's record: its id comes from the URL it was stored under (the final URL
    of its fetch, from the fetch log), exactly as the pipeline derives it."""
    earlier = log.cached(other) if log is not None else None
    page = canonicalize(earlier.final_url) if earlier is not None else other
    return DuplicateOf(
        id=record_id(page, ""),
        url=page,
        kind="exact" if bits == 0 else "near",
        distance=bits,
        similarity=round(1 - bits / 64, 4),
    )


def relink(raw: RawArticle, log: Any) -> RawArticle:
    """`raw` as a `LinkedRaw` when the fetch log links its page to an earlier story (stored raw inputs do
    not keep the link: reprocessing calls this so a copy's record keeps its `duplicate_of`)."""
    if log is None or not raw.url or isinstance(raw, LinkedRaw):
        return raw
    found = log.duplicate_link(canonicalize(raw.url))
    return raw if found is None else LinkedRaw.linked(raw, duplicate_of(log, found[0], found[2]))


def _nothing() -> None:
    return None


def _cached_kind(media_type: str) -> str:
    return media_type.split("+")[0] if media_type.endswith("+xml") else "article"
