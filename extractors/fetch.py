"""Fetching URLs politely, with hard limits and an SSRF guard.

URLs come from operators and from Prefect UI parameters, which are untrusted input: a URL must not reach
loopback, link-local (cloud metadata), private or reserved addresses unless settings allow-list them. The
check runs after DNS resolution and again on every redirect.

Politeness (`Fetcher`): robots.txt is honoured (RFC 9309: a missing robots.txt allows everything, an
unreachable one - 5xx, timeout - disallows everything for now) except for the hosts in
`fetch_ignore_robots`; one process-wide gate per host spaces requests by `fetch_min_interval` (or the
robots.txt Crawl-delay, whichever is longer) and allows `fetch_host_concurrency` requests in flight (per
process: pass the Fetcher a `Gate` backed by shared limits to hold them across processes); the
User-Agent names the tool and the `contact` setting; `etag`/`last_modified` make a conditional GET; only
transient failures are retried (429 honouring Retry-After, 500/502/503/504, timeouts, connect errors, a
connection that ends inside the body), with exponential backoff. Retry-After (seconds or HTTP-date) sets the
wait when it is longer than the backoff; one over `fetch_max_retry_after` fails the fetch at once, without
sleeping. A TLS certificate that fails verification is permanent: never retried, and named as such.

Limits, each failing with a `FetchError` that names it: connect and read timeouts plus a deadline for the
whole body, `max_body_bytes` (checked on Content-Length and while streaming, never after reading),
`max_redirects`, allowed content types, and a decompression-bomb guard (gzip, deflate, br and zstd are
decoded here, in bounded steps, and a body whose ratio exceeds `fetch_max_decompression_ratio` is refused).
A truncated body is a failure, never a short page: fewer bytes than Content-Length (or a chunked body cut
off) is "truncated body: the connection ended after N of M bytes", retried; a complete HTTP message whose
compressed stream stops early is "truncated body: the <coding> stream ends early", not retried. (A body
delimited only by the connection closing, with no Content-Length and no compression, cannot be checked.)

DNS rebinding: the host of every hop is resolved once, by `resolve`; the SSRF guard checks those addresses
and the connection goes to one of them (`PinnedBackend`), so a second, different DNS answer is never used.
TLS still verifies the certificate for the URL's host name (SNI) and the Host header names it too.
Environment proxies are not used (a proxy would connect on its own, past the guard).
"""

from __future__ import annotations

import ipaddress
import math
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from fnmatch import fnmatch
from typing import Any, Literal, Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from extractors.acquire.encoding import Decoded, DecodeError, decode_body
from extractors.config import FetchConfig
from extractors.documents import DOCUMENT_TYPES

ARTICLE_TYPES = ("text/html", "application/xhtml+xml", "text/plain")
ALLOWED_TYPES = ARTICLE_TYPES  # the name earlier callers import
XML_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
GZIP_TYPES = ("application/gzip", "application/x-gzip", "application/octet-stream")
DISCOVERY_TYPES = ARTICLE_TYPES + XML_TYPES + GZIP_TYPES + DOCUMENT_TYPES  # a URL may be a PDF/DOCX pact
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
ROBOTS_TOKEN = "newsflow"
ROBOTS_MAX_BYTES = 500 * 1024  # RFC 9309: at least 500 KiB must be parsed
ROBOTS_TTL = 3600.0
ROBOTS_FAILURE_TTL = 60.0

Outcome = Literal["blocked", "disallowed", "failed"]


