"""Emulation clusters and blocs (cụm/khối thi đua) and their pacts (giao ước thi đua), from an article's text.

Reads what the engine already linked (departments with their provinces, officials, themes, dates, the
numbered clusters of `engine._clusters`) and adds the structure: which departments a cluster has, who heads it
or deputises which year (also from handovers), and the pact event: its kind, date, place, theme, signatories and
listed contents. Cue words are data (`extractors/data/clusters.json`). All matching is on folded text, whose
offsets are those of the original.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from extractors.entities import lexicon as lx
from extractors.entities.gazetteer import MERGER_DATE, load_gazetteer
from extractors.text import fold
from schemas.models import (
    Cluster,
    ClusterMember,
    ClusterOwner,
    ClusterRef,
    ClusterRole,
    DateEntity,
    Department,
    Mention,
    Official,
    Organization,
    Pact,
    PactSignatory,
    Province,
    ProvinceRef,
    Theme,
)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_SENTENCE_END = re.compile(r"[.!?;]?\s*\n+|(?<=[.!?])\s+(?=[\"“«(]?[^\W\d_])")
_ITEM = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[a-zđ]\)|[-–•+*])[ \t]+(?P<body>\S.*)$")
_HOLDER_GAP = 40  # characters between a department (with its province) and the role word it holds
_RECEIVER_GAP = 60  # characters between the handover word and the department receiving the role
_OWNER_GAP = 60  # characters between a cluster's name and the ministry/province it belongs to
_PLACE_GAP = 3  # words between a place cue and the province name ("tại thành phố Hà Tĩnh")


@dataclass
class Facts:
    """What `find_cluster_facts` returns."""

    clusters: list[Cluster] = field(default_factory=list)
    pacts: list[Pact] = field(default_factory=list)


@dataclass
class _Holder:
    """One written occurrence of a member body (a department, or a branch of a mass organisation, Party board,
    front or union), extended over the province named right after it."""

    start: int
    end: int
    member: ClusterMember


@dataclass
class _Ctx:
    text: str
    folded: str
    lang: str
    sentences: list[tuple[int, int]]
    holders: list[_Holder]
    depts: list[Department]
    years: list[tuple[int, int]]  # offset, year
    places: list[tuple[int, int, Province]] = field(default_factory=list)  # province mentions outside departments


def _data() -> dict[str, Any]:
    return lx.load("clusters")


def _cues(key: str, lang: str, table: dict[str, Any] | None = None) -> list[str]:
    return lx.forms_for((table or _data())[key], lang)


@lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    alt = "|".join(re.escape(w) for w in sorted({fold(w) for w in words}, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alt})(?!\w)")


def _find(folded: str, words: list[str], start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the cue words in `folded[start:end]`, longest first where they overlap."""
    if not words:
        return []
    end = len(folded) if end is None else end
    return [(m.start(), m.end()) for m in _pattern(tuple(words)).finditer(folded, start, end)]


_REGION_REACH = 90  # characters after a cluster's word where the region it is named after may end
_REGION_CLAUSE_END = re.compile(r"[.;:()\n\"“”«»]|,(?!\s*(?:thanh pho|tp\b))")
_REGION_LEAD = frozenset({"", "provinces", "provinces'", "province", "regional", "region", "region's", "'s"})


@lru_cache(maxsize=1)
def _region_stops() -> frozenset[str]:
    return frozenset(w for code in lx.LANGUAGES for w in _data()["region_stops"].get(code, []))


@lru_cache(maxsize=1)
def _region_table() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern over every region form (folded, longest first) and each folded form's region key."""
    rows = {k: v for k, v in _data()["regions"].items() if not k.startswith("_")}
    keys = {fold(f): key for key, row in rows.items() for code in lx.LANGUAGES for f in row.get(code, [])}
    return _pattern(tuple(keys)), keys


