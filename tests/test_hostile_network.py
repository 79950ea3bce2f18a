"""Hostile input at the edges of a run: markup in what the Prefect artifacts show, a sitemap index that fans
out without end, IPv6 addresses that carry a private IPv4 address past the SSRF guard, and `kill -9` of
`newsflow run` leaving Prefect's local server behind.

The artifact tests render newsflow's markdown with the library Prefect's UI uses (marked 4.3.0, whose
lexer the UI runs with `{gfm: true, breaks: true}`), installed with npm into a directory under /tmp. Where
node or npm is missing (or the install fails) they are skipped with the reason; under CI=true they fail.
"""

from __future__ import annotations

import contextlib
import html
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn

import pytest

from extractors.acquire import session as acquire_session
from extractors.acquire.items import InputError
from extractors.acquire.session import Acquirer
from extractors.fetch import Fetcher, FetchError, check_url, is_public_address
from flows import report
from flows.ops import ExportResult, export_markdown, languages_table
from flows.summary import ArticleOutcome, Failure, NameCount, RunSummary
from newsflow.settings import Settings
from tests.acquire_site import serving

REPO = Path(__file__).resolve().parent.parent

# --- 6. markup in the Prefect artifacts --------------------------------------------------------------------

IMG = "<img src=x onerror=alert(1)>"
JS_LINK = "[x](javascript:alert(1))"
PAYLOADS = [
    IMG,
    JS_LINK,
    "![y](javascript:alert(2))",
    "<script>alert(3)</script>",
    "<a href='javascript:alert(4)'>z</a>",
    "a | b\n| c |\n\n<img src=y onerror=alert(5)>",  # a new table row and an HTML block after a blank line
    "`code` **bold** _em_ # heading\r\n- item\t+ more ~~gone~~ \\",
    "[ref]: javascript:alert(6)",
    "<javascript:alert(7)>",
    "\x00\x07\x1b[31mred\x7f\u2028line\u2029para\x85",
]
MARKED_VERSION = "4.3.0"  # the marked in Prefect 3.8.8's UI bundle (a web worker: marked.lexer(md, {gfm, breaks}))
UI_OPTIONS = {"gfm": True, "breaks": True}
NODE_SCRIPT = r"""
const { marked } = require(process.argv[1]);
const options = JSON.parse(process.argv[2]);
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const out = JSON.parse(input).map((md) => ({ html: marked.parse(md, options), tokens: marked.lexer(md, options) }));
  process.stdout.write(JSON.stringify(out));
});
"""


