"""Documents as input: text PDFs, scanned PDFs (OCR with Tesseract) and DOCX files -> text with page spans.

`read_document` turns a file's bytes into `Document`: the text (paragraphs separated by blank lines, NFC),
the [start, end) span of every page in that text, the method that read each page (`text` from the PDF's
text layer, `ocr` for a page without one), and a title (document metadata, else the first heading).
`sniff` tells a PDF or a DOCX from its first bytes, whatever the file is called.

Every problem is a `DocumentError` whose message names the file and the reason: too large, too many
pages, encrypted, corrupt, not what its name says, OCR missing or too slow, reading over its time budget
(`NEWSFLOW_DOCUMENT_TIME_BUDGET`, OCR not counted). The limits are settings (`NEWSFLOW_DOCUMENT_*`, read when
a document is read). DOCX reading is linear in the file's size: style chains are resolved once per style id.
OCR text is cached per page under `data_dir/ocr-cache` (when the data dir exists), keyed by the PDF's SHA-256,
page, language, resolution and Tesseract version, so reprocessing a scanned document does not run Tesseract
again (until Tesseract changes).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel

from extractors.config import Limits
from extractors.dates import parse_date
from schemas.models import Mention, RawArticle, SourceInfo

PDF_TYPE: Final = "application/pdf"
DOCX_TYPE: Final = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DocumentType = Literal["application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"]
DOCUMENT_TYPES = (PDF_TYPE, DOCX_TYPE)
DOCUMENT_SUFFIXES = {".pdf": PDF_TYPE, ".docx": DOCX_TYPE}

OCR_DPI = 300  # Tesseract's accuracy on diacritics drops quickly below 300 dpi
OCR_LANGUAGES = "vie"
MIN_TEXT_CHARS = 8  # a page whose text layer holds fewer letters than this is read by OCR
OCR_CACHE_VERSION = 1  # bump when rendering/recognition changes, so older cached text is not reused

Method = Literal["text", "ocr"]
ModelT = TypeVar("ModelT", bound=BaseModel)

_MARKER = re.compile(r"^(\d+(\.\d+)*[.)]|[a-zđ][.)]|[IVXLC]+[.)]|[-–•+*])\s", re.IGNORECASE)
_SENTENCE_END = (".", ":", ";", "!", "?", "”", '"', ")")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


class DocumentError(ValueError):
    """A document that cannot be read; the message names the file and says why."""


@dataclass
class Document:
    """A document's text and where each page is in it."""

    text: str
    media_type: str
    pages: list[tuple[int, int]] = field(default_factory=list)  # page i+1 is text[start:end]
    methods: list[Method] = field(default_factory=list)  # how page i+1 was read
    title: str | None = None
    # the file's creation date from its metadata, as written there: naive when it names no zone (the pipeline
    # gives it the site's zone, extractors.dates)
    published_at: datetime | None = None

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding text offset `offset` (a separator belongs to the page before it)."""
        found = None
        for number, (start, _end) in enumerate(self.pages, start=1):
            if start <= offset:
                found = number
            else:
                break
        return found


def sniff(data: bytes) -> DocumentType | None:
    """PDF_TYPE or DOCX_TYPE from the magic bytes, else None."""
    if data.startswith(b"%PDF-"):
        return PDF_TYPE
    if b"%PDF-" in data[:1024] and b"%%EOF" in data[-2048:]:  # junk before the header is allowed by readers
        return PDF_TYPE
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "word/document.xml" in archive.namelist():
                    return DOCX_TYPE
        except zipfile.BadZipFile:
            return None
    return None


def describe(data: bytes) -> str:
    """What a file that is not the expected document looks like, for the error message."""
    if not data:
        return "it is empty"
    if data[:4] == b"PK\x03\x04":
        return "it is a ZIP archive without word/document.xml"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "it is an old binary Word/Office file (.doc): save it as .docx"
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return "it is an HTML page"
    if data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n":
        return "it is an image, not a PDF (wrap scans in a PDF)"
    return f"it starts with {data[:8]!r}"


class _Deadline:
    """The time budget of reading one document: `check()` raises a DocumentError once it is spent.

    Time inside `excluded()` (OCR, which has its own per-page limit) does not count.
    """

    def __init__(self, name: str, seconds: float) -> None:
        self.name = name
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise DocumentError(
                f"{self.name}: reading took longer than the time budget of {self.seconds:g} s "
                "(NEWSFLOW_DOCUMENT_TIME_BUDGET)"
            )

    @contextmanager
    def excluded(self) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.end += time.monotonic() - started


def read_document(
    data: bytes,
    name: str,
    media_type: str | None = None,
    *,
    limits: Limits | None = None,
    max_pages: int | None = None,
    max_bytes: int | None = None,
    ocr_timeout: float | None = None,
) -> Document:
    """The text of a PDF or DOCX file (`media_type` from `sniff` when not given).

    `limits` default to `Limits()` (the settings' defaults, no OCR cache); `max_pages`/`max_bytes`/`ocr_timeout`
    override single ones.
    """
    limits = limits or Limits()
    max_pages = max_pages if max_pages is not None else limits.max_pages
    max_bytes = max_bytes if max_bytes is not None else limits.max_bytes
    ocr_timeout = ocr_timeout if ocr_timeout is not None else limits.ocr_timeout
    _check_size(data, name, max_bytes)
    found = sniff(data)
    expected = media_type or found
    if expected not in DOCUMENT_TYPES:
        raise DocumentError(f"{name}: not a PDF or DOCX document ({describe(data)})")
    if found != expected:
        kind = "PDF" if expected == PDF_TYPE else "DOCX"
        raise DocumentError(f"{name}: not a {kind} file ({describe(data)})")
    deadline = _Deadline(name, limits.time_budget)
    if expected == PDF_TYPE:
        return _read_pdf(data, name, max_pages, ocr_timeout, limits.ocr_cache, deadline)
    return _read_docx(data, name, max_pages, limits.max_unzipped, deadline)


def check_document(data: bytes, name: str, media_type: str, *, limits: Limits | None = None) -> str | None:
    """Cheap checks at receive time (size, type, encryption, corruption, page count); the title from metadata."""
    limits = limits or Limits()
    _check_size(data, name, limits.max_bytes)
    if media_type == PDF_TYPE:
        reader = _open_pdf(data, name, limits.max_pages)
        return _pdf_title(reader, name)
    _check_zip(data, name, limits.max_unzipped)
    doc = _open_docx(data, name)
    return (doc.core_properties.title or "").strip() or None


def fetched_document(
    data: bytes, content_type: str, source: SourceInfo, url: str, limits: Limits | None = None
) -> RawArticle:
    """A PDF/DOCX fetched from `url` as a raw input: checked like a received file, kept as base64 bytes.

    The bytes decide the type; a body that is not what its Content-Type says is a DocumentError.
    """
    found = sniff(data)
    if found is None:
        kind = "PDF" if content_type == PDF_TYPE else "DOCX" if content_type == DOCX_TYPE else "PDF or DOCX"
        raise DocumentError(
            f"{source.uri}: served as {content_type or 'no type'} but not a {kind} file ({describe(data)})"
        )
    title = check_document(data, source.uri, found, limits=limits)
    return RawArticle(
        source=source, content=base64.b64encode(data).decode("ascii"), media_type=found, url=url, title=title
    )


def _check_size(data: bytes, name: str, max_bytes: int) -> None:
    if len(data) > max_bytes:
        raise DocumentError(f"{name}: file is {len(data)} bytes, over the limit of {max_bytes}")


# --- PDF ---------------------------------------------------------------------------------------------------


def _open_pdf(data: bytes, name: str, max_pages: int) -> Any:
    import pypdf
    from pypdf.errors import DependencyError, PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")  # an empty user password only restricts printing/copying
            except DependencyError:
                raise DocumentError(f"{name}: encrypted PDF (its cipher needs the 'cryptography' package)") from None
            if not opened:
                raise DocumentError(f"{name}: encrypted PDF that needs a password")
        count = len(reader.pages)
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError) as exc:
        raise DocumentError(f"{name}: corrupt PDF ({type(exc).__name__}: {str(exc)[:120]})") from None
    if count == 0:
        raise DocumentError(f"{name}: PDF has no pages")
    if count > max_pages:
        raise DocumentError(f"{name}: PDF has {count} pages, over the limit of {max_pages}")
    return reader


def _pdf_title(reader: Any, name: str) -> str | None:
    """The metadata title, unless it is a tool's placeholder (the file name, "Microsoft Word - x.docx")."""
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken info dictionary must not cost the document
        return None
    title = _clean_line(title) if isinstance(title, str) else ""
    stem = os.path.splitext(os.path.basename(name))[0]
    if (
        not title
        or title == stem
        or title.lower().startswith("microsoft word")
        or title.lower().endswith((".doc", ".docx", ".pdf", ".odt"))
    ):
        return None
    return title


def _as_datetime(value: datetime | date | None) -> datetime | None:
    """A metadata date as a datetime: a day alone is its 00:00 (still naive: the zone is the pipeline's)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, datetime.min.time())
    return value


def _pdf_date(reader: Any) -> datetime | None:
    """The info dictionary's /CreationDate as written ("D:20260312093000+07'00'"; naive without an offset)."""
    try:
        value = reader.metadata.get("/CreationDate") if reader.metadata else None
    except Exception:  # a broken info dictionary must not cost the document
        return None
    return _as_datetime(parse_date(str(value))) if value else None


# The created date python-docx's blank template carries into every file made from it: not the document's own.
_TEMPLATE_DATES = {"2013-12-23T23:15:00Z"}


def _docx_date(doc: Any) -> datetime | None:
    """docProps/core.xml's dcterms:created as written (python-docx's own reader drops a non-UTC offset)."""
    node = doc.core_properties._element.find("{http://purl.org/dc/terms/}created")
    text = (node.text or "").strip() if node is not None else ""
    if not text or text in _TEMPLATE_DATES:
        return None
    return _as_datetime(parse_date(text))


def _read_pdf(
    data: bytes, name: str, max_pages: int, ocr_timeout: float, ocr_cache: Path | None, deadline: _Deadline
) -> Document:
    reader = _open_pdf(data, name, max_pages)
    digest = hashlib.sha256(data).hexdigest()
    page_texts: list[str] = []
    methods: list[Method] = []
    for number, page in enumerate(reader.pages, start=1):
        deadline.check()
        try:
            raw = page.extract_text(extraction_mode="layout")
        except Exception:  # pypdf's layout mode fails on some odd fonts; the plain mode rarely does
            try:
                raw = page.extract_text()
            except Exception as exc:
                raise DocumentError(f"{name}: page {number}: unreadable text layer ({type(exc).__name__})") from None
        if _letters(raw) >= MIN_TEXT_CHARS:
            page_texts.append(_paragraphs(raw))
            methods.append("text")
        else:
            with deadline.excluded():
                recognised = _ocr_cached(data, digest, name, number, ocr_timeout, ocr_cache)
            page_texts.append(_paragraphs(recognised))
            methods.append("ocr")
    deadline.check()
    text, spans = _join_pages(page_texts)
    title = _pdf_title(reader, name) or _first_heading(text)
    return Document(
        text=text, media_type=PDF_TYPE, pages=spans, methods=methods, title=title, published_at=_pdf_date(reader)
    )


def _letters(text: str) -> int:
    return sum(ch.isalpha() for ch in text)


def tesseract_missing() -> str | None:
    """Why OCR cannot run here (with the Debian packages to install), or None when it can."""
    if shutil.which("pdftoppm") is None:
        return "pdftoppm is not installed (apt-get install poppler-utils)"
    if shutil.which("tesseract") is None:
        return "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-vie)"
    try:
        listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"tesseract does not run ({exc})"
    langs = set((listed.stdout + listed.stderr).split())
    missing = [lang for lang in OCR_LANGUAGES.split("+") if lang not in langs]
    if missing:
        return f"Tesseract has no {'/'.join(missing)} language data (apt-get install tesseract-ocr-vie)"
    return None


@functools.cache
def tesseract_version() -> str | None:
    """The installed Tesseract's version as `tesseract --version` prints it ("5.3.0"), read once per process;
    None when it does not run or says no version."""
    try:
        done = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    # Tesseract 4+ prints "tesseract 5.3.0" on stdout; 3.x printed it on stderr.
    match = re.search(r"^tesseract\s+v?(\S+)", done.stdout + "\n" + done.stderr, re.IGNORECASE | re.MULTILINE)
    return match.group(1) if match else None


def ocr_cache_name(digest: str, number: int, tesseract: str) -> str:
    """The cache file name of page `number` of the PDF with SHA-256 `digest`, read by Tesseract `tesseract`.

    The version is in the key because another Tesseract (or its bundled model) reads the same page differently.
    """
    version = re.sub(r"[^0-9A-Za-z.]+", "_", tesseract)  # a file-name-safe form of e.g. "5.0.0-alpha-20201127"
    return f"{digest}-p{number}-{OCR_LANGUAGES}-{OCR_DPI}dpi-tesseract{version}-v{OCR_CACHE_VERSION}.txt"


def _ocr_cached(data: bytes, digest: str, name: str, number: int, timeout: float, cache: Path | None) -> str:
    """OCR text of one page from the cache (same PDF bytes, page, language, resolution, Tesseract version),
    else from Tesseract."""
    tesseract = tesseract_version() if cache is not None else None
    if cache is None or tesseract is None:  # unknown version: a cached text could be another Tesseract's
        return _ocr_page(data, name, number, timeout)
    path = cache / digest[:2] / ocr_cache_name(digest, number, tesseract)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # no entry yet, or an unreadable one: OCR again and (re)write it
        pass
    text = _ocr_page(data, name, number, timeout)
    if not cache.parent.is_dir():  # no data dir yet (`newsflow extract` stores nothing): do not create one
        return text
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)  # atomic: a parallel worker never reads half an entry
    except OSError:  # a read-only or full data dir costs only the cache, not the document
        pass
    return text


