"""A page's own metadata: JSON-LD, the headline, the site's name, the byline and the publication date.

JSON-LD is read as Fundus reads it: every `application/ld+json` script, `@graph` lists flattened, each object
known by its `@type`; the article is the first object of an article type (NewsArticle, Article,
ReportageNewsArticle, BlogPosting, ...), and its `headline`, `datePublished`, `dateModified` and `author` are
used. The title is the page's headline (the article's JSON-LD `headline`, then the article's `<h1>`) before the
social-card `og:title`, which sites write for sharing and often end with their own name; a trailing site name
(" - VnExpress", " | Báo Tuổi Trẻ") is removed from whichever title is used.
"""

from __future__ import annotations

import html as htmllib
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from extractors.dates import SiteZone, parse_date, site_zone, with_zone

# Bounds for hostile pages: a page's JSON-LD is a few objects, a few levels deep.
_LD_MAX_OBJECTS = 200
_LD_MAX_DEPTH = 8
_LD_MAX_CHARS = 1_000_000

# schema.org types an article's JSON-LD object has: every "...Article" type, and the posting types news sites use.
_POSTING_TYPES = {"blogposting", "liveblogposting", "socialmediaposting", "discussionforumposting", "report"}


# bs4's lxml tree builder feeds lxml's HTML parser this many characters at a time (LXMLTreeBuilder.CHUNK_SIZE)
_CHUNK = 512
# Text inside these elements is not the page's text for BeautifulSoup's get_text() (Script, Stylesheet,
# TemplateString, the ruby strings: bs4's HTMLTreeBuilder.DEFAULT_STRING_CONTAINERS).
_NOT_TEXT = frozenset({"script", "style", "template", "rt", "rp"})
_TOKENS = re.compile(r"\S+")  # how bs4 splits a multi-valued attribute (rel="canonical amphtml")


def parse_html(html: str) -> etree._Element | None:
    """The page's tree as BeautifulSoup(html, "lxml") reads it, without bs4's Python objects: lxml's HTML parser
    fed the same chunks (so libxml2 makes the same elements, comments kept), the Unicode text first, then its
    UTF-8 bytes when lxml rejects the text; None for a page without a single element."""
    markup = html[1:] if html.startswith("\N{BYTE ORDER MARK}") else html
    attempts: tuple[tuple[str | bytes, str | None], ...] = ((markup, None), (markup.encode("utf8"), "utf8"))
    for data, encoding in attempts:
        parser = etree.HTMLParser(recover=True, encoding=encoding)
        try:
            for start in range(0, len(data), _CHUNK):
                parser.feed(data[start : start + _CHUNK])
            return parser.close()
        except (UnicodeDecodeError, LookupError, etree.ParserError):
            continue
        except etree.XMLSyntaxError:  # nothing to build a tree of
            return None
    return None


def element_text(node: etree._Element) -> str:
    """`node`'s text as bs4's `get_text(" ", strip=True)` gives it: each text node stripped, the empty ones left
    out, the rest joined by a space; comments, processing instructions and the text of `<script>`, `<style>`,
    `<template>`, `<rt>` and `<rp>` (at any depth, the node's own ancestors included) are no text."""
    if node.tag in _NOT_TEXT or any(a.tag in _NOT_TEXT for a in node.iterancestors()):
        return ""
    parts: list[str] = []

    def walk(element: etree._Element) -> None:
        if element.text and (stripped := element.text.strip()):
            parts.append(stripped)
        for child in element:
            if isinstance(child.tag, str) and child.tag not in _NOT_TEXT:
                walk(child)
            if child.tail and (stripped := child.tail.strip()):
                parts.append(stripped)

    walk(node)
    return " ".join(parts)


