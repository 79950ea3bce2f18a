"""The deployments: one table that `newsflow serve` serves and `prefect.yaml` declares for work pools.

A test checks that prefect.yaml declares the same names, entrypoints, schedules and time zone as DEPLOYMENTS.
Schedules are crons in Asia/Ho_Chi_Minh; `newsflow serve` takes them from the settings
(NEWSFLOW_SITE_CRON, NEWSFLOW_RETRANSLATE_CRON, NEWSFLOW_SCHEDULE_TIMEZONE), prefect.yaml states them
literally (edit it, or `prefect deployment schedule create ... --cron ... --timezone ...`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from newsflow.settings import Settings

TAGS = ("newsflow",)


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: which flow (module:function), what it is for, and its schedule if any."""

    name: str
    entrypoint: str  # "flows/ops.py:ingest_sources" (prefect.yaml form)
    description: str
    cron_setting: str | None = None  # the Settings field holding the cron
    tags: tuple[str, ...] = field(default=TAGS)

    @property
    def module(self) -> str:
        return self.entrypoint.split(":")[0].removesuffix(".py").replace("/", ".")

    @property
    def function(self) -> str:
        return self.entrypoint.split(":")[1]

    def load_flow(self) -> Any | None:
        """The flow object, or None when its module does not exist (yet)."""
        try:
            module = importlib.import_module(self.module)
        except ModuleNotFoundError as exc:
            if exc.name == self.module:
                return None
            raise
        return getattr(module, self.function, None)


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        "ingest-sources", "flows/ops.py:ingest_sources", "Ingest articles from paths on the worker and http(s) URLs."
    ),
    DeploymentSpec(
        "ingest-site",
        "flows/ops.py:ingest_site",
        "Ingest pages of one site on a schedule (NEWSFLOW_SITE_NAME / NEWSFLOW_SITE_URLS).",
        cron_setting="site_cron",
    ),
    DeploymentSpec("process-text", "flows/ops.py:process_text", "Process one pasted article (up to 80,000 chars)."),
    DeploymentSpec(
        "reprocess", "flows/ops.py:reprocess", "Run extraction again on the stored raw inputs and update the records."
    ),
    DeploymentSpec(
        "retranslate-pending",
        "flows/retranslate.py:retranslate",
        "Translate again the records whose translation is pending.",
        cron_setting="retranslate_cron",
    ),
    DeploymentSpec("export", "flows/ops.py:export_records", "Write stored records to one file in output/exports."),
)


def schedule_for(spec: DeploymentSpec, settings: Settings) -> tuple[str, bool] | None:
    """(cron, active) of a deployment; the site schedule is inactive until a site and pages are set."""
    if spec.cron_setting is None:
        return None
    cron: str = getattr(settings, spec.cron_setting)
    active = True
    if spec.name == "ingest-site":
        active = bool(settings.site_name and settings.site_urls)
    return cron, active


def default_parameters(spec: DeploymentSpec, settings: Settings) -> dict[str, Any]:
    if spec.name == "ingest-site" and settings.site_name and settings.site_urls:
        return {"site": settings.site_name, "urls": list(settings.site_urls)}
    return {}


def closed_schema(deployment: Any) -> Any:
    """The deployment with a parameter schema that refuses unknown parameters (`additionalProperties: false`).

    The flows take their fields at the top level, and Prefect's schema of a signature accepts any other key: the
    server would start a run with a misspelt or smuggled field (an article body) and the run would fail at once.
    Closed, the server refuses it (HTTP 409, no run), as the models (`extra="forbid"`) do.
    """
    from prefect.utilities.callables import ParameterSchema

    class ClosedParameterSchema(ParameterSchema):
        additionalProperties: bool = False  # the JSON schema's spelling

    schema = deployment._parameter_openapi_schema
    fields = schema.model_dump(exclude_unset=True)
    deployment._parameter_openapi_schema = ClosedParameterSchema(**fields, additionalProperties=False)
    return deployment


def build_deployments(settings: Settings) -> tuple[list[Any], list[str]]:
    """RunnerDeployments for `serve()`, and the names of those skipped because their flow is missing."""
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    deployments: list[Any] = []
    missing: list[str] = []
    for spec in DEPLOYMENTS:
        flow = spec.load_flow()
        if flow is None:
            missing.append(spec.name)
            continue
        schedule = schedule_for(spec, settings)
        schedules = [Cron(schedule[0], timezone=settings.schedule_timezone, active=schedule[1])] if schedule else None
        deployments.append(
            closed_schema(
                flow.to_deployment(
                    name=spec.name,
                    description=spec.description,
                    tags=list(spec.tags),
                    schedules=schedules,
                    parameters=default_parameters(spec, settings) or None,
                    # Module path: the served process and the runs it starts import the installed package.
                    entrypoint_type=EntrypointType.MODULE_PATH,
                )
            )
        )
    return deployments, missing
