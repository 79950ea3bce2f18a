"""Officials: Vietnamese personal names next to a title (and the body they serve).

A Vietnamese name has a strong shape: a known family name and one to three capitalised syllables that
are valid Vietnamese syllables. A person counts as an official only when a title or a Party form of
address stands next to the name, so bylines, photo credits and citizens are left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from extractors.entities import lexicon as lx
from extractors.text import ascii_name, fold, slug
from schemas.models import Department, Mention, Official, OfficialBody, Organization

# A Vietnamese syllable, folded: onset, one to three vowels, coda.
_SYLLABLE = re.compile(r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?$")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SENTENCE_BREAK = re.compile(r"[.;!?:](?=\s|$)|\n")  # a line break always ends a sentence (a headline, then the lead)
_MAX_LEFT = 110
# Between two titles of one person: the first title's body, then a list word ("..., ", " và ", " y ", " et ").
_JOINED = re.compile(r"(?:,|\s(?:và|kiêm|and|y|et|e))\s*$")
_NOT_PERSONS = {"ho chi minh"}  # the President, named in every emulation text: not a serving official


@lru_cache(maxsize=1)
def _name_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    data = lx.names()
    surnames = data["surnames"]
    marked_only = data.get("surnames_marked_only", [])  # never from their unaccented, place-like form
    return (
        frozenset(fold(s) for s in surnames),
        frozenset(surnames) | frozenset(marked_only),
        frozenset(data["not_given_names"]),
    )


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
    # "GĐ" (giám đốc) folds to the "GD" of "GD&ĐT" (giáo dục và đào tạo): not before "ĐT".
    alts = [re.escape(w) + (r"(?![-&\s]{0,3}(?:va\s+)?dt(?!\w))" if w in {"gd", "pgd"} else "") for w in words]
    # Machine-translated editions glue the article to the title ("Elvicepresidente", "Levice-président").
    # ... or write it before the title ("Mr. A, the Director of ...").
    return re.compile(r"(?<!\w)(?:(?:el|la|le|the)\s?)?(" + "|".join(alts) + r")(?!\w)")


# A former post: "nguyên Giám đốc", "cựu Chủ tịch", "former Director", "ex ministro", "ancien directeur".
_FORMER = re.compile(r"(?:nguyen|cuu|former|ex-?|antiguo|antigua|ancien|ancienne)\s+$")
_FORMER_START = re.compile(r"^(?:nguyen|cuu|former|ex-?|antiguo|antigua|ancien|ancienne)\s+")


def title_head(title: str, lang: str) -> str:
    """The post a title names, without the body written after it ('Chánh Thanh tra tỉnh' -> 'Chánh Thanh tra');
    a former post keeps its marker ('nguyên Giám đốc Sở Y tế' -> 'nguyên Giám đốc')."""
    title = title.strip()
    former = _FORMER_START.match(fold(title))
    if former:
        return title[: former.end()] + title_head(title[former.end() :], lang)
    m = _title_pattern(lang).match(fold(title))
    head = title[m.start(1) : m.end(1)] if m and m.start(1) == 0 else title
    return _abbreviations().get(fold(head), head)  # "GĐ" -> "Giám đốc": one post however it is written


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, str]:
    rows = lx.lexicon()["title_abbreviations"]
    return {fold(short): full for lang, row in rows.items() if lang != "_about" for short, full in row.items()}


def _former_start(folded: str, start: int) -> int:
    """Where a title begins when a former marker stands right before it ('nguyên Giám đốc')."""
    m = _FORMER.search(folded, max(0, start - 10), start)
    return m.start() if m else start


@lru_cache(maxsize=8)
def _title_link(lang: str) -> re.Pattern[str]:
    links = lx.lexicon()["title_links"]
    words = sorted({fold(t) for t in links.get(lang, []) + links["vi"]}, key=len, reverse=True)
    alt = "|".join(re.escape(w) + ("" if w.endswith("'") else r":?\s+") for w in words)
    # Who appoints may stand inside a Vietnamese link (the Vietnamese links serve every language): "được UBND tỉnh
    # bổ nhiệm giữ chức", "được Chủ tịch UBND tỉnh điều động, bổ nhiệm làm".
    alt += (
        r"|duoc\s+(?:[^\s,.;:]+\s+){0,6}?(?:dieu dong(?:,| va)?\s+)?(?:bo nhiem|bau|dieu dong|phan cong|chi dinh)"
        r"(?:\s+lai)?\s+(?:giu chuc vu|giu chuc|lam|chuc danh|vao chuc)\s+"
    )
    # ", X", " - X", " (X": a link mark, then perhaps a link word; or a link word alone. A birth date may stand
    # between ("ông A, sinh ngày 3/6/1961 giữ chức vụ Giám đốc ...").
    born = r"(?:,?\s*sinh (?:ngay|nam) [\d/.-]+,?)?"
    # Asides on the person, not posts, between the name and its first post: an age, a birth year, a home
    # province, party membership ("ông A (52 tuổi), Phó Giám đốc ...", "ông A, đảng viên, Phó Giám đốc ...").
    fill = r"(?:\d{1,3} tuoi|sinh (?:ngay|nam) [\d/.-]+|sn:? ?\d{4}|dang vien|que(?: o)? [^,;()\n]{2,30}?)"
    # ... and, in a photo's caption, where the person stands ("ông A (phải)", "(thứ hai từ trái)", "(đứng giữa)").
    side = r"(?:trai|phai)"
    place = (
        r"(?:(?:dung |ngoi )?(?:giua|"
        + side
        + r")|(?:dung |ngoi )?thu \w+ tu "
        + side
        + r"(?: sang)?|bia "
        + side
        + r"|ngoai cung(?: ben)? "
        + side
        + r"|(?:dung |ngoi )?ben "
        + side
        + r"|hang dau|hang truoc)"
    )
    fill = r"(?:" + fill + r"|" + place + r")"
    person = r"(?:\s*\(" + fill + r"\)|,\s*" + fill + r"(?=\s*[,;(]|\s+[-–—]\s)){0,2}"
    # Adverbs before a link word: "tiếp tục giữ chức", "đã được bổ nhiệm làm", "chỉ giữ chức", "vừa được bầu".
    adverb = r"(?:(?:da|van|se|chi|tiep tuc|hien|cung|vua|nay|hien nay|tung|sau do|truoc do|khi do|luc do)\s+){0,2}"
    # So may a short aside in brackets ("bà A (chị ruột ông B) từng giữ chức ..."), when a link word follows it.
    aside = r"(?:\s*\([^()\n]{1,40}\)(?=\s+(?:" + alt + r")))?"
    # A post's term in brackets, then the next post after a comma or a semicolon: "nguyên Phó Bí thư Tỉnh ủy
    # (nhiệm kỳ 2010-2015); nguyên Chủ tịch UBND tỉnh (nhiệm kỳ 2011-2016)".
    term = r"(?:\s*\((?:nhiem ky|khoa|giai doan|term|mandato|mandat)\b[^()\n]{0,30}\))?"
    return re.compile(
        person
        + born
        + aside
        + term
        + r"(?:(?:,\s*|;\s*|\s+[-–—]\s+|\s*\(\s*)(?:"
        + adverb
        + r"(?:"
        + alt
        + r"))?|\s+(?:va\s+)?"
        + adverb
        + r"(?:"
        + alt
        + r"))"
    )


@lru_cache(maxsize=8)
def _address_pattern(lang: str) -> re.Pattern[str]:
    cues = lx.lexicon()["address_cues"]
    words = sorted({fold(c) for c in cues.get(lang, []) + cues["vi"]}, key=len, reverse=True)
    return re.compile(r"(?:" + "|".join(re.escape(w) for w in words) + r")\s*$")


_MIDDLE_ONLY = {"Văn", "Thị"}
_HONORIFIC = re.compile(r"(?<!\w)(?:ong|ba|dong chi)\s$")


def _starts_name(text: str, s: int, w: str) -> bool:
    if _is_surname(w):
        return True
    before = fold(text[max(0, s - 12) : s])
    # A weak family name ("Thái", also a place word) only right after "đồng chí" / "comrade".
    # "Chử" is not the weak "Chu": diacritics, when written, must agree.
    if fold(w) in _weak_surnames() and (w == ascii_name(w) or w in set(lx.names().get("weak_surnames", []))):
        # ... or when a post follows the name after a dash, as in a list of guests ("Thái Thanh Quý - Ủy viên ...").
        return bool(_address_before().search(before) or _HONORIFIC.search(before) or _dash_post_after(text, s))
    # Any other valid syllable right after "ông", "bà", "đồng chí" ("ông Chử Xuân Dũng", "Ông Vưu Nghị Bình"):
    # no family-name list is complete. A title must still stand next to the name for an official.
    _, _, stop = _name_sets()
    return bool(_HONORIFIC.search(before)) and _SYLLABLE.match(fold(w)) is not None and w not in stop


_NAME_THEN_DASH = re.compile(r"[^\W\d_]+(?: [^\W\d_]+){1,3} [-–—] ")


def _dash_post_after(text: str, s: int) -> bool:
    """Whether two to four words from `s` are followed by a dash and a post ('Thái Thanh Quý - Ủy viên ...')."""
    m = _NAME_THEN_DASH.match(text, s, s + 60)
    if m is None or not all(w[:1].isupper() for w in text[s : m.end()].split()[:-1]):
        return False
    return _title_pattern("vi").match(fold(text[m.end() : m.end() + 60])) is not None


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
                if nw in stop and not _ends_name(text, words, j, i) and not _inner_given_name(text, words, j, i):
                    break
                if j - i >= 2 and nw in _frequent_surnames() and _capital_follows(text, words, j):
                    break  # "Từ Liêm Nguyễn Văn Hải": a new name begins ("Mai Văn Huỳnh (" ends one)
                end = ne
                j += 1
            while j - i > 2 and text[words[j - 1][0] : words[j - 1][1]] in _MIDDLE_ONLY:
                j -= 1  # "TP.Phan Thiết Văn bản": "Văn", "Thị" stand inside a name, never at its end
                end = words[j - 1][1]
            if j - i >= 4 and fold(text[words[j - 2][0] : end]) == "viet nam":
                j -= 2  # "... Việt Nam" ends a body's name, not a person's
                end = words[j - 1][1]
            if j - i >= 2:
                out.append((s, end))
                i = j
                continue
        i += 1
    return out


# After a name: a title link (" - ", ", ", " (") or the end of a clause.
_AFTER_NAME = re.compile(r"(?:\s*[,(]|\s+[-–—]\s|\s*[.;:)]|\s*$)")


def _inner_given_name(text: str, words: list[tuple[int, int]], j: int, i: int) -> bool:
    """'Anh' in 'Đào Anh Dũng', 'Chánh' in 'Võ Văn Chánh': a given name that is also a common or title word,
    inside a name (a capitalised name syllable follows that is no such word) or ending one that a title link
    follows ('Trần Anh - Phó Giám đốc')."""
    ns, ne = words[j]
    if text[ns:ne] not in _given_name_words() or j - i > 2:
        return False  # after three syllables ("Nguyễn Văn Hải Anh Quốc") the word is not the name's
    if _title_pattern("vi").match(fold(text[ns : ns + 40])):
        return False  # "Nguyễn Văn A Chánh Văn phòng": the title after the name
    _, _, stop = _name_sets()
    if j + 1 < len(words):
        after_s, after_e = words[j + 1]
        nxt = text[after_s:after_e]
        if text[ne:after_s] == " " and nxt[0].isupper() and nxt not in stop and _SYLLABLE.match(fold(nxt)):
            return True
    return bool(_AFTER_NAME.match(text, ne))


def _capital_follows(text: str, words: list[tuple[int, int]], j: int) -> bool:
    if j + 1 >= len(words):
        return False
    ne, (after_s, _) = words[j][1], words[j + 1]
    return text[ne:after_s] == " " and text[after_s].isupper()


@lru_cache(maxsize=1)
def _frequent_surnames() -> frozenset[str]:
    return frozenset(lx.names()["frequent_surnames"]["forms"])


@lru_cache(maxsize=1)
def _given_name_words() -> frozenset[str]:
    return frozenset(lx.names().get("given_names_also_words", []) + lx.names().get("given_names_also_titles", []))


def _ends_name(text: str, words: list[tuple[int, int]], j: int, i: int) -> bool:
    """'Anh' in 'Mai Thị Lan Anh': a given name that is also a common word ends a name of 3+ syllables
    when no capitalised word follows it (so 'Anh' never opens or runs on into a name of its own)."""
    ns, ne = words[j]
    if text[ns:ne] not in _given_name_words() or j - i < 2:
        return False
    if _title_pattern("vi").match(fold(text[ns : ns + 40])):
        return False  # "Trần Văn Bình Chánh văn phòng": the title after the name
    if j + 1 < len(words):
        after_s = words[j + 1][0]
        if text[ne:after_s] == " " and text[after_s].isupper():
            return False
    return True


def _inside(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and e > a for a, b in spans)


@lru_cache(maxsize=1)
def _body_end() -> re.Pattern[str]:
    rows = lx.lexicon()["body_ends"]
    words = sorted({w for lang, row in rows.items() if lang != "_about" for w in row}, key=len, reverse=True)
    return re.compile(r"[\s,–—-]+(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")


def _clean_body(gap: str) -> str:
    end = _body_end().search(gap)
    if end is not None and end.start() > 0:
        gap = gap[: end.start()]  # "Sở Y tế tỉnh X cho biết", "Sở Y tế X, ông": the body ends before
    body = gap.strip(" ,-–—:()")
    body = re.sub(r"^(?:of the|of|del|de la|de los|de|du|de l'|des|la|el|the|le|les)\s+", "", body, flags=re.I)
    return body.strip(" ,-–—:()")


@lru_cache(maxsize=4)
def _by_kind(table: str) -> dict[str, str]:
    """A lexicon table of kind -> language -> forms, as folded form -> kind."""
    rows = lx.lexicon()[table]
    return {fold(f): kind for kind, row in rows.items() if kind != "_about" for forms in row.values() for f in forms}


def _title_kinds() -> dict[str, str]:
    """Folded title -> the kind of body it heads: 'department', 'ministry' or a department sector."""
    return _by_kind("title_bodies")


def _reference_words() -> dict[str, str]:
    """Folded words naming a body by its kind alone ('Sở', 'Department') -> that kind."""
    return _by_kind("body_references")


@lru_cache(maxsize=1)
def _appointment_pattern() -> re.Pattern[str]:
    rows = lx.lexicon()["appointment_cues"]
    cues = sorted({fold(c) for lang, row in rows.items() if lang != "_about" for c in row}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(c) for c in cues) + r")(?!\w)")


@lru_cache(maxsize=1)
def _sector_names() -> tuple[tuple[str, str, str], ...]:
    """(kind, sector, folded name) of every department's and ministry's name in every language."""
    out: list[tuple[str, str, str]] = []
    for sector, row in lx.departments().items():
        out += [("department", sector, fold(f)) for lang in lx.LANGUAGES for f in row.get(lang, [])]
        ministry = row.get("ministry") or {}
        out += [("ministry", sector, fold(f)) for lang in lx.LANGUAGES for f in ministry.get(lang, [])]
    return tuple(out)


def _sector_named(written: str, kind: str) -> str | None:
    """The sector a body's name ends with ('de Recursos Naturales y Medio Ambiente' -> that ministry's sector)."""
    tail = fold(written).strip()
    if len(tail) < 5 or tail in _reference_words():  # "tỉnh", "department": not a sector's name
        return None
    for each_kind, sector, name in _sector_names():
        if each_kind == kind and (name == tail or name.endswith(" " + tail)):
            return sector
    return None


def _referenced_kind(written: str) -> str | None:
    """'Department said that ...', 'Sở', 'Departamento': the kind of a body named by its kind alone."""
    words = written.split()
    if not words:
        return None
    kind = _reference_words().get(fold(words[0]))
    # "Sở Khoa học" names a department of its own; only a word in lower case may follow the bare kind.
    return kind if kind and (len(words) == 1 or not words[1][:1].isupper()) else None


@dataclass
class _Bodies:
    """The departments and organisations an article names, which its officials are linked to."""

    departments: list[Department]
    organizations: list[Organization]
    main_province: str | None

    def spans(self) -> list[tuple[int, int, str]]:
        out = [(m.start, m.end, d.id) for d in self.departments for m in d.mentions]
        return out + [(m.start, m.end, o.id) for o in self.organizations for m in o.mentions]

    def candidates(self, kind: str) -> list[tuple[int, str, str]]:
        if kind == "ministry":
            return [(m.start, o.id, m.text) for o in self.organizations if o.kind == "ministry" for m in o.mentions]
        return [
            (m.start, d.id, m.text) for d in self.departments if kind in {"department", d.sector} for m in d.mentions
        ]

    def nearest(self, kind: str, pos: int) -> OfficialBody | None:
        """The body of a kind named last before `pos`, else the first one the article names."""
        cands = self.candidates(kind)
        before = [c for c in cands if c[0] < pos]
        if before:
            # max() keeps the first of a tie ("the Departments of Transport of X and Y"): the first listed.
            best = max(before, key=lambda c: c[0])
        elif cands:
            best = min(cands, key=lambda c: c[0])
        elif kind not in {"department", "ministry"} and self.main_province:
            # A head named by title alone ("Chánh Thanh tra") serves the province the article is about.
            row = lx.departments()[kind]
            return OfficialBody(name=row["name_en"], id=f"vn-department:{kind}:{self.main_province}")
        else:
            return None
        return OfficialBody(name=best[2], id=best[1])


def _resolve_body(head: str, body: OfficialBody | None, pos: int, bodies: _Bodies) -> OfficialBody | None:
    """The body of a title that names none, or names it by its kind alone ('Son directeur', 'Phó Giám đốc Sở')."""
    kind = _title_kinds().get(fold(head))
    if body is not None and body.name:
        sector = _sector_named(body.name, "ministry" if kind == "ministry" else "department")
        if sector is not None and kind == "ministry":
            return OfficialBody(name=body.name, id=f"vn-ministry:{sector}")
        if sector is not None:
            return bodies.nearest(sector, pos)
        referenced = _referenced_kind(body.name)
        found = bodies.nearest(referenced, pos) if referenced else None
        return OfficialBody(name=body.name.split()[0], id=found.id) if found else None
    return bodies.nearest(kind, pos) if kind else None


def _linked_body(
    text: str, written: str, title: re.Match[str], end: int, spans: list[tuple[int, int, str]]
) -> OfficialBody:
    """The body written after a title, up to `end`; named by the body's own mention when it begins inside the title.

    A body's name may begin inside the title: "Trưởng [ban Dân tộc]", "[Minister of Home Affairs]".
    """
    after = title.end()
    linked = [(a, b, bid) for a, b, bid in spans if a >= title.start(1) and after < b <= end]
    if not linked:
        return OfficialBody(name=written, id=None)
    # A body written whole after the title comes first: "Trưởng ban Dân tộc HĐND tỉnh" heads the Council's board.
    a, b, bid = min(linked, key=lambda span: span[0] < after)
    return OfficialBody(name=text[a:b] if a < after else written, id=bid)


_OF_AFTER_NAME = re.compile(r"\s*,?\s*(?:of the|of|del|de la|de los|du|des|de|của)\s+", re.I)


def _body_after_name(text: str, end: int, spans: list[tuple[int, int, str]]) -> OfficialBody | None:
    """A body named right after the name, joined by 'of' ('Director Tran Van A of the Department of ...')."""
    m = _OF_AFTER_NAME.match(text, end)
    if m is None:
        return None
    for a, b, bid in spans:
        if a == m.end():
            return OfficialBody(name=text[a:b], id=bid)
    return None


@dataclass
class _Read:
    """What the text around one name says: its title, further titles, the body, and the title word it hangs on."""

    title: str | None = None
    more: list[str] = field(default_factory=list)
    body: OfficialBody | None = None
    head: str = ""
    left: bool = False
    end: int = 0  # where what was read ends (after a title written after the name)
    after: list[str] = field(default_factory=list)  # titles after the name when `title` stands before it


def _read_left(text: str, hits: list[re.Match[str]], start: int, spans: list[tuple[int, int, str]]) -> _Read:
    """A title (or a chain of titles) before the name, and the body written between it and the name."""
    hit = hits[-1]
    # The nearest title of the chain: "Phó Chủ tịch UBND tỉnh" -> the whole run of titles before the body.
    first = hit
    rest = hits[:-1]
    while rest:
        between = text[rest[-1].end() : first.start(1)].strip(" ,")
        if between not in {"", "kiêm", "và", "and", "y", "et"}:
            break
        first = rest.pop()
    folded = fold(text)
    read = _Read(
        title=text[_former_start(folded, first.start(1)) : hit.end()], head=text[hit.start(1) : hit.end()], left=True
    )
    # Earlier titles joined by a list word after their own body: "Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh X".
    chain_start = first.start(1)
    for prev in reversed(rest):
        if not _JOINED.search(text[prev.end() : chain_start]):
            break
        read.more.insert(0, text[prev.start(1) : prev.end()])
        chain_start = prev.start(1)
    body_text = _clean_body(text[hit.end() : start])
    if body_text:
        read.body = _linked_body(text, body_text, hit, start, spans)
    return read


def _read_right(
    text: str,
    folded: str,
    lang: str,
    end: int,
    spans: list[tuple[int, int, str]],
    name_starts: frozenset[int] = frozenset(),
    guard_first: bool = False,
    bare: bool = False,
) -> _Read:
    """Titles after the name: 'X, Phó Giám đốc Sở ..., được bổ nhiệm giữ chức Giám đốc Sở ...'.

    With `guard_first`, even the first title is left alone when another name follows it ("Phó Chủ tịch A, Giám đốc
    Sở Y tế B": a list of titled names, not A's second post). With `bare`, the first post may follow the name after a
    space alone, as it does after a verb of appointing ("a nommé M. A directeur adjoint", "appointed Mr. A Director").
    """
    titles = _title_pattern(lang)
    read = _Read()
    pos = end
    for _ in range(3):
        link = _title_link(lang).match(folded, pos)
        if link is None and bare and read.title is None:
            link = _SPACE.match(folded, pos)
        at = link.end() if link else pos
        former = _FORMER_START.match(folded[at : at + 12]) if link else None
        right = titles.match(folded, at + (former.end() if former else 0)) if link else None
        if right is None:
            break
        tail = whole = re.split(r"[,.;:()\n]", text[right.end() : right.end() + 90])[0]
        # "Chủ tịch UBND tỉnh X và hiện nay là Bí thư Tỉnh ủy X", "… tỉnh giữ chức Chủ tịch …": a link word and a
        # post end this post, as a dash does below.
        # (The tail holds no comma, semicolon or bracket: its links are words, or a dash.)
        for linked in _title_link(lang).finditer(folded, right.end(), right.end() + len(tail)):
            former_next = _FORMER_START.match(folded[linked.end() : linked.end() + 12])
            if (
                titles.match(folded, linked.end() + (former_next.end() if former_next else 0))
                # ... only within the post's own words: not "Bí thư Tỉnh ủy X - đã ký quyết định bổ nhiệm em trai
                # mình làm Giám đốc …" (someone else's post, after a dash and a clause of its own).
                and not re.search(r"\s[-–—]\s", folded[right.end() : linked.start()])
                and len(folded[right.end() : linked.start()].split()) <= 14
            ):
                tail = whole = tail[: linked.start() - right.end()]
                break
        for dash in re.finditer(r"\s[-–—]\s", tail):
            # "Thanh tra viên cao cấp - Cục trưởng Cục … - Trưởng đoàn": a dash before the next post ends this one
            # (not the one inside a name: "tỉnh Bà Rịa - Vũng Tàu").
            after_dash = right.end() + dash.end()
            former_next = _FORMER_START.match(folded[after_dash : after_dash + 12])
            if titles.match(folded, after_dash + (former_next.end() if former_next else 0)):
                tail = tail[: dash.start()]
                break
        reach = right.end() + len(tail)
        if guard_first and read.title is None:
            # Only a post of the person's own: capitalised in Vietnamese ("làm trưởng đoàn" is a role), not a
            # cluster's role ("jefa del Clúster"), and no other name after it up to the clause's end ("… Lê
            # Thanh Hải, nguyên Chủ tịch UBND TP.HCM Võ Viết Thanh").
            if (lang == "vi" and not text[right.start(1)].isupper()) or _names_cluster(folded, right.end()):
                break
            reach = right.end() + len(re.split(r"[,;:()\n]", text[right.end() : right.end() + 90])[0])
        if (read.title is not None or guard_first) and any(right.start(1) <= n <= reach for n in name_starts):
            break  # "A - Chủ tịch UBND thị xã, Phó Chủ tịch B": the next title is B's
        begin = _former_start(folded, right.start(1))
        if read.title is None:
            read.title = text[begin : right.end()]
            read.head = text[right.start(1) : right.end()]
            # The body is read from the whole clause, dash chain included, as before the chain was split: its first
            # post may name none ("Thanh tra viên cao cấp - Cục trưởng Cục Chống tham nhũng").
            body_text = _clean_body(whole)
            if body_text:
                read.body = _linked_body(text, body_text, right, right.end() + len(whole), spans)
        elif lang != "vi" or text[right.start(1)].isupper():
            # A Vietnamese post is capitalised; "làm trưởng đoàn" (led the visit) is a role, not a title.
            read.more.append(text[begin : right.end()])
        pos = right.end() + len(tail)
        read.end = pos
    return read


@lru_cache(maxsize=1)
def _cluster_noun_after() -> re.Pattern[str]:
    nouns = lx.load("clusters")["cluster_nouns"]
    words = sorted({fold(w) for code in lx.LANGUAGES for w in nouns.get(code, [])}, key=len, reverse=True)
    return re.compile(r"\W*(?:\w+\W+){0,2}?(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def _names_cluster(folded: str, pos: int) -> bool:
    """Whether an emulation cluster's noun follows a title word within a few words ('jefa del Clúster')."""
    return bool(_cluster_noun_after().match(folded, pos, pos + 40))


@lru_cache(maxsize=2)
def _unit_before(group: str) -> re.Pattern[str]:
    forms = sorted(lx.names()["place_units"][group], key=len, reverse=True)
    # The unit, then at most one capitalised word that is not part of the name ("quận Nam [Từ Liêm]").
    # A colon may follow the unit: "các quận, huyện: Hà Đông, Nam Từ Liêm".
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(f) for f in forms) + r"):?\s?(?:[^\W\d_]+\s)?$")


