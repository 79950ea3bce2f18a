"""Parameters of the deployments: pydantic models, so the Prefect UI shows a real form.

Titles, descriptions, defaults, enums (dropdowns) and bounds all go into the deployment's parameter
schema. The Prefect server checks a new run's parameters against that schema and refuses the run when
they do not fit (HTTP 409, nothing starts); the few rules a JSON schema cannot say (a URL's host, a
refused path) are checked by pydantic when the run starts, before any task runs.

Parameters carry references (URLs, paths, ids), never article bodies: the Prefect server refuses a run
whose parameters exceed 512 KB as compact JSON with non-ASCII escaped (`\\uXXXX`: 6 bytes for a
Vietnamese letter, 12 for a character outside the BMP such as an emoji). The one exception, pasted text,
is bounded at PASTE_MAX_CHARS characters, so any BMP text (Vietnamese, Chinese, Russian...) with its
title and URL fits; longer texts go in a file and through ingest-sources. Every model also checks its
own size (`parameters_size`), so an oversized run is refused with a message that says what to do.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from extractors.translate.providers import PROVIDERS, TRANSLATOR_CHOICES
from newsflow.settings import TranslatorName

PASTE_MAX_CHARS = 80_000
PARAMS_MAX_BYTES = 512 * 1024  # the Prefect server's default PREFECT_SERVER_API_MAX_PARAMETER_SIZE
MAX_SOURCES = 1_000
MAX_LIMIT = 1_000_000


class TargetLanguage(StrEnum):
    """Languages the translation stage can produce."""

    en = "en"
    vi = "vi"
    es = "es"
    fr = "fr"


class TextLanguage(StrEnum):
    """Languages the pipeline reads; leave empty to detect."""

    vi = "vi"
    en = "en"
    es = "es"
    fr = "fr"
    zh = "zh"
    ja = "ja"
    ko = "ko"
    ru = "ru"
    de = "de"


# The provider dropdowns, built from the provider table (member name = value; the docstring is the form's
# description). mypy cannot read members built at run time: it sees the one member the code names.
if TYPE_CHECKING:

    class RetranslateProvider(StrEnum): ...

    class TranslatorChoice(StrEnum):
        default = "default"

else:
    RetranslateProvider = StrEnum("RetranslateProvider", [(n, n) for n in ("auto", *PROVIDERS)], module=__name__)
    RetranslateProvider.__doc__ = (
        "Providers the retranslate flow can use ('none' makes no sense there); auto tries them in order."
    )
    TranslatorChoice = StrEnum("TranslatorChoice", [(n, n) for n in ("default", *TRANSLATOR_CHOICES)], module=__name__)
    TranslatorChoice.__doc__ = (
        "Translation provider of a run: `default` is the worker's NEWSFLOW_TRANSLATOR (auto unless set)."
    )


class TextLanguageChoice(StrEnum):
    """The pasted text's language: `detect` lets the pipeline decide."""

    detect = "detect"
    vi = "vi"
    en = "en"
    es = "es"
    fr = "fr"
    zh = "zh"
    ja = "ja"
    ko = "ko"
    ru = "ru"
    de = "de"


def translator_name(choice: TranslatorChoice | str | None) -> str | None:
    """The provider a flow passes on: None (the worker's setting) for `default` or no choice."""
    value = getattr(choice, "value", choice)
    return None if value in (None, "", TranslatorChoice.default.value) else str(value)


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    json = "json"


def _source_ref(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("empty source")
    if value == "-":
        raise ValueError("'-' (stdin) cannot be used in a deployment; give a path or an http(s) URL")
    if "\n" in value or "\0" in value:
        raise ValueError("a source is one path or URL, not text (paste text with process-text)")
    return value


def _http_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


SourceRef = Annotated[
    str,
    Field(min_length=1, max_length=2048, description="A file or directory path on the worker, or an http(s) URL."),
    AfterValidator(_source_ref),
]
HttpUrl = Annotated[str, Field(min_length=8, max_length=2048, pattern=r"^https?://"), AfterValidator(_http_url)]


def _optional_http_url(value: str) -> str:
    return _http_url(value) if value.strip() else ""


OptionalHttpUrl = Annotated[
    str, Field(max_length=2048, pattern=r"^(https?://.*)?$"), AfterValidator(_optional_http_url)
]
TranslatorField = Annotated[
    TranslatorName | None,
    Field(
        title="Translator",
        description="Translation provider; empty: NEWSFLOW_TRANSLATOR (default auto). 'none' turns translation off.",
    ),
]
# A plain dropdown with a `default` choice: the UI's form shows it at once, where a nullable union
# (`TranslatorName | None`) shows a type switch whose "None" tab is preselected.
TranslatorChoiceField = Annotated[
    TranslatorChoice,
    Field(
        title="Translator",
        description="default: the worker's NEWSFLOW_TRANSLATOR (auto unless set); auto: the "
        "configured providers in order; none: no translation.",
    ),
]
TargetField = Annotated[
    TargetLanguage, Field(title="Translate into", description="Target language of the translation.")
]


def parameters_size(params: BaseModel, name: str = "params") -> int:
    """Bytes of a run's parameters `{name: params}` as the Prefect server counts them."""
    return len(json.dumps({name: params.model_dump(mode="json")}, separators=(",", ":")).encode())


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)

    @model_validator(mode="after")
    def _under_prefects_cap(self) -> _Params:
        size = parameters_size(self)
        if size > PARAMS_MAX_BYTES:
            raise ValueError(
                f"the parameters take {size:,} bytes as JSON and Prefect refuses more than {PARAMS_MAX_BYTES:,}: "
                "pass paths or URLs (put long texts in a file), not article text"
            )
        return self