def _unavailable(reason: str) -> NoReturn:
    message = f"marked (the markdown library of Prefect's UI) cannot run here: {reason}"
    print(message)
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: node and npm are expected)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def marked() -> Path:
    """node_modules/marked of marked 4.3.0, installed once under /tmp (npm registry)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        _unavailable("node or npm is not installed (apt-get install nodejs npm)")
    target = Path(tempfile.gettempdir()) / f"newsflow-test-marked-{MARKED_VERSION}"
    module = target / "node_modules" / "marked"
    if not (module / "package.json").is_file():
        staging = Path(tempfile.mkdtemp(prefix="newsflow-marked-", dir=tempfile.gettempdir()))
        try:
            done = subprocess.run(
                [
                    npm,
                    "install",
                    "--no-audit",
                    "--no-fund",
                    "--silent",
                    "--prefix",
                    str(staging),
                    f"marked@{MARKED_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            _unavailable(f"npm install marked@{MARKED_VERSION} took over 300 s")
        if done.returncode != 0:
            _unavailable(f"npm install marked@{MARKED_VERSION} failed: {(done.stderr or done.stdout).strip()[-500:]}")
        with contextlib.suppress(OSError):  # another test process may have won the race
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    version = json.loads((module / "package.json").read_text(encoding="utf-8"))["version"]
    assert version == MARKED_VERSION, version
    return module


def render(module: Path, documents: list[str]) -> list[dict[str, Any]]:
    """Each markdown document as marked renders it (HTML) and as the UI's worker lexes it (tokens)."""
    node = shutil.which("node")
    assert node
    done = subprocess.run(
        [node, "-e", NODE_SCRIPT, str(module), json.dumps(UI_OPTIONS)],
        input=json.dumps(documents),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: list[dict[str, Any]] = json.loads(done.stdout)
    return result


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _bad_url(value: str | None) -> bool:
    squeezed = "".join(c for c in html.unescape(value or "") if c.isprintable() and not c.isspace()).lower()
    return squeezed.startswith(("javascript:", "vbscript:", "data:"))


def assert_inert(rendered: dict[str, Any]) -> str:
    """No markup from the data: no <img>/<script>, no on* attribute, no javascript: link; returns the text."""
    page = rendered["html"]
    assert "<img" not in page.lower() and "<script" not in page.lower(), page
    parsed = _Html()
    parsed.feed(page)
    for tag, attrs in parsed.tags:
        assert tag not in ("img", "script", "iframe", "object", "embed", "svg"), page
        for name, value in attrs:
            assert not name.startswith("on"), page
            assert not (name in ("href", "src") and _bad_url(value)), page

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            assert node.get("type") not in ("html", "image"), node  # the UI renders html tokens as HTML
            if node.get("type") == "link":
                assert not _bad_url(node.get("href")), node
            for value in node.values():
                walk(value)

    walk(rendered["tokens"])
    return " ".join("".join(parsed.text).split())


def _hostile_summary() -> RunSummary:
    return RunSummary(
        run_id=IMG,
        flow=JS_LINK,
        received=len(PAYLOADS),
        processed=1,
        failed=[Failure(source=p, reason=f"cannot read {p}") for p in PAYLOADS],
        entities={IMG: 1, "provinces": 2},
        translation={JS_LINK: 1},
        top_provinces=[NameCount(name=IMG, articles=1)],
        top_officials=[NameCount(name=JS_LINK, articles=1)],
        database=IMG,
        records_dir=JS_LINK,
        run_file=f"/out/runs/{IMG}.jsonl",
        articles=[ArticleOutcome(source=p, status="failed", title=p, reason=f"cannot read {p}") for p in PAYLOADS],
    )


def _hostile_documents() -> list[str]:
    summary = _hostile_summary()
    export = ExportResult(
        path=f"/out/exports/{JS_LINK}.jsonl",
        count=1,
        format=IMG,
        since=IMG,
        languages={IMG: 1},
        translation={JS_LINK: 1},
    )
    links = [
        "javascript:alert(8)",
        "file:///out/runs/x).jsonl) [y](javascript:alert(9)",
        "https://files.example/nf/runs/a b<img src=x onerror=alert(10)>.jsonl",
    ]
    documents = [report.summary_markdown(summary, link) for link in [None, *links]]
    documents += [export_markdown(export, link) for link in [None, *links]]
    # the string cells of the table artifacts: the UI renders each one as markdown
    documents += [str(cell) for row in report.articles_table(summary) for cell in row.values() if isinstance(cell, str)]
    documents += [str(row["language"]) for row in languages_table(export)]
    # a link artifact's markdown, as Prefect's LinkArtifact makes it: f"[{link_text}]({link})"
    for link in links:
        safe = report.markdown_url(link)
        documents.append(f"[{report.markdown_text(IMG + JS_LINK)}]({safe})" if safe else "")
    return documents


def test_markdown_text_escapes_html_markdown_and_control_characters() -> None:
    esc = report.markdown_text
    assert esc(IMG) == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert esc(JS_LINK) == "\\[x\\]\\(javascript:alert\\(1\\)\\)"
    assert esc("a|b\nc\r\td\x00e\u2028f") == "a\\|b c  d e f"
    assert esc("`*_#+-!~\\") == "\\`\\*\\_\\#\\+\\-\\!\\~\\\\"
    assert esc("& \" '") == "&amp; &quot; &#39;"
    assert esc(42) == "42" and esc("Long An") == "Long An" and esc("bad.json:2") == "bad.json:2"
    for payload in PAYLOADS:
        escaped = esc(payload)
        assert not set(escaped) & set("<>\"'\n\r\x00"), escaped
        # faithful: undoing the escapes gives the text back (control characters read as spaces)
        undone = html.unescape(re.sub(r"\\(.)", r"\1", escaped))
        assert undone == "".join(" " if not c.isprintable() and c != " " else c for c in payload)


def test_markdown_url_keeps_web_and_file_links_and_refuses_the_rest() -> None:
    url = report.markdown_url
    assert url("https://files.example/nf/runs/r.jsonl") == "https://files.example/nf/runs/r.jsonl"
    assert url("file:///x/r1.jsonl") == "file:///x/r1.jsonl"
    assert url("https://f.example/a b(c)<d>'e\".jsonl") == "https://f.example/a%20b%28c%29%3Cd%3E%27e%22.jsonl"
    assert url("https://f.example/%41") == "https://f.example/%41"  # already encoded: kept
    for bad in (
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        "java\tscript:alert(1)",
        "//evil.example/x",
        "",
    ):
        assert url(bad) is None, bad


def test_hostile_names_in_the_artifacts_render_as_text_in_prefects_markdown(marked: Path) -> None:
    documents = _hostile_documents()
    rendered = render(marked, documents)
    for document, out in zip(documents, rendered, strict=True):
        text = assert_inert(out)
        if document.startswith("# newsflow ") and "## Failures" in document:
            for payload in PAYLOADS:  # the operator still reads exactly what failed
                shown = " ".join("".join(c if c.isprintable() else " " for c in payload).split())
                assert shown in text, (shown, text)


def test_the_markdown_check_catches_raw_markup(marked: Path) -> None:
    """Control: the same payloads unescaped do produce an <img onerror> and a javascript: link in marked."""
    (img, link) = render(marked, [f"| a |\n|---|\n| {IMG} |\n", JS_LINK])
    with pytest.raises(AssertionError):
        assert_inert(img)
    with pytest.raises(AssertionError):
        assert_inert(link)


# --- 7. sitemap index fan-out --------------------------------------------------------------------------------


@dataclass
class SitemapSite:
    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fetched(self, prefix: str) -> int:
        with self.lock:
            return sum(n for path, n in self.hits.items() if path.startswith(prefix))


NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


def _index(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<sitemap><loc>{base}{p}</loc></sitemap>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><sitemapindex {NS}>{items}</sitemapindex>'.encode()


def _urlset(base: str, paths: list[str]) -> bytes:
    items = "".join(f"<url><loc>{base}{p}</loc></url>" for p in paths)
    return f'<?xml version="1.0" encoding="UTF-8"?><urlset {NS}>{items}</urlset>'.encode()


def _page(path: str) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='vi'><head><title>{path}</title></head><body><article><h1>{path}</h1>"
        f"<p>Ủy ban nhân dân tỉnh Long An họp về {path}.</p></article></body></html>"
    ).encode()


@contextlib.contextmanager
def sitemap_site() -> Iterator[SitemapSite]:
    """A site whose sitemaps fan out: /flat.xml (10 children x 10 pages), /nested.xml (3 indexes x 4 children x
    10 pages), /huge.xml (50,000 children, each an empty urlset) and /empty-N.xml."""
    site = SitemapSite()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            path, base = self.path, site.base
            with site.lock:
                site.hits[path] += 1
            ctype = "application/xml"
            if path == "/flat.xml":
                body = _index(base, [f"/flat-{i}.xml" for i in range(10)])
            elif path.startswith("/flat-"):
                i = path.removeprefix("/flat-").removesuffix(".xml")
                body = _urlset(base, [f"/page/flat-{i}-{j}.html" for j in range(10)])
            elif path == "/nested.xml":
                body = _index(base, [f"/nested-{i}.xml" for i in range(3)])
            elif path.startswith("/nested-") and path.count("-") == 1:
                i = path.removeprefix("/nested-").removesuffix(".xml")
                body = _index(base, [f"/nested-{i}-{j}.xml" for j in range(4)])
            elif path.startswith("/nested-"):
                ij = path.removeprefix("/nested-").removesuffix(".xml")
                body = _urlset(base, [f"/page/nested-{ij}-{k}.html" for k in range(10)])
            elif path == "/huge.xml":
                body = _index(base, [f"/empty-{i}.xml" for i in range(50_000)])
            elif path.startswith("/empty-"):
                body = _urlset(base, [])
            elif path.startswith("/page/"):
                body, ctype = _page(path), "text/html; charset=utf-8"
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield site


def _local_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "fetch_allow_addresses": ["127.0.0.1/32"],
        "fetch_min_interval": 0.0,
        "fetch_retries": 0,
        "http_timeout": 5.0,
        "fetch_ignore_robots": ["*"],
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def _acquire(source: str, settings: Settings) -> list[Any]:
    with Acquirer(settings, log=None, is_stored=lambda _: False) as acquirer:
        return list(acquirer.iter_source(source))


def test_the_url_limit_holds_for_a_whole_sitemap_index_not_per_child() -> None:
    with sitemap_site() as site:
        items = _acquire(f"sitemap:{site.base}/flat.xml", _local_settings(discovery_max_urls=5))
        assert [i.url for i in items] == [f"{site.base}/page/flat-0-{j}.html" for j in range(5)]
        assert site.fetched("/page/") == 5
        assert site.fetched("/flat-") == 1  # the first child gave the 5 URLs: no other child was fetched


def test_the_url_limit_holds_across_nested_sitemap_indexes() -> None:
    with sitemap_site() as site:
        items = _acquire(f"{site.base}/nested.xml", _local_settings(discovery_max_urls=25))
        assert not [i for i in items if isinstance(i, InputError)]
        assert len(items) == 25 and site.fetched("/page/") == 25
        assert {i.url.rsplit("/", 1)[1].rsplit("-", 1)[0] for i in items} == {"nested-0-0", "nested-0-1", "nested-0-2"}


def test_a_sitemap_index_of_50000_children_fetches_a_bounded_number() -> None:
    cap = acquire_session.SITEMAP_MAX_CHILDREN
    with sitemap_site() as site:
        started = time.monotonic()
        items = _acquire(f"sitemap:{site.base}/huge.xml", _local_settings(discovery_max_urls=500))
        assert items == []
        assert site.fetched("/empty-") == cap, "every child sitemap past the cap was still fetched"
        assert time.monotonic() - started < 60


# --- 8. the SSRF guard and addresses that embed IPv4 --------------------------------------------------------

# Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and the RFCs that added
# blocks since), plus multicast and deprecated site-local: (block, an address inside, refused). A block the
# registries mark globally reachable (anycast services, AS112, AMT, ORCHIDv2, drone DETs) is a public
# address and passes; every other one is refused.
REGISTRY: list[tuple[str, str, bool]] = [
    # IPv4 Special-Purpose Address Registry
    ("0.0.0.0/8", "0.1.2.3", True),  # "this network" (RFC 791)
    ("0.0.0.0/32", "0.0.0.0", True),  # "this host on this network"
    ("10.0.0.0/8", "10.20.30.40", True),  # private-use (RFC 1918)
    ("100.64.0.0/10", "100.100.100.200", True),  # shared address space (RFC 6598)
    ("127.0.0.0/8", "127.0.0.1", True),  # loopback
    ("127.0.0.0/8", "127.255.255.254", True),
    ("169.254.0.0/16", "169.254.169.254", True),  # link-local (cloud metadata)
    ("172.16.0.0/12", "172.31.255.1", True),  # private-use
    ("192.0.0.0/24", "192.0.0.200", True),  # IETF protocol assignments (RFC 6890)
    ("192.0.0.0/29", "192.0.0.1", True),  # IPv4 service continuity prefix, DS-Lite (RFC 7335)
    ("192.0.0.8/32", "192.0.0.8", True),  # IPv4 dummy address (RFC 7600)
    ("192.0.0.9/32", "192.0.0.9", False),  # Port Control Protocol anycast (RFC 7723): globally reachable
    ("192.0.0.10/32", "192.0.0.10", False),  # TURN anycast (RFC 8155): globally reachable
    ("192.0.0.170/32", "192.0.0.170", True),  # NAT64/DNS64 discovery (RFC 7050)
    ("192.0.0.171/32", "192.0.0.171", True),
    ("192.0.2.0/24", "192.0.2.10", True),  # documentation TEST-NET-1 (RFC 5737)
    ("192.31.196.0/24", "192.31.196.1", False),  # AS112-v4 (RFC 7535): globally reachable
    ("192.52.193.0/24", "192.52.193.1", False),  # AMT (RFC 7450): globally reachable
    ("192.88.99.0/24", "192.88.99.1", True),  # deprecated 6to4 relay anycast (RFC 7526)
    ("192.168.0.0/16", "192.168.1.1", True),  # private-use
    ("192.175.48.0/24", "192.175.48.1", False),  # direct delegation AS112 (RFC 7534): globally reachable
    ("198.18.0.0/15", "198.19.255.1", True),  # benchmarking (RFC 2544)
    ("198.51.100.0/24", "198.51.100.7", True),  # documentation TEST-NET-2
    ("203.0.113.0/24", "203.0.113.9", True),  # documentation TEST-NET-3
    ("224.0.0.0/4", "239.255.255.250", True),  # multicast (its own registry)
    ("240.0.0.0/4", "250.1.2.3", True),  # reserved (RFC 1112)
    ("255.255.255.255/32", "255.255.255.255", True),  # limited broadcast
    # IPv6 Special-Purpose Address Registry
    ("::1/128", "::1", True),  # loopback
    ("::/128", "::", True),  # unspecified
    ("::ffff:0:0/96", "::ffff:127.0.0.1", True),  # IPv4-mapped: checked as its IPv4 address
    ("::ffff:0:0/96", "::ffff:169.254.169.254", True),
    ("::ffff:0:0/96", "::ffff:10.1.2.3", True),
    ("64:ff9b::/96", "64:ff9b::7f00:1", True),  # NAT64 well-known prefix (RFC 6052): the IPv4 inside decides
    ("64:ff9b::/96", "64:ff9b::a9fe:a9fe", True),
    ("64:ff9b::/96", "64:ff9b::c0a8:101", True),
    ("64:ff9b:1::/48", "64:ff9b:1::7f00:1", True),  # local-use NAT64 prefix (RFC 8215)
    ("64:ff9b:1::/48", "64:ff9b:1:a::101:101", True),
    ("100::/64", "100::1", True),  # discard-only (RFC 6666)
    ("100:0:0:1::/64", "100:0:0:1::1", True),  # dummy IPv6 prefix (RFC 9780)
    ("2001::/23", "2001:1ff::1", True),  # IETF protocol assignments (RFC 2928)
    ("2001::/32", "2001:0:4136:e378:8000:63bf:80ff:fffe", True),  # Teredo: client 127.0.0.1 (xor'd)
    ("2001::/32", "2001:0:c0a8:101:0:0:fef9:fefe", True),  # Teredo: server 192.168.1.1, client 1.6.1.1
    ("2001:1::1/128", "2001:1::1", False),  # PCP anycast (RFC 7723): globally reachable
    ("2001:1::2/128", "2001:1::2", False),  # TURN anycast (RFC 8155): globally reachable
    ("2001:1::3/128", "2001:1::3", False),  # DNS-SD SRP anycast (RFC 9665): globally reachable
    ("2001:2::/48", "2001:2::1", True),  # benchmarking (RFC 5180)
    ("2001:3::/32", "2001:3::1", False),  # AMT (RFC 7450): globally reachable
    ("2001:4:112::/48", "2001:4:112::1", False),  # AS112-v6 (RFC 7535): globally reachable
    ("2001:10::/28", "2001:10::1", True),  # deprecated ORCHID (RFC 4843)
    ("2001:20::/28", "2001:20::1", False),  # ORCHIDv2 (RFC 7343): globally reachable
    ("2001:30::/28", "2001:30::1", False),  # drone remote ID DETs (RFC 9374): globally reachable
    ("2001:db8::/32", "2001:db8::1", True),  # documentation (RFC 3849)
    ("2002::/16", "2002:7f00:1::1", True),  # 6to4 (RFC 3056): the IPv4 inside decides (127.0.0.1)
    ("2002::/16", "2002:a9fe:a9fe::1", True),
    ("2002::/16", "2002:c0a8:101::1", True),
    ("2620:4f:8000::/48", "2620:4f:8000::1", False),  # direct delegation AS112 (RFC 7534): globally reachable
    ("3fff::/20", "3fff:fff::1", True),  # documentation (RFC 9637)
    ("5f00::/16", "5f00::1", True),  # SRv6 SIDs (RFC 9602)
    ("fc00::/7", "fd12:3456::1", True),  # unique-local (RFC 4193)
    ("fe80::/10", "fe80::1", True),  # link-local
    ("ff00::/8", "ff02::1", True),  # multicast (its own registry)
    ("fec0::/10", "fec0::1", True),  # deprecated site-local (RFC 3879)
    ("::/96", "::7f00:1", True),  # deprecated IPv4-compatible (RFC 4291)
    ("::/96", "::a9fe:a9fe", True),
    ("::/96", "::101:101", True),  # even with a public IPv4 inside: nothing routes these any more
]
PUBLIC: list[str] = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.215.14",
    "14.225.0.1",
    "203.113.131.1",
    "2606:4700::1111",
    "2001:4860:4860::8888",
    "2a00:1450:4001:80b::200e",
    "::ffff:1.1.1.1",  # IPv4-mapped public
    "64:ff9b::101:101",  # NAT64 well-known prefix + 1.1.1.1 (what DNS64 gives an IPv6-only host)
    "2002:101:101::1",  # 6to4 of 1.1.1.1
    "2001:0:4136:e378:8000:63bf:f7f7:f7f7",  # Teredo: server 65.54.227.120, client 8.8.8.8
]


