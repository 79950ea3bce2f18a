"""A date never costs an article: the one rule for dates without a timezone (extractors.dates), tested directly
and then at every entry point where a date comes in: HTML (meta, JSON-LD, htmldate), JSON, text, feeds,
sitemaps, PDF and DOCX metadata. Each entry point's test checks the record's date and its warning."""

from __future__ import annotations

import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from extractors.acquire.discover import parse_feed, parse_sitemap
from extractors.acquire.session import Acquirer
from extractors.dates import VIETNAM, SiteZone, parse_date, parse_iso, site_zone, with_zone
from extractors.fetch import Fetcher, RobotsCache
from extractors.sources import InputError, iter_sources
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from newsflow.storage.fetchlog import FetchLog
from schemas.models import ArticleRecord, RawArticle, SourceInfo
from tests.documents import pact

BODY_VI = (
    "Ủy ban nhân dân tỉnh Long An tổ chức hội nghị sơ kết công tác quản lý đất đai quý I, đánh giá kết quả "
    "cấp giấy chứng nhận quyền sử dụng đất và chỉ đạo các sở, ngành đẩy nhanh tiến độ số hóa hồ sơ địa chính."
)
BODY_EN = (
    "The port authority opened a new container berth on Tuesday, doubling the terminal's capacity and "
    "cutting waiting times for ships that call at the harbour during the busy season."
)
PLUS_2 = timezone(timedelta(hours=2))


def _one(sources: list[str], settings: Settings | None = None) -> ArticleRecord:
    items = list(runtime(settings or Settings()).iter_sources(sources))
    assert not [i for i in items if isinstance(i, InputError)], items
    (raw,) = items
    return process(raw, None)


def _date_warnings(record: ArticleRecord) -> list[str]:
    return [w for w in record.pipeline.warnings if w.startswith("published date ")]


# --- the rule ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "language", "hints", "offset", "basis"),
    [
        ("https://tuoitre.vn/a.html", None, [], 7, "Vietnamese site"),
        ("tuoitre.vn", "en", [datetime(2024, 1, 1, tzinfo=PLUS_2)], 7, "Vietnamese site"),  # a bare host; .vn wins
        ("https://news.example.com/a", "vi-VN", [], 7, "in Vietnamese"),
        (None, "vi_VN", [], 7, "in Vietnamese"),
        (
            "https://news.example.com/a",
            "de",
            [
                datetime(2024, 1, 1, tzinfo=PLUS_2),
                datetime(2024, 1, 2, tzinfo=UTC),
                datetime(2024, 1, 3, tzinfo=PLUS_2),
            ],
            2,
            "the offset of the page's other dates",
        ),  # the most common offset
        ("https://news.example.com/a", "en", [datetime(2024, 1, 1)], 0, "no zone known for the site"),  # naive: no hint
        ("http://[::1", None, [], 0, "no zone known for the site"),  # an unreadable URL is no hint either
        ("https://example.vnexpress.com/a", "en", [], 0, "no zone known for the site"),  # .vn inside a name is not .vn
    ],
)
def test_site_zone(url: str | None, language: str | None, hints: list[datetime], offset: int, basis: str) -> None:
    zone = site_zone(url, language, hints)
    assert datetime(2024, 5, 1, tzinfo=zone.tz).utcoffset() == timedelta(hours=offset)
    assert zone.basis == basis