def _place_name(text: str, start: int, name: str) -> bool:
    """A name-shaped place after an administrative unit: 'huyện Thạch Thành', 'TP.Phan Thiết', 'xã Tu Mơ Rông'."""
    before = text[max(0, start - 24) : start]
    words = name.split()
    if len(words) == 2 and _unit_before("city").search(before):
        return True
    if not _unit_before("local").search(before):
        return False
    return len(words) == 2 or (len(words) == 3 and words[1] not in _person_middles())


@lru_cache(maxsize=1)
def _person_middles() -> frozenset[str]:
    return frozenset(lx.names()["place_units"]["person_middles"])


def _person(text: str, start: int, end: int) -> bool:
    name = text[start:end]
    return fold(name) not in _NOT_PERSONS and not _year_name(name) and not _place_name(text, start, name)


def _year_name(name: str) -> bool:
    """'Đinh Dậu', 'Canh Tý': a year of the sixty-year cycle."""
    rows = lx.names()["year_names"]
    words = name.split()
    return len(words) == 2 and words[0] in rows["stems"] and words[1] in rows["branches"]


_PLURAL_BEFORE = re.compile(r"(?<!\w)(?:cac|nhung)\s+$")
_SPACE = re.compile(r" ")
# A verb of appointing right before the name, with at most an article or a form of address between.
_APPOINTED_BEFORE = re.compile(
    r"(?<!\w)(?:appointed|named|designated|nomme|nommee|nombro|nombra|designo|designa)\s+(?:(?:a|al|le|la)\s+)?"
    r"(?:(?:mr|mrs|ms|m|mme|sr|sra)\.?\s+)?$"
)
# A list of names after its title: "các Phó Chủ tịch: A, B", "gồm các ông: A, B", "Phó Bí thư Tỉnh ủy: A - ..., B".
_LIST_WORDS = re.compile(r"(?<!\w)(?:cac|nhung|gom|bao gom|gom co|the following|les|los|las)(?!\w)")
_LIST_TAIL = re.compile(r"[\s,]*(?:(?:gom co|bao gom|gom|nhu)\s*)?(?:(?:cac|nhung)\s*)?(?:(?:ong|ba|dong chi)\s*)?$")