class FetchError(Exception):
    """A URL could not be fetched; the message says why.

    `kind` is "blocked" (SSRF guard), "disallowed" (robots.txt) or "failed"; `status` is the last HTTP
    status when there was one; `attempts` counts the requests made for the failing hop.
    """

    def __init__(
        self,
        reason: str,
        *,
        kind: Outcome = "failed",
        status: int | None = None,
        attempts: int = 1,
        final_url: str | None = None,
        certificate: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: Outcome = kind
        self.status = status
        self.attempts = attempts
        self.final_url = final_url
        self.certificate = certificate  # a TLS certificate verification failure (permanent, never retried)


@dataclass
class Response:
    """A fetched (or not-modified) response: the body is raw bytes, content-decoded but not charset-decoded."""

    url: str
    final_url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None
    attempts: int = 1
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    def decode(self) -> Decoded:
        """The body as text (declared/sniffed/wrong-declared charsets, Windows-1258, mojibake repair)."""
        return decode_body(self.body, self.charset)


@dataclass
class Page:
    url: str
    text: str
    media_type: Literal["text/html", "text/plain"]
    status: int
    encoding_note: str | None = None


# --- SSRF guard ------------------------------------------------------------------------------------------


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Whether an address is public is decided here, from the IANA IPv4 and IPv6 Special-Purpose Address
# Registries (RFC 6890 and the RFCs that added blocks since) plus multicast, not by `ipaddress.is_global`:
# Python's says True for NAT64 (64:ff9b::/96, 64:ff9b:1::/48), 6to4 (2002::/16), IPv4-compatible (::/96)
# and site-local (fec0::/10) addresses, so `http://[64:ff9b::7f00:1]/` reached 127.0.0.1 through a NAT64
# gateway. Each entry is (block, globally reachable); the most specific block an address is in decides.
_IPV4_BLOCKS: tuple[tuple[str, bool], ...] = (
    ("0.0.0.0/8", False),  # "this network"; 0.0.0.0/32 "this host"
    ("10.0.0.0/8", False),  # private-use
    ("100.64.0.0/10", False),  # shared address space (carrier-grade NAT)
    ("127.0.0.0/8", False),  # loopback
    ("169.254.0.0/16", False),  # link-local (cloud metadata)
    ("172.16.0.0/12", False),  # private-use
    ("192.0.0.0/24", False),  # IETF protocol assignments: DS-Lite, dummy, NAT64/DNS64 discovery, ...
    ("192.0.0.9/32", True),  # PCP anycast
    ("192.0.0.10/32", True),  # TURN anycast
    ("192.0.2.0/24", False),  # documentation (TEST-NET-1)
    ("192.31.196.0/24", True),  # AS112-v4
    ("192.52.193.0/24", True),  # AMT
    ("192.88.99.0/24", False),  # deprecated 6to4 relay anycast
    ("192.168.0.0/16", False),  # private-use
    ("192.175.48.0/24", True),  # direct delegation AS112
    ("198.18.0.0/15", False),  # benchmarking
    ("198.51.100.0/24", False),  # documentation (TEST-NET-2)
    ("203.0.113.0/24", False),  # documentation (TEST-NET-3)
    ("224.0.0.0/4", False),  # multicast
    ("240.0.0.0/4", False),  # reserved, and 255.255.255.255 limited broadcast
)
# IPv6: only global unicast (2000::/3) is public; outside it every block is special or unallocated (loopback,
# unspecified, IPv4-compatible, discard, unique-local, link-local, site-local, multicast, SRv6 SIDs, ...)
# except the NAT64 well-known prefix, which `_embedded_ipv4` handles with IPv4-mapped, 6to4 and Teredo.
_IPV6_BLOCKS: tuple[tuple[str, bool], ...] = (
    ("2000::/3", True),  # global unicast
    ("2001::/23", False),  # IETF protocol assignments: benchmarking, deprecated ORCHID, ...
    ("2001:1::1/128", True),  # PCP anycast
    ("2001:1::2/128", True),  # TURN anycast
    ("2001:1::3/128", True),  # DNS-SD SRP anycast
    ("2001:3::/32", True),  # AMT
    ("2001:4:112::/48", True),  # AS112-v6
    ("2001:20::/28", True),  # ORCHIDv2
    ("2001:30::/28", True),  # drone remote ID DETs
    ("2001:db8::/32", False),  # documentation
    ("2620:4f:8000::/48", True),  # direct delegation AS112
    ("3fff::/20", False),  # documentation
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # well-known prefix (RFC 6052): the IPv4 address in the last 32 bits
_6TO4 = ipaddress.IPv6Network("2002::/16")  # the IPv4 address in bits 16-47
_TEREDO = ipaddress.IPv6Network("2001::/32")  # server IPv4 in bits 32-63, client IPv4 (xor'd) in the last 32


def _table(blocks: tuple[tuple[str, bool], ...]) -> list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, bool]]:
    nets = [(ipaddress.ip_network(block), public) for block, public in blocks]
    return sorted(nets, key=lambda item: item[0].prefixlen, reverse=True)  # most specific first