def region_named(text: str, folded: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The region a cluster without a number is named after: (key, start, end of the whole name), or None.

    After the cluster's word, in the same clause ("Cụm thi đua các tỉnh, thành phố vùng Đồng bằng sông Cửu
    Long", "Clúster de Emulación de las provincias del Delta del Mekong"), unless a verb or preposition comes
    first; or right before it ("the Central Highlands Emulation Cluster").
    """
    pattern, keys = _region_table()
    window = folded[end : end + _REGION_REACH]
    cut = _REGION_CLAUSE_END.search(window)
    window = window[: cut.start()] if cut else window
    m = pattern.search(window)
    if m is not None:
        gap = re.findall(r"[\w']+", text[end : end + m.start()].lower())
        if not _region_stops().intersection(gap):
            return keys[m.group()], start, end + m.end()
    before = folded[max(0, start - _REGION_REACH) : start]
    for m in pattern.finditer(before):
        lead = before[m.end() :].strip().lower()
        if lead in _REGION_LEAD and (m.start() == 0 or not before[m.start() - 1].isalnum()):
            return keys[m.group()], start - len(before) + m.start(), end
    return None


@lru_cache(maxsize=1)
def _group_table() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern over the forms of what a cluster may be named after (its member bodies' kind, or the departments
    of one sector, perhaps their inspectorates: 'thanh tra Sở Du lịch'), anchored where the name goes on, and each
    folded form's key."""
    rows = {k: v for k, v in _data()["groups"].items() if not k.startswith("_")}
    keys = {fold(f): key for key, row in rows.items() for code in lx.LANGUAGES for f in row.get(code, [])}
    for sector, row in lx.departments().items():
        for form in row.get("vi", []):
            if fold(form).startswith("so "):
                rest = fold(form)[3:]
                keys.setdefault(f"so {rest}", sector)
                keys.setdefault(f"cac so {rest}", sector)
                keys.setdefault(f"thanh tra so {rest}", f"{sector}_inspectorates")
                keys.setdefault(f"thanh tra cac so {rest}", f"{sector}_inspectorates")
    keys = {_dashes(f): key for f, key in keys.items()}
    # "Mặt trận - Đoàn thể", "Mặt trận – Đoàn thể", "Mặt trận-Đoàn thể": any dash, any spacing.
    alt = "|".join(re.escape(f).replace(r"\ \-\ ", r"\s*[-–—]\s*") for f in sorted(keys, key=len, reverse=True))
    return re.compile(rf"\s*(?:{alt})(?!\w)"), keys


def _dashes(folded: str) -> str:
    return re.sub(r"\s*[-–—]\s*", " - ", folded.strip())


def group_named(folded: str, start: int, end: int) -> tuple[str, int, int] | None:
    """What a cluster without a number or region is named after, written right after its word: (key, start, end
    of the whole name), or None. 'Khối thi đua các cơ quan Đảng' -> 'party_agencies'; 'Cụm thi đua thanh tra Sở
    Du lịch các tỉnh' -> 'tourism_inspectorates'."""
    pattern, keys = _group_table()
    m = pattern.match(folded, end)
    if m is None:
        return None
    return keys[_dashes(m.group())], start, m.end()


def group_sector(key: str) -> str | None:
    """The department sector a group of one sector's departments (or their inspectorates) belongs to."""
    sector = key.removesuffix("_inspectorates")
    return sector if sector in lx.departments() else None


def group_key(query: str) -> str | None:
    """The group a user names, by its key or a written form ('party_agencies', 'các cơ quan Đảng')."""
    _, keys = _group_table()
    q = _dashes(fold(query))
    if q.replace(" ", "_") in set(keys.values()):
        return q.replace(" ", "_")
    return keys.get(q)


def group_name(key: str, lang: str) -> str:
    """A group's name for people."""
    row = _data()["groups"].get(key)
    if isinstance(row, dict):
        return str(row["name_vi"] if lang == "vi" else row["name_en"])
    sector = group_sector(key)
    if sector is None:
        return key
    name = lx.departments()[sector]["vi"][0] if lang == "vi" else lx.departments()[sector].get("name_en", sector)
    if key.endswith("_inspectorates"):
        return f"thanh tra {name}" if lang == "vi" else f"inspectorates of {name}"
    return str(name)


def region_key(query: str) -> str | None:
    """The region a user names, by its key or any written form ('central_highlands', 'Tây Nguyên', 'tay nguyen')."""
    _, keys = _region_table()
    q = fold(query.strip()).replace("_", " ")
    for form, key in keys.items():
        if q in (form, key.replace("_", " ")):
            return key
    return None


def region_name(key: str, lang: str) -> str:
    """A region's name for people: Vietnamese in a Vietnamese context, English otherwise."""
    row = _data()["regions"].get(key)
    if not isinstance(row, dict):
        return key
    return str(row["name_vi"] if lang == "vi" else row["name_en"])


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: split at line breaks and '.!?' before a capital, not after 'No.', 'n.º', 'TP.'."""
    abbreviations = {fold(a) for a in _data()["abbreviations"]}
    out: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        before = text[start : m.start() + 1].split()
        last = fold(before[-1]).rstrip(".") if before else ""
        if "\n" not in m.group() and (last in abbreviations or len(last) == 1):
            continue  # "No. VIII", "n.º VIII", "M. Vo Tan Loc"
        if text[start : m.start()].strip():
            out.append((start, m.start() + (1 if text[m.start() : m.start() + 1] in ".!?;" else 0)))
        start = m.end()
    if text[start:].strip():
        out.append((start, len(text.rstrip())))
    return out


def _sentence_of(ctx: _Ctx, pos: int) -> tuple[int, int]:
    for s in ctx.sentences:
        if s[0] <= pos < s[1]:
            return s
    return (pos, pos)


def _holders(text: str, folded: str, depts: list[Department], provinces: list[Province]) -> list[_Holder]:
    """Departments (`_dept_holders`) and other member bodies (`_body_holders`), in text order."""
    out = _dept_holders(text, depts, provinces) + _body_holders(text, folded, provinces)
    return sorted(out, key=lambda h: (h.start, h.end))


def _dept_holders(text: str, depts: list[Department], provinces: list[Province]) -> list[_Holder]:
    """Each department mention, its end moved past its own province named within a few words after it."""
    by_id = {p.id: p for p in provinces}
    out: list[_Holder] = []
    for dept in depts:
        prov = by_id.get(dept.province.id) if dept.province else None
        for m in dept.mentions:
            end = m.end
            if prov is not None:
                after = [p.end for p in prov.mentions if m.end <= p.start <= m.end + 60]
                # A coordinated list ("Sở TN&MT các tỉnh A, B, C") reaches further than 60 characters.
                after = after or [
                    p.end for p in prov.mentions if m.end <= p.start <= m.end + 160 and "." not in text[m.end : p.start]
                ]
                end = min(after) if after else end
            out.append(_Holder(m.start, end, _member(dept)))
    return out


# Between a member body's name and its first province: "Liên hiệp Hội tỉnh Cà Mau", "Hội Nông dân các tỉnh
# Cụm thi đua số 3: A, B"; between two provinces of its list: joiners only.
_BODY_TO_PROVINCE = re.compile(
    r"^[\s,:(]*(?:(?:cac|tinh|thanh pho|tp\.?|of|the|province|provinces|de|la|du|des|"
    r"del|provincia|provincias|viet nam|vietnam)\b[\s,:(]*)*$"
)
_PROVINCE_JOIN = re.compile(r"^[\s]*(?:[,;\-–][\s]*)?(?:(?:va|and|y|et)\s+)?(?:(?:tinh|thanh pho|tp\.?)\s+)?$")
_LIST_LEAD_REACH = 90  # characters from a body to the colon that opens its province list


def _body_rows() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in _data()["member_bodies"].items() if not k.startswith("_")}


@lru_cache(maxsize=1)
def _body_forms() -> tuple[re.Pattern[str], dict[str, str]]:
    """One pattern for every member body's forms (longest first), and folded form -> body key."""
    forms = {
        fold(f): key
        for key, row in _body_rows().items()
        for lang in ("vi", "en", "es", "fr")
        for f in row.get(lang, [])
    }
    alt = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alt})(?!\w)"), forms


def _body_holders(text: str, folded: str, provinces: list[Province]) -> list[_Holder]:
    """Each named member body with the provinces written right after it, one holder per province.

    'Liên hiệp Hội tỉnh Cà Mau' is one member; 'lãnh đạo Liên hiệp Hội các tỉnh, thành phố cụm thi đua số 9: A,
    B và C' three: the list may open with a colon a few words on. A body with no province is not a member.
    """
    mentions = sorted(((m.start, m.end, p) for p in provinces for m in p.mentions), key=lambda x: x[0])
    if not mentions:
        return []
    pattern, forms = _body_forms()
    out: list[_Holder] = []
    for m in pattern.finditer(folded):  # leftmost-longest: "Ban Tuyên giáo Tỉnh ủy" before "Ban Tuyên giáo"
        run = _province_run_after(text, folded, m.end(), mentions)
        out += [_Holder(m.start(), end, _body_member(forms[m.group()], prov)) for end, prov in run]
    return out


