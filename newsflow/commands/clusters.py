"""`newsflow clusters`: the emulation-cluster registry built from the stored records.

`newsflow clusters` lists every cluster; `newsflow clusters show 8 --ministry MONRE` prints one timeline
(members, head and deputy per year, pacts), each fact with the records that support it and any conflict.
`--json` prints the registry as JSON; `--output FILE` writes it to a file.
"""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from extractors.entities.clusters import group_key, group_name, region_key, region_name
from extractors.registry import ClusterTimeline, Registry, build_registry, owner_matches
from newsflow.errors import UserError

clusters_app = typer.Typer(
    help="Emulation clusters merged over the stored records: list, show one, export as JSON.",
    invoke_without_command=True,
    no_args_is_help=False,
)

MinistryOpt = Annotated[
    str | None,
    typer.Option(
        "--ministry",
        "-m",
        help="Only clusters of this ministry or province: id, sector key or name "
        "('MONRE', 'Bộ TN&MT', 'natural_resources_environment', 'Long An').",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (the registry) instead of a table.")]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON to this file.")]
DataDirOpt = Annotated[
    Path | None, typer.Option("--data-dir", help="Where the SQLite database is (NEWSFLOW_DATA_DIR).")
]
DatabaseOpt = Annotated[str | None, typer.Option("--database-url", help="SQLAlchemy URL of the store.")]


def _registry(data_dir: Path | None, database_url: str | None, ministry: str | None) -> Registry:
    from newsflow.runtime import open_store
    from newsflow.settings import configure, get_settings

    configure(data_dir, database_url)
    store = open_store(get_settings().resolved_database_url)
    try:
        registry = build_registry(store.iter_records())
    finally:
        store.close()
    if ministry is not None:
        registry.clusters = [c for c in registry.clusters if owner_matches(c.belongs_to, ministry)]
    return registry


def _emit(registry: Registry, as_json: bool, output: Path | None) -> bool:
    """Write JSON when asked; True when done (no table wanted)."""
    from newsflow.output import atomic_write_text

    cited = {rid for c in registry.clusters for rid in c.records}
    registry.records = {k: v for k, v in registry.records.items() if k in cited}
    text = registry.model_dump_json(indent=2) + "\n"
    if output is not None:
        if output.is_dir():
            raise UserError(f"--output {output}: is a directory")
        if not output.parent.is_dir():
            raise UserError(f"--output {output}: directory {output.parent} does not exist")
        atomic_write_text(output, text)
    if as_json:
        typer.echo(text, nl=False)
    return as_json or output is not None


def _owner(c: ClusterTimeline) -> str:
    return c.belongs_to.name if c.belongs_to is not None else "-"


_WIDE = 150  # columns the nine-column table needs to keep most cells on one line


def _label(c: ClusterTimeline) -> str:
    """Its number, or the region a cluster without one is named after, or its members' kind."""
    if c.number is not None:
        return str(c.number)
    return region_name(str(c.region), "vi") if c.region is not None else group_name(str(c.group), "vi")


