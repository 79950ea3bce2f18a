"""CLI commands beyond the core ones, one module per area; each module defines `register(app)`.

`newsflow/cli.py` registers every module of this package, so an area adds its commands in its own file.
"""

from __future__ import annotations

# Deferred imports: as in newsflow/cli.py, a command loads the pipeline, Prefect or the store only when it runs.
import importlib
import pkgutil

import typer


def register_all(app: typer.Typer) -> None:
    """Call `register(app)` of every module in this package, in name order."""
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        importlib.import_module(f"{__name__}.{info.name}").register(app)