def test_with_zone_keeps_an_offset_and_assumes_one_with_a_note() -> None:
    vietnam = SiteZone(VIETNAM, "Vietnamese site")
    aware = datetime(2024, 3, 5, 8, 0, tzinfo=PLUS_2)
    assert with_zone(aware, vietnam) == (aware, None)  # never converted: the stated day stays the day
    value, note = with_zone(datetime(2024, 3, 5, 8, 0), vietnam)
    assert value.isoformat() == "2024-03-05T08:00:00+07:00"
    assert note == "published date 2024-03-05T08:00:00 has no timezone: read as +07:00 (Vietnamese site)"
    value, note = with_zone(date(2024, 3, 5), SiteZone(UTC, "no zone known for the site"))
    assert value.isoformat() == "2024-03-05T00:00:00+00:00"
    assert note == "published date 2024-03-05 has no time: read as 00:00 +00:00 (no zone known for the site)"
    value, note = with_zone(datetime(2024, 3, 5, 8, 0), SiteZone(timezone(-timedelta(hours=3, minutes=30)), "x"))
    assert value.isoformat() == "2024-03-05T08:00:00-03:30" and note is not None and "read as -03:30 (x)" in note


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-03T15:47:42.389Z", "2024-05-03T15:47:42.389000+00:00"),
        ("2025-02-11T23:55:00+0000", "2025-02-11T23:55:00+00:00"),
        ("2026-03-07T08:52:11.000 +07:00", "2026-03-07T08:52:11+07:00"),  # a space before the offset
        ("2026-03-07T08:06+07", "2026-03-07T08:06:00+07:00"),
        ("2026-05-13 15:44", "2026-05-13T15:44:00"),  # naive stays naive
        ("2026-04-20T14:09:42.493", "2026-04-20T14:09:42.493000"),
        ("2024-05-03 15:47:42 UTC", "2024-05-03T15:47:42+00:00"),
        ("2023-11-02", "2023-11-02"),  # a day alone is a date
        ("Wed, 15 May 2024 09:30:00 +0700", "2024-05-15T09:30:00+07:00"),  # RSS
        ("Wed, 15 May 2024 09:30:00", "2024-05-15T09:30:00"),
        ("D:20260312093000+07'00'", "2026-03-12T09:30:00+07:00"),  # PDF
        ("D:20261207160137Z", "2026-12-07T16:01:37+00:00"),
        ("D:20260312093000", "2026-03-12T09:30:00"),
        ("D:20260312", "2026-03-12"),
        ("07/03/2026 08:06", "2026-03-07T08:06:00"),  # Vietnamese portals: day first
        ("08:06 07/03/2026", "2026-03-07T08:06:00"),
        ("07/03/2026", "2026-03-07"),
    ],
)
def test_parse_date_reads_what_sites_feeds_and_documents_write(text: str, expected: str) -> None:
    found = parse_date(text)
    assert found is not None and found.isoformat() == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "yesterday",
        "2024-02-30",
        "2024-13-01T10:00",
        "31/02/2024",
        "D:2024xx",
        "2024-05-03T25:00",
        "Mon, 99 Foo 2024",
    ],
)
def test_parse_date_refuses_what_is_no_date(text: str) -> None:
    assert parse_date(text) is None


def test_parse_iso_is_iso_only() -> None:
    assert parse_iso("2024-03-05") == date(2024, 3, 5)
    assert parse_iso("07/03/2026") is None and parse_iso("Wed, 15 May 2024 09:30:00") is None


# --- HTML --------------------------------------------------------------------------------------------------


def _page(lang: str, head: str, body: str, extra: str = "") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>Tin</title>{head}</head>'
        f"<body><article><h1>Tiêu đề bài viết</h1>{extra}<p>{body}</p><p>{body}</p></article></body></html>"
    )


@pytest.mark.parametrize(
    ("where", "head", "extra", "expected", "warning"),
    [
        (
            "meta",
            '<meta property="article:published_time" content="2024-05-15T16:30:00">',
            "",
            "2024-05-15T16:30:00+07:00",
            "published date 2024-05-15T16:30:00 has no timezone: read as +07:00 (in Vietnamese)",
        ),
        (
            "JSON-LD",
            '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": '
            '"WebPage"}, {"@type": "NewsArticle", "headline": "H", "datePublished": "2024-05-15T16:30:00"}]}</script>',
            "",
            "2024-05-15T16:30:00+07:00",
            "published date 2024-05-15T16:30:00 has no timezone: read as +07:00 (in Vietnamese)",
        ),
        (
            "htmldate",
            "",
            '<p class="date">Ngày 2024-05-15</p>',
            "2024-05-15T00:00:00+07:00",
            "published date 2024-05-15 has no time: read as 00:00 +07:00 (in Vietnamese)",
        ),
    ],
)
def test_html_page_with_a_date_without_timezone_gets_a_record(
    tmp_path: Path, where: str, head: str, extra: str, expected: str, warning: str
) -> None:
    path = tmp_path / "page.html"
    path.write_text(_page("vi", head, BODY_VI, extra), encoding="utf-8")
    record = _one([str(path)])
    assert record.published_at is not None and record.published_at.isoformat() == expected, where
    assert _date_warnings(record) == [warning]


def test_html_page_elsewhere_takes_the_zone_of_its_other_dates_else_utc(tmp_path: Path) -> None:
    hinted = (
        '<meta property="article:published_time" content="2024-05-15T16:30:00">'
        '<meta property="article:modified_time" content="2024-05-16T09:00:00+02:00">'
    )
    (tmp_path / "a.html").write_text(_page("en", hinted, BODY_EN), encoding="utf-8")
    (tmp_path / "b.html").write_text(_page("en", hinted.split(">")[0] + ">", BODY_EN), encoding="utf-8")
    with_hint, without = _one([str(tmp_path / "a.html")]), _one([str(tmp_path / "b.html")])
    assert with_hint.published_at is not None and with_hint.published_at.isoformat() == "2024-05-15T16:30:00+02:00"
    assert "read as +02:00 (the offset of the page's other dates)" in _date_warnings(with_hint)[0]
    assert without.published_at is not None and without.published_at.isoformat() == "2024-05-15T16:30:00+00:00"
    assert "read as +00:00 (no zone known for the site)" in _date_warnings(without)[0]


