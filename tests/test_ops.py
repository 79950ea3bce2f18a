"""Deployment plumbing without a server: parameter models, artifact content, task runner, prefect.yaml."""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.exc import OperationalError

from extractors.translate import PROVIDERS
from flows import report
from flows.deployments import DEPLOYMENTS, DeploymentSpec, build_deployments, schedule_for
from flows.ingest import batch_label, is_transient_db_error, short_uri
from flows.limits import LimitedTranslator, limit_name, site_limit, translate_limit, translate_rate_limit
from flows.ops import raw_from_paste
from flows.params import (
    PARAMS_MAX_BYTES,
    PASTE_MAX_CHARS,
    ExportParams,
    IngestSiteParams,
    IngestSourcesParams,
    ProcessTextParams,
    ReprocessParams,
    RetranslateParams,
    RetranslateProvider,
    parameters_size,
)
from flows.runners import build_task_runner, local_run_settings
from flows.summary import RunSummary, SummaryBuilder
from newsflow.settings import Settings
from newsflow.storage import StorageError
from schemas.models import RawArticle, SourceInfo

REPO = Path(__file__).resolve().parent.parent


def test_parameters_refuse_what_the_form_forbids() -> None:
    assert IngestSourcesParams(sources=["samples"]).target_language.value == "en"
    for bad in (
        {"sources": []},
        {"sources": ["-"]},
        {"sources": ["a\nb"]},
        {"sources": ["x"], "translator": "bing"},
        {"sources": ["x"], "body": "text"},
    ):
        with pytest.raises(ValidationError):
            IngestSourcesParams.model_validate(bad)
    with pytest.raises(ValidationError, match="not on the site"):
        IngestSiteParams(site="longan.gov.vn", urls=["https://example.com/a"])
    assert IngestSiteParams(site="longan.gov.vn", urls=["https://sotnmt.longan.gov.vn/a"]).urls
    with pytest.raises(ValidationError):
        ProcessTextParams(text="x" * (PASTE_MAX_CHARS + 1))
    with pytest.raises(ValidationError):
        ProcessTextParams(text="   ")
    with pytest.raises(ValidationError):
        ReprocessParams(limit=-1)
    with pytest.raises(ValidationError, match="is not a day like 2024-05-01"):
        ExportParams(since="2024-02-30")
    with pytest.raises(ValidationError, match="is not a date and time"):
        ProcessTextParams(text="x", published_at="yesterday")
    with pytest.raises(ValidationError):
        ExportParams.model_validate({"format": "xml"})


def test_pasted_text_stays_under_prefects_parameter_cap() -> None:
    from prefect._internal.schemas.validators import validate_parameter_size

    # The longest text of Vietnamese letters (6 bytes each once Prefect escapes them), title and URL fit...
    params = ProcessTextParams(text="ệ" * PASTE_MAX_CHARS, title="Đ" * 1000, url="https://a.example.vn/" + "ư" * 2000)
    validate_parameter_size(params.model_dump(mode="json"), PARAMS_MAX_BYTES)  # Prefect's own count
    assert parameters_size(params) <= PARAMS_MAX_BYTES
    # ... and what would not fit is refused by the model, saying what to do instead.
    with pytest.raises(ValidationError, match="Prefect refuses more than 524,288: pass paths or URLs"):
        ProcessTextParams(text="😀" * PASTE_MAX_CHARS)
    with pytest.raises(ValidationError, match="Prefect refuses more than"):
        IngestSourcesParams(sources=["/data/" + "a" * 2000] * 300)


# The model each deployment's flow builds from its top-level parameters.
PARAMS_MODELS: dict[str, type[BaseModel]] = {
    "ingest-sources": IngestSourcesParams,
    "ingest-site": IngestSiteParams,
    "process-text": ProcessTextParams,
    "reprocess": ReprocessParams,
    "retranslate-pending": RetranslateParams,
    "export": ExportParams,
}


