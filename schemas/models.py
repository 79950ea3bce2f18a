"""Pydantic v2 models for what newsflow receives (`RawArticle`) and what it publishes (`ArticleRecord`).

Every model is strict about its shape (`extra="forbid"`) and every datetime must carry a timezone:
downstream systems consume the generated JSON Schema, so an unknown field or a naive datetime is a bug
we want to hear about at validation time, not in a consumer. The one exception is `RawArticle.published_at`,
which keeps a date as it was received; processing gives it its zone (extractors.dates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.5.0"  # 1.3.0: `url`, the article's own URL; 1.4.0: clusters named after a region; 1.5.0: `group`

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
    page: int | None = Field(
        default=None,
        ge=1,
        description="For a record read from a PDF or DOCX document, the 1-based page the mention starts on; "
        "null for other inputs.",
    )

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
    region: str | None = Field(
        default=None,
        description="Key of the region an emulation cluster without a number is named after "
        "('Cụm thi đua các tỉnh Tây Nguyên' -> 'central_highlands').",
    )
    group: str | None = Field(
        default=None,
        description="Key of what an emulation cluster or bloc with neither number nor region is named after: the "
        "kind of its members ('Khối thi đua các cơ quan Đảng' -> 'party_agencies') or one sector's departments "
        "('Cụm thi đua Sở Tư pháp các tỉnh' -> 'justice'). Schema 1.5.0.",
    )
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


class ClusterOwner(Strict):
    """The ministry or province whose emulation cluster or bloc this is (cluster numbers are per owner)."""

    id: str = Field(
        description="Entity id: 'vn-ministry:<sector>', a province id ('vn-province:legacy_63:80') or "
        "a national body whose provincial branches form the cluster ('vn-body:<body key>')."
    )
    name: str = Field(
        description="English name of the ministry or national body, or the Vietnamese name of the province."
    )
    kind: Literal["ministry", "province", "national_body"]


MemberKind = Literal["department", "association", "party_board", "front", "union", "province", "other"]


class ClusterMember(Strict):
    """A body that belongs to a cluster (or holds one of its roles): a department, or a provincial branch of a
    mass organisation, Party board, Fatherland Front or trade union; or, in a cluster of provinces ('Cụm thi đua
    Tây Nguyên gồm 5 tỉnh …'), the province itself."""

    kind: MemberKind = Field(default="department", description="What kind of body the member is.")
    id: str | None = Field(
        default=None,
        description="The member's id: the department's id for a department, "
        "'vn-body:<body key>:<province id>' for another body, the province's id for a province.",
    )
    name: str | None = Field(
        default=None,
        description="The body's canonical Vietnamese name with its province "
        "('Sở Y tế tỉnh Long An', 'Liên hiệp các Hội Khoa học và Kỹ thuật tỉnh Cà Mau').",
    )
    department: str | None = Field(
        default=None, description="Id of the department (`entities.departments[].id`), for a department member."
    )
    sector: Sector | None = Field(default=None, description="The department's sector, for a department member.")
    body: str | None = Field(
        default=None,
        description="Key of the body (`member_bodies` of clusters.json), for a member that is neither a department "
        "nor a province.",
    )
    province: ProvinceRef | None = Field(description="The member's province (with its `name`).")

    @model_validator(mode="after")
    def _identified(self) -> ClusterMember:
        if self.kind == "department" and (self.department is None or self.sector is None):
            raise ValueError("a department member needs its `department` id and `sector`")
        if self.kind not in ("department", "province") and self.body is None:
            raise ValueError("a member that is not a department needs its `body` key")
        if self.kind == "province" and self.province is None:
            raise ValueError("a province member needs its `province`")
        return self

    @property
    def key(self) -> str:
        """What identifies the member across articles: its id, else (older records) its department id."""
        return self.id or self.department or f"vn-body:{self.body}:{self.province.id if self.province else '-'}"


class ClusterRole(Strict):
    """Who heads (cụm trưởng) or deputises (cụm phó) a cluster in one year."""

    year: int = Field(description="The emulation year the role is held for.")
    role: Literal["head", "deputy"]
    member: ClusterMember
    basis: Literal["stated", "handover"] = Field(
        default="stated",
        description="'stated': the text says who holds the role that year; 'handover': read from a handover "
        "('X hands the head role over to Y': X held it the year before, Y holds it the named or next year).",
    )
    mentions: list[Mention] = Field(default_factory=list, description="The role words ('cụm trưởng', ...).")


class Cluster(Strict):
    """An emulation cluster (cụm thi đua) or bloc (khối thi đua): what this article says about it."""

    id: str = Field(
        description="Stable across languages: 'vn-emulation-<cluster|bloc>:<owner id>:<number>' when the owner "
        "is known (from the ministry named with the cluster, a province named with a bloc, or the one sector of "
        "its member departments), else 'vn-emulation-<cluster|bloc>:<number>'. Numbers are per ministry or "
        "province, so 'Cụm thi đua số VIII' of two ministries are two clusters. A cluster without a number that "
        "is named after a region has the region's key in place of the number, and one named after its members' kind "
        "that kind's key (`group`)."
    )
    number: int | None = Field(
        description="'VIII', 'số 8', 'No. 8', 'n.º VIII' all give 8; null for a cluster named after its region or "
        "its members' kind."
    )
    region: str | None = Field(
        default=None,
        description="Key of the region a cluster without a number is named after ('Cụm thi đua các tỉnh Tây "
        "Nguyên', 'the Central Highlands emulation cluster' -> 'central_highlands').",
    )
    group: str | None = Field(
        default=None,
        description="Key of what a cluster or bloc with neither number nor region is named after: the kind of its "
        "members ('Khối thi đua các cơ quan Đảng tỉnh X' -> 'party_agencies', 'Khối thi đua Mặt trận - Đoàn thể' -> "
        "'front_unions'), or one sector's departments or their inspectorates ('Cụm thi đua thanh tra Sở Du lịch các "
        "tỉnh' -> 'tourism_inspectorates'). Schema 1.5.0.",
    )
    kind: Literal["cluster", "bloc"] = Field(description="'cluster' (cụm thi đua) or 'bloc' (khối thi đua).")
    name: str = Field(description="The name as first written in the text.")
    belongs_to: ClusterOwner | None = Field(default=None, description="The ministry or province it belongs to.")
    members: list[ClusterMember] = Field(
        default_factory=list, description="Member departments the text lists ('gồm Sở TN&MT các tỉnh A, B, C')."
    )
    roles: list[ClusterRole] = Field(default_factory=list, description="Head and deputy per year.")
    source: EntitySource = "text"
    mentions: list[Mention]


class ClusterRef(Strict):
    id: str = Field(description="`Cluster.id`.")
    number: int | None
    region: str | None = None
    group: str | None = None


class PactSignatory(Strict):
    """A department (or an official of an unknown body) that signed the pact."""

    name: str = Field(description="The department's Vietnamese name; an official's name when no department is known.")
    department: str | None = Field(default=None, description="Department id, when the signatory is one.")
    official: str | None = Field(default=None, description="Id of the official who signed, when the text names them.")
    province: ProvinceRef | None = None


class Pact(Strict):
    """An emulation pact (giao ước thi đua) event: its signing, its review at year end, or a movement launch."""

    id: str = Field(
        description="'vn-emulation-pact:<cluster id or organising body id>:<year>:<kind>': the same event reported "
        "by several editions gets the same id."
    )
    kind: Literal["signing", "review", "launch", "other"] = Field(
        description="signing (ký kết), review (tổng kết, sơ kết), launch (phát động phong trào), other."
    )
    cluster: ClusterRef | None = Field(default=None, description="The cluster whose pact it is, when named.")
    year: int | None = Field(default=None, description="The emulation year the pact covers.")
    date: str | None = Field(default=None, description="ISO 8601 day of the event, when the text gives it.")
    place: ProvinceRef | None = Field(default=None, description="Province where the event was held, when known.")
    theme: str | None = Field(default=None, description="The pact's or movement's theme, as written.")
    signatories: list[PactSignatory] = Field(default_factory=list)
    contents: list[str] = Field(
        default_factory=list,
        description="The listed commitments or movement contents ('1. ...', 'a) ...', '- ...', 'Một là, ...'), "
        "without their numbering, in order.",
    )
    mentions: list[Mention] = Field(description="The pact words ('giao ước thi đua', 'pacto de emulación').")


class Entities(Strict):
    provinces: list[Province] = Field(default_factory=list)
    departments: list[Department] = Field(default_factory=list)
    officials: list[Official] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    organizations: list[Organization] = Field(default_factory=list)
    dates: list[DateEntity] = Field(default_factory=list)
    clusters: list[Cluster] = Field(
        default_factory=list, description="Emulation clusters and blocs with members and roles (empty in old records)."
    )
    pacts: list[Pact] = Field(default_factory=list, description="Emulation pacts (empty in old records).")


# Every entity list of a record, in the record's order: the summary, the evaluation and the pipeline read it here.
ENTITY_KINDS: tuple[str, ...] = tuple(Entities.model_fields)


class PipelineInfo(Strict):
    version: str
    processed_at: AwareDatetime
    warnings: list[str] = Field(default_factory=list)


class DuplicateOf(Strict):
    """The record this one repeats: the same story, syndicated under another URL."""

    id: str = Field(description="Id of the record first stored for the story.")
    url: str = Field(description="Canonical URL of that record's page.")
    kind: Literal["exact", "near"] = Field(description="'exact': the same main text; 'near': SimHash bits apart.")
    distance: int = Field(ge=0, le=64, description="SimHash bits apart (0 when exact).")
    similarity: float = Field(ge=0.0, le=1.0, description="1 - distance/64.")


class ArticleRecord(Strict):
    """One processed article, as stored and as published to downstream systems."""

    id: str = Field(description="Stable id: the same article gets the same id on every run.")
    content_hash: str = Field(description="sha256 of the normalised title and main text.")
    schema_version: str = SCHEMA_VERSION
    source: SourceInfo
    url: str | None = Field(
        default=None,
        description="The article's own http(s) URL, when known: a JSON input's `url`, the page's canonical URL "
        "(<link rel=canonical>, else og:url) for an HTML file, the final URL of a fetched page (a feed's or "
        "sitemap's item: its own page, not the feed). `source.uri` keeps what was read (a path, the feed). "
        "Null in records stored before schema 1.3.0 until they are reprocessed.",
    )
    title: str | None
    published_at: AwareDatetime | None
    authors: list[str]
    language: LanguageInfo
    text: str = Field(description="Main text in the original language.")
    translation: Translation
    entities: Entities
    pipeline: PipelineInfo
    duplicate_of: DuplicateOf | None = Field(
        default=None,
        description="Set when this page repeats a story already stored (its text is kept, it is not translated "
        "again): skip such records for one record per story.",
    )


class RawArticle(Strict):
    """An article as received, before any processing: what the store keeps so it can be reprocessed."""

    source: SourceInfo
    content: str = Field(
        description="The HTML page or the plain text as received; for a PDF or DOCX document, its bytes in base64."
    )
    media_type: Literal[
        "text/html",
        "text/plain",
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ]
    url: str | None = Field(default=None, description="The article's own URL, when known.")
    title: str | None = None
    published_at: datetime | None = Field(
        default=None,
        description="As received: a value without a timezone is kept so, and processing gives it the site's zone "
        "with a warning (extractors.dates), the same on every reprocess.",
    )
    authors: list[str] = Field(default_factory=list)
    language_hint: str | None = Field(default=None, description="A language the source declared.")
