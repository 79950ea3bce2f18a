"""Screenshots of the deployments' run forms in the Prefect UI, taken in headless Chromium (README: Deployments).

    .venv/bin/python scripts/form_screenshots.py            # PNGs into docs/screenshots/
    .venv/bin/python scripts/form_screenshots.py --ui v1    # the older UI (Prefect's "Switch to V1 UI")

It starts a throw-away `prefect server start` with its UI (its own PREFECT_HOME in a temporary directory, a free
port of 127.0.0.1), `newsflow serve` against it, then opens each deployment's custom-run form
(`/v2/deployments/deployment/<id>/run`, the UI an operator gets by default) in headless Chromium, driven over the
DevTools protocol, and saves a PNG of the form. Everything it started is stopped at the end, even on error.
tests/test_forms_browser.py uses the same machinery to check the forms an operator relies on.

Needs Chromium (Debian: `apt-get install chromium`; another binary: NEWSFLOW_CHROMIUM=/path/to/chrome).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
NAMES = ("ingest-sources", "ingest-site", "process-text", "reprocess", "retranslate-pending", "export")
WIDTH = 1100  # CSS pixels: the form's descriptions fit on one or two lines, the PNGs stay small
UI_PATH = {"v2": "/v2/deployments/deployment/{id}/run", "v1": "/deployments/deployment/{id}/run"}


class FormsError(RuntimeError):
    """The server, `newsflow serve` or Chromium did not come up (the message has the tail of its log)."""


def find_chromium() -> str | None:
    """The Chromium binary: NEWSFLOW_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    configured = os.environ.get("NEWSFLOW_CHROMIUM")
    if configured:
        return configured if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group it leads (it started with a session of its own), SIGKILL after 20 s."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _tail(log: Path, n: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-n:]) if log.exists() else "(no log)"


@dataclass
class Forms:
    """A Prefect server with its UI and newsflow's deployments on it."""

    url: str  # the UI's root, http://127.0.0.1:<port>
    deployments: dict[str, dict[str, Any]]  # name -> the deployment as the API gives it

    def form_url(self, name: str, ui: str = "v2") -> str:
        return self.url + UI_PATH[ui].format(id=self.deployments[name]["id"])

    def titles(self, name: str) -> list[str]:
        """The form's field titles, in the form's order."""
        fields = self.deployments[name]["parameter_openapi_schema"]["properties"]
        return [f["title"] for f in sorted(fields.values(), key=lambda f: f.get("position", 0))]