def _params_model(spec: DeploymentSpec) -> type[BaseModel]:
    import inspect
    import typing

    flow = spec.load_flow()
    assert flow is not None, spec.name
    model = PARAMS_MODELS[spec.name]
    signature = inspect.signature(flow.fn)
    # The model's fields, at the top level, with the model's own annotated types and defaults.
    assert list(signature.parameters) == list(model.model_fields), f"{spec.name}: {signature}"
    hints = typing.get_type_hints(flow.fn, include_extras=True)
    model_hints = typing.get_type_hints(model, include_extras=True)
    for name, field in model.model_fields.items():
        assert hints[name] == model_hints[name], (spec.name, name)  # one definition per field
        default = signature.parameters[name].default
        expected = inspect.Parameter.empty if field.is_required() else field.get_default(call_default_factory=True)
        assert default == expected, (spec.name, name, default, expected)
    return model


def _unbounded(schema: dict[str, Any], defs: dict[str, Any], path: str = "") -> list[str]:
    """JSON-schema places where a string or array has no upper bound."""
    if "$ref" in schema:
        return _unbounded(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, path)
    found: list[str] = []
    for key in ("anyOf", "allOf", "oneOf"):
        for sub in schema.get(key, []):
            found += _unbounded(sub, defs, path)
    kind = schema.get("type")
    if kind == "string" and "maxLength" not in schema and "enum" not in schema and "format" not in schema:
        found.append(path or "<root>")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(path)
        found += _unbounded(schema.get("items", {}), defs, path + "[]")
    for name, sub in (schema.get("properties") or {}).items():
        found += _unbounded(sub, defs, f"{path}.{name}")
    return found


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_every_deployment_takes_bounded_references(spec: DeploymentSpec) -> None:
    model = _params_model(spec)
    assert model.model_config.get("extra") == "forbid" and model.model_config.get("title"), model
    schema = model.model_json_schema()
    assert _unbounded(schema, schema.get("$defs", {})) == [], f"{spec.name}: unbounded parameters"
    # Every field has a title and a description, so the UI's form explains itself.
    for name, field in model.model_fields.items():
        assert field.title and (field.description or field.annotation is not None), (spec.name, name)
    # A body smuggled in as an extra field is refused.
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        model.model_validate({"body": "Sở Tài chính tỉnh Long An họp."})


def _unions(schema: dict[str, Any], defs: dict[str, Any]) -> list[str]:
    """What in a parameter's JSON schema the UI's form would show as a type switch: anyOf/oneOf, a null type."""
    if not schema:
        return []
    if "$ref" in schema:
        return _unions(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    found = [f"{key}: {schema[key]}" for key in ("anyOf", "oneOf") if key in schema]
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and len(kind) > 1):
        found.append(f"type: {kind}")
    return found + _unions(schema.get("items", {}), defs)


def _nullable(
    translator: Annotated[RetranslateProvider | None, Field(title="Translator")] = None,
    limit: int | None = None,
    plain: RetranslateProvider = RetranslateProvider.default,
) -> None:
    """A signature as retranslate-pending's once was (names resolved at module level, as Prefect reads them)."""


def test_a_nullable_parameter_is_caught_by_the_form_check() -> None:
    """The check below finds what `X | None` gives, in the schema Prefect builds from a flow's signature."""
    from prefect.utilities.callables import parameter_schema

    schema = parameter_schema(_nullable).model_dump_for_openapi()
    found = {name: _unions(prop, schema["definitions"]) for name, prop in schema["properties"].items()}
    assert found["translator"] and found["limit"] and found["plain"] == [], found