@dataclass
class Tags:
    """What metadata is read from, found in one pass over the page's elements (each lookup of a missing meta
    tag was a walk over the whole tree: thirty of them cost more than the rest of the metadata)."""

    meta: dict[str, str] = field(default_factory=dict)  # property/name/itemprop/http-equiv (lowercase) -> content
    scripts: list[str] = field(default_factory=list)  # the text of each application/ld+json script
    h1: list[tuple[str, bool]] = field(default_factory=list)  # each <h1>'s text, and whether it is in an <article>
    time: str | None = None  # the datetime of the first <time datetime>
    # the content (or datetime) of the first <meta> or <time> with itemprop="datePublished", "" when it has none
    published: str | None = None
    title: str | None = None  # <title>
    canonical: str | None = None  # <link rel="canonical" href>
    lang: str | None = None  # <html lang>

    @classmethod
    def of(cls, root: etree._Element | None) -> Tags:
        """The tags of a tree from `parse_html` (None: a page without elements, so without tags)."""
        tags = cls()
        if root is None:
            return tags
        # libxml2 puts what follows a stray </html> into more top-level <html> elements (bs4 keeps it too)
        tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
        html_tag = next((node for top in tops for node in top.iter("html")), None)
        if html_tag is not None and html_tag.get("lang"):
            tags.lang = str(html_tag.get("lang"))
        for node in (node for top in tops for node in top.iter("meta", "script", "h1", "time", "title", "link")):
            name = node.tag
            if name == "meta":
                content = node.get("content")
                for attr in ("property", "name", "itemprop", "http-equiv"):
                    key = node.get(attr)
                    if key is not None and content is not None and content.strip():
                        tags.meta.setdefault(key.strip().lower(), content.strip())
            elif name == "script":
                kind = node.get("type")
                if kind is not None and "ld+json" in kind.lower():
                    tags.scripts.append(node.text or "")
            elif name == "h1":
                inside = any(a.tag == "article" for a in node.iterancestors())
                tags.h1.append((element_text(node), inside))
            elif name == "time" and tags.time is None and node.get("datetime"):
                tags.time = node.get("datetime")
            elif name == "title" and tags.title is None:
                tags.title = element_text(node)
            elif name == "link" and tags.canonical is None and "canonical" in _TOKENS.findall(node.get("rel") or ""):
                tags.canonical = str(node.get("href") or "").strip() or None
            if tags.published is None and node.get("itemprop") == "datePublished":
                tags.published = str(node.get("content") or node.get("datetime") or "")
        return tags

    def get(self, *keys: str) -> str | None:
        """The content of the first of these meta tags the page has."""
        return next((self.meta[k.lower()] for k in keys if k.lower() in self.meta), None)


def _is_article_type(value: Any) -> bool:
    types = value if isinstance(value, list) else [value]
    for name in types:
        if isinstance(name, str):
            short = name.rsplit("/", 1)[-1].rsplit(":", 1)[-1].lower()  # "schema:NewsArticle", "https://schema.org/X"
            if short.endswith("article") or short in _POSTING_TYPES:
                return True
    return False


