"""The translation providers: one table, from which every list of providers in newsflow is built.

A row says whether the provider is online, what its client is, how much one request may carry, where the
service is (default root, the path suffix an override may carry, the setting it cannot work without), how
it spells language codes, and the function that makes its client. `auto` tries the providers in the
table's order. Adding a provider is one row and one client function.

Reading the table imports neither requests nor deep-translator (the settings and the CLI read it when they
start): a client function imports what it needs when it is called, in the translation worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import version as _dist_version
from typing import Any

from extractors import apertium
from extractors.config import TranslateConfig
from extractors.translate.chunks import has_words

# Deferred imports: the client functions below import deep-translator (and our wrappers of it) when called.

Call = Callable[[str], str]  # one request: the text in, its translation out; raises what went wrong
# (service root, source, target, settings) -> the call; the codes are already the provider's (`aliases`)
ClientFactory = Callable[[str, str, str, TranslateConfig], Call]


@dataclass(frozen=True)
class Provider:
    """One translation provider and what newsflow needs to know to use it."""

    name: str
    online: bool
    client: str  # what translates, named in provenance: the deep-translator class, or the local command
    max_chunk: int  # largest chunk sent in one request, in characters
    make: ClientFactory  # runs in the worker thread, under the deadline (a constructor may call the service)
    default_root: str | None = None
    suffix: str | None = None  # a path a user may include in an override by habit; stripped so it is not doubled
    aliases: Mapping[str, str] = field(default_factory=dict)  # ISO 639-1 code -> the provider's spelling
    needs: str | None = None  # the setting it is skipped without (libre: or an override); named in the error
    install: str | None = None  # how to install a local command
    rate_limit: float | None = None  # default requests per second (NEWSFLOW_TRANSLATION_RATE_LIMITS)
    locate: Callable[[Provider, TranslateConfig], str | None] | None = None  # None: `_service_root`
    lacks_pair: Callable[[str, str], str | None] | None = None  # why src -> tgt cannot work, before any request
    describe: Callable[[Provider, str, str], str] | None = None  # None: the deep-translator class and version

    def root(self, settings: TranslateConfig) -> str | None:
        """The service root this provider is reached at, or None when it is not configured."""
        return (self.locate or _service_root)(self, settings)

    def code(self, language: str) -> str:
        return self.aliases.get(language, language)

    def engine(self, src: str, tgt: str) -> str:
        """What does the translating, with versions, for provenance."""
        return (self.describe or _deep_translator_engine)(self, src, tgt)

    @property
    def requirement(self) -> str:
        """What a provider without a root lacks, for the error an explicit choice of it gets."""
        return f"NEWSFLOW_{self.needs.upper()}" if self.needs else f"the {self.client} command: {self.install}"


# --------------------------------------------------------------------------------------------------
# Where a provider is


def _service_root(provider: Provider, settings: TranslateConfig, default: str | None = None) -> str | None:
    """`translation_endpoints[name]` (scheme, host, port, optional path prefix), else the default root."""
    if provider.needs and not getattr(settings, provider.needs):
        return None
    override = settings.translation_endpoints.get(provider.name)
    if override:
        root = override.split("?")[0].rstrip("/")
        suffix = provider.suffix
        return root[: -len(suffix)] if suffix and root.endswith(suffix) else root
    return default or provider.default_root


def _deepl_root(provider: Provider, settings: TranslateConfig) -> str | None:
    # keys of the free plan end in ':fx' and only work on the free host
    free = (settings.deepl_api_key or "").endswith(":fx")
    return _service_root(provider, settings, "https://api-free.deepl.com" if free else None)


def _libre_root(provider: Provider, settings: TranslateConfig) -> str | None:
    """LibreTranslate has no public service: `libre_url` (or the override) is the root, as given."""
    url = settings.libre_url or settings.translation_endpoints.get(provider.name)
    return url.rstrip("/") if url else None


def _apertium_root(provider: Provider, settings: TranslateConfig) -> str | None:
    return "local" if apertium.installed() else None


# --------------------------------------------------------------------------------------------------
# Clients: each makes the call for (root, src, tgt, settings) in the worker thread. The provider's own
# paths are appended to the root as the real service has them.


def _checked(translator: Any, check_body: Callable[[], None] | None = None) -> Call:
    """A deep-translator client's `translate`, refusing an answer that is not text."""

    def call(text: str) -> str:
        try:
            result = translator.translate(text)
        except Exception:
            if check_body is not None:  # an error status in the body explains the failure better
                check_body()
            raise
        if check_body is not None:
            check_body()
        if not isinstance(result, str) or (not result.strip() and has_words(text)):
            raise ValueError("provider returned no text")
        return result

    return call