def _ocr_page(data: bytes, name: str, number: int, timeout: float) -> str:
    """One page rendered by poppler's pdftoppm and read by Tesseract."""
    problem = tesseract_missing()
    if problem:
        raise DocumentError(f"{name}: page {number} has no text layer and needs OCR, but {problem}")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}  # Tesseract's OpenMP threads fight over 2 cores for no gain
    with tempfile.TemporaryDirectory(prefix="newsflow-ocr-") as tmp:
        pdf_path = os.path.join(tmp, "in.pdf")
        with open(pdf_path, "wb") as handle:
            handle.write(data)
        image = os.path.join(tmp, "page")
        render = [
            "pdftoppm",
            "-f",
            str(number),
            "-l",
            str(number),
            "-r",
            str(OCR_DPI),
            "-gray",
            "-png",
            "-singlefile",
            pdf_path,
            image,
        ]
        recognise = ["tesseract", image + ".png", "stdout", "-l", OCR_LANGUAGES, "--psm", "3"]
        for step, command in (("rendering", render), ("OCR", recognise)):
            try:
                done = subprocess.run(command, capture_output=True, timeout=timeout, env=env)
            except subprocess.TimeoutExpired:
                raise DocumentError(f"{name}: page {number}: {step} took longer than {timeout:g} s") from None
            if done.returncode != 0:
                reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
                raise DocumentError(f"{name}: page {number}: {step} failed: {reason[0][:160]}")
        return done.stdout.decode("utf-8", "replace")


