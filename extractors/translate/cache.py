"""The translation cache: every chunk's translation, keyed by (provider, source, target, sha256 of the text sent)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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