_IPV4_TABLE, _IPV6_TABLE = _table(_IPV4_BLOCKS), _table(_IPV6_BLOCKS)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: IPv4-mapped, NAT64 well-known prefix, 6to4, Teredo (the
    server and the client), IPv4-compatible (::a.b.c.d; deprecated, refused anyway)."""
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in _NAT64 or (int(ip) >> 32 == 0 and int(ip) > 1):  # NAT64, or IPv4-compatible (not :: or ::1)
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    if ip.sixtofour is not None:
        return [ip.sixtofour]
    if ip.teredo is not None:
        return list(ip.teredo)
    return []


def is_public_address(ip: IPAddress) -> bool:
    """Whether `ip` is a public (globally reachable) address by the IANA special-purpose registries; an IPv6
    address that carries an IPv4 address (mapped, NAT64, 6to4, Teredo) is public only if those are."""
    if isinstance(ip, ipaddress.IPv4Address):
        return next((public for net, public in _IPV4_TABLE if ip in net), True)
    inside = _embedded_ipv4(ip)
    if ip.ipv4_mapped is not None or ip in _NAT64 or ip in _6TO4 or ip in _TEREDO:
        return all(is_public_address(v4) for v4 in inside)
    return next((public for net, public in _IPV6_TABLE if ip in net), False)


def _allowed(ip: IPAddress, settings: FetchConfig) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for item in settings.fetch_allow_addresses:
        if ip in ipaddress.ip_network(item, strict=False):
            return True
    return is_public_address(ip)


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to: the one DNS lookup a hop gets (tests replace it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))


def _checked_addresses(host: str, port: int, settings: FetchConfig) -> list[str]:
    try:
        addresses = resolve(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
        raise FetchError(f"cannot resolve host {host!r}: {reason}") from None
    if not addresses:
        raise FetchError(f"cannot resolve host {host!r}: no addresses")
    for address in addresses:
        ip = ipaddress.ip_address(address)
        if not _allowed(ip, settings):
            inside = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else []
            named = f" (IPv4 {', '.join(map(str, inside))} inside)" if inside else ""
            raise FetchError(
                f"host {host!r} resolves to {ip}{named}, a non-public address (not allow-listed)", kind="blocked"
            )
    return addresses


def check_url(url: str, settings: FetchConfig) -> list[str]:
    """Raise FetchError(kind="blocked") if the URL's scheme or any address its host resolves to is forbidden;
    return the checked addresses (the only ones a `Fetcher` then connects to)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"scheme {parts.scheme or '(none)'!r} is not allowed (http and https only)", kind="blocked")
    host = parts.hostname
    if not host:
        raise FetchError("URL has no host", kind="blocked")
    try:
        port = parts.port
    except ValueError:
        raise FetchError("URL has an invalid port", kind="blocked") from None
    return _checked_addresses(host, port or (443 if parts.scheme == "https" else 80), settings)


