"""In-process progress events, so the CLI can draw a progress bar while a flow runs in the same process."""

from __future__ import annotations

import threading
from collections.abc import Callable

Listener = Callable[[str, int], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> Callable[[], None]:
    """Register `listener(event, count)`; returns a function that unregisters it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def emit(event: str, count: int = 1) -> None:
    """Tell listeners that `count` items reached `event` ('received', 'processed', 'failed', 'stored')."""
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(event, count)
