"""Receiving articles: files, directories, JSON/JSONL, stdin and URLs (a real HTTP server on 127.0.0.1)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extractors.sources import InputError
from newsflow.runtime import process, runtime
from newsflow.settings import Settings

REPO = Path(__file__).resolve().parent.parent
PAGE = (REPO / "samples" / "es" / "vinh-long-agricultura-alta-tecnologia-2024.html").read_bytes()


def _items(*sources: str, settings: Settings | None = None) -> list:
    return list(runtime(settings or Settings()).iter_sources(list(sources)))


def test_directory_is_read_recursively_in_order() -> None:
    items = _items(str(REPO / "samples"))
    assert not [i for i in items if isinstance(i, InputError)]
    uris = [i.source.uri for i in items]
    assert any(u.endswith("reference/cluster-viii-pact.es.txt") for u in uris)
    assert not any(u.endswith("README.md") for u in uris)
    assert len(items) >= 16
    kinds = {i.media_type for i in items}
    assert kinds == {"text/html", "text/plain"}


def test_json_fields_and_timezone(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(
        json.dumps(
            {
                "url": "https://x.example.vn/a",
                "title": "T",
                "text": "Nội dung bài viết.",
                "published_at": "2024-03-05T08:00:00",
            }
        ),
        encoding="utf-8",
    )
    (item,) = _items(str(path))
    assert item.url == "https://x.example.vn/a" and item.source.site == "x.example.vn"
    assert item.published_at.isoformat() == "2024-03-05T08:00:00"  # kept as received; processing gives the zone
    record = process(item, None)
    assert record.published_at.isoformat() == "2024-03-05T08:00:00+07:00"  # a .vn site: Vietnam time
    assert any(w.startswith("published date 2024-03-05T08:00:00 has no timezone") for w in record.pipeline.warnings)


def test_jsonl_bad_line_is_reported_with_its_number_and_the_rest_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    lines = [
        json.dumps({"text": "Bài một."}),
        "{not json",
        json.dumps({"text": "Bài hai.", "color": "red"}),
        json.dumps({"text": 5}),
        json.dumps({"text": "Bài ba."}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    items = _items(str(path))
    errors = [str(i) for i in items if isinstance(i, InputError)]
    assert [i.content for i in items if not isinstance(i, InputError)] == ["Bài một.", "Bài ba."]
    assert errors[0].startswith(f"{path}:2: invalid JSON")
    assert errors[1].startswith(f"{path}:3: unknown field(s) ['color']")
    assert errors[2].startswith(f"{path}:4: field 'text' (or 'html') must be a non-empty string")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty input"),
        ("binary.txt", b"\x00\x01\x02PNG", "binary content"),
        ("notes.pdf", b"%PDF-1.4", "corrupt PDF"),  # PDFs are read now (extractors/documents.py)
        ("notes.odt", b"PK\x03\x04", "unsupported file type '.odt'"),
        ("bad.json", b'{"text": ', "invalid JSON"),
    ],
)
def test_bad_files_name_the_input_and_the_reason(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    (item,) = _items(str(path))
    assert isinstance(item, InputError)
    assert item.source == str(path) and reason in item.reason


def test_missing_path() -> None:
    (item,) = _items("/nonexistent/article.txt")
    assert isinstance(item, InputError) and "no such file" in item.reason


def test_windows_1258_text_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cp.txt"
    # Windows-1258 writes tones as combining marks after a base letter.
    path.write_bytes("Tiê\u0300n Giang và Bê\u0301n Tre".encode("cp1258"))
    (item,) = _items(str(path))
    import unicodedata

    assert unicodedata.normalize("NFC", item.content) == "Tiền Giang và Bến Tre"


def test_stdin_text() -> None:
    code = (
        f"import sys; sys.path.insert(0, {str(REPO)!r})\n"
        "from extractors.sources import iter_sources\nfrom newsflow.settings import Settings\n"
        "items = list(iter_sources(['-'], Settings()))\n"
        "print(items[0].source.kind, items[0].source.uri, items[0].media_type, len(items))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], input="Sở TN&MT tỉnh Long An.".encode(), capture_output=True, check=True
    ).stdout.decode()
    assert out.split() == ["text", "-", "text/plain", "1"]


class _Site(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/article": (200, "text/html; charset=utf-8", PAGE),
            "/moved": (302, None, b""),
            "/image": (200, "image/png", b"\x89PNG...."),
            "/big": (200, "text/html", b"<p>" + b"x" * 300_000 + b"</p>"),
            "/gone": (404, "text/html", b"not here"),
        }
        status, ctype, body = routes.get(self.path, (404, "text/plain", b"?"))
        self.send_response(status)
        if self.path == "/moved":
            self.send_header("Location", "/article")
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_source_through_a_redirect(site: str) -> None:
    settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], max_body_bytes=200_000, fetch_min_interval=0)
    (item,) = _items(f"{site}/moved", settings=settings)
    assert not isinstance(item, InputError), item
    assert item.source.kind == "url" and item.url == f"{site}/article" and item.media_type == "text/html"
    assert "Vinh Long atrae inversiones" in item.content


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/image", "content type 'image/png'"), ("/big", "body larger than 200000 bytes"), ("/gone", "HTTP 404")],
)
def test_url_failures_are_named(site: str, path: str, reason: str) -> None:
    settings = Settings(fetch_allow_addresses=["127.0.0.1/32"], max_body_bytes=200_000, fetch_min_interval=0)
    (item,) = _items(f"{site}{path}", settings=settings)
    assert isinstance(item, InputError) and reason in item.reason


@pytest.mark.parametrize(
    "url",
    [
        "LOOPBACK/article",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "file:///etc/passwd",
    ],
)
def test_ssrf_guard_blocks_private_targets_unless_allow_listed(site: str, url: str) -> None:
    url = url.replace("LOOPBACK", site)
    (item,) = list(runtime(Settings()).iter_sources([url])) if not url.startswith("file:") else [None]
    if url.startswith("file:"):
        from extractors.fetch import FetchError, check_url

        with pytest.raises(FetchError, match="scheme 'file' is not allowed"):
            check_url(url, Settings())
        return
    assert isinstance(item, InputError)
    assert "non-public address" in item.reason