def _list_header(
    text: str,
    folded: str,
    titles: re.Pattern[str],
    breaks: list[re.Match[str]],
    start: int,
    spans: list[tuple[int, int, str]],
) -> _Read | None:
    """The title of a list the name opens: a title and a plural or list word before a colon right before it."""
    if not breaks or text[breaks[-1].start()] != ":":
        return None
    if fold(text[breaks[-1].end() : start]).strip(" ,") not in {"", "ong", "ba", "cac ong", "cac ba", "dong chi"}:
        return None
    colon = breaks[-1].start()
    seg_from = breaks[-2].end() if len(breaks) > 1 else max(0, colon - _MAX_LEFT)
    hits = list(titles.finditer(folded, seg_from, colon))
    if not hits or not _LIST_WORDS.search(folded, seg_from, colon):
        return None
    tail = _LIST_TAIL.search(folded, hits[-1].end(), colon)
    read = _read_left(text, hits, tail.start() if tail else colon, spans)
    return read if read.title else None


def _continues_list(folded: str, prev_end: int, start: int) -> bool:
    """Whether a name continues the list the previous name is in: only a joiner, or the previous name's own
    titles and a joiner, stand between ('A, B', 'A - Chủ tịch UBND tỉnh; B')."""
    between = folded[prev_end:start]
    if len(between) > 100 or any(ch in between for ch in ".:\n") or ("(" in between and ")" not in between):
        return False
    return bool(re.search(r"(?:[,;]|\s(?:va|and|y|et))\s*(?:(?:ong|ba)\s+)?$", between))


