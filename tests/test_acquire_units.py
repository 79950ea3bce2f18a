"""Canonical URLs, charset decoding, mojibake repair, SimHash and the fetch log on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractors.acquire.dedupe import distance, simhash
from extractors.acquire.encoding import decode_body
from extractors.acquire.urls import canonicalize
from extractors.textclean import repair_mojibake
from newsflow.storage.fetchlog import FetchLog
from tests.acquire_site import to_cp1258


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (
            "HTTPS://Baoyenbai.COM.vn:443/tin-tuc/a.html?utm_source=fb&fbclid=x#top",
            "https://baoyenbai.com.vn/tin-tuc/a.html",
        ),
        ("https://m.baoyenbai.com.vn/tin-tuc/a.html/", "https://baoyenbai.com.vn/tin-tuc/a.html"),
        ("https://baoyenbai.com.vn/amp/tin-tuc/a.html", "https://baoyenbai.com.vn/tin-tuc/a.html"),
        ("https://baoyenbai.com.vn/tin-tuc/a.amp.html", "https://baoyenbai.com.vn/tin-tuc/a.html"),
        ("https://x.vn/a/amp?amp=1&b=2&a=1", "https://x.vn/a?a=1&b=2"),
        ("http://x.vn:8080/", "http://x.vn:8080/"),
        ("https://www.x.vn/a", "https://www.x.vn/a"),
        ("https://x.vn/ti%e1%ba%bfng", "https://x.vn/ti%E1%BA%BFng"),
    ],
)
def test_canonicalize(given: str, canonical: str) -> None:
    assert canonicalize(given) == canonical


@pytest.mark.parametrize(
    ("data", "declared", "note"),
    [
        (to_cp1258("<p>Tiền Giang</p>"), "windows-1258", None),
        (to_cp1258("<p>Tiền Giang</p>"), None, None),
        ("<p>Tiền Giang</p>".encode(), "iso-8859-1", "declared iso-8859-1 but the body is UTF-8"),
        ("<p>Tiền Giang</p>".encode(), "utf-8", None),
        (
            b'<meta charset="windows-1258">' + to_cp1258("<p>Tiền Giang</p>"),
            "utf-8",
            "declared utf-8 but the body does not decode as utf-8",
        ),
        (
            "<p>Tiền Giang</p>".encode().decode("latin-1").encode(),
            None,
            "mojibake (UTF-8 read as Windows-1252) repaired",
        ),
    ],
)
def test_decode_body(data: bytes, declared: str | None, note: str | None) -> None:
    decoded = decode_body(data, declared)
    assert "Tiền Giang" in decoded.text and decoded.note == note


def test_mojibake_repair_leaves_real_text_alone() -> None:
    for text in ("José está aquí — café", "Tiền Giang và Bến Tre", "Ã  la carte? no: Ãtienne"):
        assert repair_mojibake(text) == (text, False)
    assert repair_mojibake("Báo Tiá»\x81n Giang – Tiền Giang")[0] == "Báo Tiền Giang – Tiền Giang"


def test_simhash_separates_stories() -> None:
    a = " ".join(f"từ{i} Long An" for i in range(60))
    b = a.replace("từ5 ", "chữ5 ")
    c = " ".join(f"câu{i} Bến Tre" for i in range(60))
    assert distance(simhash(a), simhash(b)) <= 6 < distance(simhash(a), simhash(c))


def _exercise(log: FetchLog) -> None:
    log.record(
        url="https://x.vn/a?utm_source=1",
        canonical_url="https://x.vn/a",
        host="x.vn",
        kind="article",
        outcome="failed",
        status=503,
        reason="HTTP 503 (after 4 attempts)",
        attempts=4,
    )
    log.remember(
        "https://x.vn/a",
        final_url="https://x.vn/a",
        etag='"v1"',
        last_modified=None,
        content_hash="h1",
        media_type="text/html",
        body="<p>Tiền Giang</p>",
    )
    log.remember(
        "https://x.vn/a",
        final_url="https://x.vn/a",
        etag='"v2"',
        last_modified=None,
        content_hash="h2",
        media_type="text/html",
        body="<p>Bến Tre</p>",
    )
    cached = log.cached("https://x.vn/a")
    assert cached is not None and cached.etag == '"v2"' and cached.body == "<p>Bến Tre</p>"
    (attempt,) = log.attempts(outcome="failed")
    assert attempt.reason == "HTTP 503 (after 4 attempts)" and attempt.attempts == 4
    high = (1 << 64) - 1  # all bits set: needs the signed storage
    log.index_content("https://x.vn/a", "h2", high)
    assert log.find_duplicate("https://y.vn/b", "h2", 0, 0) == ("https://x.vn/a", 0)
    assert log.find_duplicate("https://y.vn/b", "other", high ^ 0b101, 6) == ("https://x.vn/a", 2)
    assert log.find_duplicate("https://y.vn/b", "other", 0, 6) is None
    log.link_duplicate("https://y.vn/b", "https://x.vn/a", 2)
    assert log.duplicate_of("https://y.vn/b") == "https://x.vn/a"
    with pytest.raises(ValueError, match="unknown outcome"):
        log.record(url="u", canonical_url="u", host="h", kind="article", outcome="exploded")


def test_fetch_log_sqlite(tmp_path: Path) -> None:
    with FetchLog(f"sqlite:///{tmp_path / 'x' / 'fetch.db'}") as log:
        _exercise(log)


def test_fetch_log_postgresql(pg_url: str) -> None:
    with FetchLog(pg_url) as log:
        _exercise(log)
