"""Machine translation of article text through deep-translator, with the limits deep-translator lacks.

deep-translator 1.11.4 calls `requests` with no timeout, lets raw `requests` errors escape and refuses
input over a per-provider size. This package wraps it so that one article can never block a flow:

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

The package: `providers` (the one provider table: every list of providers in newsflow is built from it),
`engine` (`Translator`), `resilience` (deadline, retries, circuit breaker, rate limiter, error
classification), `chunks`, `cache`, and `clients` (what deep-translator's MyMemory and Microsoft clients
lack). `Translator` and `reset_circuit_breakers` are loaded on first use: they need requests and
deep-translator, which the settings and the CLI, reading the provider table when they start, can do without.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from extractors.translate.cache import CachedTranslation, MemoryCache, TranslationCache, text_key
from extractors.translate.chunks import Chunk, split_into_chunks
from extractors.translate.providers import (
    MAX_CHUNK_CHARS,
    ONLINE_PROVIDERS,
    PROVIDERS,
    TRANSLATOR_CHOICES,
    Provider,
)

if TYPE_CHECKING:
    from extractors.translate.engine import Translator
    from extractors.translate.resilience import reset_circuit_breakers

_LAZY = {"Translator": "extractors.translate.engine", "reset_circuit_breakers": "extractors.translate.resilience"}

__all__ = [
    "MAX_CHUNK_CHARS",
    "ONLINE_PROVIDERS",
    "PROVIDERS",
    "TRANSLATOR_CHOICES",
    "CachedTranslation",
    "Chunk",
    "MemoryCache",
    "Provider",
    "TranslationCache",
    "Translator",
    "reset_circuit_breakers",
    "split_into_chunks",
    "text_key",
]


def __getattr__(name: str) -> Any:
    """`Translator` and `reset_circuit_breakers`, imported when first asked for (see above)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
