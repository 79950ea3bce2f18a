"""Alembic migrations of the store, on SQLite and PostgreSQL: from an empty database, from the schema the
pre-Alembic code created (with rows in it), round trips, and records of an older schema_version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, ForeignKey, Index, MetaData, Table, inspect, make_url, text
from typer.testing import CliRunner

from newsflow import migrations
from newsflow.cli import app
from newsflow.storage import Article, Base, StorageError, Store, create_engine_for, raw_input_id
from newsflow.storage.fetchlog import FetchLog
from schemas.generate import render
from schemas.models import ArticleRecord, RawArticle

pytest_plugins = ["conftest_storage"]

STORE_INDEXES = {
    "articles": {"ix_articles_updated_at_id", "ix_articles_raw_id"},
    "raw_inputs": {"ix_raw_inputs_received_at_id"},
}


def _engine(url: str) -> Any:
    parsed = make_url(url)
    return create_engine_for(parsed, parsed.get_backend_name())


def _only_store_tables(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name not in migrations.STORE_TABLES)


def _schema_diff(url: str) -> list[Any]:
    """What differs between the database and the store's models (autogenerate's view)."""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_object": _only_store_tables, "compare_type": True}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _tables_and_indexes(url: str) -> dict[str, set[str]]:
    engine = _engine(url)
    try:
        insp = inspect(engine)
        return {t: {ix["name"] for ix in insp.get_indexes(t)} for t in insp.get_table_names()}
    finally:
        engine.dispose()


# What revisions after 0001 added to the models (the pre-Alembic code had none of it).
LATER_COLUMNS = {"raw_inputs": {"status", "error"}, "runs": {"pid", "host"}}
LATER_INDEXES = {"ix_articles_raw_id"}


def make_pre_alembic_schema(url: str) -> None:
    """The tables as newsflow created them before migrations: `create_all` of the models of that time
    (today's minus what revisions 0002 and 0003 added), no alembic_version table, plus the fetch-log tables."""
    legacy = MetaData()
    for table in Base.metadata.sorted_tables:
        dropped = LATER_COLUMNS.get(table.name, set())
        columns = [
            Column(
                c.name,
                c.type,
                *[ForeignKey(fk.target_fullname) for fk in c.foreign_keys],
                primary_key=c.primary_key,
                nullable=c.nullable,
                comment=c.comment,
            )
            for c in table.columns
            if c.name not in dropped
        ]
        copy = Table(table.name, legacy, *columns)
        for ix in table.indexes:
            if ix.name not in LATER_INDEXES:
                Index(ix.name, *[copy.c[c.name] for c in ix.columns])
    engine = _engine(url)
    try:
        legacy.create_all(engine)
    finally:
        engine.dispose()
    FetchLog(url).close()


# --- an article in the current shape and one stored by newsflow 1.0.0 ---------------------------------------

_TEXT = "Chiều 12/3, Sở Tài nguyên và Môi trường tỉnh Bến Tre tổ chức hội nghị sơ kết quý I."
_TITLE = "Bến Tre sơ kết công tác quý I"


def _raw(uri: str) -> RawArticle:
    return RawArticle.model_validate(
        {
            "source": {"kind": "file", "uri": uri, "fetched_at": "2025-03-12T10:00:00+00:00"},
            "content": f"{_TITLE}\n\n{_TEXT}\n\n(tệp {uri})\n",
            "media_type": "text/plain",
            "title": _TITLE,
        }
    )


def record_v1_0_0(article_id: str, uri: str) -> dict[str, Any]:
    """A record as schema 1.0.0 wrote it: no language segments, no translation source/engine, no
    entity `source` (all added later with defaults)."""
    start = _TEXT.index("Bến Tre")
    return {
        "schema_version": "1.0.0",
        "id": article_id,
        "content_hash": "sha256:" + "cd" * 32,
        "source": {"kind": "file", "uri": uri, "fetched_at": "2025-03-12T10:00:00Z", "site": None},
        "title": _TITLE,
        "published_at": "2025-03-12T14:00:00+07:00",
        "authors": [],
        "language": {"code": "vi", "confidence": 0.98, "detector": "langdetect"},
        "text": _TEXT,
        "translation": {
            "status": "pending",
            "target": "en",
            "provider": None,
            "text": None,
            "error": "no provider reachable",
            "translated_at": None,
        },
        "entities": {
            "provinces": [
                {
                    "id": "vn-province:legacy_63:83",
                    "name": "Bến Tre",
                    "name_ascii": "Ben Tre",
                    "name_en": "Ben Tre Province",
                    "code": "83",
                    "scheme": "legacy_63",
                    "successor": {
                        "id": "vn-province:current_34:86",
                        "name": "Vĩnh Long",
                        "code": "86",
                        "scheme": "current_34",
                    },
                    "mentions": [{"text": "Bến Tre", "start": start, "end": start + len("Bến Tre")}],
                }
            ],
            "departments": [],
            "officials": [],
            "themes": [],
            "organizations": [],
            "dates": [],
        },
        "pipeline": {"version": "0.1.0", "processed_at": "2025-03-12T10:00:01Z", "warnings": []},
    }


def _store_v1_0_0(url: str, article_id: str) -> dict[str, Any]:
    """Insert a 1.0.0 record (and its raw input) the way the old code stored it; returns the record."""
    uri = f"/data/old/{article_id}.txt"
    old = record_v1_0_0(article_id, uri)
    _insert_like_old_code(url, old, _raw(uri))
    return old


def _insert_like_old_code(url: str, old: dict[str, Any], raw: RawArticle) -> None:
    """Insert a record and its raw input with the pre-Alembic code's columns only."""
    article_id, uri = old["id"], old["source"]["uri"]
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO raw_inputs (id, media_type, source_uri, source_kind, received_at, content, metadata) "
                    "VALUES (:id, 'text/plain', :uri, 'file', :at, :content, :meta)"
                ),
                {
                    "id": raw_input_id(raw),
                    "uri": uri,
                    "at": "2025-03-12 10:00:00",
                    "content": raw.content,
                    "meta": raw.model_dump_json(exclude={"content"}),
                },
            )
            conn.execute(
                Article.__table__.insert().values(
                    id=article_id,
                    content_hash=old["content_hash"],
                    schema_version=old["schema_version"],
                    title=_TITLE,
                    language="vi",
                    published_at=None,
                    source_uri=uri,
                    first_seen_at=_at(),
                    updated_at=_at(),
                    record=json.dumps(old),
                    raw_id=raw_input_id(raw),
                )
            )
    finally:
        engine.dispose()