@pytest.mark.parametrize("spec", DEPLOYMENTS, ids=lambda s: s.name)
def test_the_form_shows_the_fields_at_the_top_level_not_in_a_params_group(spec: DeploymentSpec) -> None:
    """The deployment's schema (what the UI's form and the API take) is the model's fields, not `{"params": {...}}`."""
    import json

    from prefect.utilities.callables import parameter_schema_from_entrypoint

    model = PARAMS_MODELS[spec.name]
    expected = model.model_json_schema()
    # `#/$defs/X` in a model's schema is `#/definitions/X` in Prefect's.
    expected = json.loads(json.dumps(expected).replace('"#/$defs/', '"#/definitions/'))
    required = [name for name, field in model.model_fields.items() if field.is_required()]
    deployments, _ = build_deployments(Settings())
    served = next(d for d in deployments if d.name == spec.name)._parameter_openapi_schema.model_dump(
        exclude_unset=True
    )
    declared = parameter_schema_from_entrypoint(str(REPO / spec.entrypoint)).model_dump_for_openapi()  # prefect deploy
    for schema in (served, declared):
        properties = schema["properties"]
        assert "params" not in properties and list(properties) == list(model.model_fields), (spec.name, properties)
        assert schema.get("required", []) == required, spec.name  # fields with a default stay optional
        for name, prop in properties.items():
            # No union, nullable or other: Prefect 3.8.8's form shows any `anyOf` as a type switch ("str | None",
            # its "None" tab captioned 'Property is type "None"'), not the field. "None" is a choice or an empty value.
            assert _unions(prop, schema.get("definitions", {})) == [], (spec.name, name, prop)
            # Title, description, default, enum (as a $ref to a dropdown), bounds and patterns: all the model's.
            assert {k: v for k, v in prop.items() if k != "position"} == expected["properties"][name], (spec.name, name)
            assert prop["title"] and prop["description"], (spec.name, name)
        for name, definition in expected.get("$defs", {}).items():
            assert schema["definitions"][name]["enum"] == definition["enum"], (spec.name, name)
    assert served["additionalProperties"] is False  # an unknown field is refused by the server (409)


def test_retranslate_parameters() -> None:
    # Plain defaults (no nullable unions: the UI's form shows those as a type switch set to "None").
    assert RetranslateParams().model_dump(mode="json") == {
        "limit": 0,
        "translator": "default",
        "target_language": "default",
    }
    assert [p.value for p in RetranslateProvider] == ["default", "auto", *PROVIDERS]
    for bad in ({"limit": -1}, {"translator": "none"}, {"translator": "bing"}, {"target_language": "tlh"}):
        with pytest.raises(ValidationError):
            RetranslateParams.model_validate(bad)
    schema = RetranslateParams.model_json_schema()
    assert schema["title"] == "Retranslate pending records"
    assert schema["properties"]["limit"]["minimum"] == 0 and "anyOf" not in schema["properties"]["limit"]


def test_limit_names_follow_one_scheme() -> None:
    assert site_limit("LongAn.gov.vn.") == "newsflow:site:longan.gov.vn"
    assert translate_limit("google") == "newsflow:translate:google"
    assert translate_rate_limit("libre") == "newsflow:translate-rate:libre"
    assert limit_name("site", "sotnmt.longan.gov.vn") == "newsflow:site:sotnmt.longan.gov.vn"
    for bad in ("", "a/b", "a:b", "x y"):
        with pytest.raises(ValueError, match="cannot be part of a concurrency limit name"):
            limit_name("site", bad)
    with pytest.raises(ValueError, match="unknown limit kind"):
        limit_name("fetch", "x")  # type: ignore[arg-type]
    engine = LimitedTranslator(type("E", (), {"providers": ("google", "libre"), "name": "auto"})())
    assert engine.limits == ["newsflow:translate:google", "newsflow:translate:libre"]
    assert engine.name == "auto"  # everything else goes to the wrapped translator


