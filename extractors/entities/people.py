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
_SENTENCE_BREAK = re.compile(r"[.;!?:\n](?=\s|$)")
_MAX_LEFT = 110
# Between two titles of one person: the first title's body, then a list word ("..., ", " và ", " y ", " et ").
_JOINED = re.compile(r"(?:,|\s(?:và|kiêm|and|y|et|e))\s*$")
_NOT_PERSONS = {"ho chi minh"}  # the President, named in every emulation text: not a serving official


@lru_cache(maxsize=1)
def _name_sets() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    data = lx.names()
    surnames = data["surnames"]
    marked_only = data.get("surnames_marked_only", [])  # never from their unaccented, place-like form
    return (frozenset(fold(s) for s in surnames), frozenset(surnames) | frozenset(marked_only),
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
        return [(m.start, d.id, m.text) for d in self.departments if kind in {"department", d.sector}
                for m in d.mentions]  # fmt: skip

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
    read = _Read(title=text[first.start(1) : hit.end()], head=text[hit.start(1) : hit.end()], left=True)
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


def _read_right(text: str, folded: str, lang: str, end: int, spans: list[tuple[int, int, str]]) -> _Read:
    """Titles after the name: 'X, Phó Giám đốc Sở ..., được bổ nhiệm giữ chức Giám đốc Sở ...'."""
    titles = _title_pattern(lang)
    read = _Read()
    pos = end
    for _ in range(3):
        link = _title_link(lang).match(folded, pos)
        right = titles.match(folded, link.end()) if link else None
        if right is None:
            break
        tail = re.split(r"[,.;:()\n]", text[right.end() : right.end() + 90])[0]
        if read.title is None:
            read.title = read.head = text[right.start(1) : right.end()]
            body_text = _clean_body(tail)
            if body_text:
                read.body = _linked_body(text, body_text, right, right.end() + len(tail), spans)
        elif lang != "vi" or text[right.start(1)].isupper():
            # A Vietnamese post is capitalised; "làm trưởng đoàn" (led the visit) is a role, not a title.
            read.more.append(text[right.start(1) : right.end()])
        pos = right.end() + len(tail)
    return read


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
        read = _Read()
        if title_hits:
            read = _read_left(text, title_hits, start, spans)
            if _appointment_pattern().search(folded, title_hits[-1].end(), start):
                # "The People's Committee appointed X as ...": the post after the name is X's, the title before not.
                after = _read_right(text, folded, lang, end, spans)
                read = after if after.title is not None else read
        else:
            read = _read_right(text, folded, lang, end, spans)
            if read.title is None and not address.search(folded, max(0, start - 12), start):
                continue
        body = read.body
        if read.left and body is None:
            body = _body_after_name(text, end, spans)  # "Director Tran Van A of the Department of Health"
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
        ordered = [*read.more, read.title] if read.left else [read.title, *read.more]  # as written, left to right
        for each in ordered:
            if each and each not in off.titles:
                off.titles.append(each)
        if body is not None and (off.organization is None or (off.organization.id is None and body.id is not None)):
            off.organization = body
        off.mentions.append(Mention(text=name, start=start, end=end))
    return list(found.values())