def _at() -> Any:
    from datetime import UTC, datetime

    return datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def _current_record(article_id: str) -> ArticleRecord:
    uri = f"/data/new/{article_id}.txt"
    data = record_v1_0_0(article_id, uri)
    data["schema_version"] = "1.1.0"
    data["language"]["segments"] = [{"start": 0, "end": len(_TEXT), "code": "vi", "confidence": 0.98}]
    return ArticleRecord.model_validate(data)


def _export(url: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(app, ["export", "--database-url", url])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- tests ------------------------------------------------------------------------------------------


def test_upgrade_from_empty_matches_the_models(db_url: str) -> None:
    with Store(db_url) as store:
        assert store.schema_revision() == migrations.head() == "0003"
    tables = _tables_and_indexes(db_url)
    assert migrations.STORE_TABLES | {"alembic_version"} <= set(tables)
    for table, indexes in STORE_INDEXES.items():
        assert indexes <= tables[table]
    assert _schema_diff(db_url) == []


def test_the_pre_alembic_fixture_really_is_the_old_schema(db_url: str) -> None:
    make_pre_alembic_schema(db_url)
    tables = _tables_and_indexes(db_url)
    assert "alembic_version" not in tables
    assert "ix_articles_raw_id" not in tables["articles"]
    with Store(db_url, migrate=False) as store:
        assert store.schema_revision() is None
    # What autogenerate sees missing is exactly revision 0002's index and 0003's columns.
    diff = _schema_diff(db_url)
    assert sorted(d[0] for d in diff) == ["add_column"] * 4 + ["add_index"]
    assert {(d[2], d[3].name) for d in diff if d[0] == "add_column"} == {
        (t, c) for t, cols in LATER_COLUMNS.items() for c in cols
    }


def test_upgrade_from_the_pre_alembic_schema_keeps_rows(db_url: str) -> None:
    make_pre_alembic_schema(db_url)
    new = _current_record("bt-new-001")
    _insert_like_old_code(db_url, json.loads(new.model_dump_json()), _raw(new.source.uri))
    old = _store_v1_0_0(db_url, "bt-old-001")

    with Store(db_url) as store:  # opening upgrades
        assert store.schema_revision() == migrations.head()
        assert store.count() == 2
        loaded_old = store.get("bt-old-001")
        assert loaded_old is not None and loaded_old.schema_version == "1.0.0"
        assert loaded_old.text == old["text"]
        assert loaded_old.entities.provinces[0].source == "text"  # the default for a field 1.0.0 lacked
        assert loaded_old.language.segments == []
        assert store.get("bt-new-001") == new
        assert store.get_raw(raw_input_id(_raw(old["source"]["uri"]))) == _raw(old["source"]["uri"])
        # A save after the upgrade sees the old row as the same article.
        assert store.save(new, _raw(new.source.uri)) == "unchanged"
        # Raw inputs stored before revision 0003 came with their record: processed.
        state = store.raw_state(raw_input_id(_raw(old["source"]["uri"])))
        assert state is not None and state.status == "processed"
    assert _schema_diff(db_url) == []
    assert "fetch_log" in _tables_and_indexes(db_url)  # the acquisition tables are left alone

    exported = {r["id"]: r for r in _export(db_url)}
    assert set(exported) == {"bt-old-001", "bt-new-001"}
    assert exported["bt-old-001"]["schema_version"] == "1.0.0"
    # The schema of this code (the checked-in copy is kept equal to it by tests/test_schema.py).
    schema = json.loads(render())
    for record in exported.values():
        jsonschema.validate(record, schema)


def test_downgrade_and_upgrade_round_trip_keeps_rows(db_url: str) -> None:
    with Store(db_url) as store:
        record = _current_record("bt-rt-001")
        store.save(record, _raw(record.source.uri))
        store.downgrade_schema("0001")
        assert store.schema_revision() == "0001"
        assert "ix_articles_raw_id" not in _tables_and_indexes(db_url)["articles"]
        store.create_schema()
        assert store.schema_revision() == "0003"
        assert store.get("bt-rt-001") == record
        store.downgrade_schema("base")
        assert store.schema_revision() is None
    assert not migrations.STORE_TABLES & set(_tables_and_indexes(db_url))
    with Store(db_url) as again:
        assert again.count() == 0 and again.schema_revision() == "0003"


def test_a_database_newer_than_this_newsflow_is_a_clear_error(db_url: str) -> None:
    Store(db_url).close()
    engine = _engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StorageError, match=r"schema revision 9999.*upgrade newsflow") as caught:
        Store(db_url)
    assert "\n" not in str(caught.value)


def test_db_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path / "d")]
    db_file = tmp_path / "d" / "newsflow.db"
    make_pre_alembic_schema(f"sqlite:///{db_file}")
    out = runner.invoke(app, ["db", "current", *data])
    assert out.exit_code == 0 and "revision none (behind" in out.stdout
    out = runner.invoke(app, ["db", "upgrade", *data])
    assert out.exit_code == 0 and "none -> 0003" in out.stdout
    out = runner.invoke(app, ["db", "current", *data])
    assert "revision 0003 (up to date)" in out.stdout
    out = runner.invoke(app, ["db", "downgrade", "0001", *data])
    assert out.exit_code == 0 and "now 0001" in out.stdout
    refused = runner.invoke(app, ["db", "downgrade", "base", *data])
    assert refused.exit_code != 0 and "--yes" in str(refused.exception)
    with Store(f"sqlite:///{db_file}", migrate=False) as store:
        assert store.schema_revision() == "0001"
