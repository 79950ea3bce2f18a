"""Main text and metadata from HTML pages: a numbered cascade, like trafilatura's own.

1. a site profile (declarative selectors for a site family), when one matches the URL;
2. trafilatura;
3. a generic fallback (the `<article>` or the page's paragraphs, boilerplate removed).

Site profiles are data: one JSON file per site family in `extractors/sites/` (see its README.md). The
profile's selectors also give the title, date and byline when they match; otherwise the metadata comes from
the page's own markup (JSON-LD, the headline, og:/article: meta, `<time>`), then htmldate: see
extractors.pagemeta. A date without a timezone gets the site's zone (extractors.dates).

The page is parsed once, by lxml (`pagemeta.parse_html`); the profiles' selectors and the fallback run on that
tree with BeautifulSoup's and soupsieve's rules (extractors.htmltree), trafilatura parses the page itself.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from extractors import htmltree, pagemeta
from extractors.dates import parse_date, site_zone, with_zone
from extractors.pagemeta import PageDate
from extractors.text import normalize_text
from extractors.textclean import clean_main_text

_DROP_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "svg", "figure"]


@dataclass(frozen=True)
class SiteProfile:
    """How to read one family of sites: which elements hold what, which to drop."""

    name: str
    domains: tuple[str, ...]
    body: str
    lead: str | None = None  # the lead (sapo) when it sits outside `body`: prepended as the first paragraph
    stamp: str | None = None  # inside the lead, a location stamp set apart by style only: kept as "<stamp> - "
    title: str | None = None
    date: str | None = None
    byline: str | None = None
    drop: tuple[str, ...] = ()
    language: str | None = None
    languages: tuple[tuple[str, str], ...] = ()  # (host pattern, language): `language` per edition of the site
    drop_lines: tuple[str, ...] = ()  # regexes: whole text lines to drop ("Ver más", photo credits)
    listing: str | None = None  # selector of the article links on the site's listing pages
    article_pattern: str | None = None  # regex an article's URL path matches (listing pages)
    drop_vietnamese_captions: bool = False  # translated editions: drop short paragraphs written in Vietnamese

    def matches(self, url: str | None) -> bool:
        host = urlsplit(url).hostname if url else None
        return host is not None and any(fnmatch(host.lower(), pattern) for pattern in self.domains)

    def language_for(self, url: str | None) -> str | None:
        """The default language of the page at `url`: its host's entry in `languages`, else `language`."""
        host = (urlsplit(url).hostname or "").lower() if url else ""
        return next((lang for pattern, lang in self.languages if host and fnmatch(host, pattern)), self.language)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "profile") -> SiteProfile:
        """A profile from its JSON form; ValueError naming the file and the field when it is wrong."""
        allowed = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}")
        for key in ("name", "domains", "body"):
            if not data.get(key):
                raise ValueError(f"{where}: field {key!r} is required")
        languages = data.get("languages", {})
        if not isinstance(languages, dict) or not all(isinstance(v, str) for v in languages.values()):
            raise ValueError(f"{where}: field 'languages' must map host patterns to language codes")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        values["languages"] = tuple(languages.items())
        profile = cls(**values)
        for key in ("body", "lead", "stamp", "title", "date", "byline", "drop"):  # `listing` runs on soupsieve
            value = getattr(profile, key)
            for selector in value if isinstance(value, tuple) else [value] if value else []:
                try:
                    htmltree.check_selector(selector)
                except ValueError as exc:
                    raise ValueError(f"{where}: field {key!r}: {exc}") from None
        for pattern in (*profile.drop_lines, *([profile.article_pattern] if profile.article_pattern else [])):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{where}: bad regex {pattern!r}: {exc}") from None
        return profile


SITES_DIR = Path(__file__).resolve().parent / "sites"


def load_profiles(directory: Path = SITES_DIR) -> list[SiteProfile]:
    """Every `*.json` profile of `directory`, in file-name order."""
    profiles = []
    for path in sorted(directory.glob("*.json")):
        profiles.append(SiteProfile.from_dict(json.loads(path.read_text(encoding="utf-8")), str(path)))
    return profiles


# Profiles are data: a new site family is one JSON file in extractors/sites/ and a stored sample page with its
# expected output in tests/sites/.
PROFILES: list[SiteProfile] = load_profiles()


def profile_for(url: str | None) -> SiteProfile | None:
    """The first profile whose domain patterns match the URL's host."""
    return next((p for p in PROFILES if p.matches(url)), None)


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
    og_url: str | None = None  # <meta property="og:url">: the article's URL when the page has no canonical link
    # where `published_at` came from: the note when its zone or time was assumed, the page's other dates, the zone
    date: PageDate = field(default_factory=PageDate)


