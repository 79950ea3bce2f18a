"""CLI commands beyond the core ones, one module per area; each module defines `register(app)`.

`newsflow/cli.py` registers every module listed in `MODULES`, so an area adds its commands in its own file.
"""

MODULES: tuple[str, ...] = ()
