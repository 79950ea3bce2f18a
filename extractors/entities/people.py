"""Officials: Vietnamese personal names next to a title (and the body they serve).

A Vietnamese name has a strong shape: a known family name and one to three capitalised syllables that
are valid Vietnamese syllables. A person counts as an official only when a title or a Party form of
address stands next to the name, so bylines, photo credits and citizens are left out.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import ascii_name, fold, slug
from schemas.models import Department, Mention, Official, OfficialBody, Organization

# A Vietnamese syllable, folded: onset, one to three vowels, coda.
_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.;!?:\n](?=\s|$)")
_MAX_LEFT = 110
# Between two titles of one person: the first title's body, then a list word ("..., ", " và ", " y ", " et ").
_JOINED = re.compile(r"(?:,|\s(?:và|kiêm|and|y|et|e))\s*$")
_NOT_PERSONS = {"ho chi minh"}  # the President, named in every emulation text: not a serving official


@lru_cache(maxsize=1)
def _name_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    data = lx.names()
    surnames = data["surnames"]
    return (frozenset(fold(s) for s in surnames), frozenset(surnames),
            frozenset(data["not_given_names"]))  # fmt: skip


@lru_cache(maxsize=1)
def _word_given_names() -> frozenset[str]:
    return frozenset(lx.names().get("given_names_also_words", []))


@lru_cache(maxsize=1)
def _weak_surnames() -> frozenset[str]:
    return frozenset(fold(s) for s in lx.names().get("weak_surnames", []))


@lru_cache(maxsize=1)
def _address_before() -> re.Pattern[str]:
    cues = {fold(c) for row in lx.lexicon()["address_cues"].values() for c in row}
    return re.compile(r"(?:" + "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)) + r")\s+$")


def _is_surname(word: str) -> bool:
    """'Nguyễn', 'Nguyen': yes; 'Vụ' (a ministry unit) is not 'Vũ': diacritics, when written, must agree."""
    folded_set, exact, _ = _name_sets()
    if word != ascii_name(word):
        return word in exact
    return fold(word) in folded_set


@lru_cache(maxsize=8)
def _title_pattern(lang: str) -> re.Pattern[str]:
    titles = lx.lexicon()["titles"]
    words = sorted({fold(t) for t in titles.get(lang, []) + titles["vi"]}, key=len, reverse=True)
    # Machine-translated editions glue the article to the title ("Elvicepresidente", "Levice-président").
    return re.compile(r"(?<!\w)(?:el|la|le|the)?(" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def title_head(title: str, lang: str) -> str:
    """The post a title names, without the body written after it ('Chánh Thanh tra tỉnh' -> 'Chánh Thanh tra')."""
    m = _title_pattern(lang).match(fold(title).strip())
    return title.strip()[m.start(1) : m.end(1)] if m and m.start(1) == 0 else title


@lru_cache(maxsize=8)
def _title_link(lang: str) -> re.Pattern[str]:
    links = lx.lexicon()["title_links"]
    words = sorted({fold(t) for t in links.get(lang, []) + links["vi"]}, key=len, reverse=True)
    alt = "|".join(re.escape(w) + ("" if w.endswith("'") else r"\s+") for w in words)
    return re.compile(r"(?:,\s*(?:" + alt + r")?|\s+[-–—]\s+|\s+(?:" + alt + r"))")


@lru_cache(maxsize=8)
def _address_pattern(lang: str) -> re.Pattern[str]:
    cues = lx.lexicon()["address_cues"]
    words = sorted({fold(c) for c in cues.get(lang, []) + cues["vi"]}, key=len, reverse=True)
    return re.compile(r"(?:" + "|".join(re.escape(w) for w in words) + r")\s*$")


def _starts_name(text: str, s: int, w: str) -> bool:
    if _is_surname(w):
        return True
    # A weak family name ("Thái", also a place word) only right after "đồng chí" / "comrade".
    return fold(w) in _weak_surnames() and bool(_address_before().search(fold(text[max(0, s - 12) : s])))


def find_names(text: str, blocked: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of Vietnamese personal names (family name + 1-3 syllables), outside already-known entities."""
    _, _, stop = _name_sets()
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        s, e = words[i]
        w = text[s:e]
        if w[0].isupper() and _starts_name(text, s, w) and not _inside(s, e, blocked):
            j, end = i + 1, e
            while j < len(words) and j - i <= 3:
                ns, ne = words[j]
                nw = text[ns:ne]
                if text[end:ns] != " " or not nw[0].isupper() or _inside(ns, ne, blocked):
                    break
                if not _SYLLABLE.match(fold(nw)) or (len(nw) > 1 and nw.isupper()):
                    break
                if nw in stop and not _ends_name(text, words, j, i):
                    break
                end = ne
                j += 1
            if j - i >= 4 and fold(text[words[j - 2][0] : end]) == "viet nam":
                j -= 2  # "... Việt Nam" ends a body's name, not a person's
                end = words[j - 1][1]
            if j - i >= 2:
                out.append((s, end))
                i = j
                continue
        i += 1
    return out