def _province_run_after(
    text: str, folded: str, pos: int, mentions: list[tuple[int, int, Province]]
) -> list[tuple[int, Province]]:
    """The provinces (end offset, province) of the list that starts right after `pos`, or after a colon near it."""
    first = next(((s, e, p) for s, e, p in mentions if s >= pos), None)
    if first is None:
        return []
    gap = folded[pos : first[0]]
    if not _BODY_TO_PROVINCE.match(gap):
        colon = gap.find(":")
        opens_list = 0 <= colon <= _LIST_LEAD_REACH and not any(ch in gap[:colon] for ch in ".;")
        if not opens_list or gap[colon + 1 :].strip(" ("):
            return []
    run = [(first[1], first[2])]
    last_end = first[1]
    for s, e, p in mentions:
        if s < last_end:
            continue
        if not _PROVINCE_JOIN.match(folded[last_end:s]):
            break
        run.append((e, p))
        last_end = e
    return run


def _body_member(key: str, province: Province | ProvinceRef) -> ClusterMember:
    row = _body_rows()[key]
    ref = ProvinceRef(id=province.id, name=province.name, code=province.code, scheme=province.scheme)
    unit = "thành phố" if load_gazetteer().get(province.id).is_city else "tỉnh"
    # "Ban Tuyên giáo Tỉnh ủy Thái Bình": a Party board's name already says whose it is.
    own = f"{province.name}" if row["kind"] == "party_board" else f"{unit} {province.name}"
    name = f"{row['name_vi']} {own}"
    return ClusterMember(kind=row["kind"], id=f"vn-body:{key}:{province.id}", name=name, body=key, province=ref)


def _member(dept: Department) -> ClusterMember:
    return ClusterMember(
        kind="department", id=dept.id, name=dept.name_vi, department=dept.id, sector=dept.sector, province=dept.province
    )


def _province_member(province: Province) -> ClusterMember:
    ref = ProvinceRef(id=province.id, name=province.name, code=province.code, scheme=province.scheme)
    unit = "thành phố" if load_gazetteer().get(province.id).is_city else "tỉnh"
    return ClusterMember(kind="province", id=province.id, name=f"{unit} {province.name}", province=ref)


def _family(member: ClusterMember) -> str | None:
    """What the members of one cluster share: the department's sector, the other body's key, or being provinces."""
    return member.sector or member.body or ("province" if member.kind == "province" else None)


def _holder_before(ctx: _Ctx, pos: int, floor: int) -> _Holder | None:
    """The department written just before `pos` ('Sở TN&MT tỉnh Long An giữ vai trò cụm trưởng')."""
    best = None
    for h in ctx.holders:
        near = floor <= h.start and h.end <= pos and pos - h.end <= _HOLDER_GAP
        if (
            near
            and not any(ch in ".;:" for ch in ctx.text[h.end : pos])
            and (best is None or h.end > best.end or (h.end == best.end and h.start > best.start))
        ):
            best = h
    return best


def _holder_after(ctx: _Ctx, pos: int, limit: int, gap: int = _RECEIVER_GAP) -> _Holder | None:
    cands = [h for h in ctx.holders if pos <= h.start <= pos + gap and h.end <= limit]
    if not cands:
        return None
    first = min(h.start for h in cands)
    # Several departments share one written span in a list: the one whose province comes first.
    return min((h for h in cands if h.start == first), key=lambda h: h.end)


def _places(holders: list[_Holder], provinces: list[Province]) -> list[tuple[int, int, Province]]:
    """Province mentions not inside a department's span: 'Long An holds the head role'."""
    spans = [(h.start, h.end) for h in holders]
    out = [
        (m.start, m.end, p)
        for p in provinces
        for m in p.mentions
        if not any(a <= m.start and m.end <= b for a, b in spans)
    ]
    return sorted(out, key=lambda x: x[0])


def _sector_member(ctx: _Ctx, cluster: Cluster, province: Province) -> ClusterMember | None:
    """The member of `province`, when the cluster's members are bodies of one kind (departments of one sector).

    A cluster of provinces named after its region whose members this article does not list ("Gia Lai handed the
    head role of the Central Highlands cluster to Kon Tum") has the province itself, unless its name says whose
    bodies it groups ("Cụm thi đua Sở Tư pháp khu vực …").
    """
    if not cluster.members and cluster.region is not None and cluster.belongs_to is None:
        named = [(m.start, m.end) for m in cluster.mentions]
        if not any(a <= h.start and h.end <= b for h in ctx.holders for a, b in named):
            return _province_member(province)
    if len({_family(m) for m in cluster.members}) != 1:
        return None  # a province bloc, or mixed sectors: a province alone does not say which department
    return next((m for m in cluster.members if m.province is not None and m.province.id == province.id), None)


def _member_before(ctx: _Ctx, cluster: Cluster, pos: int, floor: int) -> tuple[int, ClusterMember] | None:
    """The department (or, shortened, its province) written just before `pos`: (end offset, member)."""
    holder = _holder_before(ctx, pos, floor)
    if holder is not None:
        return holder.end, holder.member
    near = [
        (s, e, p)
        for s, e, p in ctx.places
        if floor <= s and e <= pos and pos - e <= _HOLDER_GAP and not any(ch in ".;:" for ch in ctx.text[e:pos])
    ]
    for _, e, prov in sorted(near, key=lambda x: -x[1]):
        member = _sector_member(ctx, cluster, prov)
        if member is not None:
            return e, member
    return _owners_body_before(ctx, cluster, pos, floor)


def _owners_body_before(ctx: _Ctx, cluster: Cluster, pos: int, floor: int) -> tuple[int, ClusterMember] | None:
    """In a province's bloc, a body written without its province is the province's own: 'Ban Dân vận Tỉnh ủy được
    suy tôn làm Khối trưởng' in the Party agencies' bloc of Long An heads it for Long An's Party board."""
    owner = cluster.belongs_to
    if cluster.group is None or owner is None or owner.kind != "province":
        return None
    pattern, forms = _body_forms()
    found = None
    for m in pattern.finditer(ctx.folded, floor, pos):
        if pos - m.end() <= _HOLDER_GAP and not any(ch in ".;:" for ch in ctx.text[m.end() : pos]):
            found = m
    if found is None:
        return None
    entry = load_gazetteer().get(owner.id)
    province = ProvinceRef(id=owner.id, name=entry.name, code=entry.code, scheme=entry.scheme)
    return found.end(), _body_member(forms[found.group()], province)


