"""The published JSON Schema and the strictness of the contract models."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from pydantic import ValidationError

from schemas.generate import SCHEMA_FILE, record_schema, render
from schemas.models import LanguageInfo, Mention, SourceInfo


def test_checked_in_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render(), (
        "schemas/article_record.schema.json is out of date: run `python -m schemas.generate`"
    )


def test_schema_is_strict_and_names_the_contract_fields() -> None:
    schema = record_schema()
    assert schema["additionalProperties"] is False
    assert {
        "id",
        "content_hash",
        "schema_version",
        "source",
        "title",
        "published_at",
        "authors",
        "language",
        "text",
        "translation",
        "entities",
        "pipeline",
    } <= set(schema["properties"])
    entities = schema["$defs"]["Entities"]["properties"]
    assert set(entities) == {
        "provinces",
        "departments",
        "officials",
        "themes",
        "organizations",
        "dates",
        "clusters",
        "pacts",
    }
    province = schema["$defs"]["Province"]["properties"]
    assert {"id", "name", "name_ascii", "name_en", "code", "scheme", "successor", "mentions"} <= set(province)
    assert json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["$schema"].endswith("2020-12/schema")


def test_models_refuse_unknown_fields_and_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        LanguageInfo(code="vi", confidence=1.0, detector="x", extra=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="timezone"):
        SourceInfo(kind="file", uri="a.txt", fetched_at=datetime(2024, 1, 1))
    with pytest.raises(ValidationError, match="before start"):
        Mention(text="x", start=5, end=2)
