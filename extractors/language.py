"""Language identification: per paragraph, then for the document, with hints and honest "und".

Every paragraph (a run of text between line breaks) is judged on its own:

* a paragraph made only of names ("Long An", "Tien Giang - Ben Tre", "TP.HCM"), or with fewer than
  `MIN_LETTERS` letters in a Latin script, is ``und``: every detector guesses on such text
  ('Long An' comes out Tagalog);
* script decides where it can: Vietnamese diacritics (ă â đ ê ô ơ ư and the tone marks) on more than
  1 letter in 20 -> ``vi``; kana -> ``ja``; Han without kana -> ``zh``; Cyrillic -> ``ru``;
* otherwise the statistical detector: langdetect (default; seeded with ``DetectorFactory.seed = 0`` so
  every run and process gives the same answer) or lingua restricted to `EXPECTED_LANGUAGES`.

The document's language is the one with the most letters among the judged paragraphs, so Vietnamese
photo captions inside a Spanish page do not flip it. A declared language (`hint`: ``<html lang>``, the
site profile, a JSON ``language`` field) decides when no paragraph could be judged (confidence 0.3) and
wins over a weak detection (below 0.8) that disagrees with it. `LanguageInfo.segments` gives the runs of
paragraphs per language, with character offsets into the text; a paragraph too short to judge joins
the run before it (or after it, at the start).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from extractors.text import fold
from schemas.models import LanguageInfo, LanguageSegment

Detector = Literal["langdetect", "lingua"]
DETECTORS: tuple[str, ...] = ("langdetect", "lingua")
# The languages newsflow meets: Vietnamese and the portals' editions. lingua is restricted to these.
EXPECTED_LANGUAGES: tuple[str, ...] = ("vi", "en", "es", "fr", "de", "ru", "pt", "zh", "ja")

MIN_LETTERS = 25  # a Latin-script paragraph with fewer letters is too short to judge
_WEAK = 0.8  # a detection below this confidence yields to a declared language that disagrees

_LOCK = threading.Lock()
_SEEDED = False
# Letters only Vietnamese uses among the Latin-script languages we meet.
_VI_LETTERS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_WORD = re.compile(r"[^\W\d_]+(?:[.'’][^\W\d_]+)*\.?", re.UNICODE)
_PARAGRAPH = re.compile(r"[^\n]+")
# A Vietnamese syllable without diacritics: how names appear in the portals' foreign editions.
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$"
)
_ABBREVIATION = re.compile(r"^(?:[A-ZĐ]{1,5}\.?)+$")  # TP.HCM, UBND, HCMC


@dataclass(frozen=True)
class ParagraphLanguage:
    """One paragraph as judged on its own: `code` is None when it is too short or only names."""

    start: int
    end: int
    code: str | None
    confidence: float
    letters: int
    method: str


# --------------------------------------------------------------------------------------------------
# Detectors


def _ensure_seeded() -> None:
    """Seed langdetect once, before its first call (it is random otherwise)."""
    global _SEEDED
    if _SEEDED:
        return
    with _LOCK:
        if not _SEEDED:
            from langdetect import DetectorFactory

            DetectorFactory.seed = 0
            _SEEDED = True


def _langdetect(text: str) -> tuple[str, float] | None:
    _ensure_seeded()
    from langdetect import LangDetectException, detect_langs

    try:
        best = detect_langs(text[:20_000])[0]
    except LangDetectException:
        return None
    code = best.lang.split("-")[0]
    return code, float(best.prob)


@lru_cache(maxsize=1)
def _lingua_detector() -> object:
    try:
        from lingua import IsoCode639_1, LanguageDetectorBuilder
    except ImportError as exc:  # an optional dependency: say how to get it
        raise RuntimeError(
            "language detector 'lingua' needs the package lingua-language-detector "
            "(pip install lingua-language-detector); the default detector is 'langdetect'"
        ) from exc
    codes = [getattr(IsoCode639_1, code.upper()) for code in EXPECTED_LANGUAGES]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def _lingua(text: str) -> tuple[str, float] | None:
    detector = _lingua_detector()
    values = detector.compute_language_confidence_values(text[:20_000])  # type: ignore[attr-defined]
    if not values or values[0].value <= 0:
        return None
    return values[0].language.iso_code_639_1.name.lower(), float(values[0].value)


_DETECT: dict[str, Callable[[str], tuple[str, float] | None]] = {"langdetect": _langdetect, "lingua": _lingua}


# --------------------------------------------------------------------------------------------------
# Paragraphs


def _name_only(text: str) -> bool:
    """Only names: every word capitalised and a Vietnamese syllable or an abbreviation ('Tien Giang', 'TP.HCM')."""
    words = _WORD.findall(text)
    if not words:
        return True
    for word in words:
        if _ABBREVIATION.match(word):
            continue
        if not word[0].isupper():
            return False
        if not all(_SYLLABLE.match(part) for part in fold(word).replace("’", "'").split("'")):
            return False
    return True


def _by_script(text: str, letters: int) -> tuple[str, float] | None:
    kana, han = len(_KANA.findall(text)), len(_HAN.findall(text))
    if kana and (kana + han) / letters > 0.3:
        return "ja", 0.99
    if han / letters > 0.3:
        return "zh", 0.95
    if len(_CYRILLIC.findall(text)) / letters > 0.5:
        return "ru", 0.9
    vi_share = len(_VI_LETTERS.findall(text)) / letters
    if vi_share > 0.05:
        # Vietnamese diacritics on more than 1 letter in 20 is Vietnamese whatever a detector's sample says.
        return "vi", min(1.0, 0.9 + vi_share)
    return None


def judge_paragraph(text: str, start: int = 0, detector: Detector = "langdetect") -> ParagraphLanguage:
    """The language of one paragraph on its own, or code None when it cannot be told."""
    end = start + len(text)
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return ParagraphLanguage(start, end, None, 0.0, 0, "empty")
    scripted = _by_script(text, letters)
    if scripted is not None and (scripted[0] != "vi" or not _name_only(text)):
        return ParagraphLanguage(start, end, scripted[0], round(scripted[1], 4), letters, "script")
    if letters < MIN_LETTERS or _name_only(text):
        return ParagraphLanguage(start, end, None, 0.0, letters, "too-short" if letters < MIN_LETTERS else "names")
    found = _DETECT[detector](text)
    if found is None:
        return ParagraphLanguage(start, end, None, 0.0, letters, detector)
    return ParagraphLanguage(start, end, found[0], round(found[1], 4), letters, detector)


def paragraphs(text: str) -> Iterator[tuple[int, str]]:
    """(offset, text) of every non-blank line of `text`, stripped."""
    for match in _PARAGRAPH.finditer(text):
        raw = match.group()
        stripped = raw.strip()
        if stripped:
            yield match.start() + raw.index(stripped), stripped


# --------------------------------------------------------------------------------------------------
# Document


def _primary(code: str | None) -> str | None:
    if not code:
        return None
    primary = code.replace("_", "-").split("-")[0].lower().strip()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _segments(judged: list[ParagraphLanguage], fallback: str) -> list[LanguageSegment]:
    """Runs of paragraphs per language; a paragraph that could not be judged joins its neighbour's run."""
    codes: list[str | None] = [p.code for p in judged]
    for i in range(len(codes)):  # forward fill, then the leading gap from the first judged paragraph
        if codes[i] is None and i > 0:
            codes[i] = codes[i - 1]
    first = next((c for c in codes if c is not None), fallback)
    codes = [c or first for c in codes]
    out: list[LanguageSegment] = []
    weights: list[tuple[float, int]] = []
    for paragraph, code in zip(judged, codes, strict=True):
        assert code is not None
        if out and out[-1].code == code:
            out[-1] = out[-1].model_copy(update={"end": paragraph.end})
            weight, letters = weights[-1]
            weights[-1] = (weight + paragraph.confidence * paragraph.letters, letters + paragraph.letters)
        else:
            out.append(LanguageSegment(start=paragraph.start, end=paragraph.end, code=code, confidence=0.0))
            weights.append((paragraph.confidence * paragraph.letters, paragraph.letters))
    return [
        s.model_copy(update={"confidence": round(w / n, 4) if n else 0.0})
        for s, (w, n) in zip(out, weights, strict=True)
    ]