def test_limited_translator_asks_which_limits_exist_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.concurrency.sync

    import flows.limits

    asked: list[list[str]] = []
    held: list[object] = []

    def lookup(names: list[str]) -> list[str]:
        asked.append(list(names))
        return [n for n in names if n.endswith(":libre")]

    @contextlib.contextmanager
    def slot(names: object, **kwargs: object) -> Iterator[None]:
        held.append(names)
        yield

    monkeypatch.setattr(flows.limits, "existing_limits", lookup)
    monkeypatch.setattr(prefect.concurrency.sync, "concurrency", slot)
    inner = type("E", (), {"providers": ("google", "libre"), "translate": lambda self, text: f"<{text}>"})()
    engine = LimitedTranslator(inner)
    assert [engine.translate(t) for t in ("a", "b", "c")] == ["<a>", "<b>", "<c>"]
    assert asked == [["newsflow:translate:google", "newsflow:translate:libre"]]  # once, not per article
    assert held == [["newsflow:translate:libre"]] * 3  # a slot of the limit that exists, for every call
    asked.clear()
    held.clear()
    monkeypatch.setattr(flows.limits, "existing_limits", lambda names: asked.append(names) or [])
    bare = LimitedTranslator(inner)
    assert bare.translate("d") == "<d>" and bare.translate("e") == "<e>"
    assert len(asked) == 1 and held == []  # no limit: no slot asked for at all


def test_raw_from_paste() -> None:
    when = datetime(2024, 3, 5, 9, 30)
    raw = raw_from_paste(ProcessTextParams(text="Tiêu đề\n\nNội dung.", published_at="2024-03-05 09:30", language="vi"))
    assert raw.source.kind == "text" and raw.source.uri.startswith("paste:") and raw.media_type == "text/plain"
    assert raw.published_at == when and raw.language_hint == "vi"  # kept as given: processing gives the zone
    from newsflow.runtime import process

    record = process(raw, None, "en")
    assert record.published_at == when.replace(tzinfo=timezone(timedelta(hours=7)))
    assert any("timezone" in w or "+07:00" in w for w in record.pipeline.warnings), record.pipeline.warnings
    html = raw_from_paste(ProcessTextParams(text="<html><body><p>x</p></body></html>", url="https://a.vn/b"))
    assert html.media_type == "text/html" and html.source.uri == "https://a.vn/b" and html.source.site == "a.vn"


def _record() -> object:
    from newsflow.runtime import process

    text = (REPO / "samples/reference/cluster-viii-pact.es.txt").read_text(encoding="utf-8")
    raw = RawArticle(
        source=SourceInfo(kind="file", uri="a/b/ref.es.txt", fetched_at=datetime.now(UTC)),
        content=text,
        media_type="text/plain",
    )
    return process(raw, None, "en")


def test_summary_and_artifacts_content(tmp_path: Path) -> None:
    record = _record()
    builder = SummaryBuilder(RunSummary(run_id="r1", flow="ingest-sources", run_file=str(tmp_path / "r1.jsonl")))
    builder.processed(record)  # type: ignore[arg-type]
    builder.stored(record.id, "updated")  # type: ignore[attr-defined]
    builder.fail("bad.json:2", "field 'text' (or 'html') must be a string")
    summary = builder.finish()
    assert (summary.processed, summary.updated, len(summary.failed)) == (1, 1, 1)
    assert summary.top_provinces[0].articles == 1 and "Long An" in {p.name for p in summary.top_provinces}
    markdown = report.summary_markdown(summary, "file:///x/r1.jsonl")
    assert "| updated | 1 |" in markdown and "| Long An | 1 |" in markdown and "| bad.json:2 |" in markdown
    rows = report.articles_table(summary)
    assert [r["status"] for r in rows] == ["updated", "failed"] and rows[1]["reason"].startswith("field")
    assert report.artifact_key("Ingest_Sources", "summary") == "newsflow-ingest-sources-summary"
    out = tmp_path / "output"
    assert report.output_link(str(out / "runs" / "r.jsonl"), "https://files.example/nf/", out) == (
        "https://files.example/nf/runs/r.jsonl"
    )
    assert report.output_link(str(out / "r.jsonl"), None, out) == (out / "r.jsonl").resolve().as_uri()