class IngestSourcesParams(_Params):
    """Read articles from files, directories or URLs on the worker, store them and write JSON."""

    model_config = ConfigDict(title="Ingest sources")

    sources: list[SourceRef] = Field(
        default_factory=lambda: ["samples"],
        title="Sources",
        min_length=1,
        max_length=MAX_SOURCES,
        description="Paths on the worker under the allowed input directories (NEWSFLOW_INPUT_ROOTS; by default "
        "samples/ and <data dir>/inbox): .txt, .html, .json, .jsonl, .pdf, .docx files or directories; or http(s) "
        "URLs, or feed:/sitemap:/listing: followed by one. Default: samples/, as `newsflow run`.",
        examples=[["samples/reference", "feed:https://longan.gov.vn/rss"]],
    )
    translator: TranslatorField = None
    target_language: TargetField = TargetLanguage.en


class IngestSiteParams(_Params):
    """Read a site's pages (run on a schedule): every URL must belong to the site."""

    model_config = ConfigDict(title="Ingest a site")

    site: str = Field(
        title="Site",
        min_length=3,
        max_length=253,
        pattern=r"^[A-Za-z0-9.-]+$",
        description="Host name of the portal, e.g. longan.gov.vn; also the site's concurrency limit key.",
    )
    urls: list[HttpUrl] = Field(
        title="Pages", min_length=1, max_length=MAX_SOURCES, description="Article pages of the site to read."
    )
    translator: TranslatorChoiceField = TranslatorChoice.default
    target_language: TargetField = TargetLanguage.en

    @model_validator(mode="after")
    def _urls_on_site(self) -> IngestSiteParams:
        site = self.site.lower().rstrip(".")
        for url in self.urls:
            host = (urlsplit(url).hostname or "").lower()
            if host != site and not host.endswith("." + site):
                raise ValueError(f"{url} is not on the site {site}")
        return self


class ProcessTextParams(_Params):
    """Process one pasted article (plain text or HTML), store it and write JSON."""

    model_config = ConfigDict(title="Process pasted text")

    text: str = Field(
        title="Text",
        min_length=1,
        max_length=PASTE_MAX_CHARS,
        description=f"The article: plain text (a short first line is the title) or HTML. At most "
        f"{PASTE_MAX_CHARS:,} characters; put longer texts in a file and use ingest-sources.",
        json_schema_extra={"format": "textarea"},
    )
    title: str = Field(
        default="", title="Title", max_length=1000, description="Empty: the text's first line when it is short."
    )
    url: OptionalHttpUrl = Field(default="", title="URL", description="The article's own http(s) URL; empty: none.")
    published_at: datetime | None = Field(
        default=None, title="Published at", description="Publication time; without a zone it is Vietnam time."
    )
    language: TextLanguageChoice = Field(
        default=TextLanguageChoice.detect, title="Language", description="detect: found from the text."
    )
    translator: TranslatorChoiceField = TranslatorChoice.default
    target_language: TargetField = TargetLanguage.en

    @field_validator("text")
    @classmethod
    def _has_words(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the text is blank")
        return value


class ReprocessParams(_Params):
    """Run extraction again on the raw inputs the store keeps and update the records (no fetching)."""

    model_config = ConfigDict(title="Re-process stored records")

    limit: int | None = Field(
        default=None, title="Limit", ge=1, le=MAX_LIMIT, description="At most this many raw inputs; empty: all."
    )
    translator: TranslatorChoiceField = TranslatorChoice.default
    target_language: TargetField = TargetLanguage.en


class RetranslateParams(_Params):
    """Translate again the stored records whose translation is pending (no provider was reachable)."""

    model_config = ConfigDict(title="Retranslate pending records")

    limit: int | None = Field(
        default=None, title="Limit", ge=1, le=MAX_LIMIT, description="At most this many pending records; empty: all."
    )
    translator: RetranslateProvider | None = Field(
        default=None,
        title="Translator",
        description="Translation provider; empty: NEWSFLOW_TRANSLATOR (default auto).",
    )
    target_language: TargetLanguage | None = Field(
        default=None,
        title="Translate into",
        description="Target language; empty: the one each record was meant for (NEWSFLOW_TRANSLATION_TARGET).",
    )


class ExportParams(_Params):
    """Write stored records to one file in the output directory, for downstream systems."""

    model_config = ConfigDict(title="Export records")

    since: date | None = Field(
        default=None, title="Since", description="Only records stored or updated on/after this day (UTC); empty: all."
    )
    format: ExportFormat = Field(default=ExportFormat.jsonl, title="Format", description="jsonl or a JSON array.")