def _google(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    from deep_translator import GoogleTranslator

    translator = GoogleTranslator(source=src, target=tgt)
    translator._base_url = f"{root}/m"
    return _checked(translator)


def _mymemory(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    from deep_translator import MyMemoryTranslator

    from extractors.translate.clients import check_mymemory_body, mymemory_code

    translator = MyMemoryTranslator(source=mymemory_code(src), target=mymemory_code(tgt))
    translator._base_url = f"{root}/get"
    return _checked(translator, check_mymemory_body)


def _libre(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    from deep_translator import LibreTranslator

    # deep-translator refuses a missing or empty api_key even for servers that need none.
    key = settings.libre_api_key or "none"
    return _checked(LibreTranslator(source=src, target=tgt, api_key=key, custom_url=f"{root}/"))


def _deepl(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    from deep_translator import DeeplTranslator

    translator = DeeplTranslator(source=src, target=tgt, api_key=settings.deepl_api_key)
    translator._base_url = f"{root}/v2/"
    return _checked(translator)


def _microsoft(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    from extractors.translate.clients import Microsoft

    key, region = settings.microsoft_api_key, settings.microsoft_region
    return _checked(Microsoft(root, source=src, target=tgt, api_key=key, region=region))


def _apertium(root: str, src: str, tgt: str, settings: TranslateConfig) -> Call:
    mode = apertium.mode_for(src, tgt)
    assert mode is not None  # checked before the first chunk (`lacks_pair`)
    # a little under the deadline, so the process is killed by its own timeout, not abandoned
    timeout = settings.translation_timeout * 0.9
    return lambda text: apertium.translate(text, mode, timeout)


def _apertium_lacks_pair(src: str, tgt: str) -> str | None:
    return f"no Apertium pair {src} -> {tgt} installed" if apertium.mode_for(src, tgt) is None else None


def _deep_translator_engine(provider: Provider, src: str, tgt: str) -> str:
    return f"deep-translator {_dist_version('deep-translator')} {provider.client}"


def _apertium_engine(provider: Provider, src: str, tgt: str) -> str:
    mode = apertium.mode_for(src, tgt)
    return apertium.engine(mode) if mode else "apertium"


# --------------------------------------------------------------------------------------------------
# The table. `max_chunk`: deep-translator refuses len(text) >= 5000 for google and >= 500 for mymemory;
# the others get the same 5,000 cap to keep requests modest.

TABLE: tuple[Provider, ...] = (
    Provider(
        "google",
        online=True,
        client="GoogleTranslator",
        max_chunk=4999,
        make=_google,
        default_root="https://translate.google.com",
        suffix="/m",
        aliases={"he": "iw", "jv": "jw", "zh": "zh-CN"},  # ISO 639-1 codes that Google spells differently
        rate_limit=5.0,
    ),
    Provider(
        "mymemory",
        online=True,
        client="MyMemoryTranslator",
        max_chunk=499,
        make=_mymemory,
        # deep-translator uses plain http for MyMemory; the service answers on https too.
        default_root="https://api.mymemory.translated.net",
        suffix="/get",
        rate_limit=1.0,
    ),
    Provider(
        "libre",
        online=True,
        client="LibreTranslator",
        max_chunk=4999,
        make=_libre,
        needs="libre_url",
        locate=_libre_root,
        rate_limit=10.0,
    ),
    Provider(
        "deepl",
        online=True,
        client="DeeplTranslator",
        max_chunk=4999,
        make=_deepl,
        default_root="https://api.deepl.com",
        suffix="/v2",
        needs="deepl_api_key",
        locate=_deepl_root,
        rate_limit=5.0,
    ),
    Provider(
        "microsoft",
        online=True,
        client="MicrosoftTranslator",
        max_chunk=4999,
        make=_microsoft,
        default_root="https://api.cognitive.microsofttranslator.com",
        suffix="/translate",
        aliases={"zh": "zh-hans"},
        needs="microsoft_api_key",
        rate_limit=10.0,
    ),
    Provider(
        "apertium",
        online=False,
        client="apertium",
        make=_apertium,
        max_chunk=20_000,  # no service limit; keeps one subprocess call bounded
        install=apertium.INSTALL_HINT,
        locate=_apertium_root,
        lacks_pair=_apertium_lacks_pair,
        describe=_apertium_engine,
    ),
)

BY_NAME: dict[str, Provider] = {provider.name: provider for provider in TABLE}
PROVIDERS: tuple[str, ...] = tuple(BY_NAME)  # the order `auto` tries them in
ONLINE_PROVIDERS: tuple[str, ...] = tuple(provider.name for provider in TABLE if provider.online)
TRANSLATOR_CHOICES: tuple[str, ...] = ("auto", "none", *PROVIDERS)  # what NEWSFLOW_TRANSLATOR and --translator take
MAX_CHUNK_CHARS: dict[str, int] = {provider.name: provider.max_chunk for provider in TABLE}


def default_rate_limits() -> dict[str, float]:
    """Requests per second per provider when NEWSFLOW_TRANSLATION_RATE_LIMITS is not set (a new dict)."""
    return {provider.name: provider.rate_limit for provider in TABLE if provider.rate_limit is not None}
