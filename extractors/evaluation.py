"""Scoring the entity extractors against the team's annotated evaluation set (`tests/eval/*.json`).

Every entity is reduced to a canonical key per article (document-level sets), so a score says whether the
right *linked* entities were found, not where:

- provinces: the gazetteer id (scheme from the article's date, as the engine does);
- departments: sector and the province id (or none);
- officials: the ascii slug of the name; `official_titles`: name and each title as written (folded), so a
  title that is missed, cut or wrong counts; `official_bodies`: name and the linked body of the official
  (department sector and province, organisation kind and province, ministry), scored only in articles whose
  gold officials carry a `body`;
- themes: the folded wording of the slogan; topics: the taxonomy key;
- organisations: kind and province id, the ministry's sector, or the cluster's number.

Precision, recall and F1 are micro-averaged over the articles of a language (and over all of them).

Splits (`split_dir`): `tuning` (tests/eval/*.json, the set the engine was tuned on), `heldout` (tests/eval/heldout,
written and annotated before the engine ran on it, never tuned on), `blind` (tests/eval/blind, written without
access to the engine or its rule data, scored once the engine was done), `scripts` (tests/eval/scripts, editions in
other scripts, annotated and scored for provinces only) and `latin` (tests/eval/latin, German, Portuguese, Italian,
Polish and Indonesian editions, scored for provinces, departments, officials and themes). Each split pins its own
floors in its floors.json.

`real-dev` and `real-test` (`load_real_split`) are real published texts that stay in `../shared/`; tests/real keeps
only their gold (one file per text, tests/real/GUIDE.md) and `splits.json`. They are scored for the types the guide
annotates (`REAL_TYPES`): organisations are not annotated there.
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
from extractors.entities.people import title_head  # the engine's title vocabulary, per language
from extractors.text import ascii_name, fold, slug
from schemas.models import ENTITY_KINDS, Entities

# Dates are not annotated; clusters and pacts are scored per fact by their own set (tests/eval_clusters).
_UNSCORED_KINDS = {"dates", "clusters", "pacts"}
_FACETS = {"officials": ("official_titles", "official_bodies")}  # scored apart: a name right with a wrong title
ENTITY_TYPES = (
    *(t for kind in ENTITY_KINDS if kind not in _UNSCORED_KINDS for t in (kind, *_FACETS.get(kind, ()))),
    "topics",  # the themes of kind "topic", scored by their taxonomy key
)
# Scored only in the articles whose annotations have them (gold officials with a `body`).
_OPTIONAL_TYPES = {"official_bodies"}
LANG_ORDER = ("vi", "en", "es", "fr")
FULL_LANGS = LANG_ORDER
# Editions in other scripts are annotated for provinces only (issue 3): other entities come through translation.
SCRIPT_LANGS = ("ru", "zh", "ja", "ko", "th", "lo", "km", "ar", "hi", "el")
# Editions in other Latin-script languages keep the Vietnamese names: provinces, departments, officials and themes
# are found there natively (issue 17, part 3); topics and organisations are not annotated there.
LATIN_LANGS = ("de", "pt", "it", "pl", "id")
LATIN_TYPES = ("provinces", "departments", "officials", "official_titles", "official_bodies", "themes")
# `tuning`: the set the engine was tuned on (tests/eval/*.json); `heldout`: articles written and annotated before
# the engine ever ran on them, never used for tuning; `blind`: a second such set, written by someone who never saw
# the engine or its rules; `scripts`: editions in other scripts, provinces only; `latin`: editions in other
# Latin-script languages.
SPLITS = ("tuning", "heldout", "blind", "scripts", "latin")
# Real published texts (tests/real): real-dev is read for errors, real-test only scored.
REAL_SPLITS = ("real-dev", "real-test")
REAL_TYPES = tuple(t for t in ENTITY_TYPES if t != "organizations")
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
            return {
                "precision": round(s.precision, 4),
                "recall": round(s.recall, 4),
                "f1": round(s.f1, 4),
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
            }

        return {lang: {etype: row(s) for etype, s in by_type.items()} for lang, by_type in self.scores.items()}


def split_dir(base: Path, split: str) -> Path:
    """The directory of one split of the evaluation set under `base` (tuning is `base` itself)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (choose from {', '.join((*SPLITS, *REAL_SPLITS))})")
    return base if split == "tuning" else base / split