# --- DOCX --------------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _check_zip(data: bytes, name: str, max_unzipped: int) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # Declared sizes first (zipfile refuses to inflate past them), so a zip bomb is never unpacked.
            size = sum(info.file_size for info in archive.infolist())
            if size > max_unzipped:
                raise DocumentError(f"{name}: DOCX unpacks to {size} bytes, over the limit of {max_unzipped}")
            if archive.testzip() is not None:
                raise DocumentError(f"{name}: corrupt DOCX (a damaged part in the ZIP archive)")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise DocumentError(f"{name}: corrupt DOCX ({exc})") from None


def _open_docx(data: bytes, name: str) -> Any:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        return docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(f"{name}: corrupt DOCX ({type(exc).__name__}: {str(exc)[:120]})") from None
    except Exception as exc:  # lxml's XMLSyntaxError and friends: still a corrupt file, not a crash
        raise DocumentError(f"{name}: corrupt DOCX ({type(exc).__name__}: {str(exc)[:120]})") from None


def _read_docx(data: bytes, name: str, max_pages: int, max_unzipped: int, deadline: _Deadline) -> Document:
    """Linear in the document's size: style chains and list numbers are resolved once per style id (`_Styles`),
    not once per paragraph; the time budget is checked as blocks are read."""
    _check_zip(data, name, max_unzipped)
    doc = _open_docx(data, name)
    deadline.check()
    styles = _Styles(doc)
    numbering = _Numbering(doc)
    pages: list[list[str]] = [[]]
    title = (doc.core_properties.title or "").strip() or None
    heading: str | None = None

    def too_many_pages() -> DocumentError:
        return DocumentError(f"{name}: DOCX has more than {max_pages} pages (explicit page breaks)")

    for block in _blocks(doc.element.body):
        deadline.check()
        if block.tag == f"{_W}p":
            style = styles.of(block)
            if _page_break_before(block, style) and (pages[-1] or len(pages) > 1):
                pages.append([])
            for piece_index, piece in enumerate(_paragraph_pieces(block, deadline)):
                if piece_index:
                    pages.append([])
                    if len(pages) > max_pages:
                        raise too_many_pages()
                if piece_index == 0:
                    piece = numbering.label(block, style) + piece
                line = _clean_line(piece)
                if line:
                    pages[-1].append(line)
                    if heading is None and style.heading:
                        heading = line
        elif block.tag == f"{_W}tbl":
            pages[-1].extend(_table_rows(block, deadline))
        if len(pages) > max_pages:
            raise too_many_pages()
    deadline.check()
    text, spans = _join_pages(["\n\n".join(page) for page in pages])
    return Document(
        text=text,
        media_type=DOCX_TYPE,
        pages=spans,
        methods=["text"] * len(spans),
        title=title or heading or _first_heading(text),
        published_at=_docx_date(doc),
    )


