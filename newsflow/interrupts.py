"""Ctrl-C and SIGTERM for `newsflow run` and `newsflow retranslate`, and a deployment's run cancelled.

The first signal stops the run cleanly, a second one at once.

`graceful()` installs the handlers (main thread only). The first SIGINT or SIGTERM sets `STOP`: the run
reads no more inputs and submits no more batches, the batch in hand stops after its current article, and
what was processed is stored and written, so the run ends within seconds with its summary marked
interrupted (exit code 130). A second signal ends the process at once (`os._exit(130)`): nothing is
half-written even then (records are stored in transactions, files written under temporary names and
renamed), and the next run marks the run "interrupted" and deletes its partial run file.

The flow's code only asks `requested()`. Tasks in other processes (Dask workers) do not see the flag; the
flow still stops submitting batches and waits for those in flight.

A deployment's run gets the same first-signal behaviour from `keep_handlers()`: cancelling it from the
Prefect UI or API makes the runner (`newsflow serve`, a worker) send its process SIGTERM, which then stops
the run as a first Ctrl-C does; the run ends Cancelled with its counts.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

EXIT_CODE = 130  # 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C
STOP = threading.Event()
_armed = threading.Event()  # handlers installed by `graceful()` (the CLI), so the flow may re-install them
_received: list[int] = []
_handler: Callable[[int, FrameType | None], None] | None = None


def requested() -> bool:
    """True once the run was asked to stop (Ctrl-C, SIGTERM)."""
    return STOP.is_set()


def signal_name() -> str:
    """The first signal received, as a name (SIGINT, SIGTERM), or '' when none was."""
    return signal.Signals(_received[0]).name if _received else ""


@contextmanager
def graceful(on_first: Callable[[str], None] | None = None) -> Iterator[threading.Event]:
    """Within the block, SIGINT and SIGTERM stop the run gracefully (`STOP`), and a second one exits at once.

    `on_first(name)` is called (in the main thread, from the handler) when the first signal arrives, e.g. to
    tell the user what happens now. The previous handlers come back after the block.
    """
    global _handler
    STOP.clear()
    _received.clear()

    def handle(signum: int, frame: FrameType | None) -> None:
        _received.append(signum)
        if len(_received) > 1:
            _exit_at_once(signum, frame)
        STOP.set()
        if on_first is not None:
            on_first(signal.Signals(signum).name)

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handle)
    _handler = handle
    _armed.set()
    try:
        yield STOP
    finally:
        _armed.clear()
        _handler = None
        for sig, old in previous.items():
            # Once a stop was asked, another signal while the command winds up (its summary) ends it at once, as
            # within the block, rather than as a KeyboardInterrupt in whatever it is printing.
            signal.signal(sig, _exit_at_once if _received else old)


def _exit_at_once(signum: int, frame: FrameType | None) -> None:
    """A second signal: say so and end the process now (nothing is half-written: files are written whole)."""
    sys.stderr.write(f"\n{signal.Signals(signum).name} again: stopping at once\n")
    sys.stderr.flush()
    os._exit(EXIT_CODE)


@contextmanager
def keep_handlers() -> Iterator[None]:
    """Inside a flow run: SIGTERM stops the run gracefully, as the first Ctrl-C does, for the block.

    Prefect's flow engine installs its own SIGTERM handler for the run: it raises an exception in the main
    thread, which ends the run at once, the batch in hand lost, without its summary or counts. Under
    `graceful()` (the CLI) its handler is put back. Otherwise (a deployment's run, which the runner of
    `newsflow serve` or a worker cancels with SIGTERM when the run is cancelled from the UI or the API) the
    first SIGTERM sets `STOP` and a second one exits at once. Off the main thread nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = _handler if _handler is not None and _armed.is_set() else None
    if handler is None:  # a run of its own (a deployment's): a stop asked of an earlier run in this process is over
        STOP.clear()
        _received.clear()
        handler = _stop_handler
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_handler(signum: int, frame: FrameType | None) -> None:
    """SIGTERM in a deployment's run: stop gracefully; a second one ends the process at once.

    Nothing is logged here (a handler runs between two bytecodes of the main thread, which may hold the
    logging lock); the run reports the stop in its final state's message.
    """
    _received.append(signum)
    if len(_received) > 1:
        os._exit(EXIT_CODE)
    STOP.set()
