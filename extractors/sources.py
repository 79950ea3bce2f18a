"""Receiving articles: files, directories, stdin, JSON/JSONL, http(s) URLs, feeds and sitemaps -> `RawArticle`s.

Each source yields articles or `InputError`s naming the input and the reason, so one bad file (or one bad
JSONL line) is reported while the rest of the batch goes on. An input's name in an error is `display_name(...)`:
quoted with its control characters escaped when it has any, so a file name cannot forge an error line.

Hostile inputs cost one error each, never the batch: JSON nested deeper than `JSON_MAX_DEPTH` levels is
refused before parsing; only regular files are opened (a FIFO, socket or device is named for what it is, and
files are opened non-blocking, so a FIFO swapped in never hangs the run); a symbolic link in a source
directory that leads outside it is reported, not followed, unless `NEWSFLOW_FOLLOW_SYMLINKS` is true.

URL sources (`https://...`, `feed:https://...`, `sitemap:https://...`, `listing:https://...`) go through
`extractors.acquire.session.Acquirer`: politeness, limits, SSRF guard, conditional GET, de-duplication and
the fetch log. One Acquirer serves every URL of one `iter_sources` call unless the caller passes its own.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from pydantic import ValidationError

from extractors.acquire.encoding import DecodeError, decode_body
from extractors.acquire.items import InputError, Item
from extractors.acquire.session import Acquirer, is_url_source
from extractors.config import AcquireConfig, Limits, SourceConfig
from extractors.dates import parse_iso
from extractors.documents import DOCUMENT_SUFFIXES, DocumentError, check_document, describe, sniff
from schemas.models import RawArticle, SourceInfo

SUPPORTED = {".txt", ".html", ".htm", ".json", ".jsonl", ".pdf", ".docx"}
JSON_FIELDS = {"url", "title", "text", "html", "published_at", "authors", "language"}
JSON_MAX_DEPTH = 64  # arrays/objects inside each other; an article needs 2 (an array of objects)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


__all__ = ["JSON_MAX_DEPTH", "InputError", "Item", "display_name", "iter_sources", "raw_from_object"]


def display_name(name: str) -> str:
    """`name` as it may appear in a one-line message: unchanged when every character prints, else quoted
    with its control characters (newline, escape, ...) and other unprintables escaped, as Python's repr does.

    Idempotent: the escaped form prints, so naming it again leaves it as it is.
    """
    return name if name.isprintable() else repr(name)


def _json_too_deep(text: str, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether the JSON `text` nests arrays/objects more than `limit` deep (brackets in strings do not count).

    Two regex passes (strings out, then everything but brackets) and a walk over the brackets alone, which
    stops at the first level too deep: cheap for any size, so json.loads never recurses out of the stack.
    """
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for char in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _load_json(text: str) -> Any:
    """json.loads with a depth limit; ValueError says why (the decoder's message, or the depth)."""
    too_deep = f"JSON nested deeper than {JSON_MAX_DEPTH} levels"
    if _json_too_deep(text):
        raise ValueError(too_deep)
    try:
        return json.loads(text)
    except RecursionError:  # not reached after the scan above; kept so no input can end the batch this way
        raise ValueError(too_deep) from None


def _url_problem(url: str) -> str | None:
    """Why a JSON input's `url` is not an http(s) URL with a host, or None when it is one."""
    if not url.isprintable():
        return f"must be an http(s) URL, got {display_name(url)} (control characters)"
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"scheme {parts.scheme + ':'!r}" if parts.scheme else "no scheme"
        return f"must be an http(s) URL, got {scheme}"
    if not host:
        return "must be an http(s) URL with a host"
    return None


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


