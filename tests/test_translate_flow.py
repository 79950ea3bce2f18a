"""Translation inside the flows, on a real Prefect server: failing everywhere still stores every record with
its entities (status pending), and the retranslate flow and command turn pending into done, in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from extractors.translate import reset_circuit_breakers
from newsflow.settings import get_settings, reset_settings
from newsflow.storage import Store
from tests.translate_servers import FakeProvider, closed_port_url, fake_translation

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def _sources(tmp_path: Path) -> Path:
    target = tmp_path / "in"
    target.mkdir()
    for name in ("vi", "fr"):
        shutil.copytree(REPO / "samples" / name, target / name)
    return target


def _point_google_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("NEWSFLOW_TRANSLATION_ENDPOINTS", json.dumps({"google": url}))
    monkeypatch.setenv("NEWSFLOW_TRANSLATION_RETRIES", "0")
    monkeypatch.setenv("NEWSFLOW_TRANSLATION_RATE_LIMITS", "{}")
    reset_settings()
    reset_circuit_breakers()


def test_failing_translation_stores_every_record_then_retranslate_completes_them(
    prefect_harness: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.ingest import ingest
    from flows.retranslate import retranslate

    _point_google_at(monkeypatch, closed_port_url())
    summary = ingest(sources=[str(_sources(tmp_path))], translator="google")
    n = summary.processed
    assert n >= 8 and not summary.failed
    store = Store(get_settings().resolved_database_url)
    records = list(store.iter_records())
    assert len(records) == n
    assert {r.translation.status for r in records} == {"pending"}
    assert all("no provider reachable: google" in (r.translation.error or "") for r in records)
    assert sum(len(r.entities.provinces) for r in records) >= n  # entities are there without a translation
    before = {r.id: r for r in records}

    _point_google_at(monkeypatch, "http://127.0.0.1:9")  # still nothing: records stay pending
    still = retranslate(limit=2, translator="google")
    assert (still.picked, still.translation) == (2, {"pending": 2})

    with FakeProvider("google") as server:
        _point_google_at(monkeypatch, server.url)
        done = retranslate(translator="google")
        calls = len(server.requests)
    assert done.picked == n and done.translation == {"done": n} and done.updated == n
    assert calls >= n
    after = {r.id: r for r in store.iter_records()}
    assert after.keys() == before.keys()  # updated in place: same ids, no new records
    for rid, record in after.items():
        t = record.translation
        assert (t.status, t.provider, t.source) == ("done", "google", before[rid].language.code)
        assert t.engine and t.engine.startswith("deep-translator") and t.translated_at is not None
        assert t.text and t.text.upper() == fake_translation(record.text)  # the fake provider's translation
        for province in record.entities.provinces:  # ... except the protected names, kept as written
            for mention in province.mentions:
                assert mention.text in t.text
        assert not any(w.startswith("translation pending") for w in record.pipeline.warnings)
        assert [p.id for p in record.entities.provinces if p.source == "text"] == [
            p.id for p in before[rid].entities.provinces
        ]
        file = get_settings().resolved_output_dir / "records" / f"{rid}.json"
        assert json.loads(file.read_text(encoding="utf-8"))["translation"]["status"] == "done"
    assert retranslate().picked == 0  # nothing pending any more
    assert store.count_translations() >= n
    store.close()


def test_retranslate_command(prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from flows.ingest import ingest
    from newsflow.cli import app

    _point_google_at(monkeypatch, closed_port_url())
    one = tmp_path / "one.txt"
    one.write_text("Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024 về thu ngân sách.", encoding="utf-8")
    assert ingest(sources=[str(one)], translator="google").processed == 1
    runner = CliRunner()
    bad = runner.invoke(app, ["retranslate", "--translator", "bing"])
    assert bad.exit_code != 0 and "--translator 'bing'" in str(bad.exception)
    too_many = runner.invoke(app, ["retranslate", "--translator", "google", "--limit", "2000000"])
    assert too_many.exit_code != 0 and "less than or equal to 1000000" in str(too_many.exception)
    with FakeProvider("google") as server:
        _point_google_at(monkeypatch, server.url)
        result = runner.invoke(app, ["retranslate", "--translator", "google"])
    assert result.exit_code == 0, result.output
    assert "1 pending record(s) picked; now done 1; 1 updated" in result.output
    [record] = Store(get_settings().resolved_database_url).iter_records()
    assert record.translation.text == fake_translation(record.text).replace("LONG AN", "Long An")  # name kept
