"""Machine translation of article text through deep-translator, with the limits deep-translator lacks.

deep-translator 1.11.4 calls `requests` with no timeout, lets raw `requests` errors escape and refuses
input over a per-provider size. This module wraps it so that one article can never block a flow:

* every HTTP request made for a translation gets a (connect, read) timeout, and every provider call
  runs in a daemon worker thread that is abandoned after `settings.translation_timeout` seconds;
* transient errors (timeouts, connection resets, HTTP 5xx and 429) are retried with exponential
  backoff and jitter, `settings.translation_retries` times; a 429's Retry-After is honoured (capped);
* a provider that cannot be reached (DNS, refused, connect timeout, or still hanging after all
  retries) is skipped by every `Translator` of the process for `CIRCUIT_COOLDOWN_S` seconds;
* long texts are cut at paragraph, then sentence, then whitespace boundaries into chunks under each
  provider's limit, and reassembled with the original line breaks.

`Translation.status` says what happened:

* ``done``        translated; `provider`, `text` and `translated_at` are set.
* ``not_needed``  empty text, or the source language is the target language.
* ``unsupported`` translation is switched off (``--translator none``), the source language is
  undetermined (``und``), or no configured provider handles the language pair.
* ``failed``      a permanent error: HTTP 4xx other than 429 (bad request, auth 401/403), or a
  body that could not be parsed. Sending the same request again will not help.
* ``pending``     no permanent error, but no translation either: provider unreachable, hanging,
  5xx/429 after every retry, or its circuit breaker open. A later retranslate may succeed.

``auto`` tries the configured providers in this order: google, mymemory, libre (when `libre_url`
is set), deepl (when `deepl_api_key` is set), microsoft (when `microsoft_api_key` is set), and last
the offline apertium (when the ``apertium`` command is installed; it has a pair only for the source
languages whose Debian package is installed, e.g. Spanish). The first translation wins and one text is
never mixed from two providers.

Names are protected (`protect` spans are replaced by placeholders, see extractors.protect, and put back
after). A mixed-language text is translated part by part (`segments`), each part from its own language;
a part already in the target language is kept as it is. Every chunk's translation is kept in a
`TranslationCache` keyed by (provider, source, target, sha256 of the text sent), so a re-run costs no
provider call. Requests per provider are spaced by an in-process rate limiter shared by every
`Translator` of the process (`settings.translation_rate_limits`), and `acquire(provider)` (e.g. a Prefect
global rate limit) is called before each request when given. When all fail the result is
``pending`` if any provider failed transiently (another run may succeed), else ``failed`` if any
failed permanently, else ``unsupported``.

`settings.translation_endpoints[provider]` replaces the provider's service root (scheme, host,
port and optional path prefix); the provider's own paths are appended as the real service has them:
google ``/m``, mymemory ``/get``, deepl ``/v2/translate``, microsoft ``/translate`` and
``/languages``. libre uses `settings.libre_url` (or the override) as its root, ``/translate`` appended.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from importlib.metadata import version as _dist_version
from typing import Any, Literal, NamedTuple, Protocol

import requests
from deep_translator import (
    DeeplTranslator,
    GoogleTranslator,
    LibreTranslator,
    MicrosoftTranslator,
    MyMemoryTranslator,
)
from deep_translator.constants import MY_MEMORY_LANGUAGES_TO_CODES
from deep_translator.exceptions import InvalidSourceOrTargetLanguage, LanguageNotSupportedException
from urllib3.exceptions import NewConnectionError

from extractors import apertium
from extractors.config import TranslateConfig
from extractors.protect import Protector
from schemas.models import Translation

log = logging.getLogger(__name__)

ONLINE_PROVIDERS: tuple[str, ...] = ("google", "mymemory", "libre", "deepl", "microsoft")
PROVIDERS: tuple[str, ...] = (*ONLINE_PROVIDERS, "apertium")  # the order `auto` tries them in

# Largest chunk sent in one request, in characters. deep-translator refuses len(text) >= 5000 for
# google and >= 500 for mymemory; the others get the same 5,000 cap to keep requests modest.
MAX_CHUNK_CHARS: dict[str, int] = {
    "google": 4999,
    "mymemory": 499,
    "libre": 4999,
    "deepl": 4999,
    "microsoft": 4999,
    "apertium": 20_000,  # no service limit; keeps one subprocess call bounded
}
_CLASS_NAMES = {
    "google": "GoogleTranslator",
    "mymemory": "MyMemoryTranslator",
    "libre": "LibreTranslator",
    "deepl": "DeeplTranslator",
    "microsoft": "MicrosoftTranslator",
}

CIRCUIT_COOLDOWN_S = 300.0  # how long an unreachable provider is skipped
CONNECT_TIMEOUT_S = 10.0  # connect part of the per-request timeout (never above translation_timeout)
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 10.0
MAX_RETRY_AFTER_S = 30.0  # a server asking for longer is treated as asking for this long

_DEFAULT_ROOTS = {
    "google": "https://translate.google.com",
    # deep-translator uses plain http for MyMemory; the service answers on https too.
    "mymemory": "https://api.mymemory.translated.net",
    "microsoft": "https://api.cognitive.microsofttranslator.com",
}
# Path suffixes a user may include in an override by habit; stripped so they are not doubled.
_KNOWN_SUFFIXES = {"google": "/m", "mymemory": "/get", "deepl": "/v2", "microsoft": "/translate"}
# ISO 639-1 codes that Google spells differently.
_GOOGLE_ALIASES = {"he": "iw", "jv": "jw", "zh": "zh-CN"}
_MICROSOFT_ALIASES = {"zh": "zh-hans"}

Kind = Literal["unsupported", "unreachable", "transient", "permanent"]


# --------------------------------------------------------------------------------------------------
# Per-request timeout: deep-translator calls requests.get/post with no timeout and offers no hook, so
# requests.Session.request is wrapped once, process-wide. The wrapper does nothing unless the calling
# thread is one of our translation workers (a thread-local context is set); then it adds the default
# timeout and records the last response or transport error, which deep-translator does not expose
# (it raises e.g. RequestError with no status code, or swallows the error entirely for Microsoft).


@dataclass
class _RequestContext:
    timeout: tuple[float, float]
    response: requests.Response | None = None
    transport_error: requests.RequestException | None = None


_local = threading.local()
_hook_lock = threading.Lock()
_hook_installed = False


def _install_request_hook() -> None:
    """Wrap `requests.Session.request` once (idempotent); see the comment above."""
    global _hook_installed
    with _hook_lock:
        current = requests.Session.request
        if _hook_installed or getattr(current, "_newsflow_translate_hook", False):
            return

        @functools.wraps(current)
        def request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            ctx: _RequestContext | None = getattr(_local, "ctx", None)
            if ctx is None:
                return current(self, method, url, *args, **kwargs)
            if len(args) < 7 and kwargs.get("timeout") is None:  # timeout is the 7th optional positional
                kwargs["timeout"] = ctx.timeout
            ctx.response, ctx.transport_error = None, None
            try:
                response = current(self, method, url, *args, **kwargs)
            except requests.RequestException as exc:
                ctx.transport_error = exc
                raise
            ctx.response = response
            return response

        request._newsflow_translate_hook = True  # type: ignore[attr-defined]
        setattr(requests.Session, "request", request)  # noqa: B010 (mypy refuses a method assignment)
        _hook_installed = True


# --------------------------------------------------------------------------------------------------
# Hard deadline: a daemon thread per call, abandoned when the deadline passes. Daemon, and not a
# ThreadPoolExecutor worker, so that a thread stuck on a trickling server never delays interpreter exit.


@dataclass
class _Attempt:
    text: str | None = None
    error: Exception | None = None
    ctx: _RequestContext | None = None
    timed_out: bool = False


def _run_with_deadline(fn: Callable[[], str], timeout: float) -> _Attempt:
    future: Future[_Attempt] = Future()

    def work() -> None:
        ctx = _RequestContext(timeout=(min(CONNECT_TIMEOUT_S, timeout), timeout))
        _local.ctx = ctx
        try:
            attempt = _Attempt(text=fn(), ctx=ctx)
        except Exception as exc:
            attempt = _Attempt(error=exc, ctx=ctx)
        finally:
            _local.ctx = None
        future.set_result(attempt)

    threading.Thread(target=work, name="newsflow-translate", daemon=True).start()
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        return _Attempt(timed_out=True)


# --------------------------------------------------------------------------------------------------
# Circuit breaker, keyed by (provider, service root) so a mirror and the public service are separate.


class _CircuitBreaker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[str, str], tuple[float, str]] = {}

    def open_reason(self, key: tuple[str, str]) -> str | None:
        """Why `key` is being skipped, or None when it may be called."""
        with self._lock:
            entry = self._open.get(key)
            if entry is None:
                return None
            until, reason = entry
            left = until - time.monotonic()
            if left <= 0:  # cool-down over: let the next call probe the provider
                del self._open[key]
                return None
        # No countdown: this text ends up in a stored record's translation.error, where "another 296 s" is stale.
        return f"circuit open: {reason} (a provider that cannot be reached is skipped for {CIRCUIT_COOLDOWN_S:.0f} s)"

    def trip(self, key: tuple[str, str], reason: str) -> None:
        with self._lock:
            self._open[key] = (time.monotonic() + CIRCUIT_COOLDOWN_S, reason)
        log.warning(
            "translation provider %s at %s unavailable for %.0f s: %s", *key, CIRCUIT_COOLDOWN_S, reason
        )

    def reset(self) -> None:
        with self._lock:
            self._open.clear()


_breaker = _CircuitBreaker()


def reset_circuit_breakers() -> None:
    """Forget every unreachable-provider mark (tests, or an operator who knows the network is back)."""
    _breaker.reset()
    _limiter.reset()


# --------------------------------------------------------------------------------------------------
# Cache


@dataclass(frozen=True)
class CachedTranslation:
    """A translation kept by a cache: the text, what made it, and when."""

    text: str
    engine: str | None
    translated_at: datetime


class TranslationCache(Protocol):
    """Where translations of chunks are kept: the database (`newsflow.storage.Store`) or `MemoryCache`.

    `text_hash` is `text_key(text)`, the sha256 of the exact text sent to the provider.
    """

    def get_translation(self, provider: str, source: str, target: str, text_hash: str) -> CachedTranslation | None: ...

    def put_translation(
        self, provider: str, source: str, target: str, text_hash: str, value: CachedTranslation
    ) -> None: ...


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class MemoryCache:
    """A TranslationCache in a dict (one process; tests and `--translator` runs without a database)."""

    def __init__(self) -> None:
        self._data: dict[tuple[str, str, str, str], CachedTranslation] = {}
        self._lock = threading.Lock()

    def get_translation(self, provider: str, source: str, target: str, text_hash: str) -> CachedTranslation | None:
        with self._lock:
            return self._data.get((provider, source, target, text_hash))

    def put_translation(
        self, provider: str, source: str, target: str, text_hash: str, value: CachedTranslation
    ) -> None:
        with self._lock:
            self._data[(provider, source, target, text_hash)] = value

    def __len__(self) -> int:
        return len(self._data)


# --------------------------------------------------------------------------------------------------
# Rate limits: requests per second per provider, shared by every Translator (and worker thread) of the
# process. Across processes, use a Prefect global rate limit through `acquire` (flows/limits.py:
# `newsflow:translate-rate:<provider>`).


class _RateLimiter:
    def __init__(
        self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._lock = threading.Lock()
        self._next: dict[tuple[str, str], float] = {}
        self._clock, self._sleep = clock, sleep

    def wait(self, key: tuple[str, str], per_second: float | None) -> None:
        """Sleep until `key` may send its next request (requests are spaced 1/per_second apart)."""
        if not per_second or per_second <= 0:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next.get(key, now))
            self._next[key] = slot + 1.0 / per_second
        if slot > now:
            self._sleep(slot - now)

    def reset(self) -> None:
        with self._lock:
            self._next.clear()


_limiter = _RateLimiter()


# --------------------------------------------------------------------------------------------------
# Chunking


class Chunk(NamedTuple):
    """One request's worth of text; `sep` is the original whitespace that followed it."""

    text: str
    sep: str
    parts: tuple[tuple[str, str], ...]  # (piece, whitespace after it); text == the pieces joined


