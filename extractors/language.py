"""Language identification: per paragraph, then for the document, with hints and honest "und".

Every paragraph (a run of text between line breaks) is judged on its own:

* a paragraph made only of names ("Long An", "Tien Giang - Ben Tre", "TP.HCM"), or with fewer than
  `MIN_LETTERS` letters in a Latin script, is ``und``: every detector guesses on such text
  ('Long An' comes out Tagalog);
* script decides where it can: Vietnamese diacritics (ă â đ ê ô ơ ư and the tone marks) on more than
  1 letter in 20 -> ``vi``; kana -> ``ja``; Han without kana -> ``zh``; Cyrillic -> ``ru``;
* otherwise the statistical detector: langdetect (default; seeded with ``DetectorFactory.seed = 0`` so
  every run and process gives the same answer) or lingua restricted to `EXPECTED_LANGUAGES`.

Speed (the same answers, fewer and cheaper detector calls): the paragraphs that need the statistical
detector are detected together once, on their first `SAMPLE_CHARS` characters; a paragraph whose function
words (`extractors/data/function_words.json`) clearly say that same language takes the shared answer,
any other is detected on its own. langdetect itself runs through `_fast_detector_class`: its own
profiles and algorithm with the inner loops memoised and on numpy, giving exactly its answers.

The document's language is the one with the most letters among the judged paragraphs, so Vietnamese
photo captions inside a Spanish page do not flip it. A declared language (`hint`: ``<html lang>``, the
site profile, a JSON ``language`` field) decides when no paragraph could be judged (confidence 0.3) and
wins over a weak detection (below 0.8) that disagrees with it. `LanguageInfo.segments` gives the runs of
paragraphs per language, with character offsets into the text; a paragraph too short to judge joins
the run before it (or after it, at the start).
"""

from __future__ import annotations

import json
import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from extractors.config import Detector
from extractors.text import fold
from schemas.models import LanguageInfo, LanguageSegment

DETECTORS: tuple[str, ...] = ("langdetect", "lingua")
# The languages newsflow meets: Vietnamese and the portals' editions. lingua is restricted to these.
EXPECTED_LANGUAGES: tuple[str, ...] = ("vi", "en", "es", "fr", "de", "ru", "pt", "zh", "ja")

MIN_LETTERS = 25  # a Latin-script paragraph with fewer letters is too short to judge
_WEAK = 0.8  # a detection below this confidence yields to a declared language that disagrees
# Characters of a document fed to one shared detection: langdetect samples n-grams, more text adds little.
SAMPLE_CHARS = 1200

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
_PLAIN_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# langdetect's own character classes: 'A' <= ch <= 'z', and ch >= U+0300 outside Latin Extended Additional.
_ASCII_RANGE = re.compile(r"[A-z]")
_NON_LATIN = re.compile("[\u0300-\u1dff\u1f00-\U0010ffff]")
_SPACE_RUN = re.compile(" {2,}")
# A Vietnamese syllable without diacritics: how names appear in the portals' foreign editions.
_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$"
)
# TP.HCM, UBND, HCMC. Written without nested repetition: "(?:[A-Z]{1,5}\\.?)+" backtracks exponentially on a
# long capitals run that ends in a small letter (found by the fuzz target).
_ABBREVIATION = re.compile(r"^[A-ZĐ]+(?:\.[A-ZĐ]+)*\.?$")


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
    """Seed langdetect and load its profiles once, before its first call (it is random otherwise).

    The profiles are loaded under the lock: langdetect publishes its factory before filling it, so a
    second thread could otherwise read half-loaded profiles (and `_ngram_vector` would cache them).
    """
    global _SEEDED
    if _SEEDED:
        return
    with _LOCK:
        if not _SEEDED:
            from langdetect import DetectorFactory, detector_factory

            DetectorFactory.seed = 0
            detector_factory.init_factory()
            _SEEDED = True


@lru_cache(maxsize=20_000)
def _ngram_vector(word: str) -> Any:
    """langdetect's per-language probabilities of one n-gram as a numpy vector (cached: the same few
    thousand n-grams come back in every text of a language)."""
    import numpy as np
    from langdetect import detector_factory

    return np.array(detector_factory._factory.word_lang_prob_map[word], dtype=np.float64)


