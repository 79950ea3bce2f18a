"""Language identification with langdetect, seeded so every run and process gives the same answer."""

from __future__ import annotations

import re
import threading

from schemas.models import LanguageInfo

_LOCK = threading.Lock()
_READY = False
_MIN_LETTERS = 40  # below this, langdetect guesses (a name like 'Long An' comes out Tagalog)
# Letters only Vietnamese uses among the Latin-script languages we meet.
_VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def _ensure_seeded() -> None:
    """Seed langdetect once, before its first call (it is random otherwise)."""
    global _READY
    if _READY:
        return
    with _LOCK:
        if not _READY:
            from langdetect import DetectorFactory

            DetectorFactory.seed = 0
            _READY = True


def detect_language(text: str, hint: str | None = None) -> LanguageInfo:
    """Detect the language of a main text; `hint` is a declared language (e.g. `<html lang>`)."""
    hint_code = hint.split("-")[0].lower().strip() if hint else None
    letters = len(_LETTER.findall(text))
    if letters < _MIN_LETTERS:
        if hint_code:
            return LanguageInfo(code=hint_code, confidence=0.3, detector="hint")
        return LanguageInfo(code="und", confidence=0.0, detector="langdetect")
    vi_share = len(_VI_LETTERS.findall(text)) / letters
    if vi_share > 0.05:
        # Vietnamese diacritics on more than 1 letter in 20 is Vietnamese whatever langdetect's sample says.
        return LanguageInfo(code="vi", confidence=round(min(1.0, 0.9 + vi_share), 4), detector="script")
    _ensure_seeded()
    from langdetect import LangDetectException, detect_langs

    try:
        best = detect_langs(text[:20_000])[0]
    except LangDetectException:
        return LanguageInfo(code=hint_code or "und", confidence=0.0, detector="langdetect")
    code = best.lang.split("-")[0]
    confidence = float(best.prob)
    if hint_code and hint_code != code and confidence < 0.8:
        return LanguageInfo(code=hint_code, confidence=0.5, detector="langdetect+hint")
    return LanguageInfo(code=code, confidence=round(confidence, 4), detector="langdetect")