def _parse_published(value: Any) -> datetime | None:
    """A JSON input's `published_at` as written: without a timezone it stays naive, and processing gives it
    the site's zone with a warning (extractors.dates); a date alone is that day's 00:00."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"published_at must be an ISO 8601 string, got {type(value).__name__}")
    parsed = parse_iso(value)
    if parsed is None:
        raise ValueError(f"published_at {value!r} is not an ISO 8601 date")
    return parsed if isinstance(parsed, datetime) else datetime.combine(parsed, datetime.min.time())


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
        problem = _url_problem(url)
        if problem:
            raise ValueError(f"field 'url' {problem}")
        source = source.model_copy(update={"site": urlsplit(url).hostname})
    return RawArticle(
        source=source,
        content=body,
        media_type="text/html" if obj.get("html") is not None else "text/plain",
        url=url,
        title=obj.get("title"),
        published_at=_parse_published(obj.get("published_at")),
        authors=authors,
        language_hint=obj.get("language"),
    )


def _from_text(content: str, source: SourceInfo, suffix: str) -> Iterator[Item]:
    uri = display_name(source.uri)
    if suffix == ".json" or (suffix == "" and content.lstrip().startswith(("{", "["))):
        try:
            data = _load_json(content)
        except json.JSONDecodeError as exc:
            yield InputError(uri, f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
            return
        except ValueError as exc:
            yield InputError(uri, str(exc))
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
                yield raw_from_object(_load_json(line), source)
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


def _from_document(data: bytes, source: SourceInfo, suffix: str, settings: SourceConfig) -> Iterator[Item]:
    """A PDF/DOCX (by its magic bytes, or by its name): checked now, kept as base64 bytes, read when processed."""
    media_type = sniff(data)
    named = DOCUMENT_SUFFIXES.get(suffix)
    if named is not None and media_type != named:
        kind = "PDF" if suffix == ".pdf" else "DOCX"
        yield InputError(display_name(source.uri), f"not a {kind} file ({describe(data)})")
        return
    assert media_type is not None
    try:
        title = check_document(data, source.uri, media_type, limits=Limits.from_settings(settings))
    except DocumentError as exc:
        yield InputError(display_name(source.uri), str(exc).removeprefix(f"{source.uri}: "))
        return
    yield RawArticle(source=source, content=base64.b64encode(data).decode("ascii"), media_type=media_type, title=title)


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is ("is a FIFO, not a regular file"), None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    )
    kind = next((name for test, name in kinds if test(mode)), "a special file")
    return f"is {kind}, not a regular file"


def _read_bytes(path: Path, limit: int) -> bytes:
    """A regular file's bytes (at most `limit`). Anything else (FIFO, socket, device) is a ValueError saying
    what it is: checked before opening and again on the open file, which is opened non-blocking, so a FIFO
    put in a file's place meanwhile neither blocks the open nor is read."""
    problem = _not_regular(os.stat(path).st_mode)
    if problem:
        raise ValueError(problem)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb", closefd=True) as handle:
        info = os.fstat(fd)
        problem = _not_regular(info.st_mode)
        if problem:
            raise ValueError(problem)
        if info.st_size > limit:
            raise ValueError(f"file is {info.st_size} bytes, over the limit of {limit}")
        data = handle.read(limit + 1)
    if len(data) > limit:  # grew since fstat
        raise ValueError(f"file is over the limit of {limit} bytes")
    return data


def _read_file(path: Path, given: str, settings: SourceConfig) -> Iterator[Item]:
    source = SourceInfo(kind="file", uri=given, fetched_at=_now())
    suffix = path.suffix.lower()
    try:
        data = _read_bytes(path, settings.max_input_bytes)
        if suffix in DOCUMENT_SUFFIXES or sniff(data) is not None:
            yield from _from_document(data, source, suffix, settings)
            return
        content = _decode(data, given)
    except (OSError, ValueError) as exc:
        yield InputError(display_name(given), str(exc))
        return
    yield from _from_text(content, source, suffix)


