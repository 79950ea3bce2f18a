"""The collaborators of one process, built once from the settings and handed down.

`extractors/` is a library that is handed what it needs: settings it reads through small protocols
(`extractors.config`), a translation cache, a fetch log, a store lookup, the version written into records.
This module is the one place that builds them from `newsflow.settings.Settings`: the CLI and the flows ask
`runtime(settings)` for a store, a translator, an acquirer or the processing options, and tasks get what
they need as arguments.

A `Runtime` is kept per distinct settings value for the life of the process (a task handed its flow's
settings, in a Dask worker too, finds the same one again); stores are kept per database URL, so every
`Runtime` of one database shares one connection pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from functools import cached_property
from typing import Any

from extractors.acquire.items import Item
from extractors.acquire.session import Acquirer
from extractors.config import Detector
from extractors.pipeline import ProcessOptions, TranslatorLike
from extractors.pipeline import process as process_article
from extractors.sources import iter_sources
from extractors.translate import TranslationCache, Translator
from newsflow import __version__
from newsflow.settings import Settings, get_settings
from newsflow.storage import Store
from newsflow.storage.fetchlog import FetchLog
from schemas.models import ArticleRecord, RawArticle

__all__ = ["Runtime", "open_fetch_log", "open_store", "process", "runtime", "shared_store"]

_LOCK = threading.Lock()
_STORES: dict[str, Store] = {}
_RUNTIMES: dict[str, Runtime] = {}
_MAX_RUNTIMES = 16  # distinct settings seen by one process (tests make many): the oldest are dropped


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A new store on `url` that the caller owns and closes (commands that inspect or migrate a database)."""
    return Store(url, migrate=migrate)


def open_fetch_log(url: str) -> FetchLog:
    """A new handle on the fetch log at `url` that the caller closes (`newsflow fetches` reads it)."""
    return FetchLog(url)


def shared_store(url: str) -> Store:
    """The process's store on `url`, opened (and migrated) on first use and never closed by its users."""
    with _LOCK:
        store = _STORES.get(url)
        if store is None:
            store = _STORES[url] = open_store(url)
        return store


class Runtime:
    """What one settings value builds: the store, translators, acquirers and the processing options."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def store(self) -> Store:
        """The shared store of the settings' database (opened on first use)."""
        return shared_store(self.settings.resolved_database_url)

    @cached_property
    def options(self) -> ProcessOptions:
        """What `extractors.pipeline.process` is handed: version, detector and limits from the settings."""
        return ProcessOptions.from_config(self.settings, __version__)

    def translation_cache(self) -> TranslationCache | None:
        """The store as the translation cache, unless `NEWSFLOW_TRANSLATION_CACHE` is off."""
        return self.store if self.settings.translation_cache else None

    def translator(
        self,
        name: str | None = None,
        *,
        cache: TranslationCache | bool = True,
        acquire: Callable[[str], None] | None = None,
    ) -> Translator:
        """A translator for provider `name` (default: the settings' choice).

        `cache`: True for the settings' cache (the store), False for none, or a cache to use.
        A translator with no provider to try (`none`) opens no database, and a choice that cannot work is
        refused (ValueError) before the database is opened.
        """
        made = Translator(self.settings, name, cache=None if isinstance(cache, bool) else cache, acquire=acquire)
        if cache is True and made.providers:
            made.cache = self.translation_cache()
        return made

    def fetch_log(self) -> FetchLog | None:
        """A new handle on the fetch log (the caller closes it), or None when `NEWSFLOW_FETCH_LOG` is off."""
        return open_fetch_log(self.settings.resolved_database_url) if self.settings.fetch_log else None

    def is_stored(self, raw_id: str) -> bool:
        """Whether the store holds a record made from raw input `raw_id`.

        Processed, not merely kept: a run killed between keeping a batch's inputs and storing its records
        leaves them "pending", and the next run must deliver them again or their records are never made.
        """
        return self.store.raw_status(raw_id) == "processed"

    def acquirer(self, **kwargs: Any) -> Acquirer:
        """A run's acquirer with the fetch log and the store lookup (the caller closes it)."""
        return Acquirer(self.settings, log=self.fetch_log(), is_stored=self.is_stored, **kwargs)

    def iter_sources(self, sources: list[str], *, acquirer: Acquirer | None = None) -> Iterator[Item]:
        """`extractors.sources.iter_sources` with this runtime's acquirer for URL sources."""
        return iter_sources(sources, self.settings, acquirer=acquirer, open_acquirer=self.acquirer)

    def process(
        self, raw: RawArticle, translator: TranslatorLike | None, target: str = "en", detector: Detector | None = None
    ) -> ArticleRecord:
        """`extractors.pipeline.process` with this runtime's options."""
        return process_article(raw, translator, target, detector, options=self.options)


def runtime(settings: Settings | None = None) -> Runtime:
    """The process's Runtime for `settings` (default: the settings in force, `newsflow.settings.get_settings`)."""
    settings = settings or get_settings()
    key = settings.model_dump_json()
    with _LOCK:
        found = _RUNTIMES.get(key)
        if found is None:
            if len(_RUNTIMES) >= _MAX_RUNTIMES:
                _RUNTIMES.pop(next(iter(_RUNTIMES)))
            found = _RUNTIMES[key] = Runtime(settings)
        return found


def process(
    raw: RawArticle, translator: TranslatorLike | None, target: str = "en", detector: Detector | None = None
) -> ArticleRecord:
    """One article through the pipeline under the settings in force (see `Runtime.process`)."""
    return runtime().process(raw, translator, target, detector)
