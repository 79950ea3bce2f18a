"""Main text and metadata from HTML pages: a numbered cascade, like trafilatura's own.

1. a site profile (declarative selectors for a site family), when one matches the URL;
2. trafilatura;
3. a generic beautifulsoup4 fallback (the `<article>` or the page's paragraphs, boilerplate removed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatch
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from extractors.text import normalize_text
from extractors.textclean import clean_main_text

_DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "figure"]


@dataclass(frozen=True)
class SiteProfile:
    """How to read one family of sites: which elements hold what, which to drop."""

    name: str
    domains: tuple[str, ...]
    body: str
    title: str | None = None
    date: str | None = None
    byline: str | None = None
    drop: tuple[str, ...] = ()
    language: str | None = None

    def matches(self, url: str | None) -> bool:
        host = urlsplit(url).hostname if url else None
        return host is not None and any(fnmatch(host, pattern) for pattern in self.domains)


# Profiles are data: a new site family is one more entry (and a stored sample page with its expected output).
PROFILES: list[SiteProfile] = []


@dataclass
class Extracted:
    """What an HTML page yields before language detection and entities."""

    text: str
    title: str | None = None
    published_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    language_hint: str | None = None
    canonical_url: str | None = None
    method: str = "fallback"


def _meta(soup: BeautifulSoup, *keys: str) -> str | None:
    for key in keys:
        tag = soup.find("meta", attrs={"property": key}) or soup.find("meta", attrs={"name": key})
        if tag and tag.get("content"):
            return str(tag["content"]).strip()
    return None


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None


def _metadata(soup: BeautifulSoup, html: str, url: str | None) -> Extracted:
    html_tag = soup.find("html")
    lang = html_tag.get("lang") if html_tag else None
    canonical = soup.find("link", rel="canonical")
    title = _meta(soup, "og:title", "twitter:title")
    if not title:
        h1 = soup.find("h1")
        title = h1.get_text(" ", strip=True) if h1 else (soup.title.get_text(strip=True) if soup.title else None)
    published = _parse_datetime(_meta(soup, "article:published_time", "datePublished", "pubdate", "date"))
    if published is None:
        time_tag = soup.find("time", attrs={"datetime": True})
        published = _parse_datetime(str(time_tag["datetime"])) if time_tag else None
    if published is None:
        from htmldate import find_date

        found = find_date(html, url=url, outputformat="%Y-%m-%d", extensive_search=False)
        published = _parse_datetime(found) if found else None
    author = _meta(soup, "author", "article:author")
    return Extracted(
        text="",
        title=title or None,
        published_at=published,
        authors=[a.strip() for a in re.split(r"[,;]", author) if a.strip()] if author else [],
        language_hint=str(lang) if lang else None,
        canonical_url=str(canonical["href"]) if canonical and canonical.get("href") else None,
    )


def _by_profile(soup: BeautifulSoup, profile: SiteProfile) -> str | None:
    body = soup.select_one(profile.body)
    if body is None:
        return None
    for selector in profile.drop:
        for tag in body.select(selector):
            tag.decompose()
    return _block_text(body)


def _block_text(node: Tag) -> str:
    blocks = node.find_all(["p", "h2", "h3", "li", "blockquote"])
    if not blocks:
        return node.get_text("\n", strip=True)
    return "\n\n".join(b.get_text(" ", strip=True) for b in blocks if b.get_text(strip=True))


def _by_trafilatura(html: str, url: str | None) -> str | None:
    import trafilatura

    # deduplicate=False: trafilatura's deduplication remembers segments across calls in the process, so a
    # page processed a third time loses paragraphs; records must not depend on what ran before.
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True, deduplicate=False
    )
    return text or None


def _fallback(soup: BeautifulSoup) -> str:
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    node = soup.find("article") or soup.find("main") or soup.body or soup
    return _block_text(node)


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text and metadata of one page, through the cascade."""
    soup = BeautifulSoup(html, "lxml")
    meta = _metadata(soup, html, url)
    page_url = meta.canonical_url or url
    text: str | None = None
    for profile in PROFILES:
        if profile.matches(page_url):
            text = _by_profile(soup, profile)
            if text:
                meta.method = f"profile:{profile.name}"
                meta.language_hint = meta.language_hint or profile.language
                break
    if not text:
        text = _by_trafilatura(html, page_url)
        if text:
            meta.method = "trafilatura"
    if not text:
        text = _fallback(soup)
        meta.method = "fallback"
    cleaned = clean_main_text(normalize_text(text), title=meta.title)
    meta.text = cleaned.text
    meta.authors = meta.authors or cleaned.authors
    return meta
