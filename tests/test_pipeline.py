"""One article through every stage, validated against the published JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from extractors.ids import canonical_url, record_id
from extractors.pipeline import ArticleError
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from schemas.generate import SCHEMA_FILE
from schemas.models import RawArticle, SourceInfo

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_every_sample_becomes_a_valid_record(validator: jsonschema.Draft202012Validator) -> None:
    records = [process(item, None) for item in runtime(Settings()).iter_sources([str(REPO / "samples")])]
    assert len(records) >= 16
    for record in records:
        validator.validate(json.loads(record.model_dump_json()))
        assert record.language.code in {"vi", "en", "es", "fr"}
        assert record.translation.status == "pending"  # no translator given
    assert {r.language.code for r in records} == {"vi", "en", "es", "fr"}
    assert len({r.id for r in records}) == len(records)


def test_ids_are_stable_and_content_hash_follows_the_text() -> None:
    first = [process(i, None) for i in runtime(Settings()).iter_sources([str(REPO / "samples" / "json")])]
    second = [process(i, None) for i in runtime(Settings()).iter_sources([str(REPO / "samples" / "json")])]
    assert [r.id for r in first] == [r.id for r in second]
    assert [r.content_hash for r in first] == [r.content_hash for r in second]
    assert record_id("HTTPS://X.example.vn/a/#top", "t") == record_id("https://x.example.vn/a", "other text")
    assert canonical_url("https://X.example.vn/a/") == "https://x.example.vn/a"


def _raw(content: str, media_type: str = "text/plain") -> RawArticle:
    from datetime import UTC, datetime

    return RawArticle(
        source=SourceInfo(kind="text", uri="-", fetched_at=datetime.now(UTC)), content=content, media_type=media_type
    )  # type: ignore[arg-type]


def test_html_without_text_is_an_article_error() -> None:
    with pytest.raises(ArticleError, match="no main text"):
        process(_raw("<html><body><script>x()</script></body></html>", "text/html"), None)


def test_title_line_and_byline_of_a_text() -> None:
    text = (
        "Long An ký giao ước thi đua\n\nSở TN&MT tỉnh Long An ký giao ước với năm sở bạn "
        "trong Cụm thi đua số VIII vào ngày 5/3/2024.\n\nMinh Anh\nNguồn\nComment (0)"
    )
    record = process(_raw(text), None)
    assert record.title == "Long An ký giao ước thi đua"
    assert record.authors == ["Minh Anh"]
    assert record.text.endswith("vào ngày 5/3/2024.")
    assert [p.name for p in record.entities.provinces] == ["Long An"]
