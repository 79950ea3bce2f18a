"""Fetching one URL with hard limits and an SSRF guard.

URLs come from operators and from Prefect UI parameters, which are untrusted input: a URL must not reach
loopback, link-local (cloud metadata), private or reserved addresses unless settings allow-list them. The
check runs after DNS resolution and again on every redirect.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from newsflow.settings import Settings

ALLOWED_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


class FetchError(Exception):
    """A URL could not be fetched; the message says why."""


@dataclass
class Page:
    url: str
    text: str
    media_type: Literal["text/html", "text/plain"]
    status: int


def _allowed(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, settings: Settings) -> bool:
    for item in settings.fetch_allow_addresses:
        if ip in ipaddress.ip_network(item, strict=False):
            return True
    return ip.is_global and not ip.is_multicast


def check_url(url: str, settings: Settings) -> None:
    """Raise FetchError if the URL's scheme or any address its host resolves to is forbidden."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"scheme {parts.scheme or '(none)'!r} is not allowed (http and https only)")
    host = parts.hostname
    if not host:
        raise FetchError("URL has no host")
    try:
        infos = socket.getaddrinfo(host, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}") from None
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if not _allowed(ip, settings):
            raise FetchError(f"host {host!r} resolves to {ip}, a non-public address (not allow-listed)")


def fetch_url(url: str, settings: Settings) -> Page:
    """GET a page: redirects followed by hand (each checked), body streamed up to max_body_bytes."""
    headers = {"User-Agent": settings.user_agent + (f" contact: {settings.contact}" if settings.contact else "")}
    timeout = httpx.Timeout(settings.http_timeout, connect=min(10.0, settings.http_timeout))
    current = url
    with httpx.Client(timeout=timeout, follow_redirects=False, headers=headers) as client:
        for _ in range(settings.max_redirects + 1):
            check_url(current, settings)
            try:
                with client.stream("GET", current) as resp:
                    if resp.is_redirect:
                        location = resp.headers.get("location")
                        if not location:
                            raise FetchError(f"redirect {resp.status_code} without a Location header")
                        current = urljoin(current, location)
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"HTTP {resp.status_code}")
                    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
                    if ctype and ctype not in ALLOWED_TYPES:
                        raise FetchError(f"content type {ctype!r} is not an article (allowed: {ALLOWED_TYPES})")
                    chunks: list[bytes] = []
                    total = 0
                    for chunk in resp.iter_bytes():
                        total += len(chunk)
                        if total > settings.max_body_bytes:
                            raise FetchError(f"body larger than {settings.max_body_bytes} bytes")
                        chunks.append(chunk)
                    data = b"".join(chunks)
                    encoding = resp.charset_encoding or "utf-8"
                    try:
                        text = data.decode(encoding)
                    except (UnicodeDecodeError, LookupError):
                        text = data.decode("utf-8", errors="replace")
                    media: Literal["text/html", "text/plain"] = "text/plain" if ctype == "text/plain" else "text/html"
                    return Page(url=str(resp.url), text=text, media_type=media, status=resp.status_code)
            except httpx.TimeoutException:
                raise FetchError(f"timed out after {settings.http_timeout} s") from None
            except httpx.HTTPError as exc:
                raise FetchError(f"{type(exc).__name__}: {exc}") from None
    raise FetchError(f"more than {settings.max_redirects} redirects")