def _metadata(root: Any, html: str, url: str | None) -> Extracted:
    """Title, date, byline, language and URLs from the page's own markup (extractors.pagemeta), read from its
    lxml tree (`pagemeta.parse_html`)."""
    tags = pagemeta.Tags.of(root)
    canonical_url = tags.canonical
    og_url = tags.get("og:url")
    site_url = next((u for u in (canonical_url, og_url, url) if u and "//" in u), url)  # the host names the site
    article = pagemeta.ld_article(pagemeta.linked_data(tags))
    names = pagemeta.site_names(tags, site_url, article)
    dated = pagemeta.page_date(tags, html, site_url, article, pagemeta.page_language(tags))
    authors = pagemeta.ld_authors(article, names)
    if not authors:
        author = tags.get("author", "article:author")
        authors = [a.strip() for a in re.split(r"[,;]", author) if a.strip()] if author else []
    return Extracted(
        text="",
        title=pagemeta.page_title(tags, article, names),
        published_at=dated.value,
        authors=authors,
        language_hint=tags.lang,
        canonical_url=canonical_url,
        og_url=og_url,
        date=dated,
    )


# Vietnamese portals write "dd/mm/yyyy [HH:MM]" somewhere in their date element's text.
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})(?:\D+(\d{1,2})[:h](\d{2}))?")


def _date_from(node: Any) -> datetime | date | None:
    """A date from a profile's date element, as written: an ISO attribute, or 'dd/mm/yyyy [HH:MM]' in its text."""
    for attr in ("datetime", "content"):
        value = node.get(attr)
        parsed = parse_date(str(value)) if value else None
        if parsed is not None:
            return parsed
    match = _DMY.search(htmltree.text(node, " "))
    if not match:
        return None
    day, month, year, hour, minute = match.groups()
    try:
        if hour is None:
            return date(int(year), int(month), int(day))
        return datetime(int(year), int(month), int(day), int(hour), int(minute))
    except ValueError:
        return None


def _profile_metadata(root: Any, profile: SiteProfile, meta: Extracted) -> None:
    if profile.title and (node := htmltree.select_one(root, profile.title)) is not None:
        meta.title = htmltree.text(node, " ") or meta.title
    if profile.date and (node := htmltree.select_one(root, profile.date)) is not None:
        found = _date_from(node)
        if found is not None:
            zone = meta.date.zone or site_zone(meta.canonical_url, meta.language_hint, meta.date.hints)
            value, note = with_zone(found, zone)
            page = meta.published_at
            if page is not None and page.utcoffset() is not None and page.replace(second=0, microsecond=0) == value:
                # the page's metadata says the same minute, with its seconds and its own zone
                value, note = page.astimezone(value.tzinfo), meta.date.note
            meta.published_at = value
            meta.date = replace(meta.date, value=value, note=note)
    if profile.byline and (node := htmltree.select_one(root, profile.byline)) is not None:
        byline = re.sub(r"^(?:by|por|par|theo)\s+", "", htmltree.text(node, " "), flags=re.IGNORECASE)
        names = [_BYLINE_NOTE.sub("", a).strip() for a in re.split(r"[,;]| - ", byline)]
        meta.authors = [a for a in names if a] or meta.authors


# A note on how the piece was written, after the author's name: "Hà Thu (tổng hợp)", "Minh An (theo Reuters)",
# "Lan Anh (lược dịch)", "(Compiled)".
_BYLINE_NOTE = re.compile(
    r"\s*\((?:tổng hợp|tong hop|theo\b[^)]*|lược dịch|luoc dich|biên dịch|bien dich|dịch|ghi|thực hiện|"
    r"compiled|according to\b[^)]*|via\b[^)]*|recopilado|según\b[^)]*|synthèse|d'après\b[^)]*)\)\s*$",
    re.IGNORECASE,
)


