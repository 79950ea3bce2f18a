"""Fetching hardened against DNS rebinding, and br/zstd bodies under the decompression-bomb guard, against
real HTTP servers on 127.0.0.1 (allowed) and 127.0.0.2 (a forbidden address standing for an internal host)."""

from __future__ import annotations

import socket
import ssl
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from extractors.acquire.items import InputError
from extractors.acquire.session import Acquirer
from extractors.fetch import Fetcher, FetchError, RobotsCache, _Decompressor
from newsflow.settings import Settings
from newsflow.storage.fetchlog import FetchLog
from tests.acquire_site import A3, Site, bomb, compress, serve

NAMES = ("news.example.test", "mirror.example.test")


def _settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_allow_addresses": ["127.0.0.1/32"],
        "fetch_min_interval": 0.0,
        "fetch_retries": 0,
        "http_timeout": 2.0,
        "max_body_bytes": 200_000,
        "fetch_ignore_robots": ["*"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class RebindingDNS:
    """A hostile resolver: each name answers 127.0.0.1 (allow-listed) once, then 127.0.0.2 (forbidden)."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.calls: Counter[str] = Counter()
        self.rebind = True  # False: a well-behaved resolver, always 127.0.0.1

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in NAMES:
            return self.real(host, port, *args, **kwargs)
        self.calls[name] += 1
        address = "127.0.0.1" if self.calls[name] == 1 or not self.rebind else "127.0.0.2"
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 80)))]


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    """The real site on 127.0.0.1 and an "internal" one on 127.0.0.2, on the same port."""
    with serve() as good:
        port = int(good.base.rsplit(":", 1)[1])
        try:
            evil_server = serve("127.0.0.2", port)
            evil = evil_server.__enter__()
        except OSError as exc:  # the address is loopback on Linux; say why when a machine lacks it
            pytest.skip(f"cannot listen on 127.0.0.2:{port}: {exc}")
        try:
            yield good, evil
        finally:
            evil_server.__exit__(None, None, None)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> RebindingDNS:
    fake = RebindingDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)  # what both the guard and a plain connect would use
    return fake


def test_the_hostile_resolver_does_reach_the_internal_host_without_pinning(
    sites: tuple[Site, Site], dns: RebindingDNS
) -> None:
    """Control: check-then-connect with a second lookup (what httpx alone does) lands on 127.0.0.2."""
    good, evil = sites
    port = good.base.rsplit(":", 1)[1]
    socket.getaddrinfo("news.example.test", port)  # the check's lookup: 127.0.0.1
    httpx.get(f"http://news.example.test:{port}/news/a3.html", trust_env=False)
    assert evil.hit("/news/a3.html") == 1 and good.hit("/news/a3.html") == 0


def test_connection_goes_to_the_checked_address(sites: tuple[Site, Site], dns: RebindingDNS) -> None:
    good, evil = sites
    port = good.base.rsplit(":", 1)[1]
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher:
        resp = fetcher.get(f"http://news.example.test:{port}/news/a3.html")
    assert resp.status == 200 and "Trà Vinh khai mạc hội chợ OCOP" in resp.body.decode()
    assert dns.calls["news.example.test"] == 1  # one lookup per hop: nothing left to rebind
    assert sum(evil.hits.values()) == 0 and good.hit("/news/a3.html") == 1
    assert good.hosts == [f"news.example.test:{port}"]  # the Host header still names the site


def test_every_redirect_hop_is_pinned(sites: tuple[Site, Site], dns: RebindingDNS) -> None:
    good, evil = sites
    port = good.base.rsplit(":", 1)[1]
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher:
        resp = fetcher.get(f"http://news.example.test:{port}/redirect-to/mirror.example.test")
    assert resp.final_url == f"http://mirror.example.test:{port}/news/a3.html"
    assert dns.calls == Counter({"news.example.test": 1, "mirror.example.test": 1})
    assert sum(evil.hits.values()) == 0
    assert good.hosts == [f"news.example.test:{port}", f"mirror.example.test:{port}"]


def test_a_second_hop_that_resolves_to_a_forbidden_address_is_blocked(
    sites: tuple[Site, Site], dns: RebindingDNS
) -> None:
    good, evil = sites
    port = good.base.rsplit(":", 1)[1]
    dns.calls["mirror.example.test"] = 1  # its next answer is the forbidden one
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(f"http://news.example.test:{port}/redirect-to/mirror.example.test")
    assert caught.value.kind == "blocked"
    reason = "host 'mirror.example.test' resolves to 127.0.0.2, a non-public address (not allow-listed)"
    assert caught.value.reason == reason
    assert sum(evil.hits.values()) == 0


def test_an_unpinned_host_is_checked_at_connect_time(sites: tuple[Site, Site], dns: RebindingDNS) -> None:
    """Even a request that skipped `get()` (a direct client call) cannot reach a forbidden address."""
    good, evil = sites
    port = good.base.rsplit(":", 1)[1]
    dns.calls["news.example.test"] = 1
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher, pytest.raises(httpx.ConnectError) as caught:
        fetcher.client.get(f"http://news.example.test:{port}/news/a3.html")
    assert "resolves to 127.0.0.2, a non-public address" in str(caught.value)
    assert sum(evil.hits.values()) == 0


# --- br and zstd ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/brotli", "/zstd"])
def test_br_and_zstd_bodies_are_decoded(site: Site, path: str) -> None:
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher:
        resp = fetcher.get(site.base + path)
    assert resp.body == A3.encode()


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/br-bomb", "compression ratio over 100:1"),
        ("/zstd-bomb", "compression ratio over 100:1"),
        ("/br-corrupt", "corrupt br body"),
        ("/unknown-coding", "unsupported content-encoding 'lzma' (supported: gzip, x-gzip, deflate, br, zstd)"),
    ],
)
def test_br_and_zstd_bombs_and_bad_bodies_are_refused(site: Site, path: str, reason: str) -> None:
    if path.endswith("-bomb"):
        bomb(path.strip("/").removesuffix("-bomb"))  # compressed before the read timeout starts counting
    settings = _settings(fetch_max_decompression_ratio=100, max_body_bytes=5_000_000)  # the ratio trips first
    with Fetcher(settings, robots=RobotsCache()) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.get(site.base + path)
    assert reason in caught.value.reason and caught.value.status == 200


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip"])
def test_a_bomb_is_refused_before_it_is_inflated(coding: str) -> None:
    """Fed in one piece, a 40 MiB bomb stops within about a step of the limit, for every encoding."""
    body = bomb(coding)
    decoder = _Decompressor(coding, limit=3 * 1024 * 1024, ratio=1e9)  # only the size limit applies
    with pytest.raises(FetchError, match="decompressed body larger than 3145728 bytes"):
        decoder.feed(body)
    assert decoder.total <= 3 * 1024 * 1024 + 1024 * 1024


@pytest.mark.parametrize("coding", ["br", "zstd"])
def test_streamed_in_small_chunks_matches_the_original(coding: str) -> None:
    plain = ("Sở Công Thương tỉnh Trà Vinh " * 4000).encode()
    body = compress(plain, coding)
    decoder = _Decompressor(coding, limit=10**7, ratio=1e9)
    out = b"".join(decoder.feed(body[i : i + 7]) for i in range(0, len(body), 7))
    assert out == plain


def test_accept_encoding_offers_br_and_zstd(site: Site) -> None:
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher:
        assert fetcher.client.headers["Accept-Encoding"] == "gzip, deflate, br, zstd"


# --- TLS: the pinned address, the original name -------------------------------------------------------------


def _certificates(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for news.example.test only: (ca.pem, cert.pem, key.pem)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.now(UTC)

    def build(subject: str, key: Any, issuer: str, issuer_key: Any, ca: bool) -> Any:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("newsflow test CA", ca_key, "newsflow test CA", ca_key, ca=True)
    cert = build("news.example.test", key, "newsflow test CA", ca_key, ca=False)
    paths = (tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Site, list[str]]]:
    """An HTTPS site on 127.0.0.1 with a certificate for news.example.test; the list collects SNI names."""
    ca, cert, key = _certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the fetcher trusts the test CA (and only it)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str] = []
    context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")
    with serve(tls=context) as running:
        yield running, names


def test_tls_verifies_the_host_name_while_connecting_to_the_pinned_address(
    tls_site: tuple[Site, list[str]], dns: RebindingDNS
) -> None:
    site, names = tls_site
    port = site.base.rsplit(":", 1)[1]
    with Fetcher(_settings(), robots=RobotsCache()) as fetcher:
        resp = fetcher.get(f"https://news.example.test:{port}/news/a3.html")
        assert resp.status == 200 and dns.calls["news.example.test"] == 1
        assert names == ["news.example.test"]  # SNI names the site, not the address
        # a name the certificate does not cover is refused, even though the address is the same
        with pytest.raises(FetchError) as caught:
            fetcher.get(f"https://mirror.example.test:{port}/news/a3.html")
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.reason and caught.value.certificate
    assert site.hit("/news/a3.html") == 1


MISMATCH = (
    "TLS certificate verification failed for mirror.example.test: Hostname mismatch, certificate is not "
    "valid for 'mirror.example.test'. (CERTIFICATE_VERIFY_FAILED) (not retried)"
)


@pytest.mark.parametrize("robots", [False, True])
def test_a_certificate_failure_is_permanent_and_named_in_the_log(
    tls_site: tuple[Site, list[str]], dns: RebindingDNS, tmp_path: Path, robots: bool
) -> None:
    """Not retried (one handshake, no backoff) and named as a certificate problem - also when it is the
    robots.txt request that meets it first (not "robots.txt unreachable")."""
    site, names = tls_site
    dns.rebind = False
    port = site.base.rsplit(":", 1)[1]
    url = f"https://mirror.example.test:{port}/news/a3.html"
    waits: list[float] = []
    settings = _settings(fetch_retries=3, fetch_ignore_robots=[] if robots else ["*"])
    with (
        Fetcher(settings, robots=RobotsCache(), sleep=waits.append) as fetcher,
        Acquirer(
            settings,
            log=FetchLog(f"sqlite:///{tmp_path / 'fetch.db'}"),
            fetcher=fetcher,
            is_stored=lambda _raw_id: False,
        ) as acquirer,
    ):
        (item,) = list(acquirer.iter_source(url))
        (attempt,) = acquirer.log.attempts()
    assert isinstance(item, InputError) and item.source == url and item.reason == MISMATCH
    assert (attempt.outcome, attempt.attempts, attempt.reason) == ("failed", 1, MISMATCH)
    assert waits == [] and names == ["mirror.example.test"]  # one handshake: nothing retried
    assert sum(site.hits.values()) == 0  # no request got past the handshake


def test_an_untrusted_issuer_is_a_certificate_failure_too(
    tls_site: tuple[Site, list[str]], dns: RebindingDNS, monkeypatch: pytest.MonkeyPatch
) -> None:
    site, names = tls_site
    monkeypatch.delenv("SSL_CERT_FILE")  # the default trust store: the test CA is unknown to it
    port = site.base.rsplit(":", 1)[1]
    waits: list[float] = []
    with (
        Fetcher(_settings(fetch_retries=3), robots=RobotsCache(), sleep=waits.append) as fetcher,
        pytest.raises(FetchError) as caught,
    ):
        fetcher.get(f"https://news.example.test:{port}/news/a3.html")
    assert caught.value.certificate and caught.value.attempts == 1 and waits == []
    assert caught.value.reason == (
        "TLS certificate verification failed for news.example.test: unable to get "
        "local issuer certificate (CERTIFICATE_VERIFY_FAILED) (not retried)"
    )
    assert names == ["news.example.test"]


# --- the per-host gate is pluggable (limits shared across processes) -----------------------------------------


class RecordingGate:
    """A Gate standing for one backed by shared (cross-process) limits: records every slot it grants."""

    def __init__(self) -> None:
        self.slots: list[tuple[str, float, int]] = []

    @contextmanager
    def slot(self, host: str, interval: float, concurrency: int) -> Iterator[float]:
        self.slots.append((host, interval, concurrency))
        yield 0.0


def test_every_request_goes_through_the_gate_given(sites: tuple[Site, Site], dns: RebindingDNS) -> None:
    good, _ = sites
    port = good.base.rsplit(":", 1)[1]
    dns.rebind = False
    gate = RecordingGate()
    settings = _settings(fetch_ignore_robots=[], fetch_min_interval=0.25, fetch_host_concurrency=3)
    with Fetcher(settings, robots=RobotsCache(), gate=gate) as fetcher:
        fetcher.get(f"http://news.example.test:{port}/redirect-to/mirror.example.test")
    # robots.txt and the page of each host of the redirect chain: one slot per request, named by host
    assert [s[0] for s in gate.slots] == ["news.example.test"] * 2 + ["mirror.example.test"] * 2
    assert {s[1:] for s in gate.slots} == {(0.25, 3)}
    assert sum(good.hits.values()) == 4