_PARAGRAPH_BREAK = re.compile(r"\s*\n\s*")  # any whitespace run holding a line break
_SENTENCE_END = re.compile(r"(?<=[.!?…;])\s+")
_WHITESPACE = re.compile(r"\s+")
_FINER_LEVELS = (_SENTENCE_END, _WHITESPACE)


def _split_keep(text: str, pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """`text` cut at `pattern`, each piece paired with the separator that followed it."""
    out: list[tuple[str, str]] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.start() == pos and out:  # no text between two separators: merge them
            out[-1] = (out[-1][0], out[-1][1] + match.group())
        else:
            out.append((text[pos : match.start()], match.group()))
        pos = match.end()
    out.append((text[pos:], ""))
    return out


def _pieces(text: str, limit: int, level: int) -> list[tuple[str, str]]:
    """`text` (no line breaks) cut at the coarsest boundary that makes every piece fit `limit`."""
    if len(text) <= limit:
        return [(text, "")]
    if level == len(_FINER_LEVELS):  # one unbroken token longer than the limit: cut it anywhere
        return [(text[i : i + limit], "") for i in range(0, len(text), limit)]
    out: list[tuple[str, str]] = []
    for piece, sep in _split_keep(text, _FINER_LEVELS[level]):
        sub = _pieces(piece, limit, level + 1)
        sub[-1] = (sub[-1][0], sep)
        out.extend(sub)
    return out


def _make_chunk(parts: list[tuple[str, str]]) -> Chunk:
    inner = [*parts[:-1], (parts[-1][0], "")]
    return Chunk("".join(p + s for p, s in inner), parts[-1][1], tuple(inner))


def split_into_chunks(text: str, limit: int) -> list[Chunk]:
    """Cut `text` (stripped) into chunks of at most `limit` characters.

    Paragraphs are packed whole while they fit; only a paragraph longer than `limit` is cut, at sentence
    ends, then at whitespace, then anywhere. Joining `chunk.text + chunk.sep` gives back the text.
    """
    text = text.strip()
    if not text:
        return []
    pieces: list[tuple[str, str]] = []
    for paragraph, sep in _split_keep(text, _PARAGRAPH_BREAK):
        sub = _pieces(paragraph, limit, 0)
        sub[-1] = (sub[-1][0], sep)
        pieces.extend(sub)
    chunks: list[Chunk] = []
    current: list[tuple[str, str]] = []
    size = 0
    for piece, sep in pieces:
        if current and size + len(current[-1][1]) + len(piece) <= limit:
            size += len(current[-1][1]) + len(piece)
            current.append((piece, sep))
            continue
        if current:
            chunks.append(_make_chunk(current))
        current, size = [(piece, sep)], len(piece)
    chunks.append(_make_chunk(current))
    return chunks


def _has_words(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


# --------------------------------------------------------------------------------------------------
# Error classification


class _ApiStatusError(Exception):
    """An error status a provider put in a 200 body (MyMemory does this)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"API status {status}: {detail}")
        self.status = status
        self.detail = detail


class _ProviderFailure(Exception):
    def __init__(self, kind: Kind, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass
class _Verdict:
    kind: Kind
    reason: str
    retry_after: float | None = None
    timeout: bool = False  # a hang: trips the breaker once the retries are spent


def _short(exc: BaseException, limit: int = 200) -> str:
    """`TypeName: message`, without deep-translator's habit of echoing the whole input text."""
    message = getattr(exc, "message", None)  # deep-translator's BaseError keeps the text in `val`
    if not isinstance(message, str):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None  # urllib3 MaxRetryError
        message = str(reason if reason is not None else exc)
    message = " ".join(message.split())
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _unreachable(exc: requests.RequestException) -> bool:
    """DNS failure, refused connection, connect timeout or TLS failure: the service is not there for us."""
    if isinstance(
        exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError
    ):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _retry_after(response: requests.Response | None) -> float | None:
    value = response.headers.get("Retry-After") if response is not None else None
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _status_verdict(status: int, response: requests.Response | None) -> _Verdict:
    if status == 429:
        return _Verdict("transient", "HTTP 429 (rate limited)", _retry_after(response))
    if status >= 500 or status == 408:
        return _Verdict("transient", f"HTTP {status}", _retry_after(response))
    if status in (401, 403):
        return _Verdict("permanent", f"HTTP {status} (authentication refused)")
    return _Verdict("permanent", f"HTTP {status}")


def _classify(attempt: _Attempt, timeout: float) -> _Verdict:
    if attempt.timed_out:
        return _Verdict("transient", f"no answer within {timeout:g} s", timeout=True)
    exc, ctx = attempt.error, attempt.ctx
    if isinstance(exc, apertium.ApertiumError):
        return _Verdict(exc.kind, exc.reason, timeout=exc.kind == "transient")  # type: ignore[arg-type]
    if isinstance(exc, LanguageNotSupportedException | InvalidSourceOrTargetLanguage):
        return _Verdict("unsupported", f"language {getattr(exc, 'val', '?')!r} not supported")
    transport = ctx.transport_error if ctx is not None else None
    # A bad JSON body or raise_for_status() is about the response (judged below), not the transport.
    about_response = isinstance(exc, requests.exceptions.InvalidJSONError | requests.HTTPError)
    if transport is None and isinstance(exc, requests.RequestException) and not about_response:
        transport = exc
    if transport is not None:
        if _unreachable(transport):
            return _Verdict("unreachable", _short(transport))
        if isinstance(transport, requests.Timeout):
            return _Verdict("transient", _short(transport), timeout=True)
        if isinstance(
            transport,
            requests.ConnectionError
            | requests.exceptions.ChunkedEncodingError
            | requests.exceptions.ContentDecodingError,
        ):
            return _Verdict("transient", _short(transport))
        return _Verdict("permanent", _short(transport))  # InvalidURL, MissingSchema...: configuration
    response = ctx.response if ctx is not None else None
    if response is not None and not 200 <= response.status_code < 300:
        return _status_verdict(response.status_code, response)
    if isinstance(exc, _ApiStatusError):
        if exc.status == 403 and "LANGUAGE" in exc.detail.upper():
            return _Verdict("unsupported", f"language pair not supported ({exc.detail[:120]})")
        verdict = _status_verdict(exc.status, None)
        verdict.reason = f"{verdict.reason}: {exc.detail[:120]}"
        return verdict
    return _Verdict("permanent", f"malformed response: {_short(exc) if exc else 'no text'}")


def _backoff(attempt: int, retry_after: float | None) -> float:
    base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt)
    delay = base / 2 + random.uniform(0, base / 2)  # "equal jitter": spread retries of parallel tasks
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


# --------------------------------------------------------------------------------------------------
# Providers


_microsoft_languages: dict[str, dict[str, str]] = {}  # service root -> {language name: code}
_microsoft_languages_lock = threading.Lock()


class _Microsoft(MicrosoftTranslator):
    """MicrosoftTranslator whose language list comes from our root, fetched once per root.

    The stock class fetches it from a hard-coded URL in its constructor, on every instance.
    """

    def __init__(self, root: str, **kwargs: Any) -> None:
        self._root = root
        super().__init__(**kwargs)
        self._base_url = f"{root}/translate?api-version=3.0"

    def _get_supported_languages(self) -> dict[str, str]:
        with _microsoft_languages_lock:
            cached = _microsoft_languages.get(self._root)
        if cached is None:
            response = requests.get(
                f"{self._root}/languages", params={"api-version": "3.0", "scope": "translation"}
            )
            response.raise_for_status()
            data = response.json()["translation"]
            cached = {info["name"].lower(): code.lower() for code, info in data.items()}
            with _microsoft_languages_lock:
                _microsoft_languages[self._root] = cached
        return cached


def _mymemory_code(code: str) -> str:
    """MyMemory's table holds regional codes ('vi-VN'); deep-translator refuses a bare 'vi'."""
    codes = MY_MEMORY_LANGUAGES_TO_CODES.values()
    if code in codes:
        return code
    for candidate in codes:
        if candidate.split("-")[0].lower() == code:
            return candidate
    raise LanguageNotSupportedException(code)


def _check_mymemory_body() -> None:
    """MyMemory answers 200 with `responseStatus` 403/429 and the error as the 'translation'."""
    ctx: _RequestContext | None = getattr(_local, "ctx", None)
    if ctx is None or ctx.response is None:
        return
    try:
        data = ctx.response.json()
    except ValueError:
        return  # not JSON: deep-translator's own error (or the caller's check) reports it
    status = data.get("responseStatus", 200) if isinstance(data, dict) else 200
    try:
        status = int(status)
    except (TypeError, ValueError):
        status = 200
    if status != 200:
        raise _ApiStatusError(status, str(data.get("responseDetails") or ""))


def _primary(code: str) -> str:
    return code.strip().replace("_", "-").split("-")[0].lower()


def _root(settings: TranslateConfig, provider: str) -> str | None:
    """The service root a provider is reached at, or None when it is not configured."""
    if provider == "apertium":
        return "local" if apertium.installed() else None
    override = settings.translation_endpoints.get(provider)
    if provider == "libre":
        url = settings.libre_url or override
        return url.rstrip("/") if url else None
    if provider == "deepl" and not settings.deepl_api_key:
        return None
    if provider == "microsoft" and not settings.microsoft_api_key:
        return None
    if override:
        root = override.split("?")[0].rstrip("/")
        suffix = _KNOWN_SUFFIXES.get(provider)
        return root[: -len(suffix)] if suffix and root.endswith(suffix) else root
    if provider == "deepl":  # keys of the free plan end in ':fx' and only work on the free host
        free = (settings.deepl_api_key or "").endswith(":fx")
        return "https://api-free.deepl.com" if free else "https://api.deepl.com"
    return _DEFAULT_ROOTS[provider]


# --------------------------------------------------------------------------------------------------


Span = tuple[int, int]
Segment = tuple[int, int, str]  # start, end, language code


@dataclass
class _Part:
    text: str  # protected
    source: str | None  # None: keep as it is (already in the target language, or no words)


@dataclass
class _Run:
    """What one translate() call gathered: provenance of every chunk, and minor parts left untranslated."""

    times: list[datetime]
    kept: list[str]


class Translator:
    """Translates article text with one provider, or with the first that works (`auto`)."""

    def __init__(
        self,
        settings: TranslateConfig,
        name: str | None = None,
        *,
        cache: TranslationCache | None = None,
        acquire: Callable[[str], None] | None = None,
    ) -> None:
        """`cache`: where chunk translations are kept (the store, `newsflow.runtime` hands it), None for none.

        `acquire(provider)` is called before every provider request (e.g. a Prefect rate limit).
        """
        name = name or settings.translator
        if name not in ("auto", "none", *PROVIDERS):
            raise ValueError(f"unknown translator {name!r}; use auto, none or one of {', '.join(PROVIDERS)}")
        self.settings = settings
        self.name = name
        self.acquire = acquire
        self._roots: dict[str, str] = {}
        for provider in PROVIDERS if name == "auto" else (() if name == "none" else (name,)):
            root = _root(settings, provider)
            if root is not None:
                self._roots[provider] = root
            elif name != "auto":  # an explicit choice that cannot work is an operator error: say so now
                if provider == "apertium":
                    raise ValueError(f"translator 'apertium' needs the apertium command: {apertium.INSTALL_HINT}")
                needs = {"libre": "libre_url", "deepl": "deepl_api_key", "microsoft": "microsoft_api_key"}
                raise ValueError(f"translator {name!r} needs NEWSFLOW_{needs[name].upper()}")
        self.cache = cache
        _install_request_hook()

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers this translator will try, in order."""
        return tuple(self._roots)

    def translate(
        self,
        text: str,
        source: str,
        target: str | None = None,
        *,
        protect: Sequence[Span] = (),
        segments: Sequence[Segment] = (),
    ) -> Translation:
        """Translate `text` from `source` to `target` (default `settings.translation_target`).

        `protect`: spans of `text` (names) that are kept as written. `segments`: (start, end, language)
        runs of a mixed-language text; each is translated from its own language, runs in the target
        language are kept, 'und' runs are taken as `source`. Without segments the whole text is `source`.
        """
        target = target or self.settings.translation_target
        src, tgt = _primary(source or "und"), _primary(target)
        if not text.strip():
            return Translation(status="not_needed", target=target)
        languages = {_primary(code) for _, _, code in segments} - {"und"} or {src}
        if languages <= {tgt}:
            return Translation(status="not_needed", target=target, source=src)
        if self.name == "none":
            return Translation(
                status="unsupported", target=target, error="translation disabled (--translator none)"
            )
        if src in ("und", ""):
            return Translation(
                status="unsupported",
                target=target,
                error="source language undetermined ('und'): nothing to translate from",
            )
        protector = Protector()
        parts = self._parts(text, src, tgt, protect, segments, protector)
        failures: list[tuple[str, _ProviderFailure]] = []
        for provider in self._roots:
            run = _Run(times=[], kept=[])
            try:
                translated = "".join(self._translate_part(provider, part, src, tgt, run) for part in parts).strip()
            except _ProviderFailure as failure:
                log.info("translation with %s did not succeed: %s", provider, failure.reason)
                failures.append((provider, failure))
                continue
            restored, lost = protector.restore(translated)
            notes = []
            if run.kept:
                notes.append(f"kept untranslated ({provider} has no pair): {', '.join(sorted(set(run.kept)))} parts")
            if lost:
                notes.append(f"{provider} dropped protected name(s): {', '.join(lost)}")
            return Translation(
                status="done",
                target=target,
                source=src,
                provider=provider,
                engine=self.engine(provider, src, tgt),
                text=restored,
                error="; ".join(notes) or None,
                translated_at=max(run.times) if run.times else datetime.now(UTC),
            )
        return self._summary(failures, target, src, tgt)

    def engine(self, provider: str, src: str, tgt: str) -> str:
        """What does the translating, with versions, for provenance."""
        if provider == "apertium":
            mode = apertium.mode_for(src, tgt)
            return apertium.engine(mode) if mode else "apertium"
        return f"deep-translator {_dist_version('deep-translator')} {_CLASS_NAMES[provider]}"

    @staticmethod
    def _parts(
        text: str, src: str, tgt: str, protect: Sequence[Span], segments: Sequence[Segment], protector: Protector
    ) -> list[_Part]:
        """The text cut at its language runs, names replaced by placeholders, each with its source language."""
        runs = sorted((s, e, _primary(code)) for s, e, code in segments) or [(0, len(text), src)]
        bounds: list[tuple[int, int, str | None]] = []
        pos = 0
        for start, end, code in runs:
            if start > pos:  # text between runs (blank lines) goes with the next run
                start = pos
            source = src if code in ("und", "") else code
            bounds.append((start, end, None if source == tgt else source))
            pos = end
        if pos < len(text):
            last = bounds[-1]
            bounds[-1] = (last[0], len(text), last[2])
        parts = []
        for start, end, lang in bounds:
            spans = [(max(a, start) - start, min(b, end) - start) for a, b in protect if a < end and b > start]
            parts.append(_Part(protector.protect(text[start:end], spans), lang))
        return parts

    def _translate_part(self, provider: str, part: _Part, src: str, tgt: str, run: _Run) -> str:
        if part.source is None or not _has_words(part.text):
            return part.text
        core = part.text.strip()
        lead, trail = part.text[: part.text.index(core)], part.text[part.text.index(core) + len(core) :]
        try:
            return lead + self._translate_with(provider, core, part.source, tgt, run) + trail
        except _ProviderFailure as failure:
            if failure.kind != "unsupported" or part.source == src:
                raise
            run.kept.append(part.source)  # a caption in a language this provider lacks: keep it as written
            return part.text

    def _summary(
        self, failures: list[tuple[str, _ProviderFailure]], target: str, src: str, tgt: str
    ) -> Translation:
        kinds = {failure.kind for _, failure in failures}
        detail = "; ".join(f"{provider}: {failure.reason}" for provider, failure in failures)
        provider = self.name if self.name in PROVIDERS else None
        if kinds & {"unreachable", "transient"}:
            prefix = "no provider reachable" if kinds - {"unsupported"} == {"unreachable"} else "no translation yet"
            return Translation(
                status="pending", target=target, source=src, provider=provider, error=f"{prefix}: {detail}"
            )
        if "permanent" in kinds:
            return Translation(
                status="failed",
                target=target,
                source=src,
                provider=provider,
                error=f"translation failed: {detail}",
            )
        reason = f"no configured provider translates {src} -> {tgt}" + (f": {detail}" if detail else "")
        return Translation(status="unsupported", target=target, source=src, provider=provider, error=reason)

    def _translate_with(self, provider: str, text: str, src: str, tgt: str, run: _Run) -> str:
        """The whole text through one provider, chunk by chunk; raises _ProviderFailure."""
        open_reason = _breaker.open_reason((provider, self._roots[provider]))
        if open_reason:
            raise _ProviderFailure("unreachable", open_reason)
        if provider == "apertium" and apertium.mode_for(src, tgt) is None:
            raise _ProviderFailure("unsupported", f"no Apertium pair {src} -> {tgt} installed")
        out: list[str] = []
        for chunk in split_into_chunks(text, MAX_CHUNK_CHARS[provider]):
            out.append(self._cached_chunk(provider, chunk, src, tgt, run) + chunk.sep)
        return "".join(out)

    def _cached_chunk(self, provider: str, chunk: Chunk, src: str, tgt: str, run: _Run) -> str:
        if not _has_words(chunk.text):  # punctuation only, e.g. '* * *': nothing to translate
            return chunk.text
        key = text_key(chunk.text)
        if self.cache is not None:
            hit = self.cache.get_translation(provider, src, tgt, key)
            if hit is not None:
                run.times.append(hit.translated_at)
                return hit.text
        result = self._translate_chunk(provider, chunk, src, tgt)
        now = datetime.now(UTC)
        run.times.append(now)
        if self.cache is not None:
            value = CachedTranslation(result, self.engine(provider, src, tgt), now)
            self.cache.put_translation(provider, src, tgt, key, value)
        return result

    def _translate_chunk(self, provider: str, chunk: Chunk, src: str, tgt: str) -> str:
        result = self._call_with_retries(provider, chunk.text, src, tgt)
        if chunk.text.count("\n") == result.count("\n") or len(chunk.parts) == 1:
            return result
        # The provider reflowed the line breaks: one request per piece so no paragraph break is lost.
        log.info("%s changed the line breaks of a chunk; translating it piece by piece", provider)
        return "".join(
            (self._call_with_retries(provider, piece, src, tgt) if _has_words(piece) else piece) + sep
            for piece, sep in chunk.parts
        )

    def _call_with_retries(self, provider: str, text: str, src: str, tgt: str) -> str:
        key = (provider, self._roots[provider])
        timeout = self.settings.translation_timeout
        attempts = self.settings.translation_retries + 1
        verdict = _Verdict("transient", "not attempted")
        for attempt in range(attempts):
            _limiter.wait(key, self.settings.translation_rate_limits.get(provider))
            if self.acquire is not None:
                self.acquire(provider)
            result = _run_with_deadline(functools.partial(self._call, provider, text, src, tgt), timeout)
            if result.text is not None:  # set only when the call returned in time without error
                return result.text
            verdict = _classify(result, timeout)
            if verdict.kind == "unreachable":
                _breaker.trip(key, verdict.reason)
            if verdict.kind != "transient":
                raise _ProviderFailure(verdict.kind, verdict.reason)
            if attempt + 1 < attempts:
                delay = _backoff(attempt, verdict.retry_after)
                log.info(
                    "%s: %s; retry %d/%d in %.1f s",
                    provider,
                    verdict.reason,
                    attempt + 1,
                    attempts - 1,
                    delay,
                )
                time.sleep(delay)
        reason = f"{verdict.reason} (after {attempts} attempt{'s' if attempts > 1 else ''})"
        if verdict.timeout:  # hanging on every attempt: spare the next articles the same wait
            _breaker.trip(key, reason)
            raise _ProviderFailure("unreachable", reason)
        raise _ProviderFailure("transient", reason)

    def _call(self, provider: str, text: str, src: str, tgt: str) -> str:
        """One request through deep-translator (or one apertium process); runs in the worker thread."""
        root = self._roots[provider]
        translator: Any
        if provider == "apertium":
            mode = apertium.mode_for(src, tgt)
            assert mode is not None  # checked in _translate_with
            # a little under the deadline, so the process is killed by its own timeout, not abandoned
            return apertium.translate(text, mode, self.settings.translation_timeout * 0.9)
        if provider == "google":
            translator = GoogleTranslator(
                source=_GOOGLE_ALIASES.get(src, src), target=_GOOGLE_ALIASES.get(tgt, tgt)
            )
            translator._base_url = f"{root}/m"
        elif provider == "mymemory":
            translator = MyMemoryTranslator(source=_mymemory_code(src), target=_mymemory_code(tgt))
            translator._base_url = f"{root}/get"
        elif provider == "libre":
            # deep-translator refuses a missing or empty api_key even for servers that need none.
            key = self.settings.libre_api_key or "none"
            translator = LibreTranslator(source=src, target=tgt, api_key=key, custom_url=f"{root}/")
        elif provider == "deepl":
            translator = DeeplTranslator(source=src, target=tgt, api_key=self.settings.deepl_api_key)
            translator._base_url = f"{root}/v2/"
        else:
            translator = _Microsoft(
                root,
                source=_MICROSOFT_ALIASES.get(src, src),
                target=_MICROSOFT_ALIASES.get(tgt, tgt),
                api_key=self.settings.microsoft_api_key,
                region=self.settings.microsoft_region,
            )
        try:
            result = translator.translate(text)
        except Exception:
            if provider == "mymemory":  # an error status in the body explains the failure better
                _check_mymemory_body()
            raise
        if provider == "mymemory":
            _check_mymemory_body()
        if not isinstance(result, str) or (not result.strip() and _has_words(text)):
            raise ValueError("provider returned no text")
        return result