_VI_LETTERS = re.compile("[ăđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


def _vietnamese_caption(block: str) -> bool:
    """A short paragraph with letters only Vietnamese uses: a photo caption left untranslated."""
    return len(block) <= 300 and len(_VI_LETTERS.findall(block)) >= 2


def _by_profile(root: Any, profile: SiteProfile) -> str | None:
    body = htmltree.select_one(root, profile.body)
    if body is None:
        return None
    lead = _lead_text(root, profile, body)
    for selector in profile.drop:
        for tag in htmltree.select(root, selector, scope=body):
            htmltree.remove(tag)
    text = _block_text(body)
    if lead and text:
        text = f"{lead}\n\n{text}"
    if profile.drop_vietnamese_captions:
        text = "\n\n".join(b for b in text.split("\n\n") if not _vietnamese_caption(b))
    if profile.drop_lines:
        patterns = [re.compile(p) for p in profile.drop_lines]
        text = "\n\n".join(b for b in text.split("\n\n") if not any(p.search(b.strip()) for p in patterns))
    return text


def _lead_text(root: Any, profile: SiteProfile, body: Any) -> str | None:
    """The profile's lead (sapo) paragraph when it sits outside the body element (inside, the body has it)."""
    if not profile.lead or (node := htmltree.select_one(root, profile.lead)) is None:
        return None
    if node is body or any(parent is body for parent in node.iterancestors()):
        return None
    if any(p is node for p in body.iterancestors()):
        return None
    stamp = htmltree.select_one(node, profile.stamp, scope=node) if profile.stamp else None
    if stamp is None:
        return htmltree.text(node, " ") or None
    # The page sets the stamp apart by style alone (a dash drawn in CSS): the text says it, as the press writes
    # a dateline, "Hà Nội - ...".
    place = htmltree.text(stamp, " ").strip(" -\u2013\u2014")
    htmltree.remove(stamp)
    rest = htmltree.text(node, " ").lstrip(" -\u2013\u2014")
    return " - ".join(t for t in (place, rest) if t) or None


_BLOCKS = ("p", "h2", "h3", "li", "blockquote")


def _block_text(node: Any, *, document: list[Any] | None = None) -> str:
    """The text of the paragraphs, headings, list items and quotes inside `node` (or the whole `document`, its
    top-level elements), a blank line between them; without any, all its text, a line apart."""
    if document is None:
        blocks = list(node.iterdescendants(*_BLOCKS))
        nodes = [node]
    else:
        blocks = list(htmltree.iter_tags(document, *_BLOCKS))
        nodes = document
    if not blocks:
        return "\n".join(s for n in nodes for s in htmltree.strings(n))
    return "\n\n".join(t for b in blocks if (t := htmltree.text(b, " ")))


def _by_trafilatura(html: str, url: str | None) -> str | None:
    import trafilatura

    # deduplicate=False: trafilatura's deduplication remembers segments across calls in the process, so a
    # page processed a third time loses paragraphs; records must not depend on what ran before.
    text = trafilatura.extract(
        html, url=url, include_comments=False, include_tables=False, favor_precision=True, deduplicate=False
    )
    return text or None


def _fallback(root: Any) -> str:
    document = htmltree.tops(root)
    for tag in list(htmltree.iter_tags(document, *_DROP_TAGS)):
        htmltree.remove(tag)
    for name in ("article", "main", "body"):
        node = next(htmltree.iter_tags(document, name), None)
        if node is not None:
            return _block_text(node)
    return _block_text(None, document=document)


def _deep_fallback(html: str) -> str:
    """The fallback on BeautifulSoup's tree, for a page whose lxml tree came out empty: libxml2 builds no element
    deeper than 256 levels, so a page of 5,000 nested <div>s lost its text, while bs4's builder, fed by the same
    parser's events, keeps every level. Only pages every other step found nothing on come here."""
    from bs4 import BeautifulSoup  # deferred: only such pages pay for it

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(_DROP_TAGS):
        tag.decompose()
    node = soup.find("article") or soup.find("main") or soup.body or soup
    blocks = node.find_all(_BLOCKS)
    if not blocks:
        return str(node.get_text("\n", strip=True))
    return "\n\n".join(b.get_text(" ", strip=True) for b in blocks if b.get_text(strip=True))


def extract_html(html: str, url: str | None = None) -> Extracted:
    """Main text and metadata of one page, through the cascade."""
    root = pagemeta.parse_html(html)
    meta = _metadata(root, html, url)
    page_url = meta.canonical_url or url
    # The profiles and the fallback read the same tree, after the metadata: the profile's drops change it, and
    # the fallback reads what a profile left.
    text: str | None = None
    for profile in PROFILES:
        if profile.matches(page_url) or (url and profile.matches(url)):
            # metadata first: the body selector's drops change the tree
            _profile_metadata(root, profile, meta)
            text = _by_profile(root, profile)
            if text:
                meta.method = f"profile:{profile.name}"
                meta.language_hint = meta.language_hint or profile.language_for(page_url or url)
                break
    if not text:
        text = _by_trafilatura(html, page_url)
        if text:
            meta.method = "trafilatura"
    if not text:
        text = _fallback(root)
        meta.method = "fallback"
        if not text.strip():
            text = _deep_fallback(html)
    cleaned = clean_main_text(normalize_text(text), title=meta.title)
    meta.text = cleaned.text
    meta.authors = meta.authors or cleaned.authors
    return meta
