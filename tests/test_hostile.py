"""Hostile and broken input: every entry point answers with a record or a named error, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.pipeline import ArticleError
from extractors.sources import InputError
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from schemas.models import RawArticle, SourceInfo


def _raw(content: str, media_type: str) -> RawArticle:
    return RawArticle(
        source=SourceInfo(kind="text", uri="-", fetched_at=datetime.now(UTC)), content=content, media_type=media_type
    )  # type: ignore[arg-type]


def _one(path: Path, settings: Settings | None = None) -> RawArticle | InputError:
    items = list(runtime(settings or Settings()).iter_sources([str(path)]))
    assert len(items) == 1, items
    return items[0]


def test_huge_file_is_refused_by_size_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    with path.open("wb") as handle:  # a sparse 100 MB file: no memory or disk cost
        handle.truncate(100 * 1024 * 1024)
    item = _one(path)
    assert isinstance(item, InputError)
    assert "104857600 bytes, over the limit" in item.reason


def test_invalid_text_encoding_is_named(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(b"Long An \x81\x8d\x8f\x90 \xff\xfe")  # bytes neither UTF-8 nor Windows-1258 define
    item = _one(path)
    assert isinstance(item, InputError) and "not valid UTF-8 or Windows-1258" in item.reason


def test_deeply_nested_html() -> None:
    html = (
        "<html><body>"
        + "<div>" * 5000
        + "<p>Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024.</p>"
        + "</div>" * 5000
        + "</body></html>"
    )
    record = process(_raw(html, "text/html"), None)
    assert "Sở Tài chính tỉnh Long An" in record.text
    assert [p.name for p in record.entities.provinces] == ["Long An"]


def test_script_only_and_entity_bomb_pages() -> None:
    with pytest.raises(ArticleError):
        process(_raw("<html><body><script>" + "alert(1);" * 10000 + "</script></body></html>", "text/html"), None)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]>'
        "<html><body><p>&lol3; Tỉnh Bến Tre.</p></body></html>"
    )
    record = process(_raw(bomb, "text/html"), None)
    assert len(record.text) < 1000  # entities are not expanded
    assert [p.name for p in record.entities.provinces] == ["Bến Tre"]


def test_control_characters_and_zero_width_text() -> None:
    text = "Sở\u200b TN&MT\u0000 tỉnh \u200dLong An\ufeff ký giao ước \x07 thi đua với Sở TN&MT tỉnh Bến Tre năm 2024."
    record = process(_raw(text, "text/plain"), None)
    for entity in record.entities.provinces:
        for m in entity.mentions:
            assert record.text[m.start : m.end] == m.text
    assert "Bến Tre" in [p.name for p in record.entities.provinces]


_HTML_BITS = st.sampled_from(
    [
        "<p>",
        "</p>",
        "<div>",
        "</div>",
        "<script>",
        "</script>",
        "<!--",
        "-->",
        "<br>",
        "&amp;",
        "&#0;",
        "&#x110000;",
        "<",
        ">",
        '"',
        "“",
        "”",
        "«",
        "»",
        "\u200b",
        "tỉnh Long An",
        "Sở TN&MT",
        "Giám đốc",
        "Võ Minh Thành",
        "ngày 5/3/2024",
        " ",
        "\n",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(_HTML_BITS, st.text(max_size=30)), max_size=40))
def test_fuzz_html_and_text_entry_points(parts: list[str]) -> None:
    content = "".join(parts)
    for media in ("text/html", "text/plain"):
        try:
            record = process(_raw(content, media), None)
        except ArticleError:
            continue
        for field in ("provinces", "departments", "officials", "themes", "organizations", "dates"):
            for entity in getattr(record.entities, field):
                for m in entity.mentions:
                    assert record.text[m.start : m.end] == m.text