def _wanted(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED and path.name.lower() != "readme.md"


def _directory(root: Path, settings: SourceConfig) -> list[tuple[Path, str | None]]:
    """The files to read under `root`, sorted by path: (path, None) to read, (path, reason) to report.

    Hidden entries are skipped, as are files of other types. A FIFO, socket or device with an article's
    suffix is reported for what it is. A symbolic link is followed when it leads inside `root` (a link to a
    directory inside it is skipped: that directory is read under its own path); one leading outside is
    reported, not followed, unless `follow_symlinks` is set. Each directory is read once (no link loops).
    """
    top = root.resolve()
    found: list[tuple[Path, str | None]] = []
    seen: set[tuple[int, int]] = set()
    pending = [root]
    while pending:
        directory = pending.pop()
        try:
            info = directory.stat()
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            with os.scandir(directory) as listing:
                entries = [(entry.name, entry.is_symlink(), entry.is_dir(follow_symlinks=False)) for entry in listing]
        except OSError as exc:
            found.append((directory, f"cannot read this directory: {exc.strerror or exc}"))
            continue
        for name, is_link, is_dir in entries:
            path = directory / name
            if name.startswith("."):
                continue
            if is_dir:
                pending.append(path)
                continue
            if is_link:
                target = path.resolve()
                try:
                    mode = os.stat(target).st_mode
                except (OSError, ValueError):
                    if _wanted(path):
                        found.append((path, "broken symbolic link (what it points to does not exist)"))
                    continue
                outside = not target.is_relative_to(top)
                if stat.S_ISDIR(mode):
                    if outside and settings.follow_symlinks:
                        pending.append(path)
                    elif outside:
                        found.append(
                            (
                                path,
                                "symbolic link to a directory outside the source directory; not "
                                "followed (NEWSFLOW_FOLLOW_SYMLINKS=true follows it)",
                            )
                        )
                    continue
                if not _wanted(path):
                    continue
                if outside and not settings.follow_symlinks:
                    reason = (
                        f"symbolic link to {display_name(str(target))}, outside the source directory; not "
                        "followed (NEWSFLOW_FOLLOW_SYMLINKS=true follows it)"
                    )
                    found.append((path, reason))
                    continue
            elif not _wanted(path):
                continue
            else:
                try:
                    mode = path.lstat().st_mode
                except OSError as exc:
                    found.append((path, str(exc)))
                    continue
            found.append((path, _not_regular(mode)))
    return sorted(found, key=lambda entry: entry[0])


def iter_sources(
    sources: list[str],
    settings: SourceConfig,
    *,
    acquirer: Acquirer | None = None,
    open_acquirer: Callable[[], Acquirer] | None = None,
) -> Iterator[Item]:
    """Every article of every source, in order (directories recursively, sorted by path).

    URL sources use `acquirer` when given (the caller closes it), else one `open_acquirer()` makes at the first
    URL and this call closes (`newsflow.runtime` hands one with the fetch log and the store). Without either,
    URLs are fetched by an Acquirer without a fetch log, which needs `settings` to be an `AcquireConfig`.
    """
    own: Acquirer | None = None
    try:
        for given in sources:
            if is_url_source(given):
                if acquirer is None and own is None:
                    try:
                        own = open_acquirer() if open_acquirer else Acquirer(cast(AcquireConfig, settings))
                    except Exception as exc:  # the fetch log's database: name it, do not crash the batch
                        yield InputError(given, f"cannot open the fetch log: {type(exc).__name__}: {exc}")
                        continue
                for item in (acquirer or own).iter_source(given):  # type: ignore[union-attr]
                    yield InputError(display_name(item.source), item.reason) if isinstance(item, InputError) else item
            else:
                yield from _iter_local(given, settings)
    finally:
        if own is not None:
            own.close()


def _iter_local(given: str, settings: SourceConfig) -> Iterator[Item]:
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
        name = display_name(given)
        try:
            mode: int | None = os.stat(path).st_mode  # follows a link: a link named on the command line is read
        except (OSError, ValueError):
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            files = _directory(path, settings)
            if not files:
                yield InputError(name, f"no {'/'.join(sorted(SUPPORTED))} files in this directory")
            for file, problem in files:
                if problem:
                    yield InputError(display_name(str(file)), problem)
                else:
                    yield from _read_file(file, str(file), settings)
        elif mode is not None and _not_regular(mode):
            yield InputError(name, str(_not_regular(mode)))
        elif mode is not None:
            if path.suffix.lower() not in SUPPORTED:
                yield InputError(
                    name, f"unsupported file type {path.suffix or '(none)'!r}; expected one of {sorted(SUPPORTED)}"
                )
                return
            yield from _read_file(path, given, settings)
        elif os.path.lexists(path):
            yield InputError(name, "broken symbolic link (what it points to does not exist)")
        else:
            yield InputError(name, "no such file or directory (and not an http(s), feed:, sitemap: or listing: URL)")
