"""What deep-translator's MyMemory and Microsoft clients lack; imported only when such a client is made."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

import requests
from deep_translator import MicrosoftTranslator
from deep_translator.constants import MY_MEMORY_LANGUAGES_TO_CODES
from deep_translator.exceptions import LanguageNotSupportedException

from extractors.translate.resilience import _ApiStatusError, last_response

_microsoft_languages: dict[str, dict[str, str]] = {}  # service root -> {language name: code}
_microsoft_languages_lock = threading.Lock()


# deep-translator has no type hints: its classes are Any to mypy, which --strict refuses as a base class.
class Microsoft(MicrosoftTranslator):  # type: ignore[misc,unused-ignore]
    """MicrosoftTranslator whose language list comes from our root, fetched once per root.

    The stock class fetches it from a hard-coded URL in its constructor, on every instance.
    """

    def __init__(self, root: str, **kwargs: Any) -> None:
        self._root = root
        super().__init__(**kwargs)
        self._base_url = f"{root}/translate?api-version=3.0"

    def _get_supported_languages(self) -> dict[str, str]:
        with _microsoft_languages_lock:
            cached = _microsoft_languages.get(self._root)
        if cached is None:
            response = requests.get(f"{self._root}/languages", params={"api-version": "3.0", "scope": "translation"})
            response.raise_for_status()
            data = response.json()["translation"]
            cached = {info["name"].lower(): code.lower() for code, info in data.items()}
            with _microsoft_languages_lock:
                _microsoft_languages[self._root] = cached
        return cached


def mymemory_code(code: str) -> str:
    """MyMemory's table holds regional codes ('vi-VN'); deep-translator refuses a bare 'vi'."""
    codes: Collection[str] = MY_MEMORY_LANGUAGES_TO_CODES.values()
    if code in codes:
        return code
    for candidate in codes:
        if candidate.split("-")[0].lower() == code:
            return candidate
    raise LanguageNotSupportedException(code)


def check_mymemory_body() -> None:
    """MyMemory answers 200 with `responseStatus` 403/429 and the error as the 'translation'."""
    response = last_response()
    if response is None:
        return
    try:
        data = response.json()
    except ValueError:
        return  # not JSON: deep-translator's own error (or the caller's check) reports it
    status = data.get("responseStatus", 200) if isinstance(data, dict) else 200
    try:
        status = int(status)
    except (TypeError, ValueError):
        status = 200
    if status != 200:
        raise _ApiStatusError(status, str(data.get("responseDetails") or ""))
