"""Scoring the entity extractors against the team's annotated evaluation set (`tests/eval/*.json`).

Every entity is reduced to a canonical key per article (document-level sets), so a score says whether the
right *linked* entities were found, not where:

- provinces: the gazetteer id (scheme from the article's date, as the engine does);
- departments: sector and the province id (or none);
- officials: the ascii slug of the name;
- themes: the folded wording of the slogan; topics: the taxonomy key;
- organisations: kind and province id, the ministry's sector, or the cluster's number.

Precision, recall and F1 are micro-averaged over the articles of a language (and over all of them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from extractors.entities import topics as topic_rules
from extractors.entities.gazetteer import MERGER_DATE, load_gazetteer
from extractors.text import ascii_name, fold, slug
from schemas.models import Entities

ENTITY_TYPES = ("provinces", "departments", "officials", "themes", "organizations", "topics")
LANG_ORDER = ("vi", "en", "es", "fr")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)

Extractor = Callable[[str, str, date | None], Entities]


@dataclass(frozen=True)
class EvalArticle:
    """One annotated article: its text, language, publication date and gold annotations."""

    id: str
    lang: str
    published: date | None
    text: str
    gold: dict[str, Any]
    hard: tuple[str, ...] = ()


@dataclass
class Score:
    """Counts of one entity type in one language; precision/recall/F1 derive from them."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    def add(self, gold: set[str], predicted: set[str]) -> None:
        self.tp += len(gold & predicted)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)


@dataclass
class ArticleResult:
    """Gold and predicted keys of one article, per entity type."""

    article: EvalArticle
    gold: dict[str, set[str]]
    predicted: dict[str, set[str]]


@dataclass
class Report:
    """Scores per language and entity type (language 'all' sums every language)."""

    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    articles: list[ArticleResult] = field(default_factory=list)

    def score(self, lang: str, etype: str) -> Score:
        return self.scores.setdefault(lang, {}).setdefault(etype, Score())

    def as_dict(self) -> dict[str, dict[str, dict[str, float | int]]]:
        def row(s: Score) -> dict[str, float | int]:
            return {"precision": round(s.precision, 4), "recall": round(s.recall, 4), "f1": round(s.f1, 4),
                    "tp": s.tp, "fp": s.fp, "fn": s.fn}  # fmt: skip

        return {lang: {etype: row(s) for etype, s in by_type.items()} for lang, by_type in self.scores.items()}


def load_eval_set(directory: Path, langs: Iterable[str] | None = None) -> list[EvalArticle]:
    """Every article of `directory/*.json` (a JSON array per language), optionally only some languages."""
    wanted = set(langs) if langs else None
    out: list[EvalArticle] = []
    files = sorted(directory.glob("*.json"))
    if not files:
        raise FileNotFoundError(f"no evaluation files (*.json) in {directory}")
    for path in files:
        rows = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(rows, list):
            continue  # floors.json and other metadata beside the articles
        for row in rows:
            if wanted is not None and row["lang"] not in wanted:
                continue
            text = row["text"] if isinstance(row["text"], str) else "\n".join(row["text"])
            published = date.fromisoformat(row["published"]) if row.get("published") else None
            out.append(EvalArticle(id=row["id"], lang=row["lang"], published=published, text=text,
                                   gold=row["gold"], hard=tuple(row.get("hard", []))))  # fmt: skip
    return out


def _scheme(published: date | None) -> str:
    if published is None:
        return "current_34"
    return "legacy_63" if published.isoformat() < MERGER_DATE else "current_34"


def province_id(name: str, published: date | None) -> str:
    """The gazetteer id of a canonical province name, in the scheme of the article's date when it exists there."""
    gaz = load_gazetteer()
    wanted = fold(name)
    matches = [e for e in gaz.entries.values() if fold(e.name) == wanted or fold(e.name_ascii) == wanted]
    if not matches:
        raise ValueError(f"unknown province in the evaluation set: {name!r}")
    scheme = _scheme(published)
    same = [e for e in matches if e.scheme == scheme]
    return (same or matches)[0].id


def theme_key(text: str) -> str:
    return _NON_WORD.sub(" ", fold(text)).strip()


def person_key(name: str) -> str:
    return slug(ascii_name(name))


def gold_keys(article: EvalArticle) -> dict[str, set[str]]:
    """The gold annotations of one article as canonical keys."""
    g, pub = article.gold, article.published

    def prov(name: str | None) -> str:
        return province_id(name, pub) if name else "none"

    orgs: set[str] = set()
    for kind, value in g.get("organizations", []):
        if kind == "emulation_cluster":
            orgs.add(f"emulation_cluster|{int(value)}")
        elif kind == "ministry":
            orgs.add(f"ministry|{value}")
        else:
            orgs.add(f"{kind}|{prov(value)}")
    return {
        "provinces": {prov(n) for n in g.get("provinces", [])},
        "departments": {f"{sector}|{prov(p)}" for sector, p in g.get("departments", [])},
        "officials": {person_key(o["name"]) for o in g.get("officials", [])},
        "themes": {theme_key(t) for t in g.get("themes", [])},
        "organizations": orgs,
        "topics": set(g.get("topics", [])),
    }


def predicted_keys(entities: Entities) -> dict[str, set[str]]:
    """What an extractor found in one article, as canonical keys."""
    orgs: set[str] = set()
    for o in entities.organizations:
        if o.kind == "emulation_cluster":
            orgs.add(f"emulation_cluster|{o.number}")
        elif o.kind == "ministry":
            orgs.add(f"ministry|{o.id.rsplit(':', 1)[-1]}")
        else:
            orgs.add(f"{o.kind}|{o.province.id if o.province else 'none'}")
    return {
        "provinces": {p.id for p in entities.provinces},
        "departments": {f"{d.sector}|{d.province.id if d.province else 'none'}" for d in entities.departments},
        "officials": {person_key(o.name) for o in entities.officials},
        "themes": {theme_key(t.text) for t in entities.themes if t.kind == "slogan"},
        "organizations": orgs,
        "topics": {topic_rules.key_of(t.text) for t in entities.themes if t.kind == "topic"},
    }


def evaluate(articles: list[EvalArticle], extract: Extractor, types: Iterable[str] = ENTITY_TYPES) -> Report:
    """Run `extract` on every article and score it against the gold keys."""
    report = Report()
    types = tuple(types)
    for article in articles:
        gold = gold_keys(article)
        predicted = predicted_keys(extract(article.text, article.lang, article.published))
        report.articles.append(ArticleResult(article=article, gold=gold, predicted=predicted))
        for etype in types:
            for lang in (article.lang, "all"):
                report.score(lang, etype).add(gold[etype], predicted[etype])
    ordered: dict[str, dict[str, Score]] = {}
    for lang in [*LANG_ORDER, *sorted(report.scores), "all"]:
        if lang in report.scores and lang not in ordered:
            ordered[lang] = report.scores[lang]
    report.scores = {lang: ordered[lang] for lang in ordered if lang != "all"} | {"all": ordered.get("all", {})}
    return report


def errors(report: Report) -> list[tuple[str, str, list[str], list[str]]]:
    """(article id, entity type, missed keys, spurious keys) for every article that is not perfect."""
    out: list[tuple[str, str, list[str], list[str]]] = []
    for res in report.articles:
        for etype in ENTITY_TYPES:
            if etype not in report.scores.get(res.article.lang, {}):
                continue
            missed = sorted(res.gold[etype] - res.predicted[etype])
            spurious = sorted(res.predicted[etype] - res.gold[etype])
            if missed or spurious:
                out.append((res.article.id, etype, missed, spurious))
    return out