@clusters_app.callback()
def clusters(
    ctx: typer.Context,
    ministry: MinistryOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """List the emulation clusters found in the stored records (heads per year, pacts, conflicts)."""
    if ctx.invoked_subcommand is not None:
        return
    registry = _registry(data_dir, database_url, ministry)
    if _emit(registry, as_json, output):
        return
    console = Console()
    rows = []
    for c in registry.clusters:
        heads = ", ".join(
            f"{r.year} {'/'.join(h.province.name if h.province else h.id for h in r.holders)}"
            for r in c.roles
            if r.role == "head"
        )
        pacts = ", ".join(f"{p.year} {p.kind}" for p in c.pacts)
        rows.append((c, heads or "-", pacts or "-"))
    if console.width < _WIDE and rows:
        # A terminal too narrow for nine columns (80 is common) gets one block per cluster instead of a table whose
        # every cell wraps.
        for c, heads, pacts in rows:
            console.print(f"[bold]{_label(c)}[/bold] {c.kind}, {_owner(c)}", highlight=False)
            console.print(
                f"  members {len(c.members)} · records {len(c.records)} · conflicts {len(c.conflicts)}", highlight=False
            )
            console.print(f"  heads: {heads}", highlight=False)
            console.print(f"  pacts: {pacts}", highlight=False)
            console.print(f"  id: {c.id}", highlight=False, soft_wrap=True)
    else:
        table = Table(title="emulation clusters")
        for column in (
            "no./region/members",
            "kind",
            "belongs to",
            "members",
            "heads",
            "pacts",
            "records",
            "conflicts",
            "id",
        ):
            table.add_column(column, overflow="fold")
        for c, heads, pacts in rows:
            table.add_row(
                _label(c),
                c.kind,
                _owner(c),
                str(len(c.members)),
                heads,
                pacts,
                str(len(c.records)),
                str(len(c.conflicts)),
                c.id,
            )
        console.print(table)
    if not registry.clusters:
        Console(stderr=True).print("no clusters in the store" + (f" for --ministry {ministry}" if ministry else ""))


@clusters_app.command("show")
def show(
    cluster: Annotated[
        str,
        typer.Argument(
            help="The cluster's number (8 for 'Cụm thi đua số VIII'), or for a cluster without one the region "
            "it is named after ('central_highlands', 'Tây Nguyên') or its members' kind ('party_agencies', "
            "'các cơ quan Đảng')."
        ),
    ],
    ministry: MinistryOpt = None,
    as_json: JsonOpt = False,
    output: OutputOpt = None,
    data_dir: DataDirOpt = None,
    database_url: DatabaseOpt = None,
) -> None:
    """One cluster's timeline: members, head and deputy per year, pacts, each with its supporting records."""
    registry = _registry(data_dir, database_url, ministry)
    everything = registry.clusters
    number = int(cluster) if cluster.strip().isdigit() else None
    region = None if number is not None else region_key(cluster)
    group = None if number is not None or region is not None else group_key(cluster)
    if number is None and region is None and group is None:
        raise UserError(f"cluster {cluster!r}: not a number nor a region's or members' kind's key or name")
    registry.clusters = [c for c in everything if (c.number, c.region, c.group) == (number, region, group)]
    if not registry.clusters:
        scope = f" of {ministry}" if ministry else ""
        raise UserError(
            f"cluster {cluster}{scope}: not in the store (clusters there: "
            f"{', '.join(_label(c) for c in everything) or 'none'})"
        )
    if _emit(registry, as_json, output):
        return
    console = Console()
    for c in registry.clusters:
        console.print(f"[bold]{c.names[0]}[/bold] ({c.kind} {_label(c)}, {_owner(c)})  {c.id}")
        console.print(f"  names: {' | '.join(c.names)}")
        # The tables cite records by number: a record id is 27 characters, and three of them wrapped every row.
        ref = {rid: str(n) for n, rid in enumerate(c.records, 1)}

        def cite(rids: list[str], ref: dict[str, str] = ref) -> str:
            return ", ".join(ref.get(r, r) for r in rids)

        console.print("  records:")
        for rid in c.records:
            info = registry.records.get(rid)
            about = ""
            if info is not None:
                about = f" {info.language} {info.published_at[:10] if info.published_at else '-'} {info.title or ''}"
            console.print(f"   [{ref[rid]}] {rid}{about}", markup=False, highlight=False)
        table = Table(title="members", title_justify="left")
        for column in ("province", "member", "kind", "records"):
            table.add_column(column, overflow="fold")
        for m in c.members:
            table.add_row(m.province.name if m.province else "-", m.name or m.id, m.kind, cite(m.records))
        console.print(table)
        roles = Table(title="head and deputy by year", title_justify="left")
        for column in ("year", "role", "holder", "basis", "records", "conflict"):
            roles.add_column(column, overflow="fold")
        for r in c.roles:
            for h in r.holders:
                roles.add_row(
                    str(r.year),
                    r.role,
                    h.province.name if h.province else h.id,
                    ", ".join(h.basis),
                    cite(h.records),
                    "CONFLICT" if r.conflict else "",
                )
        console.print(roles)
        pacts = Table(title="pacts", title_justify="left")
        for column in ("year", "kind", "date", "place", "theme", "contents", "records"):
            pacts.add_column(column, overflow="fold")
        for p in c.pacts:
            pacts.add_row(
                str(p.year or "-"),
                p.kind,
                " / ".join(f.value for f in p.dates) or "-",
                " / ".join(f.value for f in p.places) or "-",
                "\n".join(f.value for f in p.themes) or "-",
                str(len(p.contents)),
                cite(p.records),
            )
        console.print(pacts)
        for line in c.conflicts:
            console.print(f"  [red]conflict:[/red] {line}", markup=True, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(clusters_app, name="clusters")
