"""Vietnam's provinces in both schemes, built from the maintained `vietnamadminunits` package.

The package gives the 63 units in force before 1 July 2025 (`legacy_63`) and the 34 since (`current_34`),
with the old -> new mapping. Province codes are reused with different meanings across the schemes
(80 = Long An before, Tây Ninh after), so an id always carries its scheme.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from extractors.text import ascii_name, fold
from schemas.models import ProvinceRef, Scheme

MERGER_DATE = "2025-07-01"


@dataclass(frozen=True)
class ProvinceEntry:
    """One province of one scheme, with every surface form we match it by."""

    id: str
    name: str
    name_ascii: str
    name_en: str
    code: str
    scheme: Scheme
    key: str
    is_city: bool
    needs_marker: bool = False
    forms: tuple[str, ...] = field(default_factory=tuple)
    successor_id: str | None = None

    def ref(self) -> ProvinceRef:
        return ProvinceRef(id=self.id, name=self.name, code=self.code, scheme=self.scheme)


@dataclass
class Gazetteer:
    """Both schemes, indexed by id and by folded surface form."""

    entries: dict[str, ProvinceEntry]
    by_form: dict[str, list[ProvinceEntry]]

    def get(self, province_id: str) -> ProvinceEntry:
        return self.entries[province_id]

    def successor(self, entry: ProvinceEntry) -> ProvinceEntry | None:
        return self.entries[entry.successor_id] if entry.successor_id else None

    def scheme_entries(self, scheme: Scheme) -> list[ProvinceEntry]:
        return [e for e in self.entries.values() if e.scheme == scheme]


def _package_dir() -> Path:
    """Where `vietnamadminunits` is installed, found without importing it: its `__init__` imports its address
    parsers, which read 3.6 MB of JSON and compile their patterns (0.3 s of CPU), and only its data is used here."""
    import importlib.util

    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _query(database: Path, sql: str) -> list[dict[str, str]]:
    """Rows of `sql` on the package's SQLite database, opened read-only (as `vietnamadminunits.database.query`
    reads it, without importing the package)."""
    import sqlite3

    conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql).fetchall()]
    finally:
        conn.close()


def _package_data() -> tuple[list[dict[str, str]], list[dict[str, str]], dict[str, list[str]]]:
    """Rows of both schemes and the new -> [old] mapping, read from the package's own data."""
    data = _package_dir() / "data"
    cols = "provinceCode, province, provinceShort, provinceKey"
    legacy = _query(data / "dataset.db", f"SELECT DISTINCT {cols} FROM admin_units_legacy")
    current = _query(data / "dataset.db", f"SELECT DISTINCT {cols} FROM admin_units")
    mapping = json.loads((data / "converter_2025.json").read_text(encoding="utf-8"))["DICT_PROVINCE"]
    if len(legacy) != 63 or len(current) != 34:
        raise RuntimeError(
            f"vietnamadminunits gave {len(legacy)} legacy and {len(current)} current provinces, expected 63 and 34"
        )
    return legacy, current, mapping


def _extra() -> dict[str, Any]:
    text = resources.files("extractors").joinpath("data/provinces_extra.json").read_text(encoding="utf-8")
    extra: dict[str, Any] = json.loads(text)
    return extra


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    """Build the gazetteer once per process."""
    legacy, current, mapping = _package_data()
    extra = _extra()
    cities = set(extra["centrally_run_cities"])
    info = extra["provinces"]
    old_to_new: dict[str, str] = {old: new for new, olds in mapping.items() for old in olds}

    entries: dict[str, ProvinceEntry] = {}
    current_by_key: dict[str, str] = {}
    for scheme, rows in (("current_34", current), ("legacy_63", legacy)):
        for row in rows:
            short = row["provinceShort"]
            meta = info.get(short, {})
            name = short
            name_en = meta.get("name_en", ascii_name(short))
            if scheme == "legacy_63" and meta.get("legacy_name"):
                name = meta["legacy_name"]
                name_en = meta.get("legacy_name_en", ascii_name(name))
            forms = {short, name, ascii_name(short), ascii_name(name), name_en, *meta.get("aliases", [])}
            pid = f"vn-province:{scheme}:{row['provinceCode']}"
            successor_id = None
            if scheme == "legacy_63":
                successor_id = current_by_key.get(old_to_new.get(row["provinceKey"], ""))
            entries[pid] = ProvinceEntry(
                id=pid,
                name=name,
                name_ascii=ascii_name(name),
                name_en=name_en,
                code=row["provinceCode"],
                scheme=scheme,  # type: ignore[arg-type]
                key=row["provinceKey"],
                is_city=short in cities,
                needs_marker=bool(meta.get("needs_marker")),
                forms=tuple(sorted(forms)),
                successor_id=successor_id,
            )
            if scheme == "current_34":
                current_by_key[row["provinceKey"]] = pid

    by_form: dict[str, list[ProvinceEntry]] = {}
    for entry in entries.values():
        for form in entry.forms:
            by_form.setdefault(fold(form), []).append(entry)
    return Gazetteer(entries=entries, by_form=by_form)
