"""Prefect's local (ephemeral) server ends with the run that started it, even when the run is killed.

In local mode (no PREFECT_API_URL) Prefect 3 starts its API server as a child process (uvicorn, in
`prefect.server.api.server.SubprocessASGIServer`) and stops it from an atexit hook. A run killed with
SIGKILL or SIGTERM (the OOM killer, `kill`, a CI timeout) runs no atexit hook, so the server was left
behind: re-parented to init, still listening, about 220 MB each.

`guard_local_server()`, called before Prefect starts, marks the environment with a token that every
process started afterwards inherits (Prefect hands its server `os.environ`), and starts one small watcher
process (`python -I -S` on this file: standard library only, a few MB). The watcher blocks reading a pipe
whose write end only the run holds; when the run ends, however it ends, the kernel closes that end and the
watcher ends every process still carrying the run's token: SIGTERM, then SIGKILL after 5 s. After a normal
exit Prefect has already stopped its server and there is nothing left to end.

Nothing of Prefect is patched and no private API is used: the server is found by the token in
`/proc/<pid>/environ` (Linux; elsewhere nothing is started). A process that a run's child forks without
exec keeps the write end open, so the watcher then waits for it too. The watcher ignores SIGINT and SIGHUP
(Ctrl-C and a closed terminal reach the whole process group; it waits for the run itself).

This file is also the watcher's program, so it imports nothing outside the standard library at its top (and
the local server's: `_serve`, which imports Prefect's server).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from typing import Any

ENV = "NEWSFLOW_RUN_GUARD"  # the token; Settings ignores unknown NEWSFLOW_* variables
GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL

_watcher: object | None = None  # the watcher's Popen, kept for the life of the process
_write_end: int | None = None  # never closed: the process's exit closes it


def guard_local_server() -> bool:
    """Start the watcher once per process (Prefect local mode on Linux only); True when one is running."""
    global _watcher, _write_end
    if _watcher is not None:
        return True
    if os.environ.get("PREFECT_API_URL") or not sys.executable or not os.path.exists("/proc/self/environ"):
        return False
    import secrets
    import subprocess

    token = f"{os.getpid()}-{secrets.token_hex(8)}"
    read_end, write_end = os.pipe()  # both non-inheritable: no other child gets the write end
    try:
        _watcher = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__), str(read_end), token],
            pass_fds=(read_end,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        os.close(write_end)
        return False
    finally:
        os.close(read_end)
    _write_end = write_end
    os.environ[ENV] = token
    return True


class LocalServer:
    """Prefect's API server for one `newsflow run`, started as Prefect's local mode starts it, in a session of
    its own.

    Prefect's local mode runs the same uvicorn app (`prefect.server.api.server:create_app`, marked ephemeral:
    no UI, no background services) as a child in the run's process group, so a Ctrl-C in the terminal, which
    reaches the whole group, stopped the server under the run: every call to it then failed and Prefect's
    events worker retried for minutes. Started here with `start_new_session`, the server only stops when the
    run stops it (`stop`, also at exit: after Prefect's own exit handlers, which still talk to it) or when the
    run dies (the watcher above: it carries the run's token). Starting it first also lets the run import and
    load its models while the server starts (`ready` waits for it).
    """

    def __init__(self) -> None:
        self.port = 0
        self.proc: Any = None
        self._spawn()
        import atexit

        atexit.register(self.stop)  # registered before Prefect is imported: runs after Prefect's exit handlers

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def _spawn(self) -> None:
        import importlib.util
        import socket
        import subprocess

        spec = importlib.util.find_spec("prefect")
        if spec is None or spec.origin is None:
            raise RuntimeError("the prefect package is not installed")
        app_dir = os.path.dirname(os.path.dirname(spec.origin))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        env = {**os.environ, "PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        # Registering Prefect's block types at every start took 1.9 of its 5.4 s here; a run uses none (results
        # go to local files), and a `prefect server start` on the same database registers them itself.
        if not {"PREFECT_API_BLOCKS_REGISTER_ON_START", "PREFECT_SERVER_REGISTER_BLOCKS_ON_START"} & set(env):
            env["PREFECT_API_BLOCKS_REGISTER_ON_START"] = "false"
            # Without registration its memo (on by default) still imported every Prefect collection installed
            # (prefect-dask, and with it distributed) to hash their block types: 0.35 s of CPU at every start.
            env.setdefault("PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION", "false")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                os.path.abspath(__file__),  # `_serve`: uvicorn, as `python -m uvicorn` runs it
                "serve",
                "uvicorn",
                "--app-dir",
                app_dir,
                "--factory",
                "prefect.server.api.server:create_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "error",
                "--lifespan",
                "on",
            ],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )

    def prime(self) -> None:
        """Ask the server for its version once it answers, in a background thread, while the run loads its models.

        FastAPI builds its routes on the first request that reaches them, and a run's first API request (Prefect's
        version check) reached nearly all of Prefect's: 0.3-0.4 s of the server's CPU (0.45 s of a one-article run
        under load) spent while the run waited. Asked here, the server does it as soon as it is up, meanwhile."""
        import threading

        threading.Thread(target=self._prime, name="newsflow-prime-server", daemon=True).start()

    def _prime(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            proc = self.proc
            if proc is None:  # stopped
                return
            code = proc.poll()
            if code is not None and code != 3:  # failed (`ready` reports it); 3: `ready` starts it again
                return
            try:
                with urllib.request.urlopen(self.url + "/admin/version", timeout=30) as answer:
                    answer.read()
                return
            except OSError:
                time.sleep(0.05)

    def ready(self, timeout: float, stop: Any = None) -> bool:
        """Wait until the server answers /health (True), or `stop()` is true (False); RuntimeError after `timeout`."""
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if stop is not None and stop():
                return False
            code = self.proc.poll()
            if code == 3:  # uvicorn could not bind: the port was taken meanwhile, as Prefect handles it
                self._spawn()
                continue
            if code is not None:
                raise RuntimeError(f"Prefect's local server exited with code {code} while starting")
            with contextlib.suppress(OSError), urllib.request.urlopen(self.url + "/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
            time.sleep(0.02)  # a refused connection costs well under a millisecond; each 0.1 s of sleep was a wait
        raise RuntimeError(
            f"Prefect's local server did not answer within {timeout:.0f} s (NEWSFLOW_PREFECT_STARTUP_TIMEOUT)"
        )

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after GRACE_SECONDS; idempotent."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=GRACE_SECONDS)
        except Exception:
            proc.kill()
            proc.wait()


def start_local_server() -> LocalServer | None:
    """A LocalServer for this run, unless PREFECT_API_URL names a server (then None). Call after
    `guard_local_server()`, so the server carries the run's token."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    return LocalServer()


def carriers(token: str, exclude: int | None = None) -> list[int]:
    """The live processes whose environment holds `ENV=token` (a zombie has none, so it is not listed)."""
    marker = f"{ENV}={token}".encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == exclude:
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read()
        except OSError:  # gone, or another user's
            continue
        if marker in environ.split(b"\0"):
            found.append(int(name))
    return found


def end_carriers(token: str, grace: float = GRACE_SECONDS) -> list[int]:
    """SIGTERM every process carrying `token` (but this one), SIGKILL those still there after `grace` s."""
    me = os.getpid()
    victims = carriers(token, exclude=me)
    for pid in victims:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    left = victims
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [pid for pid in carriers(token, exclude=me) if pid in victims]
    for pid in carriers(token, exclude=me):  # checked again: a pid reused since carries no token
        _signal(pid, signal.SIGKILL)
    return victims


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def _watch(read_end: int, token: str) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        while os.read(read_end, 4096):
            pass
    end_carriers(token)


def _serve(uvicorn_args: list[str]) -> None:
    """Run uvicorn with `uvicorn_args` (as `python -m uvicorn` does), with Prefect's server module imported first
    and the cyclic garbage collector off while it imports.

    Importing Prefect's server (its API, ORM and services: about 2.5 s of CPU here, most of its start-up) creates
    hundreds of thousands of objects and almost no garbage, and the collector walked them again and again: with it
    off the import took 20-25% less CPU (2.3-2.8 s against 2.9-3.2 s). It is on again before the app is created,
    and what the import made is frozen (`gc.freeze`), so the server's later collections do not walk it either."""
    import gc
    import runpy

    sys.path.pop(0)  # this file's directory (newsflow/): its modules must not shadow top-level ones
    gc.disable()
    try:
        import prefect.server.api.server  # noqa: F401
    finally:
        gc.enable()
    gc.freeze()
    sys.argv = ["uvicorn", *uvicorn_args]
    runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    if sys.argv[1:3] == ["serve", "uvicorn"]:
        _serve(sys.argv[3:])
    else:
        _watch(int(sys.argv[1]), sys.argv[2])
