"""What each extractor reads of the configuration, declared as read-only protocols.

`extractors/` depends only on `schemas/`, its own data and third-party libraries: it never imports
`newsflow.settings`. Each consumer states the values it reads here; `newsflow.settings.Settings` satisfies
every protocol (mypy checks it where newsflow hands its settings down, and a test checks it at run time),
so the `NEWSFLOW_*` surface is defined once, in newsflow. Properties, not attributes: a protocol attribute
would have to match the settings' types exactly (a `Literal` field could not be read as `str`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

Detector = Literal["langdetect", "lingua"]  # the statistical language detectors `extractors.language` can use
MAX_TEXT_CHARS = 2_000_000  # the default limit of one article's main text (the settings read it from here)


class FetchConfig(Protocol):
    """What `extractors.fetch` reads: the HTTP client's limits, politeness and address policy."""

    @property
    def user_agent(self) -> str: ...
    @property
    def contact(self) -> str | None: ...
    @property
    def http_timeout(self) -> float: ...
    @property
    def http_connect_timeout(self) -> float: ...
    @property
    def max_body_bytes(self) -> int: ...
    @property
    def max_redirects(self) -> int: ...
    @property
    def fetch_allow_addresses(self) -> list[str]: ...
    @property
    def fetch_min_interval(self) -> float: ...
    @property
    def fetch_host_concurrency(self) -> int: ...
    @property
    def fetch_retries(self) -> int: ...
    @property
    def fetch_backoff(self) -> float: ...
    @property
    def fetch_max_retry_after(self) -> float: ...
    @property
    def fetch_max_decompression_ratio(self) -> float: ...
    @property
    def fetch_ignore_robots(self) -> list[str]: ...


class DocumentConfig(Protocol):
    """What `extractors.documents` reads: how much of a PDF/DOCX is read, and where OCR text is cached."""

    @property
    def data_dir(self) -> Path: ...
    @property
    def document_max_pages(self) -> int: ...
    @property
    def document_max_bytes(self) -> int: ...
    @property
    def document_max_unzipped_bytes(self) -> int: ...
    @property
    def document_ocr_timeout(self) -> float: ...
    @property
    def document_ocr_cache(self) -> bool: ...
    @property
    def document_time_budget(self) -> float: ...


class SourceConfig(DocumentConfig, Protocol):
    """What `extractors.sources` reads: the local-input limits (and the document limits of PDF/DOCX files)."""

    @property
    def max_input_bytes(self) -> int: ...
    @property
    def follow_symlinks(self) -> bool: ...


class AcquireConfig(FetchConfig, DocumentConfig, Protocol):
    """What `extractors.acquire` reads: discovery limits and de-duplication, plus fetching and documents."""

    @property
    def discovery_max_urls(self) -> int: ...
    @property
    def sitemap_max_depth(self) -> int: ...
    @property
    def fetch_workers(self) -> int: ...
    @property
    def near_duplicate_bits(self) -> int: ...


class TranslateConfig(Protocol):
    """What `extractors.translate` reads: the default provider, its service roots, keys and limits."""

    @property
    def translator(self) -> str: ...
    @property
    def translation_target(self) -> str: ...
    @property
    def translation_timeout(self) -> float: ...
    @property
    def translation_retries(self) -> int: ...
    @property
    def translation_rate_limits(self) -> dict[str, float]: ...
    @property
    def translation_endpoints(self) -> dict[str, str]: ...
    @property
    def libre_url(self) -> str | None: ...
    @property
    def libre_api_key(self) -> str: ...
    @property
    def deepl_api_key(self) -> str | None: ...
    @property
    def microsoft_api_key(self) -> str | None: ...
    @property
    def microsoft_region(self) -> str | None: ...


class PipelineConfig(DocumentConfig, Protocol):
    """What `extractors.pipeline.process` reads besides what it is handed per call."""

    @property
    def max_text_chars(self) -> int: ...
    @property
    def language_detector(self) -> Detector: ...


@dataclass(frozen=True)
class Limits:
    """How much of a document is read (the `NEWSFLOW_DOCUMENT_*` settings), and where OCR text is cached."""

    # The defaults are the settings' defaults (newsflow.settings reads them from here).
    max_pages: int = 300
    max_bytes: int = 50 * 1024 * 1024
    max_unzipped: int = 200 * 1024 * 1024  # a DOCX unpacking to more is a zip bomb
    ocr_timeout: float = 120.0  # seconds one scanned page may take to render, and again to OCR
    ocr_cache: Path | None = None  # None: no cache
    time_budget: float = 120.0  # seconds reading one document may take, OCR excluded (it has ocr_timeout)

    @classmethod
    def from_settings(cls, settings: DocumentConfig) -> Limits:
        cache = settings.data_dir / "ocr-cache" if settings.document_ocr_cache else None
        return cls(
            settings.document_max_pages,
            settings.document_max_bytes,
            settings.document_max_unzipped_bytes,
            settings.document_ocr_timeout,
            cache,
            settings.document_time_budget,
        )