def find_officials(
    text: str,
    lang: str,
    departments: list[Department],
    organizations: list[Organization],
    province_mentions: list[Mention],
    main_province: str | None = None,
) -> list[Official]:
    """People with a title, linked to the body they serve.

    The body is the department or organisation named between the title and the name (or after a title
    written after the name); a title naming none, or naming it by its kind alone ("Son directeur", "Director of
    the Department"), is linked to the body of that kind named last before, else the article's first.
    """
    folded = fold(text)
    bodies = _Bodies(departments, organizations, main_province)
    spans = bodies.spans()
    blocked = [(a, b) for a, b, _ in spans] + [(m.start, m.end) for m in province_mentions]
    titles = _title_pattern(lang)
    address = _address_pattern(lang)
    found: dict[str, Official] = {}
    # Not persons: the President; "Tết Đinh Dậu" (a year); "huyện Thạch Thành" (a place). Dropped before reading
    # titles, so a place does not take the title of the person named after it.
    names = [(a, b) for a, b in find_names(text, blocked) if _person(text, a, b)]
    starts = frozenset(a for a, _ in names)
    listed: _Read | None = None  # the title of a list of names ("các Phó Chủ tịch: A, B và C") while it runs
    prev_end = 0  # the end of what the previous name's titles written after it covered
    for index, (start, end) in enumerate(names):
        name = text[start:end]
        left_from = max(0, start - _MAX_LEFT)
        breaks = list(_SENTENCE_BREAK.finditer(text, left_from, start))
        header = _list_header(text, folded, titles, breaks, start, spans)
        if breaks:
            left_from = breaks[-1].end()
        if index and names[index - 1][1] > left_from:
            left_from = names[index - 1][1]  # a title before another person's name is that person's
        # ... and so is one written after it ("A – Giám đốc ..., và B").
        left_from = max(left_from, min(prev_end, start))
        title_hits = list(titles.finditer(folded, left_from, start))
        if (
            header is None
            and not title_hits
            and listed is not None
            and index
            and _continues_list(folded, names[index - 1][1], start)
        ):
            header = listed
        listed = header
        read = _Read()
        if header is not None and not title_hits:
            # A name of a list: the list's title, and the name's own titles written after it.
            own = _read_right(text, folded, lang, end, spans, starts)
            read = _Read(
                title=header.title,
                more=[*header.more, *([own.title] if own.title else []), *own.more],
                body=header.body,
                head=header.head,
                left=False,
                end=own.end,
            )
        elif title_hits:
            read = _read_left(text, title_hits, start, spans)
            if _PLURAL_BEFORE.search(folded, max(0, title_hits[0].start(1) - 8), title_hits[0].start(1)):
                listed = read  # "Các Phó trưởng ban A, B và C": the names after A share the title
            if _appointment_pattern().search(folded, title_hits[-1].end(), start):
                # "The People's Committee appointed X as ...": the post after the name is X's, the title before not.
                after = _read_right(text, folded, lang, end, spans, starts)
                read = after if after.title is not None else read
            else:
                # Posts before and after the name: "Phó Thủ tướng A, Trưởng đoàn kiểm tra, nêu rõ".
                after = _read_right(text, folded, lang, end, spans, starts, guard_first=True)
                if after.title is not None:
                    # `end` stays: no other name follows these posts in their clause (guard_first), so the next
                    # person's titles are read as before.
                    read.after = [after.title, *after.more]
        else:
            # After a verb of appointing ("a nommé M. A directeur adjoint", "nombró a A director del ..."), the post
            # may follow the name after a space alone.
            appointed = lang != "vi" and _APPOINTED_BEFORE.search(folded, max(0, start - 40), start) is not None
            read = _read_right(text, folded, lang, end, spans, starts, bare=appointed)
        prev_end = max(read.end, end)
        if (
            read.title is None
            and not title_hits
            and header is None
            and not address.search(folded, max(0, start - 12), start)
        ):
            continue
        body = read.body
        if read.left and body is None:
            body = _body_after_name(text, end, spans)  # "Director Tran Van A of the Department of Health"
        if read.title is not None and not read.left and (body is None or body.id is None):
            body = _company_before(text, folded, start, lang) or body  # "Công ty X do ông A - Tổng Giám đốc"
        if read.title is not None and (body is None or body.id is None):
            body = _resolve_body(read.head, body, start, bodies) or body
        oid = f"vn-person:{slug(name)}"
        off = found.get(oid)
        if off is None:
            off = found[oid] = Official(
                id=oid, name=name, name_ascii=ascii_name(name), titles=[], organization=body, mentions=[]
            )
        elif name != ascii_name(name) and off.name == off.name_ascii:
            off.name = name  # keep the form with diacritics
        # As written, left to right.
        ordered = [*read.more, read.title, *read.after] if read.left else [read.title, *read.more]
        for each in ordered:
            if each and each not in off.titles:
                off.titles.append(each)
        if body is not None and (off.organization is None or (off.organization.id is None and body.id is not None)):
            off.organization = body
        off.mentions.append(Mention(text=name, start=start, end=end))
    return [off for off in found.values() if not _in_business(off, lang)]