def test_html_page_with_an_offset_has_no_date_warning(tmp_path: Path) -> None:
    head = '<meta property="article:published_time" content="2024-05-15T16:30:00+09:00">'
    (tmp_path / "a.html").write_text(_page("vi", head, BODY_VI), encoding="utf-8")
    record = _one([str(tmp_path / "a.html")])
    assert record.published_at is not None and record.published_at.isoformat() == "2024-05-15T16:30:00+09:00"
    assert _date_warnings(record) == []


# --- JSON and text inputs ----------------------------------------------------------------------------------


def test_json_input_without_timezone_outside_vietnam_is_utc_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    article = {
        "url": "https://news.example.com/port",
        "language": "en",
        "published_at": "2024-03-05T08:00:00",
        "html": _page("en", "", BODY_EN),
    }
    path.write_text(json.dumps(article), encoding="utf-8")
    record = _one([str(path)])
    assert record.published_at is not None and record.published_at.isoformat() == "2024-03-05T08:00:00+00:00"
    assert _date_warnings(record) == [
        "published date 2024-03-05T08:00:00 has no timezone: read as +00:00 (no zone known for the site)"
    ]


def test_text_input_date_only_is_midnight_in_the_zone_of_its_language(tmp_path: Path) -> None:
    """A JSON text article with no URL and no declared language: its detected language (vi) decides."""
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"text": BODY_VI, "published_at": "2024-03-05"}, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    record = _one([str(path)])
    assert record.language.code == "vi"
    assert record.published_at is not None and record.published_at.isoformat() == "2024-03-05T00:00:00+07:00"
    assert _date_warnings(record) == [
        "published date 2024-03-05T00:00:00 has no timezone: read as +07:00 (in Vietnamese)"
    ]


def test_reprocessing_a_stored_raw_input_gives_the_same_date_and_warning() -> None:
    """The raw input keeps the date as received (naive), so the rule runs again, the same, on reprocess."""
    raw = RawArticle(
        source=SourceInfo(kind="file", uri="a.txt", fetched_at=datetime.now(UTC)),
        content=BODY_VI,
        media_type="text/plain",
        published_at=datetime(2024, 3, 5, 8, 0),
    )
    again = RawArticle.model_validate_json(raw.model_dump_json())
    first, second = process(raw, None), process(again, None)
    assert first.published_at == second.published_at == datetime(2024, 3, 5, 8, 0, tzinfo=VIETNAM)
    assert _date_warnings(first) == _date_warnings(second) != []


def test_json_input_with_a_bad_date_is_refused_naming_the_field(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"text": BODY_EN, "published_at": "5 March"}), encoding="utf-8")
    (error,) = runtime(Settings()).iter_sources([str(path)])
    assert isinstance(error, InputError) and error.reason == "published_at '5 March' is not an ISO 8601 date"


# --- feeds and sitemaps (a local site on 127.0.0.1) --------------------------------------------------------


def _feed(base: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Tin</title>'
        f"<link>{base}/</link><description>Tin mới</description><item><title>Long An sơ kết</title>"
        f"<link>{base}/news/vi.html</link><pubDate>Wed, 15 May 2024 09:30:00</pubDate></item></channel></rss>"
    )


def _news_sitemap(base: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
        f"<url><loc>{base}/news/en.html</loc><lastmod>2024-05-16T10:00:00</lastmod><news:news>"
        "<news:publication><news:name>Port News</news:name><news:language>en</news:language></news:publication>"
        "<news:publication_date>2024-05-16T08:00:00</news:publication_date><news:title>Berth</news:title>"
        "</news:news></url></urlset>"
    )


@contextmanager
def _site() -> Iterator[tuple[str, dict[str, int]]]:
    """Serves a feed, a news sitemap and two article pages without dates of their own; counts requests."""
    hits: dict[str, int] = {}
    pages = {"/news/vi.html": _page("vi", "", BODY_VI), "/news/en.html": _page("en", "", BODY_EN)}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits[self.path] = hits.get(self.path, 0) + 1
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/feed.xml":
                body, ctype = _feed(base), "application/rss+xml"
            elif self.path == "/sitemap.xml":
                body, ctype = _news_sitemap(base), "application/xml"
            elif self.path in pages:
                body, ctype = pages[self.path], "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data = body.encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def _fetch_settings() -> Settings:
    return Settings(fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0.0, fetch_retries=1, http_timeout=2.0)  # type: ignore[arg-type]


def _acquire(source: str, log: FetchLog, stored: set[str]) -> list[RawArticle]:
    settings = _fetch_settings()
    with (
        Fetcher(settings, robots=RobotsCache()) as fetcher,
        Acquirer(settings, log=log, is_stored=stored.__contains__, fetcher=fetcher) as acquirer,
    ):
        items = list(iter_sources([source], settings, acquirer=acquirer))
    assert not [i for i in items if isinstance(i, InputError)], items
    return [i for i in items if isinstance(i, RawArticle)]


