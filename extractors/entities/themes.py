"""Themes and slogans: quoted text introduced by a cue phrase ('với chủ đề “…”', 'con el tema: “…”')."""

from __future__ import annotations

import re
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import Mention, Theme

# Opening quote -> the closing quotes that may end it (typographic pairs, and the loose pairs MT produces).
QUOTES: dict[str, str] = {"“": '”“"', "«": "»", "„": "“”", '"': '"”', "‘": "’", "”": "”"}
_MAX_LEAD = 40  # characters between the cue and the opening quote ("chủ đề thi đua năm 2024 là “")
_MAX_LEN = 300
# Cues that name a movement or campaign ('phong trào thi đua yêu nước: “…”'): its name follows within a few words.
_UNQUOTED = re.compile(r"\s*:\s*([^\W\d_][^.;!?\n:“”«»\"]{2,80}?)\s*(?:[.;!?]\s|[.;!?]?\n|[.;!?]?$)")
_MOVEMENT_CUES = {"phong trao", "phong trao thi dua", "cuoc van dong"}
# Two to seven parts of one to four words, joined by dashes, ending the sentence.
_PART = r"[^\W\d_][^\s.;:!?,\-–—]*(?: [^\s.;:!?,\-–—]+){0,3}"
_DASHED = re.compile(r"\s+(" + _PART + r"(?:\s[-–—]\s" + _PART + r"){1,6})(?=\s*(?:[.;!?\n]|$))")
# Cues also written before a quoted phrase that is no slogan ('với tinh thần “thần tốc, táo bạo”', said with irony):
# their slogan begins with a capital, as slogans are written.
_CAPITAL_ONLY_CUES = {"voi tinh than", "tinh than"}
# ... or, without a full stop, a verb that begins the rest of the sentence ("chủ đề: Theo dấu chân Người giới thiệu").
_UNQUOTED_RUN = re.compile(r"\s*:\s*([^\W\d_][^.;!?\n:“”«»\"]{2,80}?)\s+(?=(?:{ends})(?!\w))")


def _short_wording(wording: str) -> bool:
    return wording[0].isupper() and len(wording.split()) <= 8 and not any(ch in QUOTES for ch in wording)


def _single_open(lead: str, i: int) -> bool:
    """A straight single quote opens a theme only after a space and before a letter (not "province's")."""
    return lead[i] == "'" and (i == 0 or lead[i - 1] in " :") and lead[i + 1 : i + 2].isalpha()


@lru_cache(maxsize=1)
def _unquoted_run() -> re.Pattern[str]:
    ends = sorted(lx.lexicon()["theme_ends"]["vi"], key=len, reverse=True)
    return re.compile(_UNQUOTED_RUN.pattern.replace("{ends}", "|".join(re.escape(e) for e in ends)))


@lru_cache(maxsize=8)
def _cue_pattern(lang: str) -> re.Pattern[str]:
    cues = lx.lexicon()["theme_cues"]
    words = sorted({fold(c) for c in cues.get(lang, []) + cues["vi"] + cues["en"]}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def find_themes(text: str, lang: str) -> list[Theme]:
    """Quoted themes after a cue phrase, in text order, one per distinct wording."""
    folded = fold(text)
    out: dict[str, Theme] = {}
    last_end = -1
    for cue in _cue_pattern(lang).finditer(folded):
        if cue.start() < last_end:
            continue
        lead = text[cue.end() : cue.end() + _MAX_LEAD]
        runs = [_UNQUOTED.match(text, cue.end())]
        if cue.group() not in _MOVEMENT_CUES:
            runs.append(_unquoted_run().match(text, cue.end()))
        bare = next((run for run in runs if run is not None and _short_wording(run.group(1))), None)
        dashed = _DASHED.match(text, cue.end()) if bare is None and cue.group() not in _MOVEMENT_CUES else None
        if dashed is not None and all(part.strip()[:1].isupper() for part in re.split(r"[-–—]", dashed.group(1))):
            # "với chủ đề Đoàn kết - Kỷ cương - Sáng tạo - Hiệu quả.": a slogan of capitalised parts joined by
            # dashes, without quotes or a colon, up to the sentence's end.
            _add(out, text, dashed.start(1), dashed.end(1), lang)
            last_end = dashed.end(1)
            continue
        if bare is not None:
            # "có chủ đề: Từ Làng Sen nhớ Bác." — a short wording after a colon, ended by the sentence or its verb.
            _add(out, text, bare.start(1), bare.end(1), lang)
            last_end = bare.end(1)
            continue
        pos = next((i for i, ch in enumerate(lead) if ch in QUOTES or _single_open(lead, i)), None)
        if pos is None or any(ch in ".;!?\n" for ch in lead[:pos]):
            continue
        if cue.group() in _MOVEMENT_CUES and len(lead[:pos].split()) > 4:
            continue  # "cuộc vận động không chỉ phát huy tinh thần “...”": a quoted phrase, not the movement's name
        open_at = cue.end() + pos
        if text[open_at] == "'":
            close_at = next(
                (
                    i
                    for i in range(open_at + 1, min(len(text), open_at + 1 + _MAX_LEN))
                    if text[i] == "'" and not text[i + 1 : i + 2].isalpha()
                ),
                None,
            )
        else:
            closers = QUOTES[text[open_at]]
            close_at = next(
                (i for i in range(open_at + 1, min(len(text), open_at + 1 + _MAX_LEN)) if text[i] in closers), None
            )
        if close_at is None:
            continue
        start, end = open_at + 1, close_at
        inner = text[start:end]
        stripped = inner.strip(" \t.,")
        if len(stripped) < 3 or "\n" in inner or (cue.group() in _CAPITAL_ONLY_CUES and not stripped[0].isupper()):
            continue
        start += inner.index(stripped)
        end = start + len(stripped)
        last_end = close_at
        _add(out, text, start, end, lang)
        # More quoted wordings joined to the first by a list word, each perhaps explained in brackets:
        # 'phương châm “5 biết” (...); “5 rõ” (...) và “3 không”'.
        nxt = _next_in_list(text, close_at + 1)
        while nxt is not None:
            s2, e2, close2 = nxt
            _add(out, text, s2, e2, lang)
            last_end = close2
            nxt = _next_in_list(text, close2 + 1)
    return list(out.values())


_LIST_GAP = re.compile(r"\s*(?:\([^()]{0,160}\))?\s*(?:[,;]\s*(?:và|and|y|et)?|\s(?:và|and|y|et))\s*")


def _next_in_list(text: str, pos: int) -> tuple[int, int, int] | None:
    """The next quoted wording of a list of themes (start, end, closing quote), or None."""
    gap = _LIST_GAP.match(text, pos)
    if gap is None or gap.end() >= len(text) or text[gap.end()] not in '“«„"':
        return None
    open_at = gap.end()
    closers = QUOTES[text[open_at]]
    close_at = next((i for i in range(open_at + 1, min(len(text), open_at + 1 + _MAX_LEN)) if text[i] in closers), None)
    if close_at is None or "\n" in text[open_at:close_at]:
        return None
    inner = text[open_at + 1 : close_at]
    stripped = inner.strip(" \t.,")
    if len(stripped) < 3:
        return None
    start = open_at + 1 + inner.index(stripped)
    return start, start + len(stripped), close_at


def _add(out: dict[str, Theme], text: str, start: int, end: int, lang: str) -> None:
    stripped = text[start:end]
    theme = out.setdefault(
        fold(stripped), Theme(text=stripped, text_en=stripped if lang == "en" else None, kind="slogan", mentions=[])
    )
    theme.mentions.append(Mention(text=stripped, start=start, end=end))