def _member_after(
    ctx: _Ctx, cluster: Cluster, pos: int, limit: int, gap: int = _RECEIVER_GAP
) -> tuple[int, ClusterMember] | None:
    """The department (or its province alone) written just after `pos`: (end offset, member)."""
    holder = _holder_after(ctx, pos, limit, gap)
    if holder is not None:
        return holder.end, holder.member
    for s, e, prov in ctx.places:
        if pos <= s <= pos + gap and e <= limit:
            member = _sector_member(ctx, cluster, prov)
            if member is not None:
                return e, member
    return None


def _year_near(ctx: _Ctx, pos: int, sent: tuple[int, int], after_only: bool = False) -> int | None:
    """A year written right after `pos` ('cụm trưởng năm 2025'), else the nearest one in the sentence."""
    for off, year in ctx.years:
        if pos <= off <= pos + 20 and sent[0] <= off < sent[1]:
            return year
    if after_only:
        return None
    inside = [(abs(off - pos), year) for off, year in ctx.years if sent[0] <= off < sent[1]]
    return min(inside)[1] if inside else None


# --- clusters ------------------------------------------------------------------------------------------------


def _kind_of(ctx: _Ctx, mention: Mention) -> str:
    is_bloc = _find(ctx.folded, _cues("bloc_words", ctx.lang), mention.start, mention.end)
    return "bloc" if is_bloc else "cluster"


def _ministry_owner(orgs: list[Organization], cluster: Organization) -> ClusterOwner | None:
    """A ministry named within a few words after the cluster's name ('Cụm thi đua số VIII thuộc Bộ TN&MT')."""
    for org in orgs:
        if org.kind != "ministry":
            continue
        for cm in cluster.mentions:
            if any(0 <= m.start - cm.end <= _OWNER_GAP for m in org.mentions):
                return ClusterOwner(id=org.id, name=org.name, kind="ministry")
    return None


def _province_owner(ctx: _Ctx, provinces: list[Province], cluster: Organization) -> ClusterOwner | None:
    """A bloc of a province: 'Khối thi đua số 3 của tỉnh Long An', 'Bloc No. 3 of Long An province'."""
    for cm in cluster.mentions:
        for prov in provinces:
            for m in prov.mentions:
                between = ctx.text[cm.end : m.start]
                # "Khối thi đua số 2 gồm Hội Nông dân tỉnh A, B": a member's province, not the bloc's owner.
                listed = _find(fold(between), _cues("member_cues", ctx.lang)) or any(
                    cm.end <= h.start < m.start for h in ctx.holders
                )
                if 0 <= m.start - cm.end <= 30 and not any(ch in ".;:," for ch in between) and not listed:
                    return ClusterOwner(id=prov.id, name=prov.name, kind="province")
    return None


def _sector_owner(members: list[ClusterMember]) -> ClusterOwner | None:
    """Members all of one sector: the cluster is that sector's ministry's ('Sở TN&MT of six provinces'); members
    all branches of one body: the body's national organisation's ('Liên hiệp Hội of six provinces')."""
    families = {_family(m) for m in members}
    if len(families) != 1 or len(members) < 2:
        return None
    family = families.pop()
    if members[0].kind != "department":
        row = _body_rows().get(family or "")
        return ClusterOwner(id=f"vn-body:{family}", name=row["name_en"], kind="national_body") if row else None
    ministry = lx.departments().get(family or "", {}).get("ministry")
    if not ministry:
        return None
    return ClusterOwner(id=f"vn-ministry:{family}", name=ministry["en"][0], kind="ministry")


def _group_owner(org: Organization, provinces: list[Province]) -> ClusterOwner | None:
    """Whose a cluster named after its members' kind is: one sector's departments (or inspectorates) are that
    sector's ministry's; a province's bloc of its Party agencies, front and unions, culture and society ... is the
    province's the article is about (the one it names most), since every province has such blocs."""
    if org.group is None:
        return None
    sector = group_sector(org.group)
    if sector is not None:
        ministry = lx.departments()[sector].get("ministry")
        return ClusterOwner(id=f"vn-ministry:{sector}", name=ministry["en"][0], kind="ministry") if ministry else None
    named = [p for p in provinces if p.mentions]
    if not named:
        return None
    top = max(named, key=lambda p: (len(p.mentions), -p.mentions[0].start))
    return ClusterOwner(id=top.id, name=top.name, kind="province")


def _inspectorate(member: ClusterMember) -> ClusterMember:
    """A department's inspectorate (Thanh tra Sở …), the member of a cluster of inspectorates."""
    if member.kind != "department" or member.department is None:
        return member
    return member.model_copy(
        update={"kind": "other", "id": f"{member.department}:inspectorate", "name": f"Thanh tra {member.name}"}
    )


def _as_inspectorates(cluster: Cluster) -> None:
    """'Cụm thi đua thanh tra Sở Du lịch …': its members and role holders are the departments' inspectorates, read
    where the text names the departments ('Thanh tra Sở Du lịch Hà Nội là Cụm phó')."""
    cluster.members = [_inspectorate(m) for m in cluster.members]
    for role in cluster.roles:
        role.member = _inspectorate(role.member)


def cluster_id(kind: str, number: int | str, owner: ClusterOwner | None) -> str:
    """'vn-emulation-cluster:vn-ministry:natural_resources_environment:8', or 'vn-emulation-cluster:8'; a region's
    key in place of the number for a cluster named after its region ('vn-emulation-cluster:central_highlands')."""
    return f"vn-emulation-{kind}:{owner.id}:{number}" if owner else f"vn-emulation-{kind}:{number}"


