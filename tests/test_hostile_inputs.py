"""No input may cost a run: deeply nested JSON, DOCX files that are cheap to write and dear to read, URL sources
with a prefix, file names that would forge an error line, `url` fields that are not http(s), symbolic links
out of a source directory, and FIFOs. Each case is one named error (or a record); the rest of the batch goes on.
"""

from __future__ import annotations

import copy
import io
import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from extractors import documents
from extractors.config import Limits
from extractors.documents import DOCX_TYPE, DocumentError, read_document
from extractors.pipeline import ArticleError
from extractors.sources import JSON_MAX_DEPTH, InputError, display_name
from newsflow.runtime import process, runtime
from newsflow.settings import Settings, get_settings, reset_settings
from schemas.models import RawArticle
from tests.acquire_site import Site

REPO = Path(__file__).resolve().parent.parent
GOOD = "Sáng 4/3, UBND tỉnh Long An họp bàn kế hoạch đầu tư công năm 2025 và giao nhiệm vụ cho các sở, ngành."
DEEP = "[" * 100_000 + "]" * 100_000  # 200 KB: json.loads alone raises RecursionError
TOO_DEEP = f"JSON nested deeper than {JSON_MAX_DEPTH} levels"
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")


def _items(*sources: str | Path, settings: Settings | None = None) -> list[RawArticle | InputError]:
    return list(runtime(settings or Settings()).iter_sources([str(s) for s in sources]))


def _errors(items: list[RawArticle | InputError]) -> dict[str, str]:
    return {i.source: i.reason for i in items if isinstance(i, InputError)}


