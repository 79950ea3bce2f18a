"""A local news site for the acquisition tests: pages, a feed, sitemaps, robots.txt, redirects, slow and failing
endpoints, oversized/binary/compressed bodies and bad encodings, served by ThreadingHTTPServer on 127.0.0.1.

Every page is written by the team in the shapes real portals have. `Site.hits` counts requests per path and
`Site.statuses` the status sent, so tests can prove what was (not) fetched.
"""

from __future__ import annotations

import functools
import gzip
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LONG_TEXT = (
    "Chiều 15/5, Sở Tài nguyên và Môi trường tỉnh Long An tổ chức hội nghị sơ kết công tác quản lý đất đai quý I "
    "năm 2024. Phó Giám đốc Sở yêu cầu các phòng chuyên môn đẩy nhanh tiến độ cấp giấy chứng nhận quyền sử dụng "
    "đất cho người dân, giải quyết dứt điểm các hồ sơ tồn đọng và tăng cường kiểm tra việc chấp hành pháp luật về "
    "đất đai tại các huyện Đức Hòa, Bến Lức và Cần Giuộc. Theo báo cáo, trong quý I toàn tỉnh đã cấp hơn hai nghìn "
    "giấy chứng nhận, tăng mười hai phần trăm so với cùng kỳ năm trước."
)


def to_cp1258(text: str) -> bytes:
    """Vietnamese as Windows-1258 writes it: base letters (with circumflex, breve, horn) plus a combining tone."""
    import unicodedata

    out = bytearray()
    for char in text:
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        parts = unicodedata.normalize("NFD", char)
        base, tones = parts[0], ""
        for mark in parts[1:]:
            if mark in "\u0300\u0301\u0303\u0309\u0323":
                tones += mark
            else:
                base = unicodedata.normalize("NFC", base + mark)
        out += (base + tones).encode("cp1258")
    return bytes(out)


def compress(data: bytes, coding: str) -> bytes:
    """`data` as a server sends it with Content-Encoding gzip, deflate, br or zstd."""
    if coding == "gzip":
        return gzip.compress(data)
    if coding == "deflate":
        import zlib

        return zlib.compress(data)
    if coding == "br":
        import brotli

        return bytes(brotli.compress(data, quality=5))
    import zstandard

    return bytes(zstandard.ZstdCompressor(level=3).compress(data))


@functools.cache
def bomb(coding: str) -> bytes:
    """40 MiB of zeros as a few KiB of gzip, br or zstd (made once: compressing it takes a while)."""
    plain = b"<html>" + b"\0" * (40 * 1024 * 1024)
    return gzip.compress(plain, compresslevel=9) if coding == "gzip" else compress(plain, coding)


def article(
    title: str,
    body: str,
    *,
    lang: str = "vi",
    date: str = "2024-05-15T16:30:00+07:00",
    extra: str = "",
    charset_meta: str = "utf-8",
) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="{charset_meta}"><title>{title}</title>'
        f'<meta property="article:published_time" content="{date}"></head><body>'
        f'<nav><a href="/">Trang chủ</a> <a href="/thoi-su/">Thời sự</a></nav>'
        f"<article><h1>{title}</h1>{paragraphs}</article>{extra}"
        "<footer>Cơ quan chủ quản: Ủy ban nhân dân tỉnh</footer></body></html>"
    )


A1 = article("Long An sơ kết công tác quản lý đất đai quý I", LONG_TEXT)
# The same story syndicated by another paper: one sentence changed, different furniture around it.
A1_SYNDICATED = article(
    "Long An: sơ kết quản lý đất đai quý I",
    LONG_TEXT.replace("Chiều 15/5", "Chiều ngày 15/5"),
    extra="<aside>Tin liên quan: Bến Tre phát triển du lịch</aside>",
)
A2 = article(
    "Bến Tre chuẩn bị ứng phó hạn mặn mùa khô",
    "Ủy ban nhân dân tỉnh Bến Tre chỉ đạo các sở, ngành "
    "chuẩn bị phương án trữ nước ngọt, bảo vệ vườn cây ăn trái và hỗ trợ người dân các huyện ven biển "
    "trong mùa khô năm nay.\n\nSở Nông nghiệp và Phát triển nông thôn được giao theo dõi độ mặn hằng ngày.",
)
A3 = article(
    "Trà Vinh khai mạc hội chợ OCOP",
    "Sáng 20/6, Sở Công Thương tỉnh Trà Vinh khai mạc hội chợ sản "
    "phẩm OCOP với hơn một trăm gian hàng của các hợp tác xã và doanh nghiệp trong tỉnh.",
)
CP1258_TEXT = "Tiền Giang và Bến Tre ký kết giao ước thi đua năm 2024 giữa các Sở Tài nguyên và Môi trường."
ROBOTS = "User-agent: *\nDisallow: /private/\nCrawl-delay: {delay}\n\nSitemap: /sitemap_index.xml\n"