def _members(ctx: _Ctx, org: Organization, alone: bool) -> list[ClusterMember]:
    """Departments listed after a membership word in a sentence naming the cluster.

    With one cluster in the article, 'the cluster includes ...' ('Le groupe comprend ...') names it too.
    """
    out: dict[str, ClusterMember] = {}
    anchors = [(m.start, m.end) for m in org.mentions]
    if alone:
        anchors += _find(ctx.folded, _cues("cluster_nouns", ctx.lang))
    for a_start, a_end in anchors:
        sent = _sentence_of(ctx, a_start)
        for _, cue_end in _find(ctx.folded, _cues("member_cues", ctx.lang), a_end, sent[1])[:1]:
            for h in ctx.holders:
                if cue_end <= h.start < sent[1] and h.member.province is not None:
                    out.setdefault(h.member.key, h.member)
        for h in ctx.holders:
            # The body written before the cluster's name, its province list after it: "lãnh đạo Liên hiệp Hội
            # các tỉnh, thành phố cụm thi đua số 9: A, B và C".
            if sent[0] <= h.start < a_start and a_end <= h.end <= sent[1] and h.member.province is not None:
                out.setdefault(h.member.key, h.member)
    if not out and org.region is not None:
        # A cluster of provinces named after its region lists the provinces themselves: "Cụm thi đua Tây Nguyên
        # (gồm 5 tỉnh A, B, …)", "… gồm các địa phương: A, B, …".
        for a_start, a_end in anchors:
            sent = _sentence_of(ctx, a_start)
            for _, cue_end in _find(ctx.folded, _cues("member_cues", ctx.lang), a_end, sent[1])[:1]:
                for s, _, prov in ctx.places:
                    if cue_end <= s < sent[1]:
                        member = _province_member(prov)
                        out.setdefault(str(member.id), member)
        if out:
            return list(out.values())
    for m in org.mentions:
        # Listed before the name: "Los Departamentos ... de A, B y C, que forman el Grupo de Emulación núm. 2".
        sent = _sentence_of(ctx, m.start)
        before = [
            s
            for s, e in _find(ctx.folded, _cues("members_before_cues", ctx.lang), sent[0], m.start)
            if m.start - e <= 12
        ]
        for h in ctx.holders:
            if before and sent[0] <= h.start and h.end <= before[-1] and h.member.province is not None:
                out.setdefault(h.member.key, h.member)
    return list(out.values())


def _nearest_cluster(clusters: list[tuple[Organization, Cluster]], pos: int) -> Cluster:
    before = [(m.start, c) for o, c in clusters for m in o.mentions if m.start <= pos]
    if before:
        return max(before, key=lambda x: x[0])[1]
    return clusters[0][1]


def _add_role(cluster: Cluster, role: ClusterRole) -> None:
    for old in cluster.roles:
        if (old.year, old.role, old.member.key) == (role.year, role.role, role.member.key):
            old.mentions.extend(m for m in role.mentions if m not in old.mentions)
            return
    cluster.roles.append(role)


def _roles(ctx: _Ctx, clusters: list[tuple[Organization, Cluster]], default_year: int | None) -> None:
    """Head/deputy per year, stated ('X giữ vai trò cụm trưởng') or from a handover ('X chuyển giao ... cho Y')."""
    heads = [(s, e, "head") for s, e in _find(ctx.folded, _cues("head_cues", ctx.lang))]
    deputies = [(s, e, "deputy") for s, e in _find(ctx.folded, _cues("deputy_cues", ctx.lang))]
    cues = sorted(heads + deputies)
    # A deputy cue contains a head cue ("deputy cluster leader", "phó cụm trưởng"): keep the longer one.
    cues = [c for c in cues if not any(o != c and o[0] <= c[0] and c[1] <= o[1] for o in cues)]
    handovers = _find(ctx.folded, _cues("handover_cues", ctx.lang))
    to_words = _cues("handover_to", ctx.lang)
    floor = 0
    handover_year: dict[tuple[int, int], int] = {}
    for start, end, role in cues:
        sent = _sentence_of(ctx, start)
        floor = max(floor, sent[0])
        cluster = _nearest_cluster(clusters, start)
        mention = Mention(text=ctx.text[start:end], start=start, end=end)
        handover = next((h for h in handovers if sent[0] <= h[0] and h[1] <= start and start - h[1] <= 25), None)
        if handover is not None:
            giver = _member_before(ctx, cluster, handover[0], sent[0])
            to = _find(ctx.folded, to_words, end, min(sent[1], end + 30))
            receiver = _member_after(ctx, cluster, to[0][1], sent[1]) if to else None
            explicit = _year_near(ctx, end, sent, after_only=True)
            year = explicit or (default_year + 1 if default_year else None)
            if year is None:
                continue
            handover_year[sent] = year
            if receiver is not None:
                _add_role(
                    cluster,
                    ClusterRole(
                        year=year,
                        role=role,  # type: ignore[arg-type]
                        member=receiver[1],
                        basis="handover",
                        mentions=[mention],
                    ),
                )
                floor = receiver[0]
            if giver is not None:
                _add_role(
                    cluster,
                    ClusterRole(
                        year=year - 1,
                        role=role,  # type: ignore[arg-type]
                        member=giver[1],
                        basis="handover",
                        mentions=[mention],
                    ),
                )
            continue
        holder = _member_before(ctx, cluster, start, floor)
        if holder is None:
            # Passive: "the cluster is headed by ...", "đơn vị cụm trưởng là Sở ..."
            holder = _member_after(ctx, cluster, end, sent[1], gap=15)
        if holder is None:
            continue  # "để cụm trưởng tổng hợp": the role named, nobody holding it
        year = _year_near(ctx, end, sent, after_only=True) or handover_year.get(sent)
        year = year or _year_near(ctx, start, sent) or default_year
        if year is None:
            continue
        _add_role(
            cluster,
            ClusterRole(
                year=year,
                role=role,  # type: ignore[arg-type]
                member=holder[1],
                basis="stated",
                mentions=[mention],
            ),
        )
        floor = max(floor, end)


# --- pacts ---------------------------------------------------------------------------------------------------


def _event_sentences(ctx: _Ctx, anchors: list[int]) -> list[tuple[tuple[int, int], str, int]]:
    """The sentences naming a cluster or pact with a signing/review/launch word: (sentence, kind, cue)."""
    kinds = _data()["kind_cues"]
    pact_words = _cues("pact_words", ctx.lang)
    out = []
    for sent in ctx.sentences:
        if not any(sent[0] <= a < sent[1] for a in anchors):
            continue
        found = [
            (s, k)
            for k in ("signing", "review", "launch")
            for s, _ in _find(ctx.folded, _cues(k, ctx.lang, kinds), sent[0], sent[1])
        ]
        if not found:
            continue
        pacts = [s for s, _ in _find(ctx.folded, pact_words, sent[0], sent[1])]
        # With a pact word, the kind word nearest to it ("phát động ... và ký kết giao ước": signing).
        pos, kind = min(found, key=lambda f: min(abs(f[0] - p) for p in pacts)) if pacts else min(found)
        out.append((sent, kind, pos))
    return out


def _reviewed_year(ctx: _Ctx, sent: tuple[int, int], cue: int) -> int | None:
    """The year a review covers: the first year written after the review word in its sentence."""
    return next((y for off, y in ctx.years if cue <= off < sent[1]), None)


