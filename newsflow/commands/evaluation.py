"""`newsflow eval`: precision, recall and F1 per entity type and language on the annotated evaluation set."""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from newsflow.errors import UserError

_DEFAULT_SET = Path(__file__).resolve().parents[2] / "tests" / "eval"
_DEFAULT_REAL = Path(__file__).resolve().parents[2] / "tests" / "real"
_DEFAULT_CLUSTERS = Path(__file__).resolve().parents[2] / "tests" / "eval_clusters"


class System(StrEnum):
    newsflow = "newsflow"
    ner = "ner"
    names = "names"


class EvalFormat(StrEnum):
    table = "table"
    json = "json"


def _eval_set(path: Path | None) -> Path:
    if path is not None:
        if not path.is_dir():
            raise UserError(f"--set {path}: not a directory")
        return path
    local = Path("tests/eval")
    return local if local.is_dir() else _DEFAULT_SET


def _real_set(shared: Path | None) -> tuple[Path, Path]:
    """tests/real (gold and splits) and the ../shared directory beside the checkout that holds the real texts."""
    local = Path("tests/real")
    real = local.resolve() if (local / "splits.json").is_file() else _DEFAULT_REAL
    shared = shared if shared is not None else real.parents[1].parent / "shared"
    if not shared.is_dir():
        raise UserError(f"--shared {shared}: not a directory (the real texts of tests/real stay in ../shared)")
    return real, shared


def eval_command(
    eval_set: Annotated[
        Path | None, typer.Option("--set", help="Directory of annotated *.json files (default: tests/eval).")
    ] = None,
    system: Annotated[
        System,
        typer.Option(
            "--system",
            "-s",
            help="newsflow (the engine), ner (trained NER "
            "baselines, needs the 'baseline' extra) or names (a plain "
            "province-name list).",
        ),
    ] = System.newsflow,
    lang: Annotated[list[str] | None, typer.Option("--lang", "-l", help="Only these languages (repeatable).")] = None,
    fmt: Annotated[EvalFormat, typer.Option("--format", help="table or json.")] = EvalFormat.table,
    show_errors: Annotated[
        bool, typer.Option("--errors", help="Also list each article's missed and spurious entities.")
    ] = False,
    split: Annotated[
        str,
        typer.Option(
            "--split",
            help="tuning (the set the engine was tuned on), heldout (never "
            "tuned on), blind (written without seeing the engine), scripts (editions in "
            "other scripts, provinces only), latin (de/pt/it/pl/id editions), real-dev or real-test (real published "
            "texts "
            "in ../shared, gold in tests/real).",
        ),
    ] = "tuning",
    shared: Annotated[
        Path | None,
        typer.Option(
            "--shared", help="Where the real texts of real-dev/real-test are (default: ../shared beside the checkout)."
        ),
    ] = None,
    clusters: Annotated[
        bool,
        typer.Option(
            "--clusters",
            help="Score emulation clusters and pacts per fact (cluster, member, role, pact, theme, contents, place, "
            "signatory) on tests/eval_clusters (both sets, or the one --split names: cases or heldout).",
        ),
    ] = False,
) -> None:
    """Score entity extraction against the annotated evaluation set: precision, recall, F1 per type and language."""
    if clusters:
        _clusters_eval(eval_set, split, fmt, show_errors)
        return
    from extractors.entities.baseline import BaselineUnavailable, load_baseline
    from extractors.entities.engine import extract_entities
    from extractors.evaluation import (
        ENTITY_TYPES,
        REAL_SPLITS,
        REAL_TYPES,
        SPLITS,
        Extractor,
        errors,
        evaluate,
        load_eval_set,
        load_real_split,
        split_dir,
    )

    if split not in (*SPLITS, *REAL_SPLITS):
        raise UserError(f"--split: unknown split {split!r} (choose from {', '.join((*SPLITS, *REAL_SPLITS))})")
    real = split in REAL_SPLITS
    directory = Path("tests/real" if real else "tests/eval")
    try:
        if real:
            directory, shared_dir = _real_set(shared)
            articles = load_real_split(directory, shared_dir, split, lang)
        else:
            directory = split_dir(_eval_set(eval_set), split)
            articles = load_eval_set(directory, lang)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise UserError(f"evaluation set {directory}: {exc}") from None
    if not articles:
        raise UserError(f"no articles in {directory} for language(s) {', '.join(lang or [])}")
    extract: Extractor
    if system is System.newsflow:
        extract = extract_entities
        types: tuple[str, ...] = ENTITY_TYPES
    else:
        try:
            extract = load_baseline(system.value)
        except BaselineUnavailable as exc:
            raise UserError(str(exc)) from None
        types = ("provinces",) if system is System.names else ENTITY_TYPES
    if real:  # organisations are not annotated in tests/real
        types = tuple(t for t in types if t in REAL_TYPES)
    report = evaluate(articles, extract, types)
    if fmt is EvalFormat.json:
        typer.echo(
            json.dumps(
                {"system": system.value, "articles": len(articles), "scores": report.as_dict()},
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        _print_table(report, system.value, len(articles))
    if show_errors:
        out = Console(stderr=fmt is EvalFormat.json, highlight=False)
        for aid, etype, missed, spurious in errors(report):
            out.print(f"{aid} {etype}: missed {missed} spurious {spurious}", markup=False, soft_wrap=True)


def _clusters_eval(eval_set: Path | None, split: str, fmt: EvalFormat, show_errors: bool) -> None:
    """`newsflow eval --clusters`: per-fact precision and recall of clusters and pacts, per annotated set."""
    from extractors.clustereval import CLUSTER_SETS, load_cluster_set, score

    directory = eval_set if eval_set is not None else _DEFAULT_CLUSTERS
    names = CLUSTER_SETS if split == "tuning" else (split,)  # "tuning" is --split's default: every set
    results = {}
    for name in names:
        try:
            results[name] = score(load_cluster_set(directory, name))
        except (FileNotFoundError, ValueError, KeyError) as exc:
            raise UserError(f"cluster evaluation set {directory}: {exc}") from None
    if fmt is EvalFormat.json:
        typer.echo(json.dumps({n: {"scores": s, "errors": e} for n, (s, e) in results.items()}, indent=2))
        return
    console = Console(highlight=False)
    for name, (scores, errs) in results.items():
        table = Table(title=f"clusters and pacts per fact: {name}.json")
        for column in ("fact", "P", "R", "gold"):
            table.add_column(column, justify="left" if column == "fact" else "right")
        for fact, s in scores.items():
            table.add_row(fact, f"{s['precision']:.3f}", f"{s['recall']:.3f}", str(s["gold"]))
        console.print(table)
        if show_errors:
            for line in errs:
                console.print(line, markup=False, soft_wrap=True)


def _print_table(report: object, system: str, count: int) -> None:
    from extractors.evaluation import Report

    assert isinstance(report, Report)
    table = Table(title=f"{system} on {count} articles (document-level linked entities)")
    for col in ("language", "entity", "P", "R", "F1", "gold", "tp", "fp", "fn"):
        table.add_column(col, justify="left" if col in ("language", "entity") else "right")
    for lang, by_type in report.scores.items():
        for etype, s in by_type.items():
            table.add_row(
                lang,
                etype,
                f"{s.precision:.3f}",
                f"{s.recall:.3f}",
                f"{s.f1:.3f}",
                str(s.support),
                str(s.tp),
                str(s.fp),
                str(s.fn),
            )
        table.add_section()
    Console(width=110).print(table)


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