def _walk(value: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object in `value`, outer ones first: lists and `@graph` are flattened, and objects nested
    as values (a WebPage's `mainEntity`) are visited after the object holding them."""
    if depth > _LD_MAX_DEPTH:
        return
    if isinstance(value, list):
        for item in value:
            yield from _walk(item, depth + 1)
    elif isinstance(value, dict):
        graph = value.get("@graph")
        if "@type" in value:
            yield value
        if isinstance(graph, list | dict):
            yield from _walk(graph, depth + 1)
        for key, nested in value.items():
            if key != "@graph" and isinstance(nested, dict | list):
                yield from _walk(nested, depth + 1)


def linked_data(tags: Tags) -> list[dict[str, Any]]:
    """The page's JSON-LD objects that have a `@type`, in page order; scripts that are not valid JSON are
    skipped (a page's broken structured data must not cost its text)."""
    found: list[dict[str, Any]] = []
    for raw in tags.scripts:
        if not raw or len(raw) > _LD_MAX_CHARS:
            continue
        try:
            # strict=False: raw newlines and tabs inside strings are common in hand-made templates
            data = json.loads(raw.strip().removeprefix("<!--").removesuffix("-->"), strict=False)
        except (ValueError, RecursionError):
            continue
        for obj in _walk(data):
            found.append(obj)
            if len(found) >= _LD_MAX_OBJECTS:
                return found
    return found


def ld_article(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The article's object: the first of an article type with a headline, else the first of an article type."""
    articles = [o for o in objects if _is_article_type(o.get("@type"))]
    return next((o for o in articles if _clean(o.get("headline"))), articles[0] if articles else None)


def _clean(value: Any) -> str | None:
    """A JSON-LD or markup string as text: HTML entities decoded (some sites escape them twice), spaces
    collapsed."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), None)
    if not isinstance(value, str):
        return None
    for _ in range(2):
        if "&" not in value:
            break
        value = htmllib.unescape(value)
    text = " ".join(value.split())
    return text or None


# --- site name and title -----------------------------------------------------------------------------------

_SEPARATOR = re.compile(r"\s+[-|–—·•»/]\s+|\s*(?:[|｜]|::|--|：)\s*")
_TAIL_MAX_WORDS = 6


def _squash(text: str) -> str:
    """Letters and digits only, lowercase, without diacritics: 'Báo Tuổi Trẻ' -> 'baotuoitre'."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("đ", "d"))
    return "".join(c for c in decomposed if c.isalnum())


def site_names(tags: Tags, url: str | None, article: dict[str, Any] | None) -> list[str]:
    """How the site names itself: og:site_name, application-name, the JSON-LD publisher, and its host's
    name ('vnexpress' for vnexpress.net, 'tuoitre' for tuoitre.vn), squashed for comparison."""
    names = [tags.get(key) for key in ("og:site_name", "application-name", "apple-mobile-web-app-title")]
    publisher = article.get("publisher") if article else None
    if isinstance(publisher, dict):
        names.append(_clean(publisher.get("name")))
    host = urlsplit(url).hostname if url else None
    if host:
        labels = [label for label in host.lower().split(".") if label not in ("www", "m", "amp", "mobile")]
        if labels:
            names.append(labels[0])
    return [squashed for name in names if name and len(squashed := _squash(name)) >= 2]


def _is_site_name(text: str, names: list[str], *, whole: bool = False) -> bool:
    """Whether `text` names the site: it is one of `names`, part of one, or (unless `whole`) holds one ("Báo
    Tuổi Trẻ" holds "tuoitre"). `whole` is for text that may be a headline naming the site's own province."""
    squashed = _squash(text)
    if not squashed:
        return False
    for name in names:
        if squashed == name or (len(squashed) >= 4 and squashed in name):
            return True
        if not whole and len(name) >= 4 and name in squashed:
            return True
    return False


def strip_site_name(title: str, names: list[str]) -> str:
    """`title` without a trailing separator and site name ("X - VnExpress", "X | Báo Tuổi Trẻ" -> "X")."""
    while names:
        parts = list(_SEPARATOR.finditer(title))
        if not parts:
            break
        last = parts[-1]
        head, tail = title[: last.start()].strip(), title[last.end() :].strip()
        if len(head) < 2 or not tail or len(tail.split()) > _TAIL_MAX_WORDS or not _is_site_name(tail, names):
            break
        title = head
    return title


def _words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.casefold()))


def _agrees(h1: str, others: list[str]) -> bool:
    """Whether an `<h1>` is the story's headline rather than a logo or a box title: it shares most of its
    words with the page's og:title or `<title>` (or is part of one: scripts without spaces)."""
    if not others:
        return True
    words = _words(h1)
    for other in others:
        if _squash(h1) in _squash(other):
            return True
        if words and len(words & _words(other)) >= 0.5 * len(words):
            return True
    return False


def _headline_h1(tags: Tags, names: list[str], others: list[str]) -> str | None:
    """The article's `<h1>`: one inside `<article>` first, then the page's; not the site's name (a logo)."""
    inside = [h1 for h1 in tags.h1 if h1[1]]
    for h1, _ in inside + tags.h1:
        text = _clean(h1)
        if text and not _is_site_name(text, names, whole=True) and _agrees(text, others):
            return text
    return None


def page_title(tags: Tags, article: dict[str, Any] | None, names: list[str]) -> str | None:
    """The page's headline: the JSON-LD article's `headline`, the article's `<h1>`, then og:title,
    twitter:title and `<title>`; a trailing site name removed."""
    social = _clean(tags.get("og:title", "twitter:title"))
    document = _clean(tags.title)
    others = [t for t in (social, document) if t]
    for found in (
        _clean(article.get("headline")) if article else None,
        _headline_h1(tags, names, others),
        social,
        document,
    ):
        if found:
            return strip_site_name(found, names) or found
    return None


# --- authors -----------------------------------------------------------------------------------------------

_BY = re.compile(r"^(?:by|por|par|von|di|door|av|theo)\s+", re.IGNORECASE)


def _split_names(text: str) -> list[str]:
    text = _BY.sub("", " ".join(text.split()))
    return [part.strip() for part in re.split(r"[,;]| and | & ", text) if part.strip()]


def ld_authors(article: dict[str, Any] | None, names: list[str]) -> list[str]:
    """The JSON-LD article's `author`: names of persons (strings, or objects with `name`); an organisation
    that is the site itself is not a byline."""
    if not article:
        return []
    value = article.get("author")
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items[:20]:
        if isinstance(item, str):
            found = _split_names(_clean(item) or "")
        elif isinstance(item, dict):
            name = _clean(item.get("name"))
            kind = str(item.get("@type") or "").lower()
            if not name or (kind == "organization" and _is_site_name(name, names)):
                continue
            found = _split_names(name)
        else:
            continue
        out += [n for n in found if not n.lower().startswith(("http://", "https://")) and n not in out]
    return out


# --- dates -------------------------------------------------------------------------------------------------

_PUBLISHED_META = (
    "article:published_time",
    "datePublished",
    "pubdate",
    "date",
    "og:published_time",
    "dc.date.issued",
    "DC.date.issued",
)
_MODIFIED_META = ("article:modified_time", "og:updated_time", "dateModified")


@dataclass
class PageDate:
    """The page's publication date with its zone, the note when the zone or time was assumed, and the page's
    dates that carry an offset (the hints a date without one is read by)."""

    value: datetime | None = None
    note: str | None = None
    hints: list[datetime] = field(default_factory=list)
    zone: SiteZone | None = None


def _aware(value: datetime | date | None) -> datetime | None:
    return value if isinstance(value, datetime) and value.utcoffset() is not None else None


def page_date(tags: Tags, html: str, url: str | None, article: dict[str, Any] | None, language: str | None) -> PageDate:
    """The publication date: the JSON-LD article's `datePublished`, the page's meta tags, `<time datetime>`,
    then htmldate (a day only); a value without a zone gets the site's (extractors.dates)."""
    ld_published = parse_date(str(article["datePublished"])) if article and article.get("datePublished") else None
    ld_modified = parse_date(str(article["dateModified"])) if article and article.get("dateModified") else None
    meta_published = parse_date(tags.get(*_PUBLISHED_META))
    meta_modified = parse_date(tags.get(*_MODIFIED_META))
    item_published = parse_date(tags.published) if tags.published is not None else None
    time_published = parse_date(tags.time) if tags.time is not None else None
    found: datetime | date | None = next(
        (v for v in (ld_published, meta_published, item_published, time_published) if v is not None), None
    )
    if found is None:
        from htmldate import find_date

        day = find_date(html, url=url, outputformat="%Y-%m-%d", extensive_search=False)
        found = parse_date(day) if day else None
    hints = [
        h
        for v in (ld_published, ld_modified, meta_published, meta_modified, item_published, time_published)
        if (h := _aware(v)) is not None
    ]
    zone = site_zone(url, language, hints)
    if found is None:
        return PageDate(hints=hints, zone=zone)
    value, note = with_zone(found, zone)
    return PageDate(value=value, note=note, hints=hints, zone=zone)


def page_language(tags: Tags) -> str | None:
    """The language the page declares: `<html lang>`, else its content-language or og:locale meta."""
    return tags.lang or tags.get("content-language", "og:locale")