def _blocks(parent: Any) -> Iterator[Any]:
    """Body paragraphs and tables in order, including those inside content controls (`w:sdt`)."""
    for child in parent.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content)


def _paragraph_pieces(p: Any, deadline: _Deadline) -> list[str]:
    """The paragraph's text, split at explicit page breaks (`<w:br w:type="page"/>`).

    Parts are joined once at the end: a paragraph of a million runs is not copied a million times.
    """
    pieces: list[list[str]] = [[]]
    for count, node in enumerate(p.iter(f"{_W}t", f"{_W}br", f"{_W}tab", f"{_W}cr"), start=1):
        if count % 4096 == 0:
            deadline.check()
        if node.tag == f"{_W}t":
            pieces[-1].append(node.text or "")
        elif node.tag == f"{_W}br" and node.get(f"{_W}type") == "page":
            pieces.append([])
        else:
            pieces[-1].append(" ")
    return ["".join(piece) for piece in pieces]


def _on(node: Any) -> bool:
    """An on/off property (`<w:pageBreakBefore/>`, `w:val="0"`...): present means on unless its value says off."""
    return node.get(f"{_W}val", "true") not in ("0", "false", "off")


def _int(value: str | None, default: int) -> int:
    """An integer attribute; a missing or malformed one is `default` (a damaged file is read, not a crash)."""
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _num_pr_of(num_pr: Any) -> tuple[str, int] | None:
    """(numId, ilvl) of a `w:numPr` element, or None when it has no numId."""
    if num_pr is None:
        return None
    num_id = num_pr.find(f"{_W}numId")
    if num_id is None:
        return None
    ilvl = num_pr.find(f"{_W}ilvl")
    return num_id.get(f"{_W}val", "0"), _int(ilvl.get(f"{_W}val") if ilvl is not None else None, 0)