class PinnedBackend(httpcore.NetworkBackend):
    """Connects to the addresses the SSRF guard checked, never to a second DNS answer (DNS rebinding).

    `pin()` records the checked addresses of (host, port) before each hop; `connect_tcp` connects to one of
    them. httpcore still does TLS with the URL's host name (SNI and certificate verification) and httpx
    still sends it in the Host header: only the address the socket connects to is fixed. A host nobody
    pinned is resolved and checked here, so nothing bypasses the guard.
    """

    def __init__(self, settings: FetchConfig) -> None:
        self.settings = settings
        self._inner = httpcore.SyncBackend()
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, int], list[str]] = {}

    def pin(self, host: str, port: int, addresses: list[str]) -> None:
        with self._lock:
            self._pins[(host.lower(), port)] = addresses

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        with self._lock:
            addresses = self._pins.get((host.lower(), port))
        if addresses is None:
            try:
                addresses = _checked_addresses(host, port, self.settings)
            except FetchError as exc:
                raise httpcore.ConnectError(exc.reason) from None
        error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc  # try the next checked address, as a resolver-driven connect would
        assert error is not None
        raise error

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def pinned_transport(backend: PinnedBackend) -> httpx.HTTPTransport:
    """An httpx transport whose connections all go through `backend` (no proxies: they would bypass it)."""
    transport = httpx.HTTPTransport(trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool):  # httpx changed its internals: refuse, never go unpinned
        raise RuntimeError("httpx.HTTPTransport has no httpcore pool to pin; check the httpx version")
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=backend,
    )
    return transport


# --- per-host politeness ---------------------------------------------------------------------------------


class HostGate:
    """Process-wide spacing and concurrency per host (shared by every Fetcher and thread of the process)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}

    @contextmanager
    def slot(self, host: str, interval: float, concurrency: int) -> Iterator[float]:
        """Hold one of `concurrency` slots of `host`, starting at least `interval` s after the previous start.

        Yields the seconds waited for the spacing.
        """
        with self._lock:
            semaphore = self._slots.setdefault((host, concurrency), threading.BoundedSemaphore(concurrency))
        semaphore.acquire()
        try:
            with self._lock:
                now = self.clock()
                start = max(now, self._next.get(host, now))
                self._next[host] = start + interval
            wait = start - now
            if wait > 0:
                self.sleep(wait)
            yield wait
        finally:
            semaphore.release()


GATE = HostGate()


class Gate(Protocol):
    """What spaces and bounds requests per host: `HostGate` in one process; a gate backed by shared limits
    (e.g. Prefect global concurrency/rate limits) makes them hold across processes and machines."""

    def slot(self, host: str, interval: float, concurrency: int) -> AbstractContextManager[float]: ...


# --- robots.txt --------------------------------------------------------------------------------------------


@dataclass
class _Robots:
    expires: float
    parser: object | None  # a protego.Protego, or None for "allow all"
    disallow_all: str | None = None  # the reason everything is disallowed (robots.txt unreachable)


class RobotsCache:
    """robots.txt per origin, kept for an hour (a failure for a minute)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._by_origin: dict[str, _Robots] = {}

    def get(self, origin: str) -> _Robots | None:
        with self._lock:
            entry = self._by_origin.get(origin)
        return entry if entry is not None and entry.expires > self.clock() else None

    def put(self, origin: str, entry: _Robots) -> None:
        with self._lock:
            self._by_origin[origin] = entry


ROBOTS = RobotsCache()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"


# --- the client ------------------------------------------------------------------------------------------


def user_agent(settings: FetchConfig) -> str:
    return settings.user_agent + (f" contact: {settings.contact}" if settings.contact else "")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


ENCODINGS = ("gzip", "x-gzip", "deflate", "br", "zstd")
ACCEPT_ENCODING = "gzip, deflate, br, zstd"
_STEP = 64 * 1024  # most output one decoding step may produce before the limits are checked
_ZSTD_SLICE = 32  # zstd input per step: a 128 KiB block costs at least 4 bytes, so <= 1 MiB out per slice


