"""Finding article URLs: RSS/Atom feeds (feedparser), sitemaps and sitemap indexes, listing pages.

Every parser takes bytes already fetched by `extractors.fetch.Fetcher` (with its limits and SSRF guard):
feedparser is given a BytesIO, never a URL or a string it could open itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree

from extractors.dates import parse_date

DocKind = Literal["feed", "sitemap", "sitemapindex", "html", "text"]

_ROOT = re.compile(rb"<(?:[A-Za-z0-9_-]+:)?(rss|feed|RDF|urlset|sitemapindex|html)\b")


@dataclass(frozen=True)
class Found:
    """An article URL some index named, with what the index says about it. Dates are as the index wrote them:
    naive when it named no zone (extractors.dates gives them the site's)."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None


class DiscoveryError(ValueError):
    """A feed or sitemap that cannot be read."""


def sniff(content_type: str, body: bytes) -> DocKind:
    """What a fetched document is: by its XML root element first, then by its content type."""
    head = body[:4096]
    if (
        head.lstrip().startswith(b"<?xml")
        or b"<rss" in head
        or b"<feed" in head
        or b"<urlset" in head
        or b"<sitemapindex" in head
        or b"rdf:RDF" in head
    ):
        for match in _ROOT.finditer(head):
            root = match.group(1).decode()
            if root in ("rss", "feed", "RDF"):
                return "feed"
            if root in ("urlset", "sitemapindex"):
                return "sitemap" if root == "urlset" else "sitemapindex"
            if root == "html":
                return "html"
    if content_type in ("application/rss+xml", "application/atom+xml", "application/rdf+xml"):
        return "feed"
    if content_type == "text/plain":
        return "text"
    return "html"


def _struct_to_dt(value: object) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)  # type: ignore[index,misc]  # feedparser: a UTC struct_time
    except (TypeError, ValueError):
        return None


def _as_written(value: object) -> datetime | None:
    """A date string of a feed or sitemap as written (naive when it names no zone; a day alone is its 00:00)."""
    found = parse_date(value) if isinstance(value, str) else None
    if found is None or isinstance(found, datetime):
        return found
    return datetime.combine(found, datetime.min.time())


def _entry_date(entry: Any, key: str) -> datetime | None:
    """An entry's date: its own text read as written, else feedparser's reading. feedparser turns a date
    without a zone into UTC, which would put a Vietnamese site's morning story seven hours late."""
    return _as_written(dict.get(entry, key)) or _struct_to_dt(dict.get(entry, f"{key}_parsed"))


def parse_feed(body: bytes, base_url: str, content_type: str = "application/xml") -> list[Found]:
    """The entries of an RSS/Atom feed (links resolved against the feed URL), in feed order."""
    import feedparser

    parsed = feedparser.parse(
        io.BytesIO(body), response_headers={"content-location": base_url, "content-type": content_type}
    )
    if not parsed.entries:
        if parsed.bozo:
            raise DiscoveryError(f"not a readable feed: {parsed.bozo_exception}")
        return []
    found: list[Found] = []
    for entry in parsed.entries:
        link = entry.get("link")
        if not link:
            for candidate in entry.get("links", []):
                if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
                    link = candidate["href"]
                    break
        if not link:
            continue
        found.append(
            Found(
                url=urljoin(base_url, link.strip()),
                title=(entry.get("title") or "").strip() or None,
                published_at=_entry_date(entry, "published"),
                updated_at=_entry_date(entry, "updated"),
            )
        )
    return found


def parse_sitemap(body: bytes, base_url: str) -> tuple[str, list[Found]]:
    """A sitemap's page URLs, or a sitemap index's sitemap URLs, with their <lastmod> and, in a news sitemap,
    their <news:publication_date> (both as written: naive when they name no zone)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise DiscoveryError(f"not a readable sitemap: {exc}") from None
    name = etree.QName(root).localname
    if name not in ("urlset", "sitemapindex"):
        raise DiscoveryError(f"not a sitemap: root element <{name}>")
    found: list[Found] = []
    for item in root:
        if not isinstance(item.tag, str):
            continue
        loc = lastmod = published = None
        for child in item.iter():
            if not isinstance(child.tag, str) or child is item:
                continue
            local = etree.QName(child).localname
            if local == "loc" and child.getparent() is item:
                loc = (child.text or "").strip()
            elif local == "lastmod" and child.getparent() is item:
                lastmod = child.text
            elif local == "publication_date":  # <news:news><news:publication_date> (Google News sitemaps)
                published = child.text
        if loc:
            found.append(
                Found(url=urljoin(base_url, loc), updated_at=_as_written(lastmod), published_at=_as_written(published))
            )
    return name, found


def listing_links(html: str, base_url: str, selector: str | None, pattern: str | None) -> list[Found]:
    """Article links of a listing page: the `<a href>`s under `selector` (a site profile's `listing`), on the
    page's own host, matching `pattern` (a regex on the path) when given; in page order, each once."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    scope = soup.select(selector) if selector else [soup]
    host = urlsplit(base_url).hostname
    seen: set[str] = set()
    out: list[Found] = []
    for node in scope:
        for anchor in node.select("a[href]"):
            url = urljoin(base_url, str(anchor["href"]).strip()).split("#")[0]
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or parts.hostname != host:
                continue
            if pattern and not re.search(pattern, parts.path):
                continue
            if url not in seen:
                seen.add(url)
                out.append(Found(url=url, title=anchor.get_text(" ", strip=True) or None))
    return out
