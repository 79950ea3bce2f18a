"""The ingest flow on a real Prefect server (prefect_test_harness runs one for the session)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from newsflow.settings import get_settings, reset_settings
from newsflow.storage import Store
from schemas.generate import SCHEMA_FILE
from schemas.models import RawArticle

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.e2e


def _samples(tmp_path: Path) -> Path:
    target = tmp_path / "in"
    shutil.copytree(REPO / "samples", target)
    return target


def _run_twice_and_check(tmp_path: Path) -> None:
    from flows.ingest import ingest

    sources = _samples(tmp_path)
    bad = sources / "json" / "broken.jsonl"
    bad.write_text('{"text": "Sở Nội vụ tỉnh Bến Tre tổ chức hội nghị."}\n{"text": 7}\n', encoding="utf-8")
    first = ingest(sources=[str(sources)], translator="none")
    n = first.processed
    assert n >= 17
    assert [(f.source, f.reason[:30]) for f in first.failed] == [(f"{bad}:2", "field 'text' (or 'html') must ")]
    assert (first.new, first.updated, first.unchanged) == (n, 0, 0)
    assert first.entities["provinces"] > 30 and first.entities["officials"] > 20

    second = ingest(sources=[str(sources)], translator="none")
    assert (second.new, second.updated, second.unchanged) == (0, 0, n)

    settings = get_settings()
    store = Store(settings.resolved_database_url)
    assert store.count() == n
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    files = sorted((settings.resolved_output_dir / "records").glob("*.json"))
    assert len(files) == n
    for path in files:
        validator.validate(json.loads(path.read_text(encoding="utf-8")))
    lines = Path(second.run_file or "").read_text(encoding="utf-8").splitlines()
    assert len(lines) == n and {json.loads(x)["id"] for x in lines} == {p.stem for p in files}
    # The raw input is kept for reprocessing.
    raw_ids = [raw_id for raw_id, _ in store.iter_raw()]
    assert len(raw_ids) == n
    store.close()


def test_ingest_sqlite_idempotent(prefect_harness: None, tmp_path: Path) -> None:
    _run_twice_and_check(tmp_path)


def test_ingest_postgresql_idempotent(
    prefect_harness: None, tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", pg_url)
    reset_settings()
    _run_twice_and_check(tmp_path)


def test_changed_article_is_updated(prefect_harness: None, tmp_path: Path) -> None:
    from flows.ingest import ingest

    src = tmp_path / "one.json"
    article = {"url": "https://baolongan.example.vn/a1", "title": "Long An", "text": "Sở Tài chính tỉnh Long An họp."}
    src.write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    assert ingest(sources=[str(src)], translator="none").new == 1
    article["text"] = "Sở Tài chính tỉnh Long An họp sơ kết quý I."
    src.write_text(json.dumps(article, ensure_ascii=False), encoding="utf-8")
    summary = ingest(sources=[str(src)], translator="none")
    assert (summary.new, summary.updated) == (0, 1)


def test_a_dropped_connection_while_keeping_raw_inputs_is_retried(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The processing task writes the batch's raw inputs first; a transient error there retries the batch."""
    from sqlalchemy.exc import OperationalError

    from flows.ingest import ingest
    from newsflow.storage import StorageError

    real = Store.save_raws
    calls: list[int] = []

    def drops_once(self: Store, raws: list[RawArticle]) -> list[str]:
        calls.append(len(raws))
        if len(calls) == 1:
            error = StorageError("cannot save raw inputs: terminating connection due to administrator command")
            error.__cause__ = OperationalError("INSERT", {}, Exception("terminating connection"))
            raise error
        return real(self, raws)

    monkeypatch.setattr(Store, "save_raws", drops_once)
    summary = ingest(sources=[str(_samples(tmp_path))], translator="none")
    assert len(calls) >= 2 and calls[0] == calls[1]  # the same batch, again
    assert summary.failed == [] and summary.processed >= 17 and summary.new == summary.processed
    store = Store(get_settings().resolved_database_url)
    assert store.count() == summary.processed and len(list(store.iter_raw())) == summary.processed
    store.close()