def detect_language(text: str, hint: str | None = None, detector: Detector = "langdetect") -> LanguageInfo:
    """Detect the language of a main text; `hint` is a declared language (``<html lang>``, site profile)."""
    if detector not in _DETECT:
        raise ValueError(f"unknown language detector {detector!r}; use one of {', '.join(DETECTORS)}")
    hint_code = _primary(hint)
    judged = [judge_paragraph(p, start, detector) for start, p in paragraphs(text)]
    letters: Counter[str] = Counter()
    weighted: dict[str, float] = {}
    methods: dict[str, set[str]] = {}
    for p in judged:
        if p.code is not None:
            letters[p.code] += p.letters
            weighted[p.code] = weighted.get(p.code, 0.0) + p.confidence * p.letters
            methods.setdefault(p.code, set()).add(p.method)
    if not letters:
        if hint_code:
            return LanguageInfo(code=hint_code, confidence=0.3, detector="hint",
                                segments=_segments(judged, hint_code))  # fmt: skip
        return LanguageInfo(code="und", confidence=0.0, detector=detector, segments=[])
    code, _ = max(letters.items(), key=lambda item: (item[1], item[0] == hint_code))
    share = letters[code] / sum(letters.values())
    confidence = round(weighted[code] / letters[code] * share, 4)
    how: str = "script" if methods[code] == {"script"} else detector
    if hint_code and hint_code != code and confidence < _WEAK:
        code, confidence, how = hint_code, 0.5, f"{detector}+hint"
    return LanguageInfo(code=code, confidence=confidence, detector=how, segments=_segments(judged, code))