def _agrees(ctx: _Ctx, sent: tuple[int, int], year: int | None) -> bool:
    """The sentence names no year other than the event's ('ký kết giao ước năm 2025' is next year's event)."""
    return all(y == year for off, y in ctx.years if sent[0] <= off < sent[1])


def _place(ctx: _Ctx, sent: tuple[int, int], ref: date | None) -> ProvinceRef | None:
    """Where the event was: the host department's province, else 'tại (thành phố) X', 'in X'.

    The host is written before its verb ('Sở TN&MT tỉnh Long An chủ trì') or after 'hosted by',
    'accueillie par'; 'held at the Department of Transport of Quang Ngai' is that department's province.
    No cue, no place: a sentence merely naming provinces does not say where the event was.
    """
    for _, e in _find(ctx.folded, _cues("host_by_cues", ctx.lang), sent[0], sent[1]):
        holder = _holder_after(ctx, e, sent[1], gap=6)
        if holder is not None and holder.member.province is not None:
            return holder.member.province
    for s, _ in _find(ctx.folded, _cues("host_cues", ctx.lang), sent[0], sent[1]):
        holder = _holder_before(ctx, s, sent[0])
        if holder is not None and holder.member.province is not None:
            return holder.member.province
    scheme = "legacy_63" if ref is not None and ref.isoformat() < MERGER_DATE else "current_34"
    units = [fold(u) for u in _cues("place_units", ctx.lang)]
    for _, e in _find(ctx.folded, _cues("place_cues", ctx.lang), sent[0], sent[1]):
        holder = _holder_after(ctx, e, sent[1], gap=6)  # "at the Department of Transport of Quang Ngai"
        if holder is not None and holder.member.province is not None:
            return holder.member.province
        rest = ctx.folded[e : sent[1]].lstrip()
        for unit in sorted(units, key=len, reverse=True):
            if rest.startswith(unit + " "):
                rest = rest[len(unit) :].lstrip()
                break
        found = _gazetteer_place(rest, scheme)
        if found is None:
            # A venue, then its province: "tại thành phố Biên Hòa, tỉnh Đồng Nai", "in Pleiku city, Gia Lai".
            comma = rest.find(",")
            if comma > 0 and len(re.findall(r"[\w'-]+", rest[:comma])) <= _PLACE_GAP + 1:
                after = rest[comma + 1 :].lstrip()
                for unit in sorted(units, key=len, reverse=True):
                    if after.startswith(unit + " "):
                        after = after[len(unit) :].lstrip()
                        break
                found = _gazetteer_place(after, scheme)
        if found is None:
            found = _venue_place(rest, scheme, ctx.lang)
        if found is not None:
            return found
    return None


_VENUE_REACH = 8  # words of a venue's name before its province ("Trường Chính trị tỉnh Ninh Bình")


def _venue_place(rest: str, scheme: str, lang: str) -> ProvinceRef | None:
    """A venue, then its province in the same clause: 'tại Trường Chính trị tỉnh Ninh Bình', 'tại trụ sở Tỉnh đoàn
    Khánh Hòa (…)'. Only after a venue's word: 'tại buổi làm việc với UBND tỉnh X' says nothing of where."""
    venues = sorted((fold(v) for v in _cues("venue_words", lang)), key=len, reverse=True)
    if not any(rest.startswith(v + " ") for v in venues):
        return None
    clause = re.split(r"[,;.():]", rest, maxsplit=1)[0]
    words = re.findall(r"[\w'-]+", clause)[: _VENUE_REACH + 4]
    for i in range(1, min(len(words), _VENUE_REACH + 1)):
        found = _gazetteer_place(" ".join(words[i:]), scheme)
        if found is not None:
            return found
    return None


def _gazetteer_place(rest: str, scheme: str) -> ProvinceRef | None:
    """The province named by the first words of `rest` (folded), in the article's scheme where both exist."""
    gaz = load_gazetteer()
    words = re.findall(r"[\w'-]+", rest)[: _PLACE_GAP + 1]
    for n in range(min(len(words), 4), 0, -1):
        entries = gaz.by_form.get(" ".join(words[:n]))
        if entries:
            chosen = next((x for x in entries if x.scheme == scheme), entries[0])
            return chosen.ref()
    return None


def _contents(ctx: _Ctx, lead: int) -> list[str]:
    """Items listed on their own lines after a contents cue ('nội dung', 'contents'), from `lead` on.

    Items are '1. …', '1) …', 'a) …', '- …' or 'Một là, …' lines; a run numbered from 1 needs no cue
    (a pact document's numbered commitments).
    """
    item_words = [fold(w) for w in _cues("item_words", ctx.lang)]
    word_item = re.compile(
        r"^[ \t]*(?:" + "|".join(re.escape(w) for w in sorted(item_words, key=len, reverse=True)) + r")[ \t]*[,:.]"
        r"[ \t]*(?P<body>\S.*)$"
    )
    cues = _cues("contents_cues", ctx.lang)
    lines: list[tuple[int, str]] = []
    pos = 0
    for line in ctx.text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    best: list[str] = []
    i = 0
    while i < len(lines):
        off, line = lines[i]
        if off + len(line) < lead:
            i += 1
            continue
        items: list[str] = []
        numbered_from_one = False
        j = i
        while j < len(lines):
            ln = lines[j][1]
            if not ln.strip():
                j += 1
                continue
            m = _ITEM.match(ln) or word_item.match(fold(ln))
            if not m:
                break
            if not items:
                numbered_from_one = ln.lstrip().startswith(("1.", "1)", "a)"))
            body = ln[m.start("body") :].strip()
            items.append(body.rstrip(" ;.,"))
            j += 1
        if len(items) >= 2:
            prev = next((ln for _, ln in reversed(lines[:i]) if ln.strip()), "")
            prev_off = next((o for o, ln in reversed(lines[:i]) if ln.strip()), 0)
            cued = bool(_find(ctx.folded, cues, prev_off, prev_off + len(prev)))
            if (cued or numbered_from_one) and len(items) > len(best):
                best = items
            i = j
        else:
            i += 1
    return best


_INLINE_NUMBER = re.compile(r"(?<![\w(])\(?(\d{1,2})\)[ \t]+")  # "(1) …", "1) …" inside a sentence
_TRAILING = re.compile(r"[\s;,.]*(?:\b(?:and|or|y|o|et|ou|và|hoặc))?[\s;,.]*$", re.IGNORECASE)