def _feed(base: str) -> str:
    items = [
        (
            "Long An sơ kết công tác quản lý đất đai quý I",
            "/news/a1.html?utm_source=rss&utm_medium=feed",
            "Wed, 15 May 2024 09:30:00 GMT",
        ),
        ("Bến Tre chuẩn bị ứng phó hạn mặn mùa khô", "/news/a2.html", "Thu, 16 May 2024 02:00:00 GMT"),
        ("Long An: sơ kết quản lý đất đai quý I", "/syndicated/a1-copy.html", "Thu, 16 May 2024 03:00:00 GMT"),
        ("Tin nội bộ", "/private/secret.html", "Thu, 16 May 2024 04:00:00 GMT"),
        ("Bài đã gỡ", "/news/missing.html", "Thu, 16 May 2024 05:00:00 GMT"),
    ]
    entries = "".join(
        f"<item><title>{t}</title><link>{base}{link}</link><pubDate>{d}</pubDate></item>" for t, link, d in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Báo Long An - Thời sự'
        f"</title><link>{base}/</link><description>Tin mới</description>{entries}</channel></rss>"
    )


def _sitemap_index(base: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{base}/sitemap-news.xml</loc><lastmod>2024-06-20</lastmod></sitemap></sitemapindex>"
    )


def _sitemap(base: str) -> str:
    urls = [
        ("/amp/news/a1.html", "2024-05-15"),
        ("/news/a3.html", "2024-06-20T08:00:00+07:00"),
        ("/redirect/a2", "2024-05-16"),
    ]
    body = "".join(f"<url><loc>{base}{u}</loc><lastmod>{m}</lastmod></url>" for u, m in urls)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>'


@dataclass
class Site:
    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    statuses: list[tuple[str, int]] = field(default_factory=list)
    robots_delay: int = 0
    robots_status: int = 200
    hosts: list[str] = field(default_factory=list)  # the Host header of every request
    retry_after: str = "7"  # what /busy sends with its first answer (seconds or an HTTP-date)
    busy_status: int = 503  # that first answer's status (429 or 503)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def hit(self, path: str) -> int:
        return self.hits[path]