def test_every_registry_block_is_checked_by_its_address() -> None:
    for block, address, _ in REGISTRY:
        assert ipaddress.ip_address(address) in ipaddress.ip_network(block), (block, address)
    teredo = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:80ff:fffe").teredo
    assert teredo is not None and teredo[1] == ipaddress.IPv4Address("127.0.0.1")  # the client, xor'd


@pytest.mark.parametrize(("block", "address", "refused"), REGISTRY, ids=[f"{b}={a}" for b, a, _ in REGISTRY])
def test_special_purpose_addresses(block: str, address: str, refused: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is not refused
    host = f"[{address}]" if ":" in address else address
    if refused:
        with pytest.raises(FetchError) as caught:
            check_url(f"http://{host}/", Settings())
        assert caught.value.kind == "blocked" and "a non-public address" in caught.value.reason
    else:
        assert [ipaddress.ip_address(a) for a in check_url(f"http://{host}/", Settings())] == [
            ipaddress.ip_address(address)
        ]


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert is_public_address(ipaddress.ip_address(address))
    host = f"[{address}]" if ":" in address else address
    assert [ipaddress.ip_address(a) for a in check_url(f"https://{host}/tin-tuc/a.html", Settings())] == [
        ipaddress.ip_address(address)
    ]


def test_the_refusal_names_the_ipv4_address_inside() -> None:
    with pytest.raises(FetchError) as caught:
        check_url("http://[64:ff9b::7f00:1]/", Settings())
    assert caught.value.reason == (
        "host '64:ff9b::7f00:1' resolves to 64:ff9b::7f00:1 (IPv4 127.0.0.1 inside), "
        "a non-public address (not allow-listed)"
    )


def test_a_nat64_address_of_a_local_server_is_never_connected_to(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard refuses before any connection: the local server, allow-listed as 127.0.0.1, sees no request."""
    with sitemap_site() as site:
        port = site.base.rsplit(":", 1)[1]
        settings = _local_settings()
        with Fetcher(settings) as fetcher:
            assert fetcher.get(f"{site.base}/page/ok.html").status == 200  # control: allow-listed 127.0.0.1
            for url in (
                f"http://[64:ff9b::7f00:1]:{port}/page/a.html",
                f"http://[2002:7f00:1::]:{port}/page/b.html",
                f"http://[::7f00:1]:{port}/page/c.html",
                f"http://[fec0::1]:{port}/page/d.html",
            ):
                with pytest.raises(FetchError) as caught:
                    fetcher.get(url)
                assert caught.value.kind == "blocked", caught.value.reason
        assert site.fetched("/page/") == 1


def test_a_hostname_resolving_to_an_embedded_private_ipv4_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from extractors import fetch

    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["2002:a9fe:a9fe::1", "2606:4700::1111"])
    with pytest.raises(FetchError) as caught:
        check_url("https://rebind.example.test/", Settings())
    assert "2002:a9fe:a9fe::1 (IPv4 169.254.169.254 inside)" in caught.value.reason


def test_allow_listed_addresses_still_pass() -> None:
    settings = Settings(fetch_allow_addresses=["127.0.0.1/32", "fd00::/8"])
    assert check_url("http://127.0.0.1:8080/", settings) == ["127.0.0.1"]
    assert [ipaddress.ip_address(a) for a in check_url("http://[::ffff:127.0.0.1]/", settings)] == [
        ipaddress.ip_address("::ffff:127.0.0.1")
    ]
    assert check_url("http://[fd00::5]/", settings) == ["fd00::5"]
    with pytest.raises(FetchError):  # the allow-list names addresses, not what a translator would reach
        check_url("http://[64:ff9b::7f00:1]/", settings)


# --- 9. kill -9 of `newsflow run` and Prefect's local server -------------------------------------------------


def _proc_stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, state, start time) of a live process, or None when it is gone (a zombie counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    state, ppid, start = fields[0], int(fields[1]), int(fields[19])
    return None if state in ("Z", "X") else (ppid, state, start)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _server_of(run_pid: int) -> tuple[int, int, int] | None:
    """(pid, start time, port) of the Prefect server process the run started, or None yet."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _proc_stat(pid)
        if stat is None or stat[0] != run_pid:
            continue
        argv = _cmdline(pid).split()
        if "uvicorn" in argv and "prefect.server.api.server:create_app" in argv:
            return pid, stat[2], int(argv[argv.index("--port") + 1])
    return None


def _alive(pid: int, start: int) -> bool:
    stat = _proc_stat(pid)
    return stat is not None and stat[2] == start


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_kill_9_of_newsflow_run_leaves_no_prefect_server_behind(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    env.update(
        {
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
            "NEWSFLOW_TRANSLATOR": "none",
            "NEWSFLOW_DATA_DIR": str(tmp_path / "data"),
        }
    )
    log = tmp_path / "run.log"
    # samples/ and then stdin, a pipe left open: the run is certainly still running when it is killed
    with log.open("wb") as out:
        run = subprocess.Popen(
            [sys.executable, "-m", "newsflow.cli", "run", str(REPO / "samples"), "-"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server: tuple[int, int, int] | None = None
    try:
        deadline = time.monotonic() + 240
        while server is None:
            assert run.poll() is None, f"the run ended before its server started:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"no Prefect server process in 240 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
            server = _server_of(run.pid)
        pid, start, port = server
        listening = False
        while not listening and time.monotonic() < deadline and run.poll() is None:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as answer,
            ):
                listening = answer.status == 200
            time.sleep(0.2)
        assert listening, f"the server never answered:\n{log.read_text()[-3000:]}"
        assert run.poll() is None, "the run ended before it could be killed; use a bigger input"

        os.kill(run.pid, signal.SIGKILL)  # the run only, as `kill -9 <pid>` does: not its process group
        run.wait(timeout=30)
        gone_by = time.monotonic() + 15
        while _alive(pid, start) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not _alive(pid, start), f"Prefect's server (pid {pid}) outlived the killed run by 15 s: {_cmdline(pid)}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(run.pid, signal.SIGKILL)  # whatever is left of the run's session (the test's own cleanup)
        if server is not None and _alive(server[0], server[1]):
            os.kill(server[0], signal.SIGKILL)
        run.wait(timeout=30)
        if run.stdin is not None:
            run.stdin.close()


PARENT = """
import os, subprocess, sys, time
sys.path.insert(0, {repo!r})
from newsflow import localserver
assert localserver.guard_local_server()
child = subprocess.Popen(["sleep", "300"])
print(child.pid, localserver._watcher.pid, os.environ[localserver.ENV], flush=True)
time.sleep(float(sys.argv[1]))
"""


def _watched_parent(tmp_path: Path, lifetime: float) -> tuple[subprocess.Popen[str], int, int, int]:
    """A process that starts the watcher, then a `sleep 300` child: (it, the child's pid and start time, the
    watcher's pid)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "NEWSFLOW_RUN_GUARD")}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(repo=str(REPO)), str(lifetime)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert parent.stdout is not None
    pid, watcher, _ = parent.stdout.readline().split()
    stat = _proc_stat(int(pid))
    assert stat is not None
    return parent, int(pid), stat[2], int(watcher)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_the_children_of_a_killed_process_end_with_it(tmp_path: Path) -> None:
    parent, child, start, _ = _watched_parent(tmp_path, 300)
    try:
        assert _alive(child, start)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child, start) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(child, start), "the child outlived its killed parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_the_watcher_ends_when_its_process_exits_normally(tmp_path: Path) -> None:
    parent, child, start, watcher = _watched_parent(tmp_path, 0)
    try:
        parent.wait(timeout=10)
        deadline = time.monotonic() + 15
        while (_alive(child, start) or _proc_stat(watcher)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _proc_stat(watcher), "the watcher outlived its process"
        assert not _alive(child, start), "a child left running at exit was not ended"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)


def test_the_clis_prefect_setup_starts_the_watcher() -> None:
    """`newsflow run` and `newsflow retranslate` set Prefect up with `prefect_environment`: it starts the watcher."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    code = (
        "import os; from newsflow.prefectenv import prefect_environment; from newsflow import localserver; "
        "prefect_environment(False); print(localserver._watcher is not None, localserver.ENV in os.environ)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True", "True"], out.stderr


def test_no_watcher_when_prefect_has_a_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from newsflow import localserver

    monkeypatch.setattr(localserver, "_watcher", None)
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    assert localserver.guard_local_server() is False
    assert localserver._watcher is None