@lru_cache(maxsize=50_000)
def _word_ngrams(word: str, closed: bool) -> tuple[str, ...]:
    """The n-grams langdetect takes from one normalised word (`closed`: a space follows it).

    langdetect's NGram buffer restarts at every space, so a word's n-grams depend only on the word:
    the 1-3 character windows of " word " ending at each character, except inside an all-capitals run
    (from its second capital on) and except those that are not in the profiles.
    """
    from langdetect import detector_factory

    table = detector_factory._factory.word_lang_prob_map
    padded = " " + word + (" " if closed else "")
    out: list[str] = []
    capital = False
    for j in range(1, len(padded)):
        ch = padded[j]
        capital = (capital or padded[j - 1].isupper()) if ch.isupper() else False
        if capital:
            continue
        for n in (1, 2, 3) if j >= 2 else (1, 2):
            gram = padded[j - n + 1 : j + 1]
            if gram != " " and gram in table:
                out.append(gram)
    return tuple(out)


@lru_cache(maxsize=1)
def _fast_detector_class() -> type:
    """langdetect's Detector with its inner loop on numpy vectors: the same random draws and the same
    floating-point operations in the same order, so the same answers, about three times faster."""
    import numpy as np
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import ErrorCode, LangDetectException
    from langdetect.utils.ngram import NGram

    normalized = lru_cache(maxsize=4096)(NGram.normalize)

    class FastDetector(Detector):  # type: ignore[misc]  # langdetect has no type information
        text: str

        def __init__(self, factory: Any) -> None:
            # Detector's fields, but a Random seeded from an int: Random() reads the OS entropy pool on
            # every call, and the seed is set again before every detection anyway.
            self.word_lang_prob_map = factory.word_lang_prob_map
            self.langlist = factory.langlist
            self.seed = factory.seed
            self.random = random.Random(0)
            self.text = ""
            self.langprob: list[float] | None = None
            self.alpha = self.ALPHA_DEFAULT
            self.n_trial = 7
            self.max_text_length = 10000
            self.prior_map = None
            self.verbose = False

        def append(self, text: str) -> None:
            text = NGram.normalize_vi(self.MAIL_RE.sub(" ", self.URL_RE.sub(" ", text)))
            self.text += _SPACE_RUN.sub(" ", text[: self.max_text_length])  # langdetect's loop, as a regex

        def cleaning_text(self) -> None:
            # Mostly non-Latin text: drop its ASCII letters (langdetect's own rule, counted by regexes).
            current = self.text
            if len(_ASCII_RANGE.findall(current)) * 2 < len(_NON_LATIN.findall(current)):
                self.text = _ASCII_RANGE.sub("", current)

        def _extract_ngrams(self) -> list[str]:
            # The same n-grams as NGram.add_char gives, in the same order, computed per word (memoised).
            words = "".join(map(normalized, self.text)).split(" ")
            result: list[str] = []
            for word in words[:-1]:
                if word:
                    result.extend(_word_ngrams(word, True))
            if words[-1]:
                result.extend(_word_ngrams(words[-1], False))
            return result

        def _detect_block(self) -> None:
            self.cleaning_text()
            ngrams = self._extract_ngrams()
            if not ngrams:
                raise LangDetectException(ErrorCode.CantDetectError, "No features in text.")
            size = len(self.langlist)
            langprob = np.zeros(size)
            self.random.seed(self.seed)
            for _ in range(self.n_trial):
                prob = np.array([1.0 / size] * size) if self.prior_map is None else np.array(self.prior_map)
                alpha = self.alpha + self.random.gauss(0.0, 1.0) * self.ALPHA_WIDTH
                weight = alpha / self.BASE_FREQ
                i = 0
                while True:
                    prob *= weight + _ngram_vector(self.random.choice(ngrams))
                    if i % 5 == 0:
                        prob /= sum(prob.tolist())  # Python's left-to-right sum, exactly as langdetect sums
                        if prob.max() > self.CONV_THRESHOLD or i >= self.ITERATION_LIMIT:
                            break
                    i += 1
                langprob += prob / self.n_trial
            self.langprob = langprob.tolist()

    return FastDetector


def _langdetect(text: str) -> tuple[str, float] | None:
    _ensure_seeded()
    from langdetect import LangDetectException, detector_factory

    detector = _fast_detector_class()(detector_factory._factory)
    try:
        detector.append(text[:20_000])
        best = detector.get_probabilities()[0]
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