class _Decompressor:
    """gzip/deflate/br/zstd in bounded steps: output never exceeds the body limit, ratio never the guard.

    Each step decodes a bounded amount (zlib `max_length`, brotli `output_buffer_limit`, zstd fed in slices
    too small to expand past about 1 MiB) and the limits are checked after every step, so a bomb is refused
    before it is inflated, whichever encoding carries it.
    """

    def __init__(self, encoding: str, limit: int, ratio: float) -> None:
        self.encoding = encoding
        self.limit = limit
        self.ratio = ratio
        self.raw_deflate = False
        self.compressed = 0
        self.total = 0
        self.inflater: Any = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            self.inflater = zlib.decompressobj(47 if encoding in ("gzip", "x-gzip") else 15)
        elif encoding == "br":
            import brotli

            self.inflater = brotli.Decompressor()
        elif encoding == "zstd":
            import zstandard

            self.inflater = zstandard.ZstdDecompressor().decompressobj()
        else:
            raise FetchError(f"unsupported content-encoding {encoding!r} (supported: {', '.join(ENCODINGS)})")

    def _count(self, piece: bytes, out: bytearray) -> None:
        self.total += len(piece)
        out += piece
        if self.total > self.limit:
            raise FetchError(
                f"decompressed body larger than {self.limit} bytes "
                f"({self.compressed} bytes compressed): decompression bomb guard"
            )
        if self.total > 1024 * 1024 and self.total > self.ratio * max(self.compressed, 1):
            raise FetchError(
                f"compression ratio over {self.ratio:g}:1 ({self.total} bytes from "
                f"{self.compressed}): decompression bomb guard"
            )

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        if self.encoding == "br":
            self._feed_brotli(chunk, out)
        elif self.encoding == "zstd":
            self._feed_zstd(chunk, out)
        else:
            self._feed_zlib(chunk, out)
        return bytes(out)

    def finished(self) -> bool:
        """Whether the compressed stream reached its end (an empty body counts as complete: servers label
        empty bodies with a Content-Encoding too)."""
        if self.compressed == 0:
            return True
        if self.encoding == "br":
            return bool(self.inflater.is_finished())
        return bool(self.inflater.eof)

    def finish(self) -> None:
        """Raise FetchError when the body ended before its compressed stream did (a truncated body)."""
        if not self.finished():
            raise FetchError(
                f"truncated body: the {self.encoding} stream ends early ({self.compressed} bytes "
                f"received, {self.total} decoded)"
            )

    def _feed_zlib(self, chunk: bytes, out: bytearray) -> None:
        self.compressed += len(chunk)
        data = chunk
        while data or not self.inflater.eof:
            try:
                piece = self.inflater.decompress(data, _STEP)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self.raw_deflate and self.total == 0:
                    self.raw_deflate = True  # servers send raw deflate without the zlib header too
                    self.inflater = zlib.decompressobj(-15)
                    continue
                raise FetchError(f"corrupt {self.encoding} body: {exc}") from None
            self._count(piece, out)
            data = self.inflater.unconsumed_tail
            if not data and len(piece) < _STEP:  # all input used and no output held back by the step cap
                break

    def _feed_brotli(self, chunk: bytes, out: bytearray) -> None:
        import brotli

        self.compressed += len(chunk)
        try:
            piece = self.inflater.process(chunk, output_buffer_limit=_STEP)
            while piece:  # a capped step may leave output pending: drain it step by step
                self._count(piece, out)
                piece = self.inflater.process(b"", output_buffer_limit=_STEP)
        except brotli.error as exc:
            raise FetchError(f"corrupt br body: {exc}") from None

    def _feed_zstd(self, chunk: bytes, out: bytearray) -> None:
        import zstandard

        for start in range(0, len(chunk), _ZSTD_SLICE):
            piece = chunk[start : start + _ZSTD_SLICE]
            self.compressed += len(piece)
            while piece:
                if self.inflater.eof:  # a body may hold several frames: the next one starts here
                    self.inflater = zstandard.ZstdDecompressor().decompressobj()
                try:
                    self._count(self.inflater.decompress(piece), out)
                except zstandard.ZstdError as exc:
                    raise FetchError(f"corrupt zstd body: {exc}") from None
                # frame by frame (not read_across_frames) so `eof` says whether the last frame is complete
                piece = self.inflater.unused_data if self.inflater.eof else b""


