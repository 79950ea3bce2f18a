"""Receiving articles: files, directories, stdin, JSON/JSONL, http(s) URLs, feeds and sitemaps -> `RawArticle`s.

Each source yields articles or `InputError`s naming the input and the reason, so one bad file (or one bad
JSONL line) is reported while the rest of the batch goes on.

URL sources (`https://...`, `feed:https://...`, `sitemap:https://...`, `listing:https://...`) go through
`extractors.acquire.session.Acquirer`: politeness, limits, SSRF guard, conditional GET, de-duplication and
the fetch log. One Acquirer serves every URL of one `iter_sources` call unless the caller passes its own.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from extractors.acquire.encoding import DecodeError, decode_body
from extractors.acquire.items import InputError, Item
from extractors.acquire.session import Acquirer, is_url_source
from extractors.documents import DOCUMENT_SUFFIXES, DocumentError, Limits, check_document, describe, sniff
from newsflow.settings import Settings
from schemas.models import RawArticle, SourceInfo

SUPPORTED = {".txt", ".html", ".htm", ".json", ".jsonl", ".pdf", ".docx"}
JSON_FIELDS = {"url", "title", "text", "html", "published_at", "authors", "language"}
LOCAL_TZ_NOTE = "+07:00"  # a published_at without a timezone is read as Vietnam time


__all__ = ["InputError", "Item", "iter_sources", "raw_from_object"]


def _now() -> datetime:
    return datetime.now(UTC)


def _looks_html(text: str) -> bool:
    head = text.lstrip()[:1000].lower()
    return head.startswith("<!doctype html") or "<html" in head or ("<body" in head) or ("<p>" in head)


def _decode(data: bytes, name: str) -> str:
    """A file's bytes as text: BOM, the document's own charset declaration, UTF-8, Windows-1258; mojibake
    (UTF-8 once read as Windows-1252) repaired when detectable."""
    try:
        return decode_body(data).text
    except DecodeError as exc:
        if "NUL" in str(exc):
            raise ValueError(str(exc)) from None
        raise ValueError("not valid UTF-8 or Windows-1258 text") from None


def _parse_published(value: Any, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"published_at must be an ISO 8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"published_at {value!r} is not an ISO 8601 date") from None
    if parsed.tzinfo is None:
        parsed = datetime.fromisoformat(parsed.isoformat() + LOCAL_TZ_NOTE)
    return parsed


def raw_from_object(obj: Any, source: SourceInfo) -> RawArticle:
    """One JSON object (url/title/text or html/published_at/authors/language) -> RawArticle."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    unknown = set(obj) - JSON_FIELDS
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(JSON_FIELDS)}")
    body = obj.get("html") if obj.get("html") is not None else obj.get("text")
    if not isinstance(body, str) or not body.strip():
        raise ValueError("field 'text' (or 'html') must be a non-empty string")
    for key in ("url", "title", "language"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            raise ValueError(f"field {key!r} must be a string, got {type(obj[key]).__name__}")
    authors = obj.get("authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise ValueError("field 'authors' must be a list of strings")
    url = obj.get("url")
    if url:
        source = source.model_copy(update={"site": urlsplit(url).hostname})
    return RawArticle(
        source=source,
        content=body,
        media_type="text/html" if obj.get("html") is not None else "text/plain",
        url=url,
        title=obj.get("title"),
        published_at=_parse_published(obj.get("published_at"), source.uri),
        authors=authors,
        language_hint=obj.get("language"),
    )


def _from_text(content: str, source: SourceInfo, suffix: str) -> Iterator[Item]:
    uri = source.uri
    if suffix == ".json" or (suffix == "" and content.lstrip().startswith(("{", "["))):
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            yield InputError(uri, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            return
        objects = data if isinstance(data, list) else [data]
        for index, obj in enumerate(objects):
            where = f"{uri}[{index}]" if isinstance(data, list) else uri
            try:
                yield raw_from_object(obj, source)
            except (ValueError, ValidationError) as exc:
                yield InputError(where, str(exc).splitlines()[0])
        return
    if suffix == ".jsonl":
        for number, line in enumerate(content.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield raw_from_object(json.loads(line), source)
            except json.JSONDecodeError as exc:
                yield InputError(f"{uri}:{number}", f"invalid JSON: {exc.msg}")
            except (ValueError, ValidationError) as exc:
                yield InputError(f"{uri}:{number}", str(exc).splitlines()[0])
        return
    if not content.strip():
        yield InputError(uri, "empty input")
        return
    is_html = suffix in (".html", ".htm") or (suffix not in (".txt",) and _looks_html(content))
    yield RawArticle(source=source, content=content, media_type="text/html" if is_html else "text/plain")


def _from_document(data: bytes, source: SourceInfo, suffix: str, settings: Settings) -> Iterator[Item]:
    """A PDF/DOCX (by its magic bytes, or by its name): checked now, kept as base64 bytes, read when processed."""
    media_type = sniff(data)
    named = DOCUMENT_SUFFIXES.get(suffix)
    if named is not None and media_type != named:
        kind = "PDF" if suffix == ".pdf" else "DOCX"
        yield InputError(source.uri, f"not a {kind} file ({describe(data)})")
        return
    assert media_type is not None
    try:
        title = check_document(data, source.uri, media_type, limits=Limits.from_settings(settings))
    except DocumentError as exc:
        yield InputError(source.uri, str(exc).removeprefix(f"{source.uri}: "))
        return
    yield RawArticle(source=source, content=base64.b64encode(data).decode("ascii"), media_type=media_type,
                     title=title)  # fmt: skip


def _read_file(path: Path, given: str, settings: Settings) -> Iterator[Item]:
    source = SourceInfo(kind="file", uri=given, fetched_at=_now())
    suffix = path.suffix.lower()
    try:
        size = path.stat().st_size
        if size > settings.max_input_bytes:
            yield InputError(given, f"file is {size} bytes, over the limit of {settings.max_input_bytes}")
            return
        data = path.read_bytes()
        if suffix in DOCUMENT_SUFFIXES or sniff(data) is not None:
            yield from _from_document(data, source, suffix, settings)
            return
        content = _decode(data, given)
    except (OSError, ValueError) as exc:
        yield InputError(given, str(exc))
        return
    yield from _from_text(content, source, suffix)


def iter_sources(sources: list[str], settings: Settings, *, acquirer: Acquirer | None = None) -> Iterator[Item]:
    """Every article of every source, in order (directories recursively, sorted by path).

    URL sources use `acquirer` when given (the caller closes it), else one made from `settings` for this call.
    """
    own: Acquirer | None = None
    try:
        for given in sources:
            if is_url_source(given):
                if acquirer is None and own is None:
                    try:
                        own = Acquirer.from_settings(settings)
                    except Exception as exc:  # the fetch log's database: name it, do not crash the batch
                        yield InputError(given, f"cannot open the fetch log: {type(exc).__name__}: {exc}")
                        continue
                yield from (acquirer or own).iter_source(given)  # type: ignore[union-attr]
            else:
                yield from _iter_local(given, settings)
    finally:
        if own is not None:
            own.close()


def _iter_local(given: str, settings: Settings) -> Iterator[Item]:
    """One local source: stdin, a directory (recursively), or a file."""
    if given == "-":
        data = sys.stdin.buffer.read()
        if sniff(data) is not None:
            yield from _from_document(data, SourceInfo(kind="text", uri="-", fetched_at=_now()), "", settings)
            return
        try:
            content = _decode(data, "<stdin>")
        except ValueError as exc:
            yield InputError("<stdin>", str(exc))
            return
        source = SourceInfo(kind="text", uri="-", fetched_at=_now())
        first = content.lstrip()[:1]
        suffix = ".jsonl" if first == "{" and "\n{" in content.strip() else ""
        yield from _from_text(content, source, suffix)
    else:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED
                           and not any(part.startswith(".") for part in p.relative_to(path).parts)
                           and p.name.lower() != "readme.md")  # fmt: skip
            if not files:
                yield InputError(given, f"no {'/'.join(sorted(SUPPORTED))} files in this directory")
            for file in files:
                yield from _read_file(file, str(file), settings)
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED:
                yield InputError(given, f"unsupported file type {path.suffix or '(none)'!r}; "
                                        f"expected one of {sorted(SUPPORTED)}")  # fmt: skip
                return
            yield from _read_file(path, given, settings)
        else:
            yield InputError(given, "no such file or directory "
                             "(and not an http(s), feed:, sitemap: or listing: URL)")