@lru_cache(maxsize=1)
def _company_led_by() -> re.Pattern[str]:
    forms = sorted((fold(f) for f in lx.lexicon()["business_bodies"]["vi"]), key=len, reverse=True)
    words = r"(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)"
    return re.compile(r"(?<!\w)" + words + r"[^,;.:\n]{0,60}?\s(?:do|cua)\s+(?:(?:ong|ba)\s+)?$")


def _company_before(text: str, folded: str, start: int, lang: str) -> OfficialBody | None:
    """A company named before 'do ông A' whose post follows the name: 'Công ty Cổ phần X do ông A - Tổng Giám
    đốc là người đại diện pháp luật' (a business person, not an official)."""
    if lang != "vi":
        return None
    m = _company_led_by().search(folded, max(0, start - 90), start)
    if m is None:
        return None
    return OfficialBody(name=text[m.start() : start].rsplit(" do ", 1)[0].rsplit(" của ", 1)[0].strip(), id=None)


@lru_cache(maxsize=8)
def _business_body(lang: str) -> re.Pattern[str]:
    forms = sorted((fold(f) for f in lx.lexicon()["business_bodies"].get(lang, [])), key=len, reverse=True)
    words = r"(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)"
    if lang != "vi":  # "Mekong Seafood Joint Stock Company": the kind may come last
        return re.compile(r"(?<!\w)" + words)
    # Vietnamese names the kind first; it may follow a clause on the person's role ("là người đại diện pháp
    # luật của Công ty X").
    return re.compile(r"^(?:[^,;]{0,60}?\bcua\s+)?" + words)


def _in_business(official: Official, lang: str) -> bool:
    """A business person: the only body written with the posts is a company, a cooperative or a board (the guide:
    business people are not officials). A government body linked at any mention keeps the person."""
    body = official.organization
    if body is None or body.id is not None or not lx.lexicon()["business_bodies"].get(lang):
        return False
    return _business_body(lang).search(fold(body.name)) is not None