def _ends_name(text: str, words: list[tuple[int, int]], j: int, i: int) -> bool:
    """'Anh' in 'Mai Thị Lan Anh': a given name that is also a common word ends a name of 3+ syllables
    when no capitalised word follows it (so 'Anh' never opens or runs on into a name of its own)."""
    ns, ne = words[j]
    if text[ns:ne] not in _word_given_names() or j - i < 2:
        return False
    if j + 1 < len(words):
        after_s = words[j + 1][0]
        if text[ne:after_s] == " " and text[after_s].isupper():
            return False
    return True


def _inside(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and e > a for a, b in spans)


def _clean_body(gap: str) -> str:
    body = gap.strip(" ,-–—:()")
    body = re.sub(r"^(?:of the|of|del|de la|de los|de|du|de l'|des|la|el|the|le|les)\s+", "", body, flags=re.I)
    return body.strip(" ,-–—:()")


def find_officials(
    text: str,
    lang: str,
    departments: list[Department],
    organizations: list[Organization],
    province_mentions: list[Mention],
) -> list[Official]:
    """People with a title, linked to the department or body named between the title and the name."""
    folded = fold(text)
    bodies: list[tuple[int, int, str]] = [(m.start, m.end, d.id) for d in departments for m in d.mentions]
    bodies += [(m.start, m.end, o.id) for o in organizations for m in o.mentions]
    blocked = [(a, b) for a, b, _ in bodies] + [(m.start, m.end) for m in province_mentions]
    titles = _title_pattern(lang)
    address = _address_pattern(lang)
    found: dict[str, Official] = {}
    names = find_names(text, blocked)
    for index, (start, end) in enumerate(names):
        name = text[start:end]
        if fold(name) in _NOT_PERSONS:
            continue
        left_from = max(0, start - _MAX_LEFT)
        breaks = list(_SENTENCE_BREAK.finditer(text, left_from, start))
        if breaks:
            left_from = breaks[-1].end()
        if index and names[index - 1][1] > left_from:
            left_from = names[index - 1][1]  # a title before another person's name is that person's
        title_hits = list(titles.finditer(folded, left_from, start))
        title: str | None = None
        more: list[str] = []  # further titles of the same person ("vicesecretaria del ... y presidenta del ...")
        body: OfficialBody | None = None
        if title_hits:
            hit = title_hits[-1]
            # The nearest title of the chain: "Phó Chủ tịch UBND tỉnh" -> the whole run of titles before the body.
            first = hit
            rest = title_hits[:-1]
            while rest:
                between = text[rest[-1].end() : first.start(1)].strip(" ,")
                if between not in {"", "kiêm", "và", "and", "y", "et"}:
                    break
                first = rest.pop()
            title = text[first.start(1) : hit.end()]
            # Earlier titles joined by a list word after their own body: "Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh X".
            chain_start = first.start(1)
            for prev in reversed(rest):
                if not _JOINED.search(text[prev.end() : chain_start]):
                    break
                more.insert(0, text[prev.start(1) : prev.end()])
                chain_start = prev.start(1)
            gap_start, gap_end = hit.end(), start
            body_text = _clean_body(text[gap_start:gap_end])
            if body_text:
                linked = [bid for a, b, bid in bodies if a >= gap_start and b <= gap_end]
                body = OfficialBody(name=body_text, id=linked[0] if linked else None)
        else:
            pos = end
            for _ in range(3):  # "X, Phó Giám đốc Sở ..., được bổ nhiệm giữ chức Giám đốc Sở ..."
                link = _title_link(lang).match(folded, pos)
                right = titles.match(folded, link.end()) if link else None
                if right is None:
                    break
                tail = re.split(r"[,.;:()\n]", text[right.end() : right.end() + 90])[0]
                if title is None:
                    title = text[right.start(1) : right.end()]
                    body_text = _clean_body(tail)
                    if body_text:
                        linked = [bid for a, b, bid in bodies if a >= right.end() and b <= right.end() + len(tail)]
                        body = OfficialBody(name=body_text, id=linked[0] if linked else None)
                elif lang != "vi" or text[right.start(1)].isupper():
                    # A Vietnamese post is capitalised; "làm trưởng đoàn" (led the visit) is a role, not a title.
                    more.append(text[right.start(1) : right.end()])
                pos = right.end() + len(tail)
            if title is None and not address.search(folded, max(0, start - 12), start):
                continue
        oid = f"vn-person:{slug(name)}"
        off = found.get(oid)
        if off is None:
            off = found[oid] = Official(
                id=oid, name=name, name_ascii=ascii_name(name), titles=[], organization=body, mentions=[]
            )
        elif name != ascii_name(name) and off.name == off.name_ascii:
            off.name = name  # keep the form with diacritics
        ordered = [*more, title] if title_hits else [title, *more]  # as written, left to right
        for each in ordered:
            if each and each not in off.titles:
                off.titles.append(each)
        if off.organization is None and body is not None:
            off.organization = body
        off.mentions.append(Mention(text=name, start=start, end=end))
    return list(found.values())