def _start(value: str | None) -> int:
    """A list's start number, kept within Word's own range (0-32767)."""
    return min(max(_int(value, 1), 0), 32767)


@dataclass(frozen=True)
class _Style:
    """What a paragraph inherits from its style and the styles it is based on (first one that says wins)."""

    page_break_before: bool | None
    heading: bool
    num_pr: tuple[str, int] | None


class _Styles:
    """A document's paragraph styles, indexed once; each style id's chain is resolved once and cached.

    Same answers as python-docx's `get_by_id` (the first style with that id) and `default_for` (the last
    default paragraph style), without their per-call scan of every style.
    """

    MAX_CHAIN = 20  # `basedOn` links followed (a loop in them ends here)

    def __init__(self, doc: Any) -> None:
        self._by_id: dict[str, Any] = {}
        self._default: Any = None
        self._resolved: dict[str | None, _Style] = {}
        for style in doc.styles.element.iterchildren(f"{_W}style"):
            style_id = style.get(f"{_W}styleId")
            if style_id is not None:
                self._by_id.setdefault(style_id, style)
            if style.get(f"{_W}type") == "paragraph" and style.get(f"{_W}default") in ("1", "true", "on"):
                self._default = style

    def chain(self, style_id: str | None) -> list[Any]:
        """The style element of `style_id` (unknown or None: the default paragraph style) and its bases."""
        current = self._by_id.get(style_id) if style_id is not None else None
        if current is None:
            current = self._default
        chain: list[Any] = []
        while current is not None and len(chain) < self.MAX_CHAIN:
            chain.append(current)
            based = current.find(f"{_W}basedOn")
            current = self._by_id.get(based.get(f"{_W}val", "")) if based is not None else None
        return chain

    def of(self, p: Any) -> _Style:
        """The resolved style of paragraph `p`."""
        node = p.find(f"{_W}pPr/{_W}pStyle")
        style_id = node.get(f"{_W}val") if node is not None else None
        if style_id not in self._by_id:
            style_id = None  # unknown ids share the default's entry: a million bogus ids cost one lookup
        found = self._resolved.get(style_id)
        if found is None:
            found = self._resolved[style_id] = self._resolve(style_id)
        return found

    def _resolve(self, style_id: str | None) -> _Style:
        chain = self.chain(style_id)
        page_break: bool | None = None
        num_pr: tuple[str, int] | None = None
        heading = False
        for style in chain:
            if page_break is None:
                found = style.find(f"{_W}pPr/{_W}pageBreakBefore")
                page_break = _on(found) if found is not None else None
            if num_pr is None:
                num_pr = _num_pr_of(style.find(f"{_W}pPr/{_W}numPr"))
            name = style.find(f"{_W}name")
            if name is not None and name.get(f"{_W}val", "").lower().startswith(("heading", "title")):
                heading = True
        return _Style(page_break, heading, num_pr)