def _split_inline(ctx: _Ctx, start: int, end: int) -> list[str]:
    """Items of one inline list: '(1) … (2) …', else ';'-separated parts ('first, …; second, …')."""
    region = ctx.text[start:end]
    marks = list(_INLINE_NUMBER.finditer(region))
    if len(marks) >= 2 and [int(m.group(1)) for m in marks] == list(range(1, len(marks) + 1)):
        bounds = [(m.end(), nxt.start()) for m, nxt in itertools.pairwise(marks)]
        parts = [region[a:b] for a, b in [*bounds, (marks[-1].end(), len(region))]]
    elif ";" in region:
        parts = region.split(";")
    else:
        return []
    words = sorted({fold(w) for w in _cues("item_words", ctx.lang)}, key=len, reverse=True)
    ordinal = re.compile(r"^\s*(?:" + "|".join(re.escape(w) for w in words) + r")\s*[,:.]\s*")
    items = []
    for part in parts:
        m = ordinal.match(fold(part))  # fold keeps offsets, so the match cuts the original
        body = part[m.end() :] if m else part
        items.append(_TRAILING.sub("", body.strip()))
    return items


def _inline_contents(ctx: _Ctx) -> list[str]:
    """Contents listed inside a paragraph after a cue and a colon: 'contenidos: (1) …; (2) …', 'contents: first, …'.

    Each item needs three words, so a colon before a list of provinces ('6 tỉnh: Long An, …') is no list.
    """
    best: list[str] = []
    for _, cue_end in _find(ctx.folded, _cues("contents_cues", ctx.lang)):
        sent = _sentence_of(ctx, cue_end - 1)
        colon = ctx.text.find(":", cue_end, min(sent[1], cue_end + 60))
        if colon < 0:
            continue
        line_end = ctx.text.find("\n", colon)
        items = _split_inline(ctx, colon + 1, sent[1] if line_end < 0 else min(line_end, sent[1]))
        if len(items) >= 2 and all(len(i.split()) >= 3 for i in items) and len(items) > len(best):
            best = items
    return best


def _name_line(line: str) -> bool:
    """A signer's name on its own line: two to six capitalised words ('Trương Minh Quang'), not all capitals."""
    words = line.split()
    return (
        2 <= len(words) <= 6
        and not line.isupper()
        and all(w[0].isupper() and w.replace("-", "").replace(".", "").isalpha() for w in words)
    )


def _signature_block(ctx: _Ctx, heading: int, officials: list[Official]) -> list[tuple[int, int]]:
    """The lines of a signature block after its heading: title+department lines and signers' names.

    It ends at the first other paragraph: a new heading or label ('Nơi nhận:'), a list item, or prose.
    """
    named = [m for o in officials for m in o.mentions]
    out: list[tuple[int, int]] = []
    for a, b in ctx.sentences[heading + 1 :]:
        line = ctx.text[a:b].strip()
        holds = any(a <= h.start < b for h in ctx.holders) or any(a <= m.start < b for m in named)
        if holds and not line.endswith(":"):
            out.append((a, b))
            continue
        if line.endswith(":") or _ITEM.match(line) or not _name_line(line):
            break
        out.append((a, b))  # the signer's name under the title line
    return out


def _signatories(
    ctx: _Ctx,
    sent_spans: list[tuple[int, int]],
    officials: list[Official],
    cluster: Cluster | None,
    dates: list[DateEntity],
) -> list[PactSignatory]:
    """Departments and officials named in the signing sentences; 'leaders of the 6 departments': all members."""
    out: dict[str, PactSignatory] = {}
    masked = list(ctx.text)
    for d in dates:  # "Le 6 mars": a day, not six signatories
        for m in d.mentions:
            masked[m.start : m.end] = " " * (m.end - m.start)
    plain = "".join(masked)
    for sent in sent_spans:
        for h in ctx.holders:
            if sent[0] <= h.start < sent[1] and h.member.province is not None:
                out.setdefault(
                    h.member.key,
                    PactSignatory(
                        name=h.member.name or h.member.key, department=h.member.department, province=h.member.province
                    ),
                )
        by_dept = {d.id: d for d in ctx.depts}
        for off in officials:
            if any(sent[0] <= m.start < sent[1] for m in off.mentions):
                org = off.organization.id if off.organization else None
                dept = by_dept.get(org) if org else None
                if dept is not None and dept.id in out:
                    out[dept.id].official = out[dept.id].official or off.id  # the department's signer
                elif dept is not None:
                    out[dept.id] = PactSignatory(
                        name=dept.name_vi, department=dept.id, official=off.id, province=dept.province
                    )
                else:
                    out.setdefault(off.id, PactSignatory(name=off.name, official=off.id))
        counts = {int(n) for n in re.findall(r"(?<![\d/.])(\d{1,2})(?![\d/.])", plain[sent[0] : sent[1]])}
        # "leaders of the 6 departments signed", "the cluster signed": every member (a number must be its size).
        sized = len(cluster.members) in counts if cluster is not None else False
        if cluster is not None and cluster.members and (sized or (not out and not counts)):
            by_id = {d.id: d for d in ctx.depts}
            for member in cluster.members:
                dept = by_id.get(member.department) if member.department else None
                name = dept.name_vi if dept else (member.name or member.key)
                out.setdefault(
                    member.key, PactSignatory(name=name, department=member.department, province=member.province)
                )
    return list(out.values())


