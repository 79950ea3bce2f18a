"""Failures a fetch must name rather than accept or retry blindly, against the local site on 127.0.0.1:
bodies that end early (compressed streams cut short, fewer bytes than Content-Length) and Retry-After
(seconds and HTTP-date forms) honoured up to `fetch_max_retry_after`, refused beyond it without sleeping."""

from __future__ import annotations

import re
import time
import zlib
from email.utils import formatdate

import pytest

from extractors.acquire.session import Acquirer
from extractors.fetch import Fetcher, FetchError, RobotsCache, _Decompressor, gunzip_limited
from extractors.sources import InputError
from newsflow.settings import Settings
from newsflow.storage.fetchlog import FetchLog
from schemas.models import RawArticle
from tests.acquire_site import A3, Site, compress

CODINGS = ("gzip", "deflate", "br", "zstd")


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_allow_addresses": ["127.0.0.1/32"],
        "fetch_min_interval": 0.0,
        "fetch_retries": 2,
        "fetch_backoff": 0.5,
        "http_timeout": 2.0,
        "fetch_ignore_robots": ["*"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _acquire(url: str, settings: Settings, log: FetchLog, waits: list[float]) -> RawArticle | InputError:
    with Fetcher(settings, robots=RobotsCache(), sleep=waits.append) as fetcher:
        acquirer = Acquirer(settings, log=log, fetcher=fetcher, is_stored=lambda _raw_id: False)
        (item,) = list(acquirer.iter_source(url))
    return item


# --- truncated bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("coding", CODINGS)
def test_a_compressed_body_cut_short_fails_as_truncated(site: Site, log: FetchLog, coding: str) -> None:
    """The HTTP message is complete (Content-Length matches) but the compressed stream is not: permanent."""
    waits: list[float] = []
    url = f"{site.base}/{coding}-truncated"
    item = _acquire(url, _settings(), log, waits)
    assert isinstance(item, InputError) and item.source == url
    assert item.reason.startswith(f"truncated body: the {coding} stream ends early (")
    (attempt,) = log.attempts()
    assert (attempt.outcome, attempt.status, attempt.attempts, attempt.reason) == ("failed", 200, 1, item.reason)
    assert waits == [] and site.hit(f"/{coding}-truncated") == 1  # the same bytes would come again: no retry


@pytest.mark.parametrize(("path", "sent"), [("/short-body", 200), ("/short-gzip", 100), ("/chunked-cut", 300)])
def test_a_body_cut_off_by_the_connection_fails_as_truncated(site: Site, log: FetchLog, path: str, sent: int) -> None:
    """Fewer bytes than Content-Length, or a chunked body without its last chunk: retried (a dropped
    connection is transient), then named."""
    waits: list[float] = []
    item = _acquire(site.base + path, _settings(), log, waits)
    whole = {
        "/short-body": f" of {len(A3.encode())}",
        "/short-gzip": f" of {len(compress(A3.encode(), 'gzip'))}",
        "/chunked-cut": "",
    }[path]
    assert isinstance(item, InputError)
    assert item.reason == f"truncated body: the connection ended after {sent}{whole} bytes (after 3 attempts)"
    (attempt,) = log.attempts()
    assert attempt.outcome == "failed" and attempt.attempts == 3 and attempt.reason == item.reason
    assert waits == [0.5, 1.0] and site.hit(path) == 3


@pytest.mark.parametrize("path", ["/gzipped", "/brotli", "/zstd"])
def test_complete_compressed_bodies_still_pass(site: Site, log: FetchLog, path: str) -> None:
    item = _acquire(site.base + path, _settings(), log, [])
    assert isinstance(item, RawArticle) and "Trà Vinh khai mạc hội chợ OCOP" in item.content


@pytest.mark.parametrize("coding", CODINGS)
def test_the_decoder_notices_every_cut(coding: str) -> None:
    """Wherever the stream stops (even inside the gzip trailer or the last byte), it is not complete."""
    plain = ("Ủy ban nhân dân tỉnh Trà Vinh họp phiên thường kỳ tháng 6. " * 200).encode()
    whole = compress(plain, coding)
    for cut in sorted({1, 5, len(whole) // 2, len(whole) - 4, len(whole) - 1}):
        decoder = _Decompressor(coding, limit=10**7, ratio=1e9)
        decoder.feed(whole[:cut])
        with pytest.raises(FetchError, match=f"^truncated body: the {coding} stream ends early"):
            decoder.finish()
    decoder = _Decompressor(coding, limit=10**7, ratio=1e9)
    assert b"".join(decoder.feed(whole[i : i + 1000]) for i in range(0, len(whole), 1000)) == plain
    decoder.finish()  # complete: no error


def test_large_output_held_back_by_the_step_cap_is_not_taken_for_truncation() -> None:
    """One small chunk that inflates to many 64 KiB steps: every step is drained, the stream completes."""
    plain = b"Long An " * 1_000_000
    decoder = _Decompressor("deflate", limit=10**7, ratio=1e9)
    assert decoder.feed(zlib.compress(plain, 9)) == plain
    decoder.finish()


def test_several_zstd_frames_are_one_complete_body() -> None:
    first, second = b"Ben Tre " * 5000, b"Tra Vinh " * 5000
    decoder = _Decompressor("zstd", limit=10**7, ratio=1e9)
    assert decoder.feed(compress(first, "zstd") + compress(second, "zstd")) == first + second
    decoder.finish()


def test_an_empty_body_labelled_compressed_is_empty() -> None:
    decoder = _Decompressor("gzip", limit=100, ratio=10)
    assert decoder.feed(b"") == b""
    decoder.finish()


def test_a_truncated_sitemap_gz_is_named() -> None:
    whole = compress(b"<urlset>" + b"<url><loc>https://a.example.vn/x</loc></url>" * 50 + b"</urlset>", "gzip")
    with pytest.raises(FetchError, match=r"^truncated body: the gzip stream ends early"):
        gunzip_limited(whole[:-6], _settings())


# --- Retry-After ---------------------------------------------------------------------------------------------


def _get(site: Site, settings: Settings, waits: list[float]) -> str:
    with Fetcher(settings, robots=RobotsCache(), sleep=waits.append) as fetcher:
        return fetcher.get(site.base + "/busy").body.decode()


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize(("value", "expected"), [("7", 7.0), ("120", 120.0), ("0", 0.5), ("soon", 0.5)])
def test_retry_after_in_seconds_is_honoured_up_to_the_cap(site: Site, status: int, value: str, expected: float) -> None:
    """The wait is the longer of Retry-After and the backoff (0.5 s); an unreadable value means backoff."""
    site.busy_status, site.retry_after = status, value
    waits: list[float] = []
    assert "Trà Vinh khai mạc hội chợ OCOP" in _get(site, _settings(), waits)
    assert waits == [expected] and site.hit("/busy") == 2


def test_retry_after_as_an_http_date_is_honoured(site: Site) -> None:
    site.retry_after = formatdate(time.time() + 30, usegmt=True)
    waits: list[float] = []
    _get(site, _settings(), waits)
    (wait,) = waits
    assert 27.0 < wait <= 30.0  # the date has whole seconds, and a moment passed since it was written


def test_retry_after_as_a_past_http_date_means_backoff(site: Site) -> None:
    site.retry_after = formatdate(time.time() - 600, usegmt=True)
    waits: list[float] = []
    _get(site, _settings(), waits)
    assert waits == [0.5]


@pytest.mark.parametrize("status", [429, 503])
@pytest.mark.parametrize("form", ["seconds", "date"])
def test_retry_after_beyond_the_cap_fails_at_once(site: Site, status: int, form: str) -> None:
    """A day ahead: a clear failure now, no sleep and no second request."""
    site.busy_status = status
    site.retry_after = "86400" if form == "seconds" else formatdate(time.time() + 86400, usegmt=True)
    waits: list[float] = []
    with pytest.raises(FetchError) as caught:
        _get(site, _settings(fetch_max_retry_after=60), waits)
    found = re.fullmatch(
        rf"HTTP {status}; Retry-After (\d+) s is over the limit of 60 s \(fetch_max_retry_after\)", caught.value.reason
    )
    assert found is not None and 86_000 < int(found.group(1)) <= 86_400
    assert caught.value.status == status and caught.value.attempts == 1
    assert waits == [] and site.hit("/busy") == 1
