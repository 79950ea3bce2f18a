"""Finding article URLs: RSS/Atom feeds (feedparser), sitemaps and sitemap indexes, listing pages.

Every parser takes bytes already fetched by `extractors.fetch.Fetcher` (with its limits and SSRF guard):
feedparser is given a BytesIO, never a URL or a string it could open itself.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import urljoin, urlsplit

from lxml import etree

DocKind = Literal["feed", "sitemap", "sitemapindex", "html", "text"]

_ROOT = re.compile(rb"<(?:[A-Za-z0-9_-]+:)?(rss|feed|RDF|urlset|sitemapindex|html)\b")


@dataclass(frozen=True)
class Found:
    """An article URL some index named, with what the index says about it."""

    url: str
    title: str | None = None
    published_at: datetime | None = None
    updated_at: datetime | None = None


class DiscoveryError(ValueError):
    """A feed or sitemap that cannot be read."""


def sniff(content_type: str, body: bytes) -> DocKind:
    """What a fetched document is: by its XML root element first, then by its content type."""
    head = body[:4096]
    if head.lstrip().startswith(b"<?xml") or b"<rss" in head or b"<feed" in head or b"<urlset" in head \
            or b"<sitemapindex" in head or b"rdf:RDF" in head:  # fmt: skip
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


def parse_feed(body: bytes, base_url: str, content_type: str = "application/xml") -> list[Found]:
    """The entries of an RSS/Atom feed (links resolved against the feed URL), in feed order."""
    import feedparser

    parsed = feedparser.parse(io.BytesIO(body), response_headers={"content-location": base_url,
                                                                  "content-type": content_type})  # fmt: skip
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
        found.append(Found(url=urljoin(base_url, link.strip()), title=(entry.get("title") or "").strip() or None,
                           published_at=_struct_to_dt(entry.get("published_parsed")),
                           updated_at=_struct_to_dt(dict.get(entry, "updated_parsed"))))  # fmt: skip
    return found


def _parse_w3c_date(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_sitemap(body: bytes, base_url: str) -> tuple[str, list[Found]]:
    """A sitemap's page URLs, or a sitemap index's sitemap URLs, with their <lastmod>."""
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
        loc = lastmod = None
        for child in item:
            if not isinstance(child.tag, str):
                continue
            local = etree.QName(child).localname
            if local == "loc":
                loc = (child.text or "").strip()
            elif local == "lastmod":
                lastmod = child.text
        if loc:
            found.append(Found(url=urljoin(base_url, loc), updated_at=_parse_w3c_date(lastmod)))
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
