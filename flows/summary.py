"""What a run did, built up article by article: for the CLI's table, the Prefect artifacts and scripts."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel, Field

from schemas.models import ENTITY_KINDS, ArticleRecord

ENTITY_TYPES = ENTITY_KINDS  # a run's summary counts every kind of entity
TOP_N = 10
MAX_ARTICLE_ROWS = 500  # rows kept for the run's article table; every article is in the run's JSONL

Outcome = Literal["new", "updated", "unchanged", "failed"]


class Failure(BaseModel):
    source: str
    reason: str


class ArticleOutcome(BaseModel):
    """One row of the run's article table."""

    source: str
    status: Outcome
    id: str | None = None
    title: str | None = None
    language: str | None = None
    translation: str | None = None
    provinces: int = 0
    officials: int = 0
    reason: str | None = None


class NameCount(BaseModel):
    name: str
    articles: int


class RunSummary(BaseModel):
    """What one run did, for the CLI's table, Prefect's UI and scripts."""

    run_id: str
    flow: str = "ingest"
    received: int = 0
    processed: int = 0
    failed: list[Failure] = Field(default_factory=list)
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    entities: dict[str, int] = Field(default_factory=dict)
    translation: dict[str, int] = Field(default_factory=dict)
    top_provinces: list[NameCount] = Field(default_factory=list)
    top_officials: list[NameCount] = Field(default_factory=list)
    articles: list[ArticleOutcome] = Field(default_factory=list)  # the first MAX_ARTICLE_ROWS, and every failure
    article_rows: int = 0  # rows there would be without the cap
    database: str | None = None
    records_dir: str | None = None
    run_file: str | None = None
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM: what was processed is stored, the rest is not
    not_processed: int = 0  # articles received (and kept raw) but not processed because the run was interrupted


class SummaryBuilder:
    """Accumulates records, storage outcomes and failures into a RunSummary."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary
        self._entities: Counter[str] = Counter()
        self._translation: Counter[str] = Counter()
        self._provinces: Counter[str] = Counter()
        self._officials: Counter[str] = Counter()
        self._rows: dict[str, ArticleOutcome] = {}

    def fail(self, source: str, reason: str) -> None:
        self.summary.failed.append(Failure(source=source, reason=reason))
        self.summary.article_rows += 1
        self.summary.articles.append(ArticleOutcome(source=source, status="failed", reason=reason))

    def processed(self, record: ArticleRecord) -> None:
        self.summary.processed += 1
        self._translation[record.translation.status] += 1
        for kind in ENTITY_TYPES:
            self._entities[kind] += len(getattr(record.entities, kind))
        # Articles that name a province/official, so one long article does not dominate the top list.
        self._provinces.update({p.name for p in record.entities.provinces})
        self._officials.update({o.name for o in record.entities.officials})
        self.summary.article_rows += 1
        # Capped, so a run of 100,000 articles does not hold 100,000 rows (issue 7: memory flat with the run).
        if len(self.summary.articles) >= MAX_ARTICLE_ROWS:
            return
        row = ArticleOutcome(
            source=record.source.uri,
            status="unchanged",
            id=record.id,
            title=record.title,
            language=record.language.code,
            translation=record.translation.status,
            provinces=len(record.entities.provinces),
            officials=len(record.entities.officials),
        )
        self._rows[record.id] = row
        self.summary.articles.append(row)

    def stored(self, record_id: str, status: Outcome) -> None:
        if status in ("new", "updated", "unchanged"):
            setattr(self.summary, status, getattr(self.summary, status) + 1)
        row = self._rows.pop(record_id, None)  # each record is stored once per run
        if row is not None:
            row.status = status

    def finish(self) -> RunSummary:
        s = self.summary
        s.entities = {k: self._entities[k] for k in ENTITY_TYPES}
        s.translation = dict(self._translation)
        s.top_provinces = [NameCount(name=n, articles=c) for n, c in _top(self._provinces)]
        s.top_officials = [NameCount(name=n, articles=c) for n, c in _top(self._officials)]
        return s


def _top(counter: Counter[str]) -> list[tuple[str, int]]:
    # Ties broken by name so the artifact is the same on every run with the same input.
    return sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:TOP_N]