def _newsflow(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m newsflow.cli ARGS` as a user runs it (offline, no inherited NEWSFLOW_* settings)."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSFLOW_", "PREFECT_"))}
    full.update({"NEWSFLOW_TRANSLATOR": "none", "NEWSFLOW_DATA_DIR": str(cwd / "data"), "PYTHONPATH": str(REPO)})
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "newsflow.cli", *args],
        cwd=cwd,
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=stdin,
    )


def _stderr_lines(out: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    return [line for line in out.stderr.splitlines() if line.strip()]


# --- 3: deeply nested JSON ----------------------------------------------------------------------------------


def test_deeply_nested_json_is_one_error_and_the_other_inputs_go_on(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "deep.jsonl").write_text(json.dumps({"text": GOOD}) + "\n" + DEEP + "\n")
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    items = _items(tmp_path / "deep.json", tmp_path / "deep.jsonl", tmp_path / "good.txt")
    assert _errors(items) == {str(tmp_path / "deep.json"): TOO_DEEP, f"{tmp_path / 'deep.jsonl'}:2": TOO_DEEP}
    assert [i.content for i in items if isinstance(i, RawArticle)] == [GOOD, GOOD]


def test_nesting_up_to_the_limit_and_brackets_inside_strings_are_fine(tmp_path: Path) -> None:
    text = GOOD + ' [[[[{{{{ "quoted \\" ]]]] ' * 100  # brackets and escaped quotes in a string do not nest
    nested = {"text": text, "authors": []}
    path = tmp_path / "a.json"
    path.write_text(json.dumps([nested]), encoding="utf-8")
    (item,) = _items(path)
    assert isinstance(item, RawArticle) and item.content == text
    # JSON_MAX_DEPTH levels are parsed (and then refused for what they are, not for their depth)
    path.write_text("[" * JSON_MAX_DEPTH + "]" * JSON_MAX_DEPTH)
    (item,) = _items(path)
    assert isinstance(item, InputError) and item.reason.startswith("expected a JSON object, got list")
    path.write_text("[" * (JSON_MAX_DEPTH + 1) + "]" * (JSON_MAX_DEPTH + 1))
    (item,) = _items(path)
    assert isinstance(item, InputError) and item.reason == TOO_DEEP


def test_deeply_nested_json_through_the_cli_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text(DEEP)
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    out = _newsflow("extract", "deep.json", "-", "good.txt", cwd=tmp_path, stdin=DEEP)
    assert out.returncode == 1
    assert _stderr_lines(out) == [f"error: deep.json: {TOO_DEEP}", f"error: -: {TOO_DEEP}"]
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["source"]["uri"] == "good.txt"


# --- 4: DOCX reading linear in its size, with a time budget ------------------------------------------------


def _docx(paragraphs: int, styles: int = 0, text: str = "a") -> bytes:
    """A DOCX made with python-docx: `styles` paragraph styles, each based on the one before, and
    `paragraphs` one-letter paragraphs; every other one names a style in turn, the rest use the default."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    made: list[Any] = []
    for index in range(styles):
        style = document.styles.add_style(f"Nf{index}", WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = made[-1] if made else document.styles["Normal"]
        made.append(style)
    template = document.add_paragraph(text)._p
    body = template.getparent()
    section = body[-1]  # w:sectPr stays last; python-docx's add_paragraph is quadratic, addprevious is not
    body.remove(template)
    for index in range(paragraphs):
        p = copy.deepcopy(template)
        if made and index % 2:
            p_pr = OxmlElement("w:pPr")
            p_style = OxmlElement("w:pStyle")
            p_style.set(qn("w:val"), made[(index // 2) % len(made)].style_id)
            p_pr.append(p_style)
            p.insert(0, p_pr)
        section.addprevious(p)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


LIMITS = Limits(max_pages=300, max_bytes=50 * 2**20, max_unzipped=200 * 2**20, ocr_timeout=120, ocr_cache=None)


def _calls(work: Callable[[], Any]) -> int:
    """Python and C function calls made by `work()`: a measure of work that does not depend on the machine."""
    count = 0

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def test_docx_reading_work_grows_linearly_with_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """Twice the paragraphs and twice the styles: about twice the work (it was paragraphs x styles: each
    paragraph looked its style chain up again, scanning every style for the default one)."""
    small, large = _docx(1500, styles=60), _docx(3000, styles=120)
    resolved: Counter[str] = Counter()
    original = documents._Styles._resolve

    def counting(self: Any, style_id: str | None) -> Any:
        resolved[str(style_id)] += 1
        return original(self, style_id)

    monkeypatch.setattr(documents._Styles, "_resolve", counting)
    document = read_document(large, "large.docx", DOCX_TYPE, limits=LIMITS)
    assert document.text.split("\n\n") == ["a"] * 3000
    # once per style id (and the default's), not once per paragraph
    assert max(resolved.values()) == 1 and len(resolved) == 121

    small_calls = _calls(lambda: read_document(small, "small.docx", DOCX_TYPE, limits=LIMITS))
    large_calls = _calls(lambda: read_document(large, "large.docx", DOCX_TYPE, limits=LIMITS))
    assert large_calls / small_calls < 2.3, (small_calls, large_calls)
    assert large_calls / 3000 < 120, large_calls  # a few dozen calls per paragraph


def test_docx_of_many_tiny_paragraphs_and_runs_reads_in_full() -> None:
    """The issue's shape (tens of thousands of one-letter paragraphs in a few KB), and one paragraph of many
    runs (its text is joined once, not copied at every run)."""
    data = _docx(50_000)
    assert len(data) < 60_000
    document = read_document(data, "tiny.docx", DOCX_TYPE, limits=LIMITS)
    assert document.text.count("a") == 50_000

    import docx

    many = docx.Document()
    paragraph = many.add_paragraph()
    for _ in range(5000):
        paragraph.add_run("ab")
    out = io.BytesIO()
    many.save(out)
    assert read_document(out.getvalue(), "runs.docx", DOCX_TYPE, limits=LIMITS).text == "ab" * 5000


def test_docx_with_malformed_numbering_and_styles_is_read_not_a_crash() -> None:
    """Attributes a damaged or hostile file may hold: numbers that are not numbers, a start of 10^20 in Roman
    numerals, a level text of 10,000 characters (it would be written out for every paragraph), a style id with
    a quote in it and an on/off value that is neither."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls, qn

    document = docx.Document()
    numbering = document.part.numbering_part.element
    numbering.append(
        parse_xml(
            f'<w:abstractNum {nsdecls("w")} w:abstractNumId="900">'
            '<w:lvl w:ilvl="0"><w:start w:val="99999999999999999999"/><w:numFmt w:val="upperRoman"/>'
            '<w:lvlText w:val="%1."/></w:lvl><w:lvl w:ilvl="x"><w:start w:val="1"/></w:lvl>'
            f'<w:lvl w:ilvl="1"><w:numFmt w:val="decimal"/><w:lvlText w:val="{"%2" * 5000}"/></w:lvl>'
            "</w:abstractNum>"
        )
    )
    override = '<w:lvlOverride w:ilvl="zz"><w:startOverride w:val="q"/></w:lvlOverride>'
    numbering.append(parse_xml(f'<w:num {nsdecls("w")} w:numId="900"><w:abstractNumId w:val="900"/>{override}</w:num>'))
    document.styles.element.append(
        parse_xml(
            f'<w:style {nsdecls("w")} w:type="paragraph" w:default="maybe" w:styleId=\'a"b\'>'
            '<w:name w:val="Odd"/><w:basedOn w:val="a&quot;b"/></w:style>'
        )
    )
    for text, ilvl in (("một", "0"), ("hai", "1"), ("ba", "bad"), ("bốn", None)):
        p = document.add_paragraph(text)._p
        p_pr = p.get_or_add_pPr()
        if ilvl is None:
            style = p_pr.makeelement(qn("w:pStyle"), {qn("w:val"): 'a"b'})
            p_pr.append(style)
            continue
        p_pr.append(parse_xml(f'<w:numPr {nsdecls("w")}><w:ilvl w:val="{ilvl}"/><w:numId w:val="900"/></w:numPr>'))
    out = io.BytesIO()
    document.save(out)
    read = read_document(out.getvalue(), "odd.docx", DOCX_TYPE, limits=LIMITS)
    assert read.text == "32767. một\n\nhai\n\n32768. ba\n\nbốn"


def test_a_document_over_its_time_budget_fails_alone_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    data = _docx(2000)
    tiny = Limits(**{**LIMITS.__dict__, "time_budget": 1e-9})
    with pytest.raises(
        DocumentError,
        match=r"^slow\.docx: reading took longer than the time budget of 1e-09 s "
        r"\(NEWSFLOW_DOCUMENT_TIME_BUDGET\)$",
    ):
        read_document(data, "slow.docx", DOCX_TYPE, limits=tiny)

    monkeypatch.setenv("NEWSFLOW_DOCUMENT_TIME_BUDGET", "0.000000001")
    reset_settings()
    assert Limits.from_settings(get_settings()).time_budget == 1e-9
    (tmp_path / "slow.docx").write_bytes(data)
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    raws = _items(tmp_path / "slow.docx", tmp_path / "good.txt")
    assert all(isinstance(raw, RawArticle) for raw in raws)  # receiving is not reading
    with pytest.raises(ArticleError, match=r"^reading took longer than the time budget of 1e-09 s"):
        process(raws[0], None)  # type: ignore[arg-type]
    assert process(raws[1], None).text == GOOD  # type: ignore[arg-type]


# --- 5: feed:, sitemap: and listing: sources on the command line ---------------------------------------------


def test_check_sources_accepts_every_readme_form_and_refuses_malformed_urls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsflow.cli import _check_sources
    from newsflow.errors import UserError

    monkeypatch.chdir(tmp_path)
    Path("a.txt").write_text(GOOD, encoding="utf-8")
    good = [
        "a.txt",
        ".",
        "-",
        "https://x.gov.vn/a",
        "http://x.gov.vn/a",
        "feed:https://x.gov.vn/rss",
        "sitemap:https://x.gov.vn/sitemap.xml.gz",
        "listing:https://x.gov.vn/tin-tuc/",
    ]
    assert _check_sources(good) == good
    bad = {
        "feed:notaurl": "feed:notaurl: feed: must be followed by an http(s) URL (e.g. feed:https://example.gov.vn/rss.xml)",
        "sitemap:ftp://x.gov.vn/s.xml": "sitemap: must be followed by an http(s) URL",
        "listing:": "listing: must be followed by an http(s) URL",
        "feed:https://": "feed:https://: URL has no host",
        "https://[::1/a": "https://[::1/a: not a valid URL",
        "missing.txt": "missing.txt: no such file or directory",
    }
    for source, message in bad.items():
        with pytest.raises(UserError) as caught:
            _check_sources(["a.txt", source])
        assert message in str(caught.value), str(caught.value)


def test_extract_reads_feed_and_sitemap_sources_through_the_cli(site: Site, tmp_path: Path) -> None:
    env = {
        "NEWSFLOW_FETCH_ALLOW_ADDRESSES": "127.0.0.1/32",
        "NEWSFLOW_FETCH_MIN_INTERVAL": "0",
        "NEWSFLOW_FETCH_RETRIES": "0",
    }
    out = _newsflow(
        "extract", f"feed:{site.base}/feed.xml", f"sitemap:{site.base}/sitemap_index.xml", cwd=tmp_path, env=env
    )
    lines = _stderr_lines(out)
    records = [json.loads(line) for line in out.stdout.splitlines()]
    # the feed's articles (its syndicated copy too), then the sitemap's page that the feed did not name
    assert [(r["source"]["kind"], r["source"]["uri"], r["title"]) for r in records] == [
        ("feed", f"{site.base}/feed.xml", "Long An sơ kết công tác quản lý đất đai quý I"),
        ("feed", f"{site.base}/feed.xml", "Bến Tre chuẩn bị ứng phó hạn mặn mùa khô"),
        ("feed", f"{site.base}/feed.xml", "Long An: sơ kết quản lý đất đai quý I"),
        ("sitemap", f"{site.base}/sitemap-news.xml", "Trà Vinh khai mạc hội chợ OCOP"),
    ]
    # the feed also names a page robots.txt disallows and one that is gone: one line each
    assert len(lines) == 2 and all(line.startswith(f"error: {site.base}/") for line in lines), lines
    assert out.returncode == 1

    refused = _newsflow("extract", "feed:notaurl", cwd=tmp_path)
    assert refused.returncode == 2
    assert _stderr_lines(refused) == [
        "error: feed:notaurl: feed: must be followed by an http(s) URL (e.g. feed:https://example.gov.vn/rss.xml)"
    ]


@pytest.mark.e2e
def test_run_reads_a_feed_source_through_the_cli(site: Site, tmp_path: Path) -> None:
    """`newsflow run feed:URL`: the Prefect flow (local mode, a fresh PREFECT_HOME) stores the feed's articles."""
    env = {
        "NEWSFLOW_FETCH_ALLOW_ADDRESSES": "127.0.0.1/32",
        "NEWSFLOW_FETCH_MIN_INTERVAL": "0",
        "NEWSFLOW_FETCH_RETRIES": "0",
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    out = _newsflow("run", f"feed:{site.base}/feed.xml", cwd=tmp_path, env=env, timeout=600)
    assert out.returncode == 1, out.stderr[-3000:]  # two items failed (below): 1, as `extract` exits
    assert "3 / 0 / 0" in out.stdout  # new / updated / unchanged
    failed = [line for line in out.stderr.splitlines() if line.startswith("failed ")]
    assert len(failed) == 2 and all(line.startswith(f"failed {site.base}/") for line in failed), failed
    assert len(list((tmp_path / "data" / "output" / "records").glob("*.json"))) == 3


# --- 11: a file name cannot forge an error line ---------------------------------------------------------------


def test_display_name_escapes_only_when_needed() -> None:
    assert display_name("samples/vi/tin-tức.txt") == "samples/vi/tin-tức.txt"
    assert display_name("a\nerror: forged.txt") == "'a\\nerror: forged.txt'"
    assert display_name("x\x1b[31m.txt") == "'x\\x1b[31m.txt'"
    assert display_name(display_name("a\nb")) == display_name("a\nb")  # naming it twice changes nothing


def test_newline_in_a_file_name_does_not_forge_an_error_line(tmp_path: Path) -> None:
    forged = "a\nerror: forged.txt"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / forged).write_text("")  # empty: an error naming it
    (tmp_path / "in" / "b\rc.txt").write_text(GOOD, encoding="utf-8")
    errors = _errors(_items(tmp_path / "in"))
    assert errors == {repr(str(tmp_path / "in" / forged)): "empty input"}

    out = _newsflow("extract", f"in/{forged}", "in", cwd=tmp_path)
    lines = _stderr_lines(out)
    assert lines == ["error: 'in/a\\nerror: forged.txt': empty input"] * 2, lines
    (record,) = [json.loads(line) for line in out.stdout.splitlines()]
    assert record["source"]["uri"] == "in/b\rc.txt"  # the record keeps the real name (JSON escapes it)


def test_run_summary_names_failures_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from flows.summary import Failure, RunSummary
    from newsflow.cli import _print_summary

    summary = RunSummary(run_id="r1", failed=[Failure(source="x\nerror: forged.txt", reason="bad\nerror: also")])
    _print_summary(summary)
    failed = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert failed == ["failed 'x\\nerror: forged.txt': bad error: also"]


# --- 12: url fields, symbolic links, FIFOs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("javascript:alert(1)", "field 'url' must be an http(s) URL, got scheme 'javascript:'"),
        ("file:///etc/passwd", "field 'url' must be an http(s) URL, got scheme 'file:'"),
        ("data:text/html,<p>x</p>", "field 'url' must be an http(s) URL, got scheme 'data:'"),
        ("longan.gov.vn/tin/1", "field 'url' must be an http(s) URL, got no scheme"),
        ("https:///tin/1", "field 'url' must be an http(s) URL with a host"),
        ("https://[::1/tin", "field 'url' is not a valid URL"),
        ("https://x.vn/\nerror: forged", "field 'url' must be an http(s) URL, got 'https://x.vn/\\nerror: forged'"),
    ],
)
def test_json_url_must_be_http_or_https(tmp_path: Path, url: str, reason: str) -> None:
    path = tmp_path / "in.jsonl"
    good = {"url": "HTTPS://longan.gov.vn/tin/2", "text": GOOD}
    path.write_text(json.dumps({"url": url, "text": GOOD}) + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    error, raw = _items(path)
    assert isinstance(error, InputError) and error.source == f"{path}:1" and error.reason.startswith(reason)
    assert isinstance(raw, RawArticle) and raw.url == good["url"] and raw.source.site == "longan.gov.vn"


def test_symlink_out_of_a_source_directory_is_reported_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "hostname.txt").write_text("Tỉnh Long An bí mật.", encoding="utf-8")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "a.txt").write_text(GOOD, encoding="utf-8")
    (src / "inside.txt").symlink_to(src / "sub" / "a.txt")  # stays inside: read
    (src / "host.txt").symlink_to(outside / "hostname.txt")
    (src / "etc").symlink_to(outside, target_is_directory=True)
    (src / "loop").symlink_to(src, target_is_directory=True)  # inside: its files are read under their own path
    (src / "gone.txt").symlink_to(tmp_path / "nowhere.txt")

    items = _items(src)
    assert [i.source.uri for i in items if isinstance(i, RawArticle)] == [
        str(src / "inside.txt"),
        str(src / "sub" / "a.txt"),
    ]
    not_followed = "outside the source directory; not followed (NEWSFLOW_FOLLOW_SYMLINKS=true follows it)"
    assert _errors(items) == {
        str(src / "etc"): f"symbolic link to a directory {not_followed}",
        str(src / "gone.txt"): "broken symbolic link (what it points to does not exist)",
        str(src / "host.txt"): f"symbolic link to {outside / 'hostname.txt'}, {not_followed}",
    }
    assert not any("bí mật" in i.content for i in items if isinstance(i, RawArticle))

    followed = _items(src, settings=Settings(follow_symlinks=True))
    expected = [src / "etc" / "hostname.txt", src / "host.txt", src / "inside.txt", src / "sub" / "a.txt"]
    assert sorted(i.source.uri for i in followed if isinstance(i, RawArticle)) == sorted(map(str, expected))
    assert _errors(followed) == {str(src / "gone.txt"): "broken symbolic link (what it points to does not exist)"}


def test_follow_symlinks_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().follow_symlinks is False
    monkeypatch.setenv("NEWSFLOW_FOLLOW_SYMLINKS", "true")
    assert Settings().follow_symlinks is True


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """work() in a thread (its result, or its exception raised here); fails instead of hanging the suite if it
    has not returned after `seconds`."""
    result: list[Any] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as exc:  # handed to the test's thread
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked (a FIFO was opened for reading?)"
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


@needs_fifo
def test_fifo_is_named_for_what_it_is_and_never_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    os.mkfifo(src / "pipe.txt")
    os.mkfifo(tmp_path / "fifo")
    (src / "a.txt").write_text(GOOD, encoding="utf-8")
    items = _within(30, lambda: _items(tmp_path / "fifo", src))
    assert _errors(items) == {
        str(tmp_path / "fifo"): "is a FIFO, not a regular file",
        str(src / "pipe.txt"): "is a FIFO, not a regular file",
    }
    assert [i.content for i in items if isinstance(i, RawArticle)] == [GOOD]

    from extractors import sources

    # A FIFO put where a regular file was, between the check and the open: the open does not block either.
    checks = iter([None])
    real = sources._not_regular
    monkeypatch.setattr(sources, "_not_regular", lambda mode: next(checks, real(mode)))
    with pytest.raises(ValueError, match="is a FIFO, not a regular file"):
        _within(30, lambda: sources._read_bytes(src / "pipe.txt", 1000))
    monkeypatch.undo()

    out = _newsflow("extract", "fifo", "src", cwd=tmp_path, timeout=60)
    assert _stderr_lines(out) == [
        "error: fifo: is a FIFO, not a regular file",
        "error: src/pipe.txt: is a FIFO, not a regular file",
    ]
    assert out.returncode == 1 and len(out.stdout.splitlines()) == 1