def _page_break_before(p: Any, style: _Style) -> bool:
    own = p.find(f"{_W}pPr/{_W}pageBreakBefore")
    if own is not None:
        return _on(own)
    return bool(style.page_break_before)


def _table_rows(tbl: Any, deadline: _Deadline) -> list[str]:
    """One line per table row, cells joined by ' | ' (a merged cell repeated by the grid is kept once)."""
    rows = []
    for tr in tbl.iter(f"{_W}tr"):
        deadline.check()
        cells: list[str] = []
        for tc in tr.findall(f"{_W}tc"):
            paras = [_clean_line("".join(t.text or "" for t in p.iter(f"{_W}t"))) for p in tc.iter(f"{_W}p")]
            cell = " ".join(part for part in paras if part)
            if cell and (not cells or cells[-1] != cell):
                cells.append(cell)
        if cells:
            rows.append(" | ".join(cells))
    return rows


class _Numbering:
    """Renders Word's automatic list numbers ("1.", "a)", "II.") as text, counting like Word does.

    Only Word's nine levels (0-8) are read, and a level text longer than MAX_TEXT is ignored: a label is
    written out for every paragraph, so a huge one would multiply the document.
    """

    LEVELS = range(9)
    MAX_TEXT = 64

    def __init__(self, doc: Any) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # numId -> ilvl -> (start, fmt, text)
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = doc.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract: dict[str, dict[int, tuple[int, str, str]]] = {}
        for node in root.findall(f"{_W}abstractNum"):
            abstract[node.get(f"{_W}abstractNumId")] = {
                self._ilvl(lvl): self._level(lvl) for lvl in node.findall(f"{_W}lvl") if self._ilvl(lvl) in self.LEVELS
            }
        for num in root.findall(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            levels = dict(abstract.get(ref.get(f"{_W}val") if ref is not None else "", {}))
            for override in num.findall(f"{_W}lvlOverride"):
                ilvl = self._ilvl(override)
                if ilvl not in self.LEVELS:
                    continue
                lvl = override.find(f"{_W}lvl")
                start = override.find(f"{_W}startOverride")
                if lvl is not None:
                    levels[ilvl] = self._level(lvl)
                if start is not None and ilvl in levels:
                    _, fmt, text = levels[ilvl]
                    levels[ilvl] = (_start(start.get(f"{_W}val")), fmt, text)
            self.levels[num.get(f"{_W}numId")] = levels

    @staticmethod
    def _ilvl(node: Any) -> int:
        """The level a `w:lvl`/`w:lvlOverride` defines: 0 when unsaid, -1 (ignored) when not a number."""
        return _int(node.get(f"{_W}ilvl", "0"), -1)

    @classmethod
    def _level(cls, lvl: Any) -> tuple[int, str, str]:
        def val(tag: str, default: str) -> str:
            node = lvl.find(f"{_W}{tag}")
            return node.get(f"{_W}val", default) if node is not None else default

        text = val("lvlText", "")
        return _start(val("start", "1")), val("numFmt", "decimal"), text if len(text) <= cls.MAX_TEXT else ""

    @staticmethod
    def _num_pr(p: Any, style: _Style) -> tuple[str, int] | None:
        own = _num_pr_of(p.find(f"{_W}pPr/{_W}numPr"))
        return own if own is not None else style.num_pr

    def label(self, p: Any, style: _Style) -> str:
        """The paragraph's list number as text with a trailing space ("1. "), or "" if it is not numbered."""
        found = self._num_pr(p, style)
        if found is None or found[0] == "0" or found[0] not in self.levels:
            return ""
        num_id, ilvl = found
        levels, counters = self.levels[num_id], self.counters.setdefault(num_id, {})
        if ilvl not in levels:
            return ""
        counters[ilvl] = counters.get(ilvl, levels[ilvl][0] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:  # a new item restarts the levels below it
            del counters[deeper]
        _start, fmt, text = levels[ilvl]
        if fmt == "none" or not text:
            return ""
        if fmt == "bullet":
            return "- "

        def number(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            value = counters.get(level, levels.get(level, (1, "", ""))[0])
            return _format_number(value, levels.get(level, (1, "decimal", ""))[1])

        return re.sub(r"%(\d)", number, text) + " "


def _format_number(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        n = value
        while n > 0:
            n, rem = divmod(n - 1, 26)
            letters = chr(ord("a") + rem) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman") and value <= 3999:  # beyond: thousands of Ms, so digits instead
        roman = _roman(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


def _roman(value: int) -> str:
    out = ""
    for number, digits in (
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ):
        while value >= number:
            out += digits
            value -= number
    return out


# --- text ----------------------------------------------------------------------------------------------------


def _clean_line(line: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", line)).strip()


def _paragraphs(raw: str) -> str:
    """Lines of a PDF page or an OCR result -> paragraphs separated by blank lines.

    Wrapped lines run to the right margin; so a line well short of the page's longest line ends its paragraph
    (a heading, a signature line, the last line of a paragraph), as does an all-caps heading line, and a list
    marker ("1.", "a)", "-") starts one. A vertical gap ends a paragraph too, except where the line before it
    runs to the margin without ending a sentence and the next line starts in lower case (OCR sometimes splits
    a paragraph there).
    """
    lines: list[tuple[str, bool]] = []  # (line, a gap before it)
    gap = False
    for line in raw.replace("\r", "\n").split("\n"):
        cleaned = _clean_line(line)
        if cleaned:
            lines.append((cleaned, gap))
            gap = False
        else:
            gap = True
    if not lines:
        return ""
    full = max(len(line) for line, _ in lines)
    out: list[str] = []
    current = ""
    previous = ""
    for line, gap_before in lines:
        prev_long = len(previous) >= 0.75 * full
        prev_open = prev_long and not previous.endswith(_SENTENCE_END)
        if gap_before:
            starts = not (prev_open and line[:1].islower())
        else:
            starts = bool(_MARKER.match(line)) or not prev_long or _is_caps(previous)
        if not current:
            current = line
        elif starts:
            out.append(current)
            current = line
        elif current.endswith("-") and line[:1].islower():  # a word hyphenated at the margin
            current = current[:-1] + line
        else:
            current = f"{current} {line}"
        previous = line
    out.append(current)
    return "\n\n".join(out)


def _is_caps(line: str) -> bool:
    letters = [ch for ch in line if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters)


def _join_pages(pages: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Pages joined by a blank line, and the [start, end) span of each page in the result."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    offset = 0
    for page in pages:
        if parts:
            parts.append("\n\n")
            offset += 2
        spans.append((offset, offset + len(page)))
        parts.append(page)
        offset += len(page)
    return "".join(parts), spans


def _first_heading(text: str) -> str | None:
    """The first paragraph when it reads like a heading: short and without a sentence's final period."""
    first = text.split("\n\n", 1)[0].strip()
    if first and len(first) <= 200 and not first.endswith((".", ";", ":")):
        return first
    return None


# --- pages in mentions ------------------------------------------------------------------------------------


def with_pages(model: ModelT, document: Document) -> ModelT:
    """`model` (e.g. a record's `Entities`) with `page` set on every `Mention` inside it, however deep.

    A generic walk over the fields, so entity kinds added later (clusters, pacts) are covered too.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, Mention):
            return value.model_copy(update={"page": document.page_at(value.start)})
        if isinstance(value, BaseModel):
            update = {}
            for key in type(value).model_fields:
                old = getattr(value, key)
                new = walk(old)
                if new is not old:
                    update[key] = new
            return value.model_copy(update=update) if update else value
        if isinstance(value, list):
            items = [walk(item) for item in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if isinstance(value, tuple):
            items = [walk(item) for item in value]
            return tuple(items) if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if isinstance(value, dict):
            mapped = {k: walk(v) for k, v in value.items()}
            return mapped if any(mapped[k] is not value[k] for k in value) else value
        return value

    result: ModelT = walk(model)
    return result