def _prejudge(text: str, start: int) -> ParagraphLanguage | None:
    """The verdict that needs no statistical detector (empty, script, too short, names), else None."""
    end = start + len(text)
    letters = len(_LETTER.findall(text))
    if letters == 0:
        return ParagraphLanguage(start, end, None, 0.0, 0, "empty")
    scripted = _by_script(text, letters)
    if scripted is not None and (scripted[0] != "vi" or not _name_only(text)):
        return ParagraphLanguage(start, end, scripted[0], round(scripted[1], 4), letters, "script")
    if letters < MIN_LETTERS or _name_only(text):
        return ParagraphLanguage(start, end, None, 0.0, letters, "too-short" if letters < MIN_LETTERS else "names")
    return None


def _detected(text: str, start: int, detector: Detector) -> ParagraphLanguage:
    letters = len(_LETTER.findall(text))
    found = _DETECT[detector](text)
    if found is None:
        return ParagraphLanguage(start, start + len(text), None, 0.0, letters, detector)
    return ParagraphLanguage(start, start + len(text), found[0], round(found[1], 4), letters, detector)


def judge_paragraph(text: str, start: int = 0, detector: Detector = "langdetect") -> ParagraphLanguage:
    """The language of one paragraph on its own, or code None when it cannot be told."""
    return _prejudge(text, start) or _detected(text, start, detector)


@lru_cache(maxsize=1)
def _function_words() -> dict[str, tuple[str, ...]]:
    """word -> the languages it is a frequent function word of (extractors/data/function_words.json)."""
    raw = json.loads(resources.files("extractors").joinpath("data/function_words.json").read_text(encoding="utf-8"))
    out: dict[str, list[str]] = {}
    for lang, words in raw.items():
        if lang.startswith("_"):
            continue
        for word in words:
            out.setdefault(word, []).append(lang)
    return {word: tuple(langs) for word, langs in out.items()}


def function_word_language(text: str) -> str | None:
    """The language whose function words clearly dominate `text`, else None.

    A word shared by k languages counts 1/k for each; the winner needs a score of 3 and twice the runner-up's.
    """
    table = _function_words()
    scores: dict[str, float] = {}
    for word in _PLAIN_WORD.findall(text.lower()):
        langs = table.get(word, ())
        for lang in langs:
            scores[lang] = scores.get(lang, 0.0) + 1 / len(langs)
    ranked = sorted(scores.items(), key=lambda item: -item[1])[:2]
    if not ranked or ranked[0][1] < 3 or (len(ranked) > 1 and ranked[0][1] < 2 * ranked[1][1]):
        return None
    return ranked[0][0]


def _judge_all(found: list[tuple[int, str]], detector: Detector) -> list[ParagraphLanguage]:
    """Every paragraph judged, with as few statistical detections as the paragraphs allow.

    The paragraphs that script, length or names cannot decide are detected together once (on at most
    `SAMPLE_CHARS` characters); a paragraph keeps that answer only when its function words clearly
    say the same language. Any other paragraph (another language, or too few function words to tell)
    is detected on its own, exactly as `judge_paragraph` would.
    """
    judged: list[ParagraphLanguage | None] = [_prejudge(text, start) for start, text in found]
    pending = [i for i, j in enumerate(judged) if j is None]
    shared: tuple[str, float] | None = None
    if len(pending) > 1:
        sample = "\n".join(found[i][1] for i in pending)[:SAMPLE_CHARS]
        shared = _DETECT[detector](sample)
    for i in pending:
        start, text = found[i]
        if shared is not None and function_word_language(text) == shared[0]:
            letters = len(_LETTER.findall(text))
            judged[i] = ParagraphLanguage(start, start + len(text), shared[0], round(shared[1], 4), letters, detector)
        else:
            judged[i] = _detected(text, start, detector)
    return [j for j in judged if j is not None]


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
    judged = _judge_all(list(paragraphs(text)), detector)
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
            return LanguageInfo(code=hint_code, confidence=0.3, detector="hint", segments=_segments(judged, hint_code))
        return LanguageInfo(code="und", confidence=0.0, detector=detector, segments=[])
    code, _ = max(letters.items(), key=lambda item: (item[1], item[0] == hint_code))
    share = letters[code] / sum(letters.values())
    confidence = round(weighted[code] / letters[code] * share, 4)
    how: str = "script" if methods[code] == {"script"} else detector
    if hint_code and hint_code != code and confidence < _WEAK:
        code, confidence, how = hint_code, 0.5, f"{detector}+hint"
    return LanguageInfo(code=code, confidence=confidence, detector=how, segments=_segments(judged, code))