@contextmanager
def served_forms(workdir: Path, timeout: float = 180) -> Iterator[Forms]:
    """`prefect server start` (UI on, no telemetry, no promotions) and `newsflow serve` against it, in `workdir`."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEWSFLOW_"))}
    prefect = {
        "PREFECT_HOME": str(workdir / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }
    server_env = {
        **base,
        **prefect,
        "PREFECT_UI_ENABLED": "true",
        "PREFECT_UI_API_URL": f"{url}/api",  # the UI's calls go to this server (default: port 4200)
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    }
    serve_env = {
        **base,
        **prefect,
        "PREFECT_API_URL": f"{url}/api",
        "NEWSFLOW_DATA_DIR": str(workdir / "data"),
        "NEWSFLOW_TRANSLATOR": "none",
    }
    server_log, serve_log = workdir / "server.log", workdir / "serve.log"
    server = _start(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)], server_env, server_log
    )
    serve: subprocess.Popen[bytes] | None = None
    try:
        with httpx.Client(base_url=f"{url}/api", timeout=30) as client:
            deadline = time.monotonic() + timeout
            while True:
                if server.poll() is not None:
                    raise FormsError(f"prefect server exited with {server.returncode}:\n{_tail(server_log)}")
                with suppress(httpx.TransportError):
                    if client.get("/health").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise FormsError(f"prefect server did not answer in {timeout:.0f} s:\n{_tail(server_log)}")
                time.sleep(0.5)
            serve = _start([str(BIN / "newsflow"), "serve"], serve_env, serve_log)
            while True:
                response = client.post("/deployments/filter", json={})
                found = {d["name"]: d for d in response.json()} if response.status_code == 200 else {}
                if set(NAMES) <= set(found):
                    break
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise FormsError(f"newsflow serve did not create the deployments:\n{_tail(serve_log)}")
                time.sleep(0.5)
        yield Forms(url=url, deployments=found)
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)


# --- Chromium over the DevTools protocol ------------------------------------------------------------------------

# The field of a form whose label is `title` (with or without " (Optional)"): the control it holds, its value, its
# choices when it is a native <select>, and the text around it. Both UIs put a label and its control in one box.
_FIELDS_JS = """
(titles) => {
  const controls = 'textarea, input:not([type=checkbox]):not([type=hidden]), select, [aria-haspopup=listbox]';
  const named = (el, t) => { const s = el.textContent.trim(); return s === t || s === t + ' (Optional)'; };
  const labels = [...document.querySelectorAll('label')];
  const out = {};
  for (const t of titles) {
    const label = labels.find(l => named(l, t));
    if (!label) { out[t] = null; continue; }
    let box = label.parentElement;
    while (box && !box.querySelector(controls)) box = box.parentElement;
    const isOther = l => l !== label && titles.some(o => named(l, o));
    const others = box ? [...box.querySelectorAll('label')].filter(isOther) : [];
    const ctl = box && others.length === 0 ? box.querySelector(controls) : null;
    out[t] = {
      control: ctl ? (ctl.tagName === 'SELECT' ? 'select' : ctl.tagName === 'TEXTAREA' ? 'textarea'
                      : ctl.tagName === 'INPUT' ? 'input' : 'listbox') : null,
      value: ctl ? ('value' in ctl && ctl.tagName !== 'BUTTON' ? ctl.value : ctl.textContent.trim()) : null,
      options: ctl && ctl.tagName === 'SELECT' ? [...ctl.options].map(o => o.value) : null,
      text: box ? box.innerText : '',
    };
  }
  return out;
}
"""


class Chromium:
    """One headless Chromium with one page, driven over its DevTools websocket."""

    def __init__(self, binary: str, workdir: Path, width: int = WIDTH, height: int = 900) -> None:
        self.width = width
        profile = workdir / "chromium-profile"
        profile.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "chromium.log"
        args = [
            binary,
            "--headless=new",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-dev-shm-usage",  # small /dev/shm in containers
            "--force-device-scale-factor=1",
            f"--window-size={width},{height}",
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox (CI runs as root)
        self.proc = _start(args, dict(os.environ), self.log)
        self._id = 0
        try:
            port_file = profile / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise FormsError(f"chromium did not open its DevTools port:\n{_tail(self.log)}")
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            pages = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json()
            page = next(p for p in pages if p["type"] == "page")
            self.ws: ClientConnection = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=30)
            self.call("Page.enable")
            self.call("Runtime.enable")
        except BaseException:
            _stop(self.proc)
            raise

    def close(self) -> None:
        with suppress(Exception):
            self.ws.close()
        _stop(self.proc)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, timeout: float = 60, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are dropped)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == self._id:
                if "error" in message:
                    raise FormsError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise FormsError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise FormsError(f"page did not show `{expression}` in {timeout:.0f} s")
            time.sleep(0.2)

    def open_form(self, url: str, titles: list[str], timeout: float = 60) -> None:
        """Load a run form and wait until every field's label is there and the page has stopped loading."""
        self.call("Emulation.setDeviceMetricsOverride", width=self.width, height=900, deviceScaleFactor=1, mobile=False)
        self.call("Page.navigate", url=url)
        labels = json.dumps(titles)
        self.wait_for(
            f"(() => {{ const t = [...document.querySelectorAll('label')].map(l => l.textContent.trim());"
            f" return document.readyState === 'complete'"
            f" && {labels}.every(x => t.includes(x) || t.includes(x + ' (Optional)')); }})()",
            timeout,
        )
        time.sleep(0.5)  # transitions (the v1 UI fades its content in)

    def fields(self, titles: list[str]) -> dict[str, Any]:
        return dict(self.evaluate(f"({_FIELDS_JS})({json.dumps(titles)})"))

    def listbox_options(self, title: str) -> list[str]:
        """The choices of the v2 UI's dropdown for `title` (it lists them only once opened): open, read, close."""
        opener = (
            "[...document.querySelectorAll('[aria-haspopup=listbox]')]"
            f".find(b => b.getAttribute('aria-label') === {json.dumps('Select ' + title)})"
        )
        if not self.evaluate(f"!!({opener})"):
            return []
        self.evaluate(f"({opener}).click()")
        options = self.wait_for(
            "(() => { const o = [...document.querySelectorAll('[role=option]')].map(e => e.textContent.trim());"
            " return o.length ? o : null; })()",
            10,
        )
        self.call("Input.dispatchKeyEvent", type="keyDown", key="Escape", code="Escape", windowsVirtualKeyCode=27)
        self.call("Input.dispatchKeyEvent", type="keyUp", key="Escape", code="Escape", windowsVirtualKeyCode=27)
        self.wait_for("document.querySelectorAll('[role=option]').length === 0", 10)
        return list(options)

    def body_text(self) -> str:
        return str(self.evaluate("document.body.innerText"))

    def screenshot(self, path: Path) -> None:
        """A PNG of the page down to the form's Submit button (the sidebar's height: the window's)."""
        bottom = self.evaluate(
            "(() => { const b = [...document.querySelectorAll('button')].find(b => b.textContent.trim() === 'Submit');"
            " return b ? Math.ceil(b.getBoundingClientRect().bottom + window.scrollY)"
            " : document.body.scrollHeight; })()"
        )
        height = max(600, int(bottom) + 24)
        self.call(
            "Emulation.setDeviceMetricsOverride", width=self.width, height=height, deviceScaleFactor=1, mobile=False
        )
        time.sleep(0.3)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)
        path.write_bytes(base64.b64decode(shot["data"]))


def take_screenshots(out_dir: Path, ui: str = "v2") -> list[Path]:
    """One PNG per deployment's run form, named <deployment>.png (v1: <deployment>-v1.png)."""
    binary = find_chromium()
    if binary is None:
        raise FormsError("no Chromium found: apt-get install chromium, or set NEWSFLOW_CHROMIUM")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory(prefix="newsflow-forms-") as tmp:
        work = Path(tmp)
        with served_forms(work) as forms, Chromium(binary, work) as browser:
            for name in NAMES:
                browser.open_form(forms.form_url(name, ui), forms.titles(name))
                path = out_dir / (f"{name}.png" if ui == "v2" else f"{name}-{ui}.png")
                browser.screenshot(path)
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots", help="directory of the PNGs")
    parser.add_argument("--ui", choices=sorted(UI_PATH), default="v2", help="Prefect's UI (v2 is its default)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        written = take_screenshots(args.out, args.ui)
    except FormsError as exc:
        print(f"form_screenshots: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path}  {path.stat().st_size // 1024} KB")
    print(f"{len(written)} screenshots in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