def real_text(shared: Path, source: str) -> str:
    """The text a real source stands for: a corpus file after its `---` header, a benchmark page's reference text."""
    path = shared / source
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the real text is missing (tests/real reads it from ../shared)")
    if path.suffix == ".json":
        truth = json.loads(path.read_text(encoding="utf-8"))
        text = truth.get("text") or truth.get("silver_text")
        if not text:
            raise ValueError(f"{path}: no `text` or `silver_text` to annotate")
        return str(text)
    raw = path.read_text(encoding="utf-8")
    _, sep, body = raw.partition("\n---\n")
    return body if sep else raw


def gold_path(real_dir: Path, source: str) -> Path:
    """Where the gold of one real source lives: gold/<its path under ../shared without extension>.json."""
    return real_dir / "gold" / Path(source).with_suffix(".json")


def load_real_split(real_dir: Path, shared: Path, split: str, langs: Iterable[str] | None = None) -> list[EvalArticle]:
    """The articles of real-dev or real-test: texts from `shared`, gold from `real_dir/gold`, the split from
    splits.json."""
    if split not in REAL_SPLITS:
        raise ValueError(f"unknown real split {split!r} (choose from {', '.join(REAL_SPLITS)})")
    sources = json.loads((real_dir / "splits.json").read_text(encoding="utf-8"))[split]
    wanted = set(langs) if langs else None
    out: list[EvalArticle] = []
    for source in sources:
        gpath = gold_path(real_dir, source)
        if not gpath.is_file():
            raise FileNotFoundError(f"{gpath}: no gold for {source}")
        row = json.loads(gpath.read_text(encoding="utf-8"))
        if row.get("source") != source:
            raise ValueError(f"{gpath}: its source {row.get('source')!r} is not {source!r}")
        if wanted is not None and row["lang"] not in wanted:
            continue
        published = date.fromisoformat(row["published"]) if row.get("published") else None
        out.append(
            EvalArticle(
                id=Path(source).stem,
                lang=row["lang"],
                published=published,
                text=real_text(shared, source),
                gold=row["gold"],
            )
        )
    return out


def scored_types(lang: str, types: Iterable[str] = ENTITY_TYPES) -> tuple[str, ...]:
    """The entity types scored for a language: all of them, or provinces only for the other scripts."""
    if lang in FULL_LANGS:
        return tuple(types)
    if lang in LATIN_LANGS:
        return tuple(t for t in types if t in LATIN_TYPES)
    return tuple(t for t in types if t == "provinces")


def _annotated(article: EvalArticle, etype: str) -> bool:
    """Whether the gold of an article covers an optional type (official_bodies: an official with a `body`)."""
    if etype == "official_bodies":
        return any("body" in o for o in article.gold.get("officials", []))
    return True


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
            out.append(
                EvalArticle(
                    id=row["id"],
                    lang=row["lang"],
                    published=published,
                    text=text,
                    gold=row["gold"],
                    hard=tuple(row.get("hard", [])),
                )
            )
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


def title_key(title: str, lang: str) -> str:
    """A title as a key: the post itself ('Bí thư Tỉnh ủy' -> 'bi thu'), its body being scored apart."""

    return theme_key(title_head(title, lang))


def person_key(name: str) -> str:
    return slug(ascii_name(name))


def body_key(kind: str, *rest: str | None, published: date | None = None) -> str:
    """The key of an official's body: ['department', sector, province], [org kind, province], ['ministry', sector]."""
    if kind == "department":
        sector, prov = (*rest, None, None)[:2]
        return f"department|{sector}|{province_id(prov, published) if prov else 'none'}"
    if kind == "ministry":
        return f"ministry|{rest[0]}"
    prov = rest[0] if rest else None
    return f"{kind}|{province_id(prov, published) if prov else 'none'}"


