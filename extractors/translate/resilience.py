"""What keeps a provider call from blocking a flow: timeouts, retries, the circuit breaker and the rate limiter.

`call_with_retries` runs one provider call under the per-call deadline, spaced by the rate limiter, retried
with backoff while the error is transient (`_classify` says which), and trips the circuit breaker of a
provider that cannot be reached. It raises `_ProviderFailure` with the verdict's kind when it gives up.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal

import requests
from deep_translator.exceptions import InvalidSourceOrTargetLanguage, LanguageNotSupportedException
from urllib3.exceptions import NewConnectionError

from extractors import apertium
from extractors.config import TranslateConfig

log = logging.getLogger(__name__)

CIRCUIT_COOLDOWN_S = 300.0  # how long an unreachable provider is skipped
CONNECT_TIMEOUT_S = 10.0  # connect part of the per-request timeout (never above translation_timeout)
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 10.0
MAX_RETRY_AFTER_S = 30.0  # a server asking for longer is treated as asking for this long

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


def last_response() -> requests.Response | None:
    """The response to this worker thread's last request (None outside a translation worker, or none yet)."""
    ctx: _RequestContext | None = getattr(_local, "ctx", None)
    return ctx.response if ctx is not None else None


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
        log.warning("translation provider %s at %s unavailable for %.0f s: %s", *key, CIRCUIT_COOLDOWN_S, reason)

    def reset(self) -> None:
        with self._lock:
            self._open.clear()


_breaker = _CircuitBreaker()


def reset_circuit_breakers() -> None:
    """Forget every unreachable-provider mark (tests, or an operator who knows the network is back)."""
    _breaker.reset()
    _limiter.reset()


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
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError | requests.exceptions.ProxyError):
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
        if isinstance(transport, requests.ReadTimeout):
            # The socket's read timeout is the deadline's length too: whichever fires first, the same reason.
            return _Verdict("transient", f"no answer within {timeout:g} s", timeout=True)
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
    base = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0**attempt)
    delay = base / 2 + random.uniform(0, base / 2)  # "equal jitter": spread retries of parallel tasks
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_S))
    return delay


# --------------------------------------------------------------------------------------------------
# Retries


def call_with_retries(
    provider: str,
    root: str,
    call: Callable[[], str],
    settings: TranslateConfig,
    acquire: Callable[[str], None] | None = None,
) -> str:
    """`call()` (one request to `provider` at `root`) under the deadline, retried; raises _ProviderFailure."""
    key = (provider, root)
    timeout = settings.translation_timeout
    attempts = settings.translation_retries + 1
    verdict = _Verdict("transient", "not attempted")
    for attempt in range(attempts):
        _limiter.wait(key, settings.translation_rate_limits.get(provider))
        if acquire is not None:
            acquire(provider)
        result = _run_with_deadline(call, timeout)
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
