"""One article through every stage: main text -> language -> translation -> entities -> validated record."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from extractors.entities.engine import extract_entities
from extractors.html import extract_html
from extractors.language import detect_language
from extractors.text import normalize_text
from extractors.textclean import clean_main_text
from newsflow import __version__
from schemas.models import (
    SCHEMA_VERSION,
    ArticleRecord,
    PipelineInfo,
    RawArticle,
    Translation,
)

_TITLE_MAX = 200


class TranslatorLike(Protocol):
    def translate(self, text: str, source: str, target: str | None = None) -> Translation: ...


class ArticleError(ValueError):
    """An article that cannot become a record (e.g. no main text); the message says why."""


def canonical_url(url: str) -> str:
    """Lowercase scheme and host, no fragment, no trailing slash: one spelling per page for the id."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), (parts.hostname or "").lower(), path, parts.query, ""))


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_id(url: str | None, text: str) -> str:
    """Stable id: from the article's URL when it has one, else from its main text."""
    key = f"url:{canonical_url(url)}" if url else f"text:{' '.join(text.split())}"
    return "nf-" + _sha(key)[:24]


def _split_title(text: str) -> tuple[str | None, str]:
    """A plain text's first line is its title when it is short, unpunctuated and followed by a blank line."""
    head, sep, rest = text.partition("\n\n")
    if sep and "\n" not in head and len(head) <= _TITLE_MAX and not head.rstrip().endswith((".", ":", ";")):
        return head.strip(), rest
    return None, text


def process(raw: RawArticle, translator: TranslatorLike | None, target: str = "en") -> ArticleRecord:
    """Turn one received article into a validated record (the same function for every entry point)."""
    warnings: list[str] = []
    title, published, authors, hint, url = raw.title, raw.published_at, list(raw.authors), raw.language_hint, raw.url
    if raw.media_type == "text/html":
        page = extract_html(raw.content, url=raw.url)
        text = page.text
        title = title or page.title
        published = published or page.published_at
        authors = authors or page.authors
        hint = hint or page.language_hint
        url = url or page.canonical_url
        if page.method == "fallback":
            warnings.append("main text from the generic fallback extractor")
    else:
        body = normalize_text(raw.content)
        first_title, body = _split_title(body)
        title = title or first_title
        cleaned = clean_main_text(body, title=title)
        text = cleaned.text
        authors = authors or cleaned.authors
    if published is not None and published.tzinfo is None:
        raise ArticleError("published date has no timezone")
    if not text.strip():
        raise ArticleError("no main text found")

    language = detect_language(text, hint)
    if language.code == "und":
        warnings.append("language undetermined (text too short)")
    if translator is None:
        translation = Translation(status="pending", target=target, error="translation not attempted")
    else:
        translation = translator.translate(text, language.code, target)
    if translation.status in ("failed", "pending") and translation.error:
        warnings.append(f"translation {translation.status}: {translation.error}")

    entities = extract_entities(text, language.code if language.code != "und" else "en",
                                published.date() if published else None)  # fmt: skip
    return ArticleRecord(
        id=record_id(url, text),
        content_hash=_sha(f"{title or ''}\n{text}"),
        schema_version=SCHEMA_VERSION,
        source=raw.source.model_copy(update={"site": raw.source.site or (urlsplit(url).hostname if url else None)}),
        title=title,
        published_at=published,
        authors=authors,
        language=language,
        text=text,
        translation=translation,
        entities=entities,
        pipeline=PipelineInfo(version=__version__, processed_at=datetime.now(UTC), warnings=warnings),
    )
