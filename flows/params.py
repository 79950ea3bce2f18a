"""Parameters of the deployments: one annotated type per field, and the pydantic model that checks them.

Each deployment flow takes its fields as top-level keyword parameters typed with the annotated types below
(`Sources`, `TranslatorChoiceField`, ...), so the Prefect UI's form shows them directly, and builds the
model from them (`build_params`), which runs every validator. The model uses the same types: one
definition per field. Titles, descriptions, defaults, enums (dropdowns) and bounds all go into the
deployment's parameter schema. The Prefect server checks a new run's parameters against that schema and
refuses the run when they do not fit (HTTP 409, nothing starts); the few rules a JSON schema cannot say
(a URL's host, a refused path, the pages of another site) are checked by pydantic when the run starts,
before any task runs: the run ends Failed with the validator's message.

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
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from extractors.translate.providers import PROVIDERS, TRANSLATOR_CHOICES

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

    class RetranslateProvider(StrEnum):
        default = "default"

    class TranslatorChoice(StrEnum):
        default = "default"

else:
    RetranslateProvider = StrEnum(
        "RetranslateProvider", [(n, n) for n in ("default", "auto", *PROVIDERS)], module=__name__
    )
    RetranslateProvider.__doc__ = (
        "Providers the retranslate flow can use ('none' makes no sense there): `default` is the worker's "
        "NEWSFLOW_TRANSLATOR; auto tries them in order."
    )
    TranslatorChoice = StrEnum("TranslatorChoice", [(n, n) for n in ("default", *TRANSLATOR_CHOICES)], module=__name__)
    TranslatorChoice.__doc__ = (
        "Translation provider of a run: `default` is the worker's NEWSFLOW_TRANSLATOR (auto unless set)."
    )


class RetranslateTargetChoice(StrEnum):
    """Target of a retranslation: `default` is the one each record was meant for."""

    default = "default"
    en = "en"
    vi = "vi"
    es = "es"
    fr = "fr"


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


def _optional_moment(value: str) -> str:
    value = value.strip()
    if value:
        try:
            datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a date and time like 2024-05-01 08:30 (or 2024-05-01T08:30+07:00)"
            ) from None
    return value


def _optional_day(value: str) -> str:
    value = value.strip()
    if value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a day like 2024-05-01") from None
    return value


def _optional_http_url(value: str) -> str:
    return _http_url(value) if value.strip() else ""


OptionalHttpUrl = Annotated[
    str, Field(max_length=2048, pattern=r"^(https?://.*)?$"), AfterValidator(_optional_http_url)
]


def _form(title: str, description: str, **kwargs: Any) -> Any:
    """A Field whose title and description show in the model's schema and in a flow's parameter schema.

    Prefect builds a flow's schema from its signature and sets each parameter's title to its name and its
    description from the docstring; `json_schema_extra` is applied last, so the form keeps ours.
    """
    extra = {"title": title, "description": description, **kwargs.pop("json_schema_extra", {})}
    return Field(title=title, description=description, json_schema_extra=extra, **kwargs)


# --- the fields: each defined once, used by the model and by the flow's signature --------------------------

DEFAULT_SOURCES = ["samples"]  # never mutated: pydantic copies a model's default, the flows only read it

Sources = Annotated[
    list[SourceRef],
    _form(
        "Sources",
        "Paths on the worker under the allowed input directories (NEWSFLOW_INPUT_ROOTS; by default "
        "samples/ and the data directory's inbox/): .txt, .html, .json, .jsonl, .pdf, .docx files or directories; "
        "or http(s) URLs, or feed:/sitemap:/listing: followed by one, e.g. samples/reference or "
        "feed:https://longan.gov.vn/rss. Default: samples/, as `newsflow run`.",
        min_length=1,
        max_length=MAX_SOURCES,
        examples=[["samples/reference", "feed:https://longan.gov.vn/rss"]],
    ),
]
# A plain dropdown with a `default` choice: the UI's form shows it at once, where a nullable union
# (`TranslatorName | None`, ingest-sources once had one) shows a type switch whose "None" tab is preselected.
TranslatorChoiceField = Annotated[
    TranslatorChoice,
    _form(
        "Translator",
        "default: the worker's NEWSFLOW_TRANSLATOR (auto unless set); auto: the "
        "configured providers in order; none: no translation.",
    ),
]
TargetField = Annotated[TargetLanguage, _form("Translate into", "Target language of the translation.")]
Site = Annotated[
    str,
    _form(
        "Site",
        "Host name of the portal, e.g. longan.gov.vn; also the site's concurrency limit key.",
        min_length=3,
        max_length=253,
        pattern=r"^[A-Za-z0-9.-]+$",
    ),
]
Pages = Annotated[
    list[HttpUrl],
    _form("Pages", "Article pages of the site to read.", min_length=1, max_length=MAX_SOURCES),
]
PastedText = Annotated[
    str,
    _form(
        "Text",
        f"The article: plain text (a short first line is the title) or HTML. At most "
        f"{PASTE_MAX_CHARS:,} characters; put longer texts in a file and use ingest-sources.",
        min_length=1,
        max_length=PASTE_MAX_CHARS,
        json_schema_extra={"format": "textarea"},
    ),
]
PastedTitle = Annotated[str, _form("Title", "Empty: the text's first line when it is short.", max_length=1000)]
PastedUrl = Annotated[OptionalHttpUrl, _form("URL", "The article's own http(s) URL; empty: none.")]
PublishedAt = Annotated[
    str,
    _form(
        "Published at",
        "Publication time, e.g. 2024-05-01 08:30; without a zone (+07:00) it is Vietnam time; empty: none given.",
        max_length=40,
    ),
    AfterValidator(_optional_moment),
]
PastedLanguage = Annotated[TextLanguageChoice, _form("Language", "detect: found from the text.")]
# Plain defaults, never `X | None`: the UI's form shows a nullable field as a type switch ("None" preselected,
# 'Property is type "None"') that an operator has to flip before typing. 0, "" and `default` mean "not given".
ReprocessLimit = Annotated[int, _form("Limit", "At most this many raw inputs; 0: all.", ge=0, le=MAX_LIMIT)]
RetranslateLimit = Annotated[int, _form("Limit", "At most this many pending records; 0: all.", ge=0, le=MAX_LIMIT)]
RetranslateTranslator = Annotated[
    RetranslateProvider,
    _form("Translator", "default: the worker's NEWSFLOW_TRANSLATOR (auto unless set); auto: the providers in order."),
]
RetranslateTarget = Annotated[
    RetranslateTargetChoice,
    _form(
        "Translate into",
        "Target language; default: the one each record was meant for (NEWSFLOW_TRANSLATION_TARGET).",
    ),
]
Since = Annotated[
    str,
    _form(
        "Since",
        "A day, e.g. 2024-05-01: only records stored or updated on/after it (UTC); empty: all.",
        max_length=10,
        pattern=r"^(\d{4}-\d{2}-\d{2})?$",
    ),
    AfterValidator(_optional_day),
]
ExportFormatField = Annotated[ExportFormat, _form("Format", "jsonl or a JSON array.")]


def parameters_size(params: BaseModel) -> int:
    """Bytes of a run's parameters (the model's fields, top level) as the Prefect server counts them."""
    return len(json.dumps(params.model_dump(mode="json"), separators=(",", ":")).encode())


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

    sources: Sources = DEFAULT_SOURCES
    translator: TranslatorChoiceField = TranslatorChoice.default
    target_language: TargetField = TargetLanguage.en


class IngestSiteParams(_Params):
    """Read a site's pages (run on a schedule): every URL must belong to the site."""

    model_config = ConfigDict(title="Ingest a site")

    site: Site
    urls: Pages
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

    text: PastedText
    title: PastedTitle = ""
    url: PastedUrl = ""
    published_at: PublishedAt = ""
    language: PastedLanguage = TextLanguageChoice.detect
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

    limit: ReprocessLimit = 0
    translator: TranslatorChoiceField = TranslatorChoice.default
    target_language: TargetField = TargetLanguage.en


class RetranslateParams(_Params):
    """Translate again the stored records whose translation is pending (no provider was reachable)."""

    model_config = ConfigDict(title="Retranslate pending records")

    limit: RetranslateLimit = 0
    translator: RetranslateTranslator = RetranslateProvider.default
    target_language: RetranslateTarget = RetranslateTargetChoice.default


class ExportParams(_Params):
    """Write stored records to one file in the output directory, for downstream systems."""

    model_config = ConfigDict(title="Export records")

    since: Since = ""
    format: ExportFormatField = ExportFormat.jsonl


P = TypeVar("P", bound=_Params)


class InvalidParameters(ValueError):
    """A run's parameters fit the deployment's schema but a validator refused them (raised in the flow)."""


def build_params(model: type[P], **values: Any) -> P:
    """The model a flow works with, from its keyword parameters; a refusal says what each validator said.

    Raised in the flow's body, before any task: the run ends Failed with that message, as when Prefect's own
    check of the parameters (the annotated types) refuses them.
    """
    try:
        return model(**values)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" if error["loc"] else error["msg"]
            for error in exc.errors()
        ]
        raise InvalidParameters("invalid parameters: " + "; ".join(problems)) from None