def gunzip_limited(data: bytes, settings: FetchConfig) -> bytes:
    """A gzip file (e.g. sitemap.xml.gz) decompressed under the same limits as a response body."""
    inflater = _Decompressor("gzip", settings.max_body_bytes, settings.fetch_max_decompression_ratio)
    out = inflater.feed(data)
    inflater.finish()
    return out


class Fetcher:
    """A polite HTTP client for one run (thread-safe; share one per process or per run).

    `sleep` is what waits between retries (tests pass a recorder); `gate` and `robots` default to the
    process-wide ones. Every connection goes to an address the SSRF guard checked for that hop
    (`PinnedBackend`); a `transport` given replaces that (tests with httpx.MockTransport only).
    """

    def __init__(
        self,
        settings: FetchConfig,
        *,
        ignore_robots: Sequence[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        gate: Gate = GATE,
        robots: RobotsCache = ROBOTS,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.ignore_robots = list(settings.fetch_ignore_robots if ignore_robots is None else ignore_robots)
        self.sleep = sleep
        self.gate = gate
        self.robots = robots
        timeout = httpx.Timeout(
            settings.http_timeout, connect=min(settings.http_connect_timeout, settings.http_timeout)
        )
        headers = {"User-Agent": user_agent(settings), "Accept-Encoding": ACCEPT_ENCODING}
        self.backend = PinnedBackend(settings)
        self.client = httpx.Client(
            timeout=timeout,
            follow_redirects=False,
            headers=headers,
            trust_env=False,
            transport=transport or pinned_transport(self.backend),
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- robots ---

    def _robots_for(self, url: str) -> _Robots:
        origin = _origin(url)
        cached = self.robots.get(origin)
        if cached is not None:
            return cached
        from protego import Protego

        now = self.robots.clock()
        try:
            resp = self._get_hops(
                origin + "/robots.txt", accept=None, robots=False, limit=ROBOTS_MAX_BYTES, truncate=True
            )
        except FetchError as exc:
            if exc.kind == "blocked" or exc.certificate:  # the site's own failure, not "robots.txt unreachable"
                raise
            if exc.status is not None and 400 <= exc.status < 500:
                entry = _Robots(expires=now + ROBOTS_TTL, parser=None)
            else:
                entry = _Robots(
                    expires=now + ROBOTS_FAILURE_TTL,
                    parser=None,
                    disallow_all=f"robots.txt unreachable ({exc.reason}), so nothing may be fetched",
                )
        else:
            text = resp.body.decode("utf-8", errors="replace")
            entry = _Robots(expires=now + ROBOTS_TTL, parser=Protego.parse(text))
        self.robots.put(origin, entry)
        return entry

    def _robots_ignored(self, host: str) -> bool:
        return any(fnmatch(host, pattern) for pattern in self.ignore_robots)

    def robots_check(self, url: str) -> float:
        """Raise FetchError(kind="disallowed") when robots.txt forbids `url`; return its Crawl-delay (or 0)."""
        host = (urlsplit(url).hostname or "").lower()
        if self._robots_ignored(host):
            return 0.0
        entry = self._robots_for(url)
        if entry.disallow_all:
            raise FetchError(entry.disallow_all, kind="disallowed")
        if entry.parser is None:
            return 0.0
        parser = entry.parser
        if not parser.can_fetch(url, ROBOTS_TOKEN):  # type: ignore[attr-defined]
            raise FetchError(f"robots.txt of {host} disallows this URL for {ROBOTS_TOKEN!r}", kind="disallowed")
        delay = parser.crawl_delay(ROBOTS_TOKEN)  # type: ignore[attr-defined]
        return float(delay) if delay else 0.0

    # --- requests ---

    def get(
        self,
        url: str,
        *,
        accept: Sequence[str] | None = ARTICLE_TYPES,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> Response:
        """GET `url`: redirects followed by hand (each hop checked by the SSRF guard and robots.txt).

        `accept` lists the allowed content types (None: any). A 304 answer to a conditional GET comes back
        as a Response with status 304 and an empty body.
        """
        conditional: dict[str, str] = {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        return self._get_hops(url, accept=accept, robots=True, limit=self.settings.max_body_bytes, headers=conditional)

    def _get_hops(
        self,
        url: str,
        *,
        accept: Sequence[str] | None,
        robots: bool,
        limit: int,
        headers: dict[str, str] | None = None,
        truncate: bool = False,
    ) -> Response:
        current = url
        redirects: list[str] = []
        for _ in range(self.settings.max_redirects + 1):
            addresses = check_url(current, self.settings)
            target = httpx.URL(current)  # the host spelled as httpcore will ask for it (IDNA, no brackets)
            self.backend.pin(
                target.raw_host.decode("ascii"), target.port or (443 if target.scheme == "https" else 80), addresses
            )
            delay = self.robots_check(current) if robots else 0.0
            result = self._with_retries(current, accept, limit, headers or {}, delay, truncate)
            if isinstance(result, str):
                redirects.append(current)
                current = result
                continue
            result.url, result.redirects = url, redirects
            return result
        raise FetchError(f"more than {self.settings.max_redirects} redirects", final_url=current)

    def _with_retries(
        self,
        url: str,
        accept: Sequence[str] | None,
        limit: int,
        headers: dict[str, str],
        crawl_delay: float,
        truncate: bool,
    ) -> Response | str:
        settings = self.settings
        host = (urlsplit(url).hostname or "").lower()
        interval = max(settings.fetch_min_interval, crawl_delay)
        attempt = 0
        while True:
            attempt += 1
            wait: float | None = None
            try:
                with self.gate.slot(host, interval, settings.fetch_host_concurrency):
                    return self._once(url, accept, limit, headers, truncate, attempt)
            except _Transient as exc:
                if attempt > settings.fetch_retries:
                    raise FetchError(
                        f"{exc.reason} (after {attempt} attempts)", status=exc.status, attempts=attempt
                    ) from None
                wait = settings.fetch_backoff * 2 ** (attempt - 1)
                if exc.retry_after is not None:
                    if exc.retry_after > settings.fetch_max_retry_after:  # fail now rather than sleep that long
                        raise FetchError(
                            f"{exc.reason}; Retry-After {math.ceil(exc.retry_after)} s is over the "
                            f"limit of {settings.fetch_max_retry_after:g} s (fetch_max_retry_after)",
                            status=exc.status,
                            attempts=attempt,
                        ) from None
                    wait = max(wait, exc.retry_after)
            except FetchError as exc:
                exc.attempts = attempt
                raise
            self.sleep(wait)

    def _once(
        self, url: str, accept: Sequence[str] | None, limit: int, headers: dict[str, str], truncate: bool, attempt: int
    ) -> Response | str:
        settings = self.settings
        deadline = time.monotonic() + settings.http_timeout
        received: int | None = None  # set once the body is being read
        length = ""
        status: int | None = None
        try:
            with self.client.stream("GET", url, headers=headers) as resp:
                status = resp.status_code
                if status in (301, 302, 303, 307, 308):
                    location = resp.headers.get("location")
                    if not location:
                        raise FetchError(f"redirect {status} without a Location header", status=status)
                    return str(urljoin(url, location))
                if status in TRANSIENT_STATUS:
                    raise _Transient(f"HTTP {status}", status, _retry_after(resp.headers.get("retry-after")))
                if status >= 400:
                    raise FetchError(f"HTTP {status}", status=status)
                etag = resp.headers.get("etag")
                modified = resp.headers.get("last-modified")
                content_type = resp.headers.get("content-type", "")
                ctype = content_type.split(";")[0].strip().lower()
                charset = resp.charset_encoding
                if status == 304:
                    return Response(url, url, status, ctype, charset, b"", etag, modified, attempt)
                if accept is not None and ctype and ctype not in accept:
                    raise FetchError(
                        f"content type {ctype!r} is not allowed here (allowed: {', '.join(accept)})", status=status
                    )
                length = resp.headers.get("content-length", "")
                if length.isdigit() and int(length) > limit and not truncate:
                    raise FetchError(f"body larger than {limit} bytes (Content-Length {length})", status=status)
                encoding = resp.headers.get("content-encoding", "identity").strip().lower()
                decoder: _Decompressor | None = None
                if encoding not in ("", "identity"):
                    try:
                        decoder = _Decompressor(encoding, limit, settings.fetch_max_decompression_ratio)
                    except FetchError as exc:
                        exc.status = status
                        raise
                chunks: list[bytes] = []
                total = 0
                received = 0  # bytes as sent (before decoding): what a truncated body report names
                for raw in resp.iter_raw():
                    received += len(raw)
                    try:
                        chunk = decoder.feed(raw) if decoder else raw
                    except FetchError as exc:
                        exc.status = status
                        raise
                    total += len(chunk)
                    if total > limit:
                        if truncate:
                            chunks.append(chunk[: len(chunk) - (total - limit)])
                            break
                        raise FetchError(f"body larger than {limit} bytes", status=status)
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise _Transient(f"timed out: body not complete after {settings.http_timeout:g} s", None)
                else:  # the whole body was read (not cut at `limit`): its compressed stream must be complete
                    if decoder is not None:
                        try:
                            decoder.finish()
                        except FetchError as exc:
                            exc.status = status
                            raise
                return Response(url, str(resp.url), status, ctype, charset, b"".join(chunks), etag, modified, attempt)
        except httpx.TimeoutException as exc:
            phase = "connect" if isinstance(exc, httpx.ConnectTimeout) else "read"
            limit_s = settings.http_connect_timeout if phase == "connect" else settings.http_timeout
            raise _Transient(f"timed out ({phase}, limit {min(limit_s, settings.http_timeout):g} s)", None) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            cert = _certificate_error(exc)
            if cert is not None:  # permanent: a retry meets the same certificate
                host = urlsplit(url).hostname or url
                raise FetchError(
                    f"TLS certificate verification failed for {host}: {cert} (not retried)", certificate=True
                ) from None
            if received is not None and not isinstance(exc, httpx.ConnectError):
                # the connection ended inside the body (short of Content-Length, or a chunked body cut off):
                # transient, as a dropped connection usually is, but named for what it is
                expected = f" of {length}" if length.isdigit() else ""
                raise _Transient(
                    f"truncated body: the connection ended after {received}{expected} bytes", status
                ) from None
            raise _Transient(f"{type(exc).__name__}: {exc}", None) from None
        except httpx.HTTPError as exc:
            raise FetchError(f"{type(exc).__name__}: {exc}") from None


def _certificate_error(exc: BaseException) -> str | None:
    """The verification message when `exc` was caused by a TLS certificate that failed verification."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"{seen.verify_message or seen.reason} (CERTIFICATE_VERIFY_FAILED)"
        seen = seen.__cause__ or seen.__context__
    return None


class _Transient(Exception):
    def __init__(self, reason: str, status: int | None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


def to_page(resp: Response) -> Page:
    """A fetched article response as text (FetchError when it is not text)."""
    try:
        decoded = resp.decode()
    except DecodeError as exc:
        raise FetchError(str(exc), status=resp.status) from None
    media: Literal["text/html", "text/plain"] = "text/plain" if resp.content_type == "text/plain" else "text/html"
    return Page(url=resp.final_url, text=decoded.text, media_type=media, status=resp.status, encoding_note=decoded.note)


def fetch_url(url: str, settings: FetchConfig) -> Page:
    """GET one article page politely (robots.txt, per-host gate, retries), with every limit and the SSRF guard."""
    with Fetcher(settings) as fetcher:
        return to_page(fetcher.get(url))
