"""Pydantic v2 models for what newsflow receives (`RawArticle`) and what it publishes (`ArticleRecord`).

Every model is strict about its shape (`extra="forbid"`) and every datetime must carry a timezone:
downstream systems consume the generated JSON Schema, so an unknown field or a naive datetime is a bug
we want to hear about at validation time, not in a consumer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.1.0"

SourceKind = Literal["url", "feed", "sitemap", "file", "text"]
Scheme = Literal["legacy_63", "current_34"]
EntitySource = Literal["text", "translation"]
TranslationStatus = Literal["done", "not_needed", "pending", "failed", "unsupported"]
Sector = Literal[
    "natural_resources_environment",
    "agriculture_rural_development",
    "agriculture_environment",
    "home_affairs",
    "justice",
    "planning_investment",
    "finance",
    "industry_trade",
    "transport",
    "construction",
    "information_communications",
    "labour_invalids_social_affairs",
    "culture_sports_tourism",
    "culture_sports",
    "tourism",
    "science_technology",
    "education_training",
    "health",
    "foreign_affairs",
    "ethnic_affairs",
    "ethnic_religious_affairs",
    "inspectorate",
    "ppc_office",
    "other",
]
SECTORS: tuple[str, ...] = Sector.__args__  # type: ignore[attr-defined]
OrganizationKind = Literal[
    "peoples_committee",
    "peoples_council",
    "party_committee",
    "ministry",
    "emulation_cluster",
    "fatherland_front",
    "national_assembly_delegation",
    "other",
]


class Strict(BaseModel):
    """Base for every contract model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


class Mention(Strict):
    """Where an entity was seen: `text == record.text[start:end]`."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Mention:
        if self.end < self.start:
            raise ValueError(f"mention end {self.end} is before start {self.start}")
        return self


class SourceInfo(Strict):
    kind: SourceKind
    uri: str = Field(description="The URL, or the file path as given ('-' for stdin).")
    fetched_at: AwareDatetime
    site: str | None = Field(default=None, description="Host name of the publishing site, when known.")


class LanguageSegment(Strict):
    """A run of paragraphs in one language: `record.text[start:end]`."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    code: str = Field(description="ISO 639-1 code of this run.")
    confidence: float = Field(ge=0.0, le=1.0)


class LanguageInfo(Strict):
    code: str = Field(description="ISO 639-1 code, or 'und' when the text is too short to tell.")
    confidence: float = Field(ge=0.0, le=1.0)
    detector: str = Field(description="'langdetect', 'lingua', 'script', 'hint', or a detector '+hint'.")
    segments: list[LanguageSegment] = Field(
        default_factory=list,
        description="Runs of paragraphs per language, in text order (more than one for a mixed-language text).",
    )


class Translation(Strict):
    status: TranslationStatus
    target: str = Field(description="ISO 639-1 code of the target language.")
    source: str | None = Field(default=None, description="ISO 639-1 code of the language translated from.")
    provider: str | None = Field(
        default=None,
        description="google, mymemory, libre, deepl, microsoft or apertium (the one that translated).",
    )
    engine: str | None = Field(
        default=None,
        description="What translated, with versions: e.g. 'apertium 3.8.3-1+b2 spa-eng (apertium-eng-spa 0.8.1-2)'.",
    )
    text: str | None = None
    error: str | None = None
    translated_at: AwareDatetime | None = Field(
        default=None,
        description="When the provider translated the text: the latest of its parts (a cached part keeps its first "
        "time).",
    )


class ProvinceRef(Strict):
    """A pointer to a province of one scheme (codes are reused across schemes)."""

    id: str
    name: str
    code: str
    scheme: Scheme


class Province(Strict):
    id: str
    name: str = Field(description="Canonical Vietnamese name with diacritics, e.g. 'Tiền Giang'.")
    name_ascii: str
    name_en: str
    code: str
    scheme: Scheme
    successor: ProvinceRef | None = Field(
        default=None, description="For a legacy_63 province, the current_34 province it now belongs to."
    )
    source: EntitySource = Field(
        default="text",
        description="'text': found in the original text; 'translation': found only in the English translation "
        "(then `mentions` is empty, because mentions point into `record.text`).",
    )
    mentions: list[Mention]


class Department(Strict):
    id: str
    sector: Sector
    name_en: str
    name_vi: str
    province: ProvinceRef | None
    source: EntitySource = Field(
        default="text",
        description="'text': found in the original text; 'translation': found only in the English translation "
        "(then `mentions` is empty, because mentions point into `record.text`).",
    )
    mentions: list[Mention]


class OfficialBody(Strict):
    """The body an official serves, as written, linked to an entity id when one was recognised."""

    name: str
    id: str | None = None


class Official(Strict):
    id: str
    name: str
    name_ascii: str
    titles: list[str]
    organization: OfficialBody | None
    source: EntitySource = Field(
        default="text",
        description="'text': found in the original text; 'translation': found only in the English translation "
        "(then `mentions` is empty, because mentions point into `record.text`).",
    )
    mentions: list[Mention]


class Theme(Strict):
    text: str
    text_en: str | None
    kind: Literal["slogan", "topic"]
    mentions: list[Mention]


class Organization(Strict):
    id: str
    name: str
    kind: OrganizationKind
    province: ProvinceRef | None = None
    number: int | None = Field(default=None, description="Number of an emulation cluster or bloc.")
    source: EntitySource = Field(
        default="text",
        description="'text': found in the original text; 'translation': found only in the English translation "
        "(then `mentions` is empty, because mentions point into `record.text`).",
    )
    mentions: list[Mention]


class DateEntity(Strict):
    value: str = Field(description="ISO 8601 date, year-month or year, per `granularity`.")
    granularity: Literal["day", "month", "year"]
    mentions: list[Mention]


class Entities(Strict):
    provinces: list[Province] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    officials: list[Official] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    dates: list[DateEntity] = Field(default_factory=list)


class PipelineInfo(Strict):
    version: str
    processed_at: AwareDatetime
    warnings: list[str] = Field(default_factory=list)


class ArticleRecord(Strict):
    """One processed article, as stored and as published to downstream systems."""

    id: str = Field(description="Stable id: the same article gets the same id on every run.")
    content_hash: str = Field(description="sha256 of the normalised title and main text.")
    schema_version: str = SCHEMA_VERSION
    source: SourceInfo
    title: str | None
    published_at: AwareDatetime | None
    authors: list[str]
    language: LanguageInfo
    text: str = Field(description="Main text in the original language.")
    translation: Translation
    entities: Entities
    pipeline: PipelineInfo


class RawArticle(Strict):
    """An article as received, before any processing: what the store keeps so it can be reprocessed."""

    source: SourceInfo
    content: str = Field(description="The HTML page or the plain text as received.")
    media_type: Literal["text/html", "text/plain"]
    url: str | None = Field(default=None, description="The article's own URL, when known.")
    title: str | None = None
    published_at: AwareDatetime | None = None
    authors: list[str] = Field(default_factory=list)
    language_hint: str | None = Field(default=None, description="A language the source declared.")