ETAG_A1 = '"a1-v1"'
ETAG_COPY = '"copy-v1"'
LAST_MODIFIED_A2 = formatdate(1715821200, usegmt=True)


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(
            self,
            status: int,
            body: bytes = b"",
            ctype: str | None = "text/html; charset=utf-8",
            headers: dict[str, str] | None = None,
            length: int | None = None,
        ) -> None:
            """`length`: a Content-Length promising more than `body`; the connection is closed after it."""
            with site.lock:
                site.statuses.append((self.path, status))
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            if length is not None:
                self.close_connection = True
            self.end_headers()
            if body:
                self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            with site.lock:
                site.hosts.append(self.headers.get("Host", ""))
                site.hits[path.split("?")[0]] += 1
                count = site.hits[path.split("?")[0]]
            base = site.base
            if path == "/robots.txt":
                if site.robots_status != 200:
                    return self._send(site.robots_status, b"down", "text/plain")
                return self._send(200, ROBOTS.format(delay=site.robots_delay).encode(), "text/plain")
            if path.startswith("/news/a1.html") or path == "/amp/news/a1.html":
                if self.headers.get("If-None-Match") == ETAG_A1:
                    return self._send(304, ctype=None, headers={"ETag": ETAG_A1})
                return self._send(200, A1.encode(), headers={"ETag": ETAG_A1})
            if path == "/news/a2.html":
                if self.headers.get("If-Modified-Since") == LAST_MODIFIED_A2:
                    return self._send(304, ctype=None)
                return self._send(200, A2.encode(), headers={"Last-Modified": LAST_MODIFIED_A2})
            if path == "/news/a3.html":
                return self._send(200, A3.encode())  # no validators at all
            if path == "/syndicated/a1-copy.html":
                if self.headers.get("If-None-Match") == ETAG_COPY:
                    return self._send(304, ctype=None, headers={"ETag": ETAG_COPY})
                return self._send(200, A1_SYNDICATED.encode(), headers={"ETag": ETAG_COPY})
            if path == "/mirror/a2.html":  # another site republishing a2 word for word
                return self._send(200, A2.encode())
            if path == "/private/secret.html":
                return self._send(200, article("Bí mật", "Không được thu thập.").encode())
            if path == "/feed.xml":
                return self._send(200, _feed(base).encode(), "application/rss+xml")
            if path == "/sitemap_index.xml":
                return self._send(200, _sitemap_index(base).encode(), "application/xml")
            if path == "/sitemap-news.xml":
                return self._send(200, _sitemap(base).encode(), "application/xml")
            if path == "/redirect/a2":
                return self._send(301, ctype=None, headers={"Location": "/news/a2.html"})
            if path.startswith("/redirect-to/"):  # to a host name (a test resolves it), same port
                name, port = path.removeprefix("/redirect-to/"), base.rsplit(":", 1)[1]
                return self._send(302, ctype=None, headers={"Location": f"http://{name}:{port}/news/a3.html"})
            if path == "/loop":
                return self._send(302, ctype=None, headers={"Location": "/loop"})
            if path == "/to-metadata":
                return self._send(302, ctype=None, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
            if path == "/slow":
                time.sleep(1.5)
                return self._send(200, A3.encode())
            if path == "/flaky":
                if count == 1:
                    return self._send(503, b"busy", headers={"Retry-After": "0"})
                return self._send(200, A3.encode())
            if path == "/always-500":
                return self._send(500, b"oops")
            if path == "/too-many":
                return self._send(429, b"slow down", headers={"Retry-After": "3600"})
            if path == "/busy":  # one 429/503 with the site's Retry-After, then the page
                if count == 1:
                    return self._send(site.busy_status, b"busy", headers={"Retry-After": site.retry_after})
                return self._send(200, A3.encode())
            if path.endswith("-truncated"):  # a complete HTTP message whose compressed stream is cut short
                coding = path.strip("/").removesuffix("-truncated")
                whole = compress(A3.encode(), coding)
                return self._send(200, whole[: len(whole) * 2 // 3], headers={"Content-Encoding": coding})
            if path == "/short-body":  # the connection closes before Content-Length bytes arrived
                page = A3.encode()
                return self._send(200, page[:200], length=len(page))
            if path == "/chunked-cut":  # a chunked body whose connection closes before the last chunk
                with site.lock:
                    site.statuses.append((path, 200))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.close_connection = True
                self.end_headers()
                self.wfile.write(b"%x\r\n%s\r\n" % (300, A3.encode()[:300]))
                return None
            if path == "/short-gzip":
                whole = compress(A3.encode(), "gzip")
                return self._send(200, whole[:100], headers={"Content-Encoding": "gzip"}, length=len(whole))
            if path == "/big":
                return self._send(200, b"<html><body><p>" + b"x" * 300_000 + b"</p></body></html>")
            if path == "/bomb":
                return self._send(200, bomb("gzip"), headers={"Content-Encoding": "gzip"})
            if path in ("/brotli", "/zstd"):
                coding = path.lstrip("/").replace("brotli", "br")
                return self._send(200, compress(A3.encode(), coding), headers={"Content-Encoding": coding})
            if path in ("/br-bomb", "/zstd-bomb"):
                coding = path.lstrip("/").removesuffix("-bomb")
                return self._send(200, bomb(coding), headers={"Content-Encoding": coding})
            if path == "/br-corrupt":
                return self._send(200, b"\xff\xfe not brotli at all", headers={"Content-Encoding": "br"})
            if path == "/unknown-coding":
                return self._send(200, A3.encode(), headers={"Content-Encoding": "lzma"})
            if path == "/gzipped":
                return self._send(200, gzip.compress(A3.encode()), headers={"Content-Encoding": "gzip"})
            if path == "/report.pdf":
                return self._send(200, b"%PDF-1.4 binary", "application/pdf")
            if path == "/photo.png":  # a type no reader accepts (PDF/DOCX are documents now)
                return self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")
            if path == "/binary-as-html":
                return self._send(200, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "text/html")
            if path == "/cp1258.html":
                body = article("Tiền Giang", CP1258_TEXT, charset_meta="windows-1258")
                return self._send(200, to_cp1258(body), "text/html; charset=windows-1258")
            if path == "/wrong-declared.html":
                return self._send(200, article("Tiền Giang", CP1258_TEXT).encode(), "text/html; charset=iso-8859-1")
            if path == "/undeclared-cp1258.html":
                body = article("Tiền Giang", CP1258_TEXT, charset_meta="").replace('<meta charset="">', "")
                return self._send(200, to_cp1258(body), "text/html")
            if path == "/mojibake.html":
                broken = CP1258_TEXT.encode("utf-8").decode("latin-1")  # a CMS that once read UTF-8 as Latin-1
                return self._send(200, article("Tiền Giang", broken).encode("utf-8"), "text/html; charset=utf-8")
            return self._send(404, b"not found")

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):  # a client that gave up on a body (tests do) is fine
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serve(address: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    """The site on `address` (HTTPS with `tls`, a server-side context holding its certificate)."""
    site = Site()
    server = _Server((address, port), _handler(site))
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    site.base = f"{'https' if tls else 'http'}://{address}:{server.server_address[1]}"
    with serving(server):
        yield site


@contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """`server` answering from a daemon thread for the block; shut down and closed after it."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