def test_feed_date_without_timezone_is_read_in_the_site_zone(tmp_path: Path) -> None:
    """feedparser alone would read "09:30" as UTC; the entry's own text is read by the rule instead."""
    with _site() as (base, _hits), FetchLog(f"sqlite:///{tmp_path / 'fetch.db'}") as log:
        (raw,) = _acquire(f"feed:{base}/feed.xml", log, set())
    assert raw.published_at == datetime(2024, 5, 15, 9, 30)  # as the feed wrote it
    record = process(raw, None)
    assert record.published_at is not None and record.published_at.isoformat() == "2024-05-15T09:30:00+07:00"
    assert _date_warnings(record) == [
        "published date 2024-05-15T09:30:00 has no timezone: read as +07:00 (in Vietnamese)"
    ]


def test_news_sitemap_date_without_timezone_gets_a_record_and_lastmod_still_compares(tmp_path: Path) -> None:
    import hashlib

    stored: set[str] = set()
    with _site() as (base, hits), FetchLog(f"sqlite:///{tmp_path / 'fetch.db'}") as log:
        (raw,) = _acquire(f"sitemap:{base}/sitemap.xml", log, stored)
        stored.add(hashlib.sha256(raw.content.encode("utf-8")).hexdigest())
        # Again: the page is known and stored, and its naive <lastmod> (read in the site's zone) is older than
        # the fetch, so it is not requested; comparing a naive date with the stored aware one would raise.
        assert _acquire(f"sitemap:{base}/sitemap.xml", log, stored) == []
        assert hits["/news/en.html"] == 1
    record = process(raw, None)
    assert record.published_at is not None and record.published_at.isoformat() == "2024-05-16T08:00:00+00:00"
    assert _date_warnings(record) == [
        "published date 2024-05-16T08:00:00 has no timezone: read as +00:00 (no zone known for the site)"
    ]


def test_feed_and_sitemap_parsers_keep_dates_as_written() -> None:
    (entry,) = parse_feed(_feed("https://baolongan.vn").encode(), "https://baolongan.vn/feed.xml")
    assert entry.published_at == datetime(2024, 5, 15, 9, 30)
    _kind, (item,) = parse_sitemap(_news_sitemap("https://port.example.com").encode(), "https://port.example.com/")
    assert (item.published_at, item.updated_at) == (datetime(2024, 5, 16, 8, 0), datetime(2024, 5, 16, 10, 0))
    zoned = _feed("https://a.vn").replace("09:30:00<", "09:30:00 +0200<")
    assert parse_feed(zoned.encode(), "https://a.vn/feed.xml")[0].published_at == datetime(
        2024, 5, 15, 9, 30, tzinfo=PLUS_2
    )


# --- documents ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fonts() -> None:
    if not (pact.FONT.is_file() and pact.FONT_BOLD.is_file()):
        import os

        why = f"{pact.FONT} missing: apt-get install fonts-dejavu-core"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def test_pdf_creation_date_without_timezone_becomes_the_published_date(tmp_path: Path, fonts: None) -> None:
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(pact.text_pdf(tmp_path / "made.pdf")))
    writer.add_metadata({"/CreationDate": "D:20260312093000"})
    path = tmp_path / "pact.pdf"
    with path.open("wb") as out:
        writer.write(out)
    record = _one([str(path)])
    assert record.published_at is not None and record.published_at.isoformat() == "2026-03-12T09:30:00+07:00"
    assert _date_warnings(record) == [
        "published date 2026-03-12T09:30:00 has no timezone: read as +07:00 (in Vietnamese)"
    ]


def _with_created(docx: bytes, created: str) -> bytes:
    source, out = zipfile.ZipFile(io.BytesIO(docx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:created[^>]*>)[^<]*", rb"\g<1>" + created.encode(), data)
            target.writestr(info, data)
    return out.getvalue()


def test_docx_created_date_without_timezone_becomes_the_published_date(tmp_path: Path, fonts: None) -> None:
    made = pact.docx_file(tmp_path / "made.docx").read_bytes()
    # python-docx's blank template stamps the same created date on every file: that is not the document's date
    (tmp_path / "template.docx").write_bytes(made)
    assert _one([str(tmp_path / "template.docx")]).published_at is None
    (tmp_path / "pact.docx").write_bytes(_with_created(made, "2026-03-12T09:30:00"))
    record = _one([str(tmp_path / "pact.docx")])
    assert record.published_at is not None and record.published_at.isoformat() == "2026-03-12T09:30:00+07:00"
    assert _date_warnings(record) == [
        "published date 2026-03-12T09:30:00 has no timezone: read as +07:00 (in Vietnamese)"
    ]