def test_summary_keeps_a_bounded_article_table_however_long_the_run(tmp_path: Path) -> None:
    """Issue 7 (memory flat with the run): rows past the cap are counted, not kept; failures are all kept."""
    from flows.summary import MAX_ARTICLE_ROWS

    record = _record()
    builder = SummaryBuilder(RunSummary(run_id="r2"))
    total = MAX_ARTICLE_ROWS + 40
    for i in range(total):
        copy = record.model_copy(update={"id": f"id-{i}"})  # type: ignore[attr-defined]
        builder.processed(copy)
        builder.stored(copy.id, "new" if i % 2 else "unchanged")
    builder.fail("late.json", "field 'text' must be a string")
    summary = builder.finish()
    assert summary.processed == total and summary.new == total // 2 and summary.article_rows == total + 1
    assert len(summary.articles) == MAX_ARTICLE_ROWS + 1  # the cap, plus the failure after it
    assert summary.articles[-1].status == "failed" and summary.articles[1].status == "new"
    assert not builder._rows  # stored rows are released, not tracked for the rest of the run
    assert len(report.articles_table(summary)) == MAX_ARTICLE_ROWS


def test_task_names_say_which_article() -> None:
    assert short_uri("https://longan.gov.vn/tin-tuc/a.html") == "longan.gov.vn/a.html"
    assert short_uri("/data/in/ref.es.txt") == "ref.es.txt"
    raw = RawArticle(
        source=SourceInfo(kind="file", uri="/d/x.txt", fetched_at=datetime.now(UTC)),
        content="x",
        media_type="text/plain",
    )
    assert batch_label([raw, raw, raw], 2) == "#2 x.txt (+2)"


def test_only_transient_database_errors_are_retried() -> None:
    locked = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    wrapped = StorageError("cannot save article a in sqlite:///x")
    wrapped.__cause__ = locked
    assert is_transient_db_error(locked) and is_transient_db_error(wrapped)
    assert not is_transient_db_error(StorageError("stored article a does not validate"))
    assert not is_transient_db_error(ValueError("bad"))


def test_task_runner_from_settings() -> None:
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(build_task_runner(Settings()), ThreadPoolTaskRunner)
    remote = build_task_runner(Settings(task_runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert isinstance(remote, DaskTaskRunner) and remote.address == "tcp://10.0.0.5:8786"
    local = build_task_runner(Settings(task_runner="dask", dask_workers=3))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 3


def test_local_runs_send_no_heartbeats_but_runs_on_a_server_do() -> None:
    from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

    def heartbeat() -> int | None:
        # What Prefect's flow engine reads when a run starts its heartbeat thread.
        return get_current_settings().flows.heartbeat_frequency

    with temporary_settings(updates={PREFECT_API_URL: None}):
        default = heartbeat()
        assert default is not None  # Prefect sends them by default: the setting below is what turns them off
        with local_run_settings():
            assert heartbeat() is None
        assert heartbeat() == default
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:4200/api"}), local_run_settings():
        assert heartbeat() == default


def test_prefect_yaml_declares_the_served_deployments() -> None:
    config = yaml.safe_load((REPO / "prefect.yaml").read_text(encoding="utf-8"))
    declared = {d["name"]: d for d in config["deployments"]}
    settings = Settings()
    expected = {spec.name: spec for spec in DEPLOYMENTS if spec.load_flow() is not None}
    assert set(declared) == set(expected), "prefect.yaml and flows/deployments.py list different deployments"
    for name, spec in expected.items():
        assert declared[name]["entrypoint"] == spec.entrypoint
        assert declared[name]["work_pool"]["name"] == "newsflow"
        schedule = schedule_for(spec, settings)
        crons = [(s["cron"], s["timezone"], s["active"]) for s in declared[name].get("schedules") or []]
        assert crons == ([] if schedule is None else [(schedule[0], "Asia/Ho_Chi_Minh", schedule[1])])


def test_served_schedules_are_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        site_cron="15 7 * * 1-5",
        schedule_timezone="UTC",
        site_name="longan.gov.vn",
        site_urls=["https://longan.gov.vn/a"],
    )
    deployments, _ = build_deployments(settings)
    site = next(d for d in deployments if d.name == "ingest-site")
    (schedule,) = site.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone, schedule.active) == ("15 7 * * 1-5", "UTC", True)
    assert site.parameters == {"site": "longan.gov.vn", "urls": ["https://longan.gov.vn/a"]}


