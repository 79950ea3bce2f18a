"""The import contract (ARCHITECTURE.md): which layer may import which, no import loops, no hidden imports.

Read from the source with `ast`, so it holds for code no test happens to execute:
- `schemas` imports nothing of the project; `extractors` only `schemas` and itself;
- `flows` never imports the command line (`newsflow.cli`, `newsflow.commands`);
- no import loop between the project's modules (imports inside functions count too: they hide loops);
- imports of project modules inside functions only where deferring them is the point (the command line and the
  benchmarks load Prefect, spaCy and the models only for the command that needs them; the translation provider
  table loads deep-translator only when a client is made), each such module saying so.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from extractors import config
from newsflow.settings import Settings

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "extractors", "newsflow", "flows", "benchmarks")
# Modules that import project modules inside functions on purpose; each says why in a "Deferred imports" comment.
# The provider table is read at start-up (settings, CLI): its client functions load deep-translator when called.
DEFERRING = ("newsflow/cli.py", "newsflow/commands/", "benchmarks/", "extractors/translate/providers.py")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for package in PACKAGES for p in sorted((REPO / package).rglob("*.py"))}


MODULES = _modules()


class Import:
    def __init__(self, source: str, target: str, line: int, in_function: bool, typing_only: bool) -> None:
        self.source, self.target, self.line = source, target, line
        self.in_function, self.typing_only = in_function, typing_only

    def __repr__(self) -> str:
        where = "in a function" if self.in_function else "at module level"
        return f"{MODULES[self.source].relative_to(REPO)}:{self.line} imports {self.target} {where}"


def _imports(name: str) -> list[Import]:
    """The project modules `name` imports (`from a.b import c` names a.b.c when that is a module)."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool, typing_only: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, typing_only)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                visit(child, in_function, True)
            elif isinstance(child, ast.Import):
                found.extend(Import(name, a.name, child.lineno, in_function, typing_only) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    full = f"{child.module}.{alias.name}"
                    target = full if full in MODULES else child.module
                    found.append(Import(name, target, child.lineno, in_function, typing_only))
            else:
                visit(child, in_function, typing_only)

    visit(ast.parse(MODULES[name].read_text(encoding="utf-8")), False, False)
    return [i for i in found if i.target.split(".")[0] in PACKAGES]


IMPORTS = [i for name in MODULES for i in _imports(name)]


def _layer(module: str) -> str:
    return module.split(".")[0]


def test_the_contract_sees_the_project() -> None:
    """A contract that parsed nothing would pass: it must see every layer and their imports."""
    assert {_layer(m) for m in MODULES} == set(PACKAGES)
    assert any(i.source.startswith("flows.") and i.target.startswith("extractors.") for i in IMPORTS)
    assert len(IMPORTS) > 200


def test_schemas_import_nothing_of_the_project() -> None:
    assert [i for i in IMPORTS if _layer(i.source) == "schemas" and _layer(i.target) != "schemas"] == []


def test_extractors_import_only_schemas_and_themselves() -> None:
    allowed = ("extractors", "schemas")
    wrong = [i for i in IMPORTS if _layer(i.source) == "extractors" and _layer(i.target) not in allowed]
    assert wrong == []


def test_flows_do_not_import_the_command_line() -> None:
    wrong = [
        i
        for i in IMPORTS
        if _layer(i.source) == "flows" and (i.target == "newsflow.cli" or i.target.startswith("newsflow.commands"))
    ]
    assert wrong == []


def test_nothing_below_the_flows_imports_them() -> None:
    """`flows` orchestrates: the library, the schemas and the store never reach up into it."""
    wrong = [i for i in IMPORTS if _layer(i.target) == "flows" and _layer(i.source) in ("schemas", "extractors")]
    wrong += [
        i
        for i in IMPORTS
        if _layer(i.target) == "flows"
        and i.source.startswith(("newsflow.storage", "newsflow.settings", "newsflow.runtime"))
    ]
    assert wrong == []


def _loops() -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), over every import but typing-only ones."""
    graph: dict[str, set[str]] = defaultdict(set)
    for i in IMPORTS:
        if not i.typing_only and i.target in MODULES and i.target != i.source:
            graph[i.source].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                loops.append(sorted(group))

    for module in MODULES:
        if module not in index:
            connect(module)
    return loops


def test_no_import_loops() -> None:
    # A package importing its own submodules (`extractors/__init__` -> `extractors.x`) is no loop: x never
    # imports it back, except through the package name, which the graph does not count as `extractors.x`.
    assert _loops() == []


def test_project_imports_in_functions_only_where_deferring_is_the_point() -> None:
    deferred = [i for i in IMPORTS if i.in_function]
    elsewhere = [i for i in deferred if not str(MODULES[i.source].relative_to(REPO)).startswith(DEFERRING)]
    assert elsewhere == []
    for path in {MODULES[i.source] for i in deferred}:
        assert "Deferred imports" in path.read_text(encoding="utf-8"), f"{path}: say why its imports are deferred"


@pytest.mark.parametrize(
    "protocol",
    [
        config.FetchConfig,
        config.DocumentConfig,
        config.SourceConfig,
        config.AcquireConfig,
        config.TranslateConfig,
        config.PipelineConfig,
    ],
)
def test_the_settings_satisfy_every_extractor_protocol(protocol: type) -> None:
    """mypy checks the types where newsflow hands its settings down; this checks every name exists."""
    wanted = {
        name
        for klass in protocol.__mro__
        if klass not in (object,)
        for name in vars(klass)
        if isinstance(vars(klass)[name], property)
    }
    assert wanted, protocol
    assert wanted <= set(Settings.model_fields), sorted(wanted - set(Settings.model_fields))
