"""The cluster registry: what every stored article says about emulation clusters, merged into one timeline each.

Each fact (a member, a head or deputy for a year, a pact with its date, place and theme) keeps the ids of the
records that support it. Where articles disagree (two heads for one year, two dates for one pact) both readings
stay, and the disagreement is listed in `conflicts`: nothing is resolved silently.

A cluster id without an owner ('vn-emulation-cluster:8', from an article that names neither the ministry nor
the members' sector) joins the one owned cluster of that kind and number, when exactly one exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from extractors.entities import lexicon as lx
from extractors.text import fold
from schemas.models import ArticleRecord, Cluster, ClusterOwner, MemberKind, Pact, ProvinceRef, Sector

REGISTRY_VERSION = "1.3.0"  # 1.1: members and role holders of any body kind, keyed by `id`; 1.2: `region`; 1.3: `group`


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RecordInfo(_Model):
    """A record that supports facts: enough to find and cite it."""

    id: str
    title: str | None
    published_at: str | None = Field(description="ISO 8601, as stored.")
    language: str
    uri: str


class MemberFact(_Model):
    id: str = Field(description="The member's id: a department id, or 'vn-body:<body key>:<province id>'.")
    kind: MemberKind
    name: str | None
    department: str | None
    sector: Sector | None
    province: ProvinceRef | None
    records: list[str]


class RoleHolder(_Model):
    id: str = Field(description="The holder's member id.")
    name: str | None
    department: str | None
    province: ProvinceRef | None
    basis: list[Literal["stated", "handover"]] = Field(description="How the supporting articles say it.")
    records: list[str]


class RoleFact(_Model):
    year: int
    role: Literal["head", "deputy"]
    holders: list[RoleHolder] = Field(description="More than one holder is a conflict between articles.")
    conflict: bool


class ValueFact(_Model):
    """One reading of a pact field and the records that give it."""

    value: str
    records: list[str]


class PactFact(_Model):
    id: str
    kind: str
    year: int | None
    dates: list[ValueFact] = Field(description="ISO days; more than one is a conflict.")
    places: list[ValueFact] = Field(description="Province names; more than one is a conflict.")
    themes: list[ValueFact] = Field(description="The theme as each edition writes it (one per language is normal).")
    signatories: list[ValueFact]
    contents: list[str] = Field(description="The longest list any record gives.")
    records: list[str]


class ClusterTimeline(_Model):
    id: str
    number: int | None = Field(description="Null for a cluster named after its region.")
    region: str | None = Field(default=None, description="The region's key, for a cluster without a number.")
    group: str | None = Field(
        default=None, description="The key of its members' kind, for a cluster with neither number nor region."
    )
    kind: Literal["cluster", "bloc"]
    names: list[str] = Field(description="Every way the records write its name.")
    belongs_to: ClusterOwner | None
    members: list[MemberFact]
    roles: list[RoleFact] = Field(description="By year, head first.")
    pacts: list[PactFact] = Field(description="By year and date.")
    conflicts: list[str] = Field(description="Human-readable disagreements between records.")
    records: list[str]


class Registry(_Model):
    registry_version: str = REGISTRY_VERSION
    clusters: list[ClusterTimeline]
    records: dict[str, RecordInfo] = Field(description="Every record cited above, by id.")


def _add(target: list[str], rid: str) -> None:
    if rid not in target:
        target.append(rid)


def _value(facts: list[ValueFact], value: str | None, rid: str) -> None:
    if value is None:
        return
    for f in facts:
        if f.value == value:
            _add(f.records, rid)
            return
    facts.append(ValueFact(value=value, records=[rid]))


def _canonical_ids(records: list[ArticleRecord]) -> dict[str, str]:
    """Unowned cluster ids -> the single owned cluster of the same kind and number (or region), when there is one."""
    owned: dict[tuple[str, int | None, str | None, str | None], set[str]] = {}
    unowned: dict[str, tuple[str, int | None, str | None, str | None]] = {}
    for rec in records:
        for c in rec.entities.clusters:
            if c.belongs_to is None:
                unowned[c.id] = (c.kind, c.number, c.region, c.group)
            else:
                owned.setdefault((c.kind, c.number, c.region, c.group), set()).add(c.id)
    out: dict[str, str] = {}
    for cid, key in unowned.items():
        candidates = owned.get(key, set())
        if len(candidates) == 1:
            out[cid] = next(iter(candidates))
    return out


def _merge_cluster(tl: ClusterTimeline, c: Cluster, rid: str) -> None:
    _add(tl.records, rid)
    if c.name not in tl.names:
        tl.names.append(c.name)
    if tl.belongs_to is None and c.belongs_to is not None:
        tl.belongs_to = c.belongs_to
    for m in c.members:
        fact = next((f for f in tl.members if f.id == m.key), None)
        if fact is None:
            tl.members.append(
                MemberFact(
                    id=m.key,
                    kind=m.kind,
                    name=m.name,
                    department=m.department,
                    sector=m.sector,
                    province=m.province,
                    records=[rid],
                )
            )
        else:
            _add(fact.records, rid)
    for r in c.roles:
        role = next((f for f in tl.roles if (f.year, f.role) == (r.year, r.role)), None)
        if role is None:
            role = RoleFact(year=r.year, role=r.role, holders=[], conflict=False)
            tl.roles.append(role)
        holder = next((h for h in role.holders if h.id == r.member.key), None)
        if holder is None:
            holder = RoleHolder(
                id=r.member.key,
                name=r.member.name,
                department=r.member.department,
                province=r.member.province,
                basis=[],
                records=[],
            )
            role.holders.append(holder)
        _add(holder.records, rid)
        if r.basis not in holder.basis:
            holder.basis.append(r.basis)


def _merge_pact(tl: ClusterTimeline, p: Pact, pact_id: str, rid: str) -> None:
    fact = next((f for f in tl.pacts if f.id == pact_id), None)
    if fact is None:
        fact = PactFact(
            id=pact_id,
            kind=p.kind,
            year=p.year,
            dates=[],
            places=[],
            themes=[],
            signatories=[],
            contents=[],
            records=[],
        )
        tl.pacts.append(fact)
    _add(fact.records, rid)
    _value(fact.dates, p.date, rid)
    _value(fact.places, p.place.name if p.place else None, rid)
    _value(fact.themes, p.theme, rid)
    for s in p.signatories:
        _value(fact.signatories, s.province.name if s.department and s.province else s.name, rid)
    if len(p.contents) > len(fact.contents):
        fact.contents = list(p.contents)


def _name(province: ProvinceRef | None, department: str) -> str:
    return province.name if province else department


def _conflicts(tl: ClusterTimeline) -> list[str]:
    out: list[str] = []
    for role in tl.roles:
        role.conflict = len(role.holders) > 1
        if role.conflict:
            readings = "; ".join(f"{_name(h.province, h.id)} ({', '.join(h.records)})" for h in role.holders)
            out.append(f"{role.year} {role.role}: {readings}")
    for pact in tl.pacts:
        for label, facts in (("date", pact.dates), ("place", pact.places)):
            if len(facts) > 1:
                readings = "; ".join(f"{f.value} ({', '.join(f.records)})" for f in facts)
                out.append(f"pact {pact.year} {pact.kind} {label}: {readings}")
    return out


def build_registry(records: Iterable[ArticleRecord]) -> Registry:
    """Merge the clusters and pacts of `records` into one timeline per cluster, each fact citing its records."""
    recs = [r for r in records if r.entities.clusters or any(p.cluster for p in r.entities.pacts)]
    canonical = _canonical_ids(recs)
    timelines: dict[str, ClusterTimeline] = {}
    infos: dict[str, RecordInfo] = {}
    for rec in recs:
        cited = False
        for c in rec.entities.clusters:
            cid = canonical.get(c.id, c.id)
            tl = timelines.get(cid)
            if tl is None:
                tl = timelines[cid] = ClusterTimeline(
                    id=cid,
                    number=c.number,
                    region=c.region,
                    group=c.group,
                    kind=c.kind,
                    names=[],
                    belongs_to=None,
                    members=[],
                    roles=[],
                    pacts=[],
                    conflicts=[],
                    records=[],
                )
            _merge_cluster(tl, c, rec.id)
            cited = True
        for p in rec.entities.pacts:
            if p.cluster is None:
                continue
            cid = canonical.get(p.cluster.id, p.cluster.id)
            if cid not in timelines:
                continue
            _merge_pact(timelines[cid], p, p.id.replace(p.cluster.id, cid, 1), rec.id)
        if cited:
            infos[rec.id] = RecordInfo(
                id=rec.id,
                title=rec.title,
                language=rec.language.code,
                uri=rec.source.uri,
                published_at=rec.published_at.isoformat() if rec.published_at else None,
            )
    for tl in timelines.values():
        tl.roles.sort(key=lambda r: (r.year, r.role != "head"))
        tl.pacts.sort(key=lambda p: (p.year or 0, p.dates[0].value if p.dates else "", p.kind))
        tl.conflicts = _conflicts(tl)
    ordered = sorted(
        timelines.values(),
        key=lambda t: (t.belongs_to.id if t.belongs_to else "~", t.kind, t.number or 0, t.region or "", t.group or ""),
    )
    return Registry(clusters=ordered, records=infos)


def owner_matches(owner: ClusterOwner | None, query: str) -> bool:
    """Whether `query` names the owner: its id, its sector key, or any way the lexicon writes the ministry
    ('MONRE', 'Bộ TN&MT', 'natural_resources_environment') or the national body ('Liên hiệp Hội'), or the
    province's name for a bloc."""
    if owner is None:
        return False
    q = fold(query).strip()
    if not q:
        return False
    names = [owner.id, owner.name]
    if owner.kind == "ministry":
        sector = owner.id.split(":", 1)[1]
        names.append(sector)
        ministry = lx.departments().get(sector, {}).get("ministry") or {}
        names += [f for code in lx.LANGUAGES for f in ministry.get(code, [])]
    elif owner.kind == "national_body":  # "Liên hiệp Hội", "science_technology_associations"
        key = owner.id.split(":", 1)[1]
        body = lx.load("clusters")["member_bodies"].get(key) or {}
        names += [key, body.get("name_vi", "")] + [f for code in lx.LANGUAGES for f in body.get(code, [])]
    folded = [fold(n) for n in names]
    return any(q == n for n in folded) or any(len(q) >= 4 and q in n for n in folded)