def _predicted_body(body_id: str | None) -> str:
    if not body_id:
        return "unlinked"
    if body_id.startswith("vn-department:"):
        _, sector, prov = body_id.split(":", 2)
        return f"department|{sector}|{prov}"
    if body_id.startswith("vn-ministry:"):
        return f"ministry|{body_id.split(':', 1)[1]}"
    if body_id.startswith("vn-org:"):
        _, kind, prov = body_id.split(":", 2)
        return f"{kind}|{'none' if prov == 'unplaced' else prov}"
    return body_id


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
        "official_titles": {
            f"{person_key(o['name'])}|{title_key(t, article.lang)}"
            for o in g.get("officials", [])
            for t in o.get("titles", [])
        },
        # A body annotated as null (tests/real: none of the linkable kinds) is what an unlinked official gives.
        "official_bodies": {
            f"{person_key(o['name'])}|{body_key(*o['body'], published=pub) if o['body'] else 'unlinked'}"
            for o in g.get("officials", [])
            if "body" in o
        },
        "themes": {theme_key(t) for t in g.get("themes", [])},
        "organizations": orgs,
        "topics": set(g.get("topics", [])),
    }


def predicted_keys(entities: Entities, lang: str = "en") -> dict[str, set[str]]:
    """What an extractor found in one article, as canonical keys."""
    orgs: set[str] = set()
    for o in entities.organizations:
        if o.kind == "emulation_cluster":
            orgs.add(f"emulation_cluster|{o.number if o.number is not None else o.region}")
        elif o.kind == "ministry":
            orgs.add(f"ministry|{o.id.rsplit(':', 1)[-1]}")
        else:
            orgs.add(f"{o.kind}|{o.province.id if o.province else 'none'}")
    return {
        "provinces": {p.id for p in entities.provinces},
        "departments": {f"{d.sector}|{d.province.id if d.province else 'none'}" for d in entities.departments},
        "officials": {person_key(o.name) for o in entities.officials},
        "official_titles": {f"{person_key(o.name)}|{title_key(t, lang)}" for o in entities.officials for t in o.titles},
        "official_bodies": {
            f"{person_key(o.name)}|{_predicted_body(o.organization.id if o.organization else None)}"
            for o in entities.officials
        },
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
        predicted = predicted_keys(extract(article.text, article.lang, article.published), article.lang)
        report.articles.append(ArticleResult(article=article, gold=gold, predicted=predicted))
        for etype in scored_types(article.lang, types):
            if etype in _OPTIONAL_TYPES and not _annotated(article, etype):
                continue
            for lang in (article.lang, "all"):
                report.score(lang, etype).add(gold[etype], predicted[etype])
    ordered: dict[str, dict[str, Score]] = {}
    for lang in [*LANG_ORDER, *LATIN_LANGS, *SCRIPT_LANGS, *sorted(report.scores), "all"]:
        if lang in report.scores and lang not in ordered:
            ordered[lang] = report.scores[lang]
    report.scores = {lang: ordered[lang] for lang in ordered if lang != "all"} | {"all": ordered.get("all", {})}
    return report


def errors(report: Report) -> list[tuple[str, str, list[str], list[str]]]:
    """(article id, entity type, missed keys, spurious keys) for every article that is not perfect."""
    out: list[tuple[str, str, list[str], list[str]]] = []
    for res in report.articles:
        for etype in ENTITY_TYPES:
            if etype not in report.scores.get(res.article.lang, {}) or not _annotated(res.article, etype):
                continue
            missed = sorted(res.gold[etype] - res.predicted[etype])
            spurious = sorted(res.predicted[etype] - res.gold[etype])
            if missed or spurious:
                out.append((res.article.id, etype, missed, spurious))
    return out
