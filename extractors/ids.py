"""Record ids and article URLs: one spelling per page, shared by the pipeline and the acquisition layer."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from extractors.acquire.urls import canonicalize


def canonical_url(url: str) -> str:
    """One spelling per page for the id: the acquisition layer's canonical URL (tracking parameters,
    fragments, trailing slashes and mobile/AMP variants removed)."""
    return canonicalize(url)


def article_url_of(*candidates: str | None) -> str | None:
    """The first candidate that is an absolute http(s) URL with a host (the record's `url`), else None.

    A page's canonical link may be relative, or say `javascript:`; neither is an article's URL.
    """
    for candidate in candidates:
        value = (candidate or "").strip()
        if not value or not value.isprintable():
            continue
        try:
            parts = urlsplit(value)
            host = parts.hostname
        except ValueError:
            continue
        if parts.scheme.lower() in ("http", "https") and host:
            return value
    return None


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_id(url: str | None, text: str) -> str:
    """Stable id: from the article's URL when it has one, else from its main text."""
    key = f"url:{canonical_url(url)}" if url else f"text:{' '.join(text.split())}"
    return "nf-" + sha(key)[:24]