def test_the_heap_is_settled_once_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first batch the long-lived objects are frozen (after a collection), and only once."""
    from flows import ingest

    monkeypatch.setattr(ingest, "_SETTLED", threading.Event())
    calls: list[str] = []
    real_collect, real_freeze = gc.collect, gc.freeze
    here = threading.current_thread()

    # Only this thread's calls count: a thread an earlier test left running may collect or settle its own run.
    def counting_collect(*args: int) -> int:
        if threading.current_thread() is here:
            calls.append("collect")
        return real_collect(*args)

    def counting_freeze() -> None:
        if threading.current_thread() is here:
            calls.append("freeze")
        real_freeze()

    monkeypatch.setattr(gc, "collect", counting_collect)
    monkeypatch.setattr(gc, "freeze", counting_freeze)
    gc.unfreeze()
    try:
        ingest._settle_heap()
        assert gc.get_freeze_count() > 0 and calls == ["collect", "freeze"]
        ingest._settle_heap()
        assert calls == ["collect", "freeze"]  # the second batch settles nothing
    finally:
        gc.unfreeze()


def test_final_states_say_how_the_run_ended() -> None:
    """Failed when every input failed, "Completed with failures" (a COMPLETED state) when some did, else Completed;
    the heartbeat automation counts the new name as a final state (or it would crash such runs)."""
    from flows.automations import zombie_automation
    from flows.ingest import COMPLETED_WITH_FAILURES, final_state
    from flows.summary import Failure, RunSummary

    bad = [Failure(source="in/a.txt", reason="empty input")]
    states = {
        "all failed": final_state(RunSummary(run_id="r", received=1, failed=bad)),
        "some failed": final_state(RunSummary(run_id="r", received=2, processed=1, new=1, failed=bad)),
        "none failed": final_state(RunSummary(run_id="r", received=1, processed=1, new=1)),
    }
    assert {k: (s.type.value, s.name) for k, s in states.items()} == {
        "all failed": ("FAILED", "Failed"),
        "some failed": ("COMPLETED", COMPLETED_WITH_FAILURES),
        "none failed": ("COMPLETED", "Completed"),
    }
    assert states["some failed"].message == "1 processed, 1 failed (1 new, 0 updated, 0 unchanged)"
    assert f"prefect.flow-run.{COMPLETED_WITH_FAILURES}" in zombie_automation().trigger.expect


def test_the_readmes_notification_automation_is_the_one_newsflow_creates() -> None:
    """README (Run states) shows the automation as a file for `prefect automation create`: it must stay the same."""
    import re

    from prefect.events.schemas.automations import AutomationCore

    from flows.automations import failures_automation

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme[readme.index("**Run states.**") :], re.S)
    assert block is not None
    text = "\n".join(line.removeprefix("  ") for line in block.group(1).splitlines())
    block_id = "00000000-0000-0000-0000-000000000001"
    shown = AutomationCore.model_validate(yaml.safe_load(text.replace("<the block's id>", block_id)))
    made = failures_automation(block_id)
    assert shown.name == made.name and shown.trigger.model_dump() == made.trigger.model_dump()
    assert [a.model_dump() for a in shown.actions] == [a.model_dump() for a in made.actions]
