"""The benchmark's corpus generator and table (no timing is asserted), and the flow's lazy reading."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/ is not an installed package
from benchmarks import pipeline as bench
from extractors.sources import InputError
from flows.ingest import Failure, iter_received, stream_batches
from newsflow.runtime import process, runtime
from newsflow.settings import get_settings
from schemas.models import RawArticle


def test_corpus_copies_are_distinct_articles_with_the_samples_mix(tmp_path: Path) -> None:
    templates = bench.templates()
    size = len(templates) + 5  # every sample once, some twice
    corpus = bench.generate_corpus(tmp_path / "corpus", size)
    items = list(runtime(get_settings()).iter_sources([str(corpus)]))
    assert not [i for i in items if isinstance(i, InputError)]
    raws = [i for i in items if isinstance(i, RawArticle)]
    assert len(raws) == size
    records = [process(raw, None) for raw in raws]
    assert len({r.id for r in records}) == size  # a copy is a new record, not an update of the first
    languages = Counter(r.language.code for r in records)
    assert {"vi", "en", "es", "fr"} <= set(languages)
    assert {r.media_type for r in raws} == {"text/html", "text/plain"}
    assert any(p.suffix == ".json" for p in corpus.iterdir())
    # the copy's reference line does not change the article's language
    first = {r.source.uri.rsplit("/", 1)[-1][7:]: r.language.code for r in records[: len(templates)]}
    again = {r.source.uri.rsplit("/", 1)[-1][7:]: r.language.code for r in records[len(templates) :]}
    assert all(first[name] == code for name, code in again.items())


def test_corpus_is_kept_once_complete(tmp_path: Path) -> None:
    corpus = bench.generate_corpus(tmp_path / "c", 5)
    marker = next(corpus.iterdir())
    marker.write_text("changed", encoding="utf-8")
    bench.generate_corpus(tmp_path / "c", 5)  # complete: not written again (a resumed run reuses it)
    assert marker.read_text(encoding="utf-8") == "changed"
    bench.generate_corpus(tmp_path / "c", 6)  # another size: regenerated
    assert len([p for p in corpus.iterdir() if not p.name.startswith(".")]) == 6


def test_distinct_url_keeps_the_site_and_changes_the_path() -> None:
    assert bench._distinct_url("https://a.example.vn/x/post-1.html", 7) == "https://a.example.vn/x/post-1.html-b7"
    assert bench._distinct_url("https://a.example.vn/es/nota/", 7) == "https://a.example.vn/es/nota-b7/"


def _result(articles: int, seconds: float, rss: float = 300.0) -> dict[str, float]:
    return {"articles": articles, "seconds": seconds, "peak_rss_mb": rss}


def test_table_reports_rates_overhead_memory_and_the_alternative() -> None:
    results = {
        bench.result_key(100, "main_text", None): _result(100, 0.5),
        bench.result_key(100, "plain", None): _result(100, 2.0, 250),
        bench.result_key(100, "flow", None): _result(100, 2.5, 310),
        bench.result_key(100, "flow", "apertium"): _result(100, 10.0, 320),
        bench.result_key(100, "alternative", None): _result(100, 5.0, 600),
        bench.result_key(1000, "flow", None): {"error": "Timed out"},
    }
    table = bench.render_table(results, [100, 1000], [None, "apertium"])
    lines = table.splitlines()
    assert "| 100 | main text | – | 200.0 | 0.5 | 0 |".replace("| 0 |", "| 300 |") in lines
    assert "| 100 | Prefect flow: read, process, store, write | apertium | 10.0 | 10.0 | 320 |" in lines
    assert "| 1,000 | Prefect flow: read, process, store, write | off | error: Timed out | | |" in lines
    # flow 2.5 s vs plain loop 2.0 s: +25% overhead; flow 40/s vs alternative 20/s: 2.0x
    assert "| 100 | 40.0 | 50.0 | +25.0% | 310 | 20.0 | 2.0× |" in lines
    assert "| 1,000 | – | – | – | – | – | – |" in lines


def test_table_only_reads_saved_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = {bench.result_key(5, "language", None): _result(5, 0.1, 180)}
    (tmp_path / "results.json").write_text(json.dumps(saved), encoding="utf-8")
    assert bench.main(["--sizes", "5", "--table-only", "--work-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "| 5 | language detection | – | 50.0 | 0.1 | 180 |" in out


def test_a_stage_measurement_runs_in_its_own_process(tmp_path: Path) -> None:
    corpus = bench.generate_corpus(tmp_path / "corpus", 5)
    result = bench.run_child("main_text", corpus, None, tmp_path)
    assert result.get("articles") == 5, result
    assert result["seconds"] > 0 and result["peak_rss_mb"] > 10


# -- the flow reads lazily ----------------------------------------------------------------------------------


def test_batches_are_handed_over_before_the_sources_are_exhausted(tmp_path: Path) -> None:
    corpus = bench.generate_corpus(tmp_path / "corpus", 7)
    read: list[str] = []

    def watched() -> Iterator[RawArticle | Failure]:
        for item in iter_received([str(corpus), str(tmp_path / "missing.txt")], get_settings()):
            read.append(item.source if isinstance(item, Failure) else item.source.uri)
            yield item

    failures: list[Failure] = []
    batches = stream_batches(watched(), 3, failures)
    first = next(batches)
    assert len(first) == 3 and len(read) == 3  # nothing read ahead of the batch being handed over
    rest = list(batches)
    assert [len(b) for b in rest] == [3, 1]
    assert len(failures) == 1 and "missing.txt" in failures[0].source
