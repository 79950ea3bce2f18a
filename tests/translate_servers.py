"""Local HTTP servers that speak just enough of each translation provider's API for deep-translator.

Each `FakeProvider` listens on 127.0.0.1 (a fresh port per instance), records every request, and
"translates" by upper-casing the text, so a test can check both what was sent and what came back.
Scripted replies (`reply`) are served first, in order; `mode` makes the server hang, drop the
connection, or collapse line breaks the way some real services do.
"""

from __future__ import annotations

import html
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Literal
from urllib.parse import parse_qs, urlsplit

import pytest

from extractors import apertium

Kind = Literal["google", "mymemory", "libre", "deepl", "microsoft"]
Mode = Literal["ok", "hang", "drop", "collapse_newlines"]

MICROSOFT_KEY = "test-microsoft-key"
_MICROSOFT_LANGUAGES = {
    "translation": {
        "de": {"name": "German", "nativeName": "Deutsch", "dir": "ltr"},
        "en": {"name": "English", "nativeName": "English", "dir": "ltr"},
        "vi": {"name": "Vietnamese", "nativeName": "Tiếng Việt", "dir": "ltr"},
    }
}


def fake_translation(text: str) -> str:
    """What every fake provider returns for `text`."""
    return text.upper()


@dataclass
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    params: dict[str, str]
    body: str
    headers: dict[str, str]

    @property
    def text(self) -> str | None:
        """The text to translate, wherever this provider's contract puts it."""
        for key in ("q", "text"):
            if key in self.params:
                return self.params[key]
        if self.body.startswith("["):  # Microsoft: [{"text": ...}]
            return str(json.loads(self.body)[0]["text"])
        return None


@dataclass
class _Reply:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.fake.handle(self, "GET")

    def do_POST(self) -> None:
        self.server.fake.handle(self, "POST")

    def log_message(self, format: str, *args: object) -> None:  # keep pytest output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a hanging handler must not block shutdown
    fake: FakeProvider


class FakeProvider:
    """A provider's API on 127.0.0.1; use as a context manager."""

    def __init__(self, kind: Kind, mode: Mode = "ok") -> None:
        self.kind = kind
        self.mode: Mode = mode
        self.requests: list[Recorded] = []
        self._replies: deque[_Reply] = deque()
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        """The service root to put in `translation_endpoints` (or `libre_url`)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def reply(self, status: int, body: str = "", headers: dict[str, str] | None = None, times: int = 1) -> None:
        """Serve this reply to the next `times` requests, before any default answer."""
        with self._lock:
            self._replies.extend(_Reply(status, body, headers or {}) for _ in range(times))

    def translate_requests(self) -> list[Recorded]:
        """Requests that carried text (Microsoft's /languages lookups are left out)."""
        return [r for r in self.requests if r.text is not None]

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # -- request handling -------------------------------------------------------------------------

    def handle(self, request: _Handler, method: str) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length).decode("utf-8") if length else ""
        params = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        content_type = request.headers.get("Content-Type") or ""
        if body and "application/x-www-form-urlencoded" in content_type:
            params.update({k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()})
        with self._lock:
            self.requests.append(Recorded(method, parts.path, params, body, dict(request.headers.items())))
            scripted = self._replies.popleft() if self._replies else None
        if self.mode == "hang":  # accepted, request read, never answered
            self._release.wait(120)
            return
        if self.mode == "drop":  # close the connection without a status line
            request.close_connection = True
            request.connection.shutdown(socket.SHUT_RDWR)
            return
        reply = scripted or self._answer(method, parts.path, params, body, dict(request.headers.items()))
        payload = reply.body.encode("utf-8")
        request.send_response(reply.status)
        for name, value in reply.headers.items():
            request.send_header(name, value)
        if "Content-Type" not in reply.headers:
            request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _out(self, text: str) -> str:
        out = fake_translation(text)
        return out.replace("\n", " ") if self.mode == "collapse_newlines" else out

    def _answer(self, method: str, path: str, params: dict[str, str], body: str, headers: dict[str, str]) -> _Reply:
        if self.kind == "google" and method == "GET" and path == "/m":
            # The mobile page: deep-translator reads <div class="result-container"> (or "t0").
            page = (
                "<!DOCTYPE html><html><head><title>Google Translate</title></head><body>"
                f'<div class="result-container">{html.escape(self._out(params["q"]))}</div></body></html>'
            )
            return _Reply(200, page, {"Content-Type": "text/html; charset=utf-8"})
        if self.kind == "mymemory" and method == "GET" and path == "/get":
            out = self._out(params["q"])
            data = {
                "responseData": {"translatedText": out, "match": 1},
                "responseStatus": 200,
                "responseDetails": "",
                "matches": [{"id": "1", "segment": params["q"], "translation": out, "quality": 74}],
            }
            return _Reply(200, json.dumps(data))
        if self.kind == "libre" and method == "POST" and path == "/translate":
            return _Reply(200, json.dumps({"translatedText": self._out(params["q"])}))
        if self.kind == "deepl" and path == "/v2/translate":
            translated = {
                "detected_source_language": params["source_lang"].upper(),
                "text": self._out(params["text"]),
            }
            data = {"translations": [translated]}
            return _Reply(200, json.dumps(data))
        if self.kind == "microsoft" and method == "GET" and path == "/languages":
            return _Reply(200, json.dumps(_MICROSOFT_LANGUAGES))
        if self.kind == "microsoft" and method == "POST" and path == "/translate":
            if headers.get("Ocp-Apim-Subscription-Key") != MICROSOFT_KEY:
                error = {"error": {"code": 401000, "message": "The request is not authorized."}}
                return _Reply(401, json.dumps(error))
            items = json.loads(body)
            answer = [{"translations": [{"text": self._out(item["text"]), "to": params["to"]}]} for item in items]
            return _Reply(200, json.dumps(answer))
        return _Reply(404, json.dumps({"error": f"no route {method} {path}"}))


def closed_port_url() -> str:
    """A 127.0.0.1 URL where nothing listens: connecting is refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def apertium_installed() -> None:
    """The real Apertium with its Spanish -> English pair; CI installs it (.ci/run), so there it must be here.

    Elsewhere a missing Apertium skips the test with the reason and the command that installs it.
    """
    import os

    if apertium.mode_for("es", "en") is None:
        what = "apertium is not installed" if not apertium.installed() else "apertium has no spa-eng mode"
        message = f"{what}: install it with `{apertium.INSTALL_HINT}`"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must have Apertium ({message})")
        pytest.skip(message)
