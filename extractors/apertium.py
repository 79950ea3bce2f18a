"""The offline translation provider: the `apertium` command of the Debian packages.

Debian ships Apertium and, for newsflow's languages, one pair into English: `apertium-eng-spa`
(Spanish -> English, mode ``spa-eng``). There is no Debian pair from Vietnamese, French, German,
Portuguese, Russian, Chinese or Japanese into English; the modes installed are read from
``apertium -l`` so a pair added later is used without code changes.

    apt-get install apertium apertium-eng-spa

Apertium runs as a subprocess with a hard timeout (the process is killed when it passes) and ``-u``
(unknown words are copied without the ``*`` mark). It gives a gist, not a polished translation, and
it translates names word by word ("Son La" -> "Sound The"): callers protect names first.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import lru_cache

COMMAND = "apertium"
INSTALL_HINT = "apt-get install apertium apertium-eng-spa"
# ISO 639-1 -> the ISO 639-3 codes Apertium names its modes with.
_ISO3 = {
    "en": "eng",
    "es": "spa",
    "fr": "fra",
    "pt": "por",
    "ca": "cat",
    "gl": "glg",
    "it": "ita",
    "de": "deu",
    "ru": "rus",
    "vi": "vie",
    "eu": "eus",
    "eo": "epo",
    "is": "isl",
    "mk": "mkd",
    "ro": "ron",
    "oc": "oci",
}


class ApertiumError(Exception):
    """Apertium could not translate; `kind` says how to treat it (see extractors.translate)."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def installed() -> bool:
    return shutil.which(COMMAND) is not None


@lru_cache(maxsize=1)
def modes() -> frozenset[str]:
    """The installed modes (``spa-eng``, ...); empty when Apertium is not installed."""
    if not installed():
        return frozenset()
    try:
        done = subprocess.run([COMMAND, "-l"], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    return frozenset(line.strip() for line in done.stdout.splitlines() if line.strip())


def mode_for(source: str, target: str) -> str | None:
    """The installed mode that translates `source` -> `target` (ISO 639-1 codes), or None."""
    available = modes()
    for src in (_ISO3.get(source, source), source):
        for tgt in (_ISO3.get(target, target), target):
            if f"{src}-{tgt}" in available:
                return f"{src}-{tgt}"
    return None


def _package_version(package: str) -> str | None:
    if shutil.which("dpkg-query") is None:
        return None
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


@lru_cache(maxsize=16)
def engine(mode: str) -> str:
    """'apertium 3.8.3-1+b2 spa-eng (apertium-eng-spa 0.8.1-2)': what translated, for provenance."""
    version = _package_version("apertium")
    src, _, tgt = mode.partition("-")
    pair = next(
        (f"{name} {v}" for name in (f"apertium-{tgt}-{src}", f"apertium-{src}-{tgt}") if (v := _package_version(name))),
        None,
    )
    return f"apertium{f' {version}' if version else ''} {mode}" + (f" ({pair})" if pair else "")


def translate(text: str, mode: str, timeout: float) -> str:
    """`text` through ``apertium -u MODE``; raises ApertiumError (the process is killed after `timeout` s)."""
    try:
        done = subprocess.run(
            [COMMAND, "-u", "-f", "txt", mode], input=text, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as exc:
        raise ApertiumError("unreachable", f"apertium is not installed ({INSTALL_HINT})") from exc
    except subprocess.TimeoutExpired as exc:
        raise ApertiumError("transient", f"apertium {mode} did not finish within {timeout:g} s") from exc
    except OSError as exc:
        raise ApertiumError("unreachable", f"apertium cannot run: {exc}") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        last = detail[-1] if detail else ""
        raise ApertiumError("permanent", f"apertium {mode} exited with {done.returncode}: {last}")
    # Apertium ends its output with the input's final newline (or adds one): keep the input's ending.
    out = done.stdout
    return out[: len(out.rstrip("\n"))] + text[len(text.rstrip("\n")) :]