def _pact(
    ctx: _Ctx,
    clusters: list[tuple[Organization, Cluster]],
    officials: list[Official],
    themes: list[Theme],
    dates: list[DateEntity],
    ref: date | None,
) -> Pact | None:
    pact_spans = _find(ctx.folded, _cues("pact_words", ctx.lang))
    if not clusters and not _find(ctx.folded, _cues("emulation_words", ctx.lang)):
        return None  # "a trade pact": not an emulation pact
    anchors = [s for s, _ in pact_spans] + [m.start for o, _ in clusters for m in o.mentions]
    events = _event_sentences(ctx, anchors)
    event = events[0] if events else None
    if not pact_spans and event is None:
        return None
    if event is None:
        sent, kind, cue = _sentence_of(ctx, pact_spans[0][0]), "other", pact_spans[0][0]
    else:
        sent, kind, cue = event
    cluster = _nearest_cluster(clusters, cue) if clusters else None
    # A headline ("Cụm thi đua số 1 ký giao ước năm 2024") names the event; its day and place come a line later.
    same = [sent, *(s for s, k, _ in events[1:] if k == kind)]
    day = next(
        (d for s in same for d in dates if d.granularity == "day" and any(s[0] <= m.start < s[1] for m in d.mentions)),
        None,
    )
    years = [y for off, y in ctx.years if sent[0] <= off < sent[1]]
    all_years = Counter(y for _, y in ctx.years)
    year = (int(day.value[:4]) if day else None) or (years[0] if years else None)
    year = year or (all_years.most_common(1)[0][0] if all_years else None) or (ref.year if ref else None)
    covered = _reviewed_year(ctx, sent, cue) if kind == "review" else None
    if covered is not None and (year is None or covered <= year):
        year = covered  # "Ngày 10/3/2022 ... tổng kết công tác thi đua năm 2021": the year reviewed
    theme = None
    for t in themes:
        if t.kind != "slogan" or not t.mentions:
            continue
        start = t.mentions[0].start
        tsent = _sentence_of(ctx, start)
        named = [y for off, y in ctx.years if tsent[0] <= off < start]
        if not named or named[-1] == year:  # "ký kết giao ước năm 2025 với phương châm …": next year's pact
            theme = t.text
            break
    # Who signed: sentences saying the pact was signed ("lãnh đạo 6 Sở TN&MT đã ký giao ước"), not "to sign".
    pact_sents = {_sentence_of(ctx, p) for p, _ in pact_spans}
    sign_sents = sorted(
        {
            _sentence_of(ctx, s)
            for s, _ in _find(ctx.folded, _cues("signed_cues", ctx.lang))
            if _sentence_of(ctx, s) in pact_sents
        }
    )
    # A pact document ends with a signature block: a short heading ("ĐẠI DIỆN CÁC ĐƠN VỊ KÝ GIAO ƯỚC"), then
    # one line per signer.
    block = next(
        (
            i
            for i, (a, b) in enumerate(ctx.sentences)
            if b - a <= 80 and _find(ctx.folded, _cues("signature_block_cues", ctx.lang), a, b)
        ),
        None,
    )
    if block is not None:
        sign_sents = sorted(set(sign_sents) | set(_signature_block(ctx, block, officials)))
    scope = cluster.id if cluster else None
    if scope is None:
        # Without a cluster, the organising body scopes the id, so unrelated pacts do not share one.
        host = _holder_before(ctx, cue, sent[0]) or next(
            (h for h in ctx.holders if sent[0] <= h.start < sent[1]), ctx.holders[0] if ctx.holders else None
        )
        scope = host.member.key if host else "unscoped"
    mentions = [Mention(text=ctx.text[s:e], start=s, end=e) for s, e in pact_spans]
    if not mentions:
        mentions = [
            Mention(text=ctx.text[cue:e], start=cue, end=e)
            for s, e in _find(ctx.folded, _cues(kind, ctx.lang, _data()["kind_cues"]), cue, sent[1])[:1]
        ]
    return Pact(
        id=f"vn-emulation-pact:{scope}:{year if year else 'unknown'}:{kind}",
        kind=kind,  # type: ignore[arg-type]
        cluster=ClusterRef(id=cluster.id, number=cluster.number, region=cluster.region, group=cluster.group)
        if cluster
        else None,
        year=year,
        date=day.value if day else None,
        place=next((p for s in same if (s == sent or _agrees(ctx, s, year)) and (p := _place(ctx, s, ref))), None),
        theme=theme,
        signatories=_signatories(ctx, sign_sents, officials, cluster, dates),
        contents=_contents(ctx, 0) or _inline_contents(ctx),
        mentions=mentions,
    )


def find_cluster_facts(
    text: str,
    lang: str,
    reference: date | None,
    numbered: list[Organization],
    organizations: list[Organization],
    departments: list[Department],
    provinces: list[Province],
    officials: list[Official],
    themes: list[Theme],
    dates: list[DateEntity],
) -> Facts:
    """Clusters (members, owner, yearly roles) and the pact event of one article.

    `numbered` are the engine's clusters (`kind == "emulation_cluster"`: numbered, or named after a region);
    `reference` is the article's date (it dates roles and pacts whose year the text leaves out).
    """
    folded = fold(text)
    ctx = _Ctx(
        text=text,
        folded=folded,
        lang=lang,
        sentences=sentences(text),
        holders=_holders(text, folded, departments, provinces),
        depts=departments,
        years=[(m.start(), int(m.group(1))) for m in _YEAR.finditer(text)],
    )
    ctx.places = _places(ctx.holders, provinces)
    pairs: list[tuple[Organization, Cluster]] = []
    split: list[tuple[Organization, str]] = []
    for org in numbered:
        # The engine keys clusters by number: a ministry's "Cụm ... số 2" and a province's "Khối ... số 2" differ.
        by_kind: dict[str, list[Mention]] = {}
        for m in org.mentions:
            by_kind.setdefault(_kind_of(ctx, m), []).append(m)
        split += [(org.model_copy(update={"mentions": ms, "name": ms[0].text}), k) for k, ms in by_kind.items()]
    for org, kind in sorted(split, key=lambda x: x[0].mentions[0].start):
        if org.number is None and org.region is None and org.group is None:
            continue
        members = _members(ctx, org, alone=len(split) == 1)
        owner = _ministry_owner(organizations, org)
        if owner is None and (kind == "bloc" or org.group is not None):
            owner = _province_owner(ctx, provinces, org)
        owner = owner or _sector_owner(members) or _group_owner(org, provinces)
        label = org.number if org.number is not None else str(org.region or org.group)
        cluster = Cluster(
            id=cluster_id(kind, label, owner),
            number=org.number,
            region=org.region,
            group=org.group,
            kind=kind,  # type: ignore[arg-type]
            name=org.mentions[0].text,
            belongs_to=owner,
            members=members,
            mentions=list(org.mentions),
        )
        pairs.append((org, cluster))
    day_years = [int(d.value[:4]) for d in dates if d.granularity == "day"]
    all_years = Counter(y for _, y in ctx.years)
    default_year = (day_years[0] if day_years else None) or (
        all_years.most_common(1)[0][0] if all_years else (reference.year if reference else None)
    )
    pact = _pact(ctx, pairs, officials, themes, dates, reference)
    if pact is not None and pact.kind == "review" and pact.year is not None:
        # A review report speaks of the year reviewed: its head and deputy are that year's (issue 18).
        default_year = pact.year
    if pairs:
        _roles(ctx, pairs, default_year)
        for _, cluster in pairs:
            cluster.roles.sort(key=lambda r: (r.year, r.role != "head"))
            if cluster.group is not None and cluster.group.endswith("_inspectorates"):
                _as_inspectorates(cluster)
    return Facts(clusters=[c for _, c in pairs], pacts=[pact] if pact else [])
