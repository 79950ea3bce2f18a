"""What operators and downstream systems meet (issue 21), without a Prefect server: run states, the article's
URL in the record, allowed input directories, the deployments' forms, the output artifact, the site limit
check, `--version` and the smaller points. The same behaviour through a real server and a real `newsflow run`
is in tests/test_operators_e2e.py."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from extractors.acquire.session import Acquirer
from extractors.ids import article_url_of
from extractors.sources import iter_sources
from flows import report
from flows.ingest import InputsFailed, final_state
from flows.ops import SourceNotAllowed, check_sources, raw_from_paste, refused_sources
from flows.params import (
    ExportParams,
    IngestSiteParams,
    IngestSourcesParams,
    ProcessTextParams,
    ReprocessParams,
    TranslatorChoice,
    translator_name,
)
from flows.summary import Failure, RunSummary, SummaryBuilder
from newsflow.runtime import process, runtime
from newsflow.settings import Settings, get_settings, reset_settings
from schemas.models import SCHEMA_VERSION, RawArticle, SourceInfo
from tests import test_hostile_network
from tests.acquire_site import Site

REPO = Path(__file__).resolve().parent.parent
marked = test_hostile_network.marked  # the fixture: marked 4.3.0, the markdown library of Prefect's UI
TEXT = "Sở Tài chính tỉnh Long An họp sơ kết quý I năm 2024 về thu ngân sách. Ông Trần Văn Khải chủ trì."


def _summary(processed: int, failed: int, **extra: Any) -> RunSummary:
    return RunSummary(
        run_id="r",
        processed=processed,
        new=processed,
        failed=[Failure(source=f"in/{i}.txt", reason="empty input") for i in range(failed)],
        **extra,
    )


# --- (2) run states ------------------------------------------------------------------------------------------


def test_every_input_failed_is_a_failed_state_naming_the_first_failure() -> None:
    state = final_state(_summary(0, 2))
    assert state.is_failed()
    assert state.message.startswith("every input failed: 0 processed, 2 failed")
    assert "in/0.txt: empty input and 1 more" in state.message
    failure = state.result(raise_on_failure=False)  # what `newsflow run` reads to print the summary
    assert isinstance(failure, InputsFailed) and failure.summary.failed[0].source == "in/0.txt"
    with pytest.raises(InputsFailed, match="every input failed"):  # what calling the flow raises
        state.result()
    import pickle  # a persisted result must load again

    assert pickle.loads(pickle.dumps(failure)).summary == failure.summary


def test_some_inputs_failed_is_completed_with_the_counts() -> None:
    state = final_state(_summary(3, 1))
    assert state.is_completed() and state.name == "Completed with failures"
    assert state.message == "3 processed, 1 failed (3 new, 0 updated, 0 unchanged)"
    assert state.result().processed == 3
    nothing = final_state(_summary(0, 0))  # nothing to do (an empty store to reprocess) is not a failure
    assert nothing.is_completed()


def test_an_interrupted_run_is_cancelled_with_what_it_did() -> None:
    state = final_state(_summary(2, 0, interrupted=True, not_processed=5))
    assert state.is_cancelled()
    assert "interrupted" in state.message and "5 received but not processed" in state.message
    assert state.result(raise_on_failure=False).interrupted


# --- (3) the article's own URL -------------------------------------------------------------------------------


def _raw(content: str, media: str = "text/html", uri: str = "in/page.html", url: str | None = None) -> RawArticle:
    return RawArticle(
        source=SourceInfo(kind="file", uri=uri, fetched_at=datetime.now(UTC)),
        content=content,
        media_type=media,
        url=url,
    )  # type: ignore[arg-type]


def _page(head: str) -> str:
    return f"<html lang='vi'><head>{head}<title>Họp</title></head><body><article><p>{TEXT}</p></article></body></html>"


def test_the_record_keeps_the_articles_url_apart_from_where_it_was_read(tmp_path: Path) -> None:
    assert SCHEMA_VERSION >= "1.3.0"  # `url` came in 1.3.0
    canonical = process(_raw(_page('<link rel="canonical" href="https://baolongan.vn/hop-a1.html">')), None)
    assert (canonical.url, canonical.source.uri) == ("https://baolongan.vn/hop-a1.html", "in/page.html")
    og = process(_raw(_page('<meta property="og:url" content="https://baolongan.vn/hop-a2.html">')), None)
    assert og.url == "https://baolongan.vn/hop-a2.html"
    both = _page(
        '<link rel="canonical" href="https://baolongan.vn/c.html">'
        '<meta property="og:url" content="https://baolongan.vn/og.html">'
    )
    assert process(_raw(both), None).url == "https://baolongan.vn/c.html"  # the canonical link first
    # A relative or javascript: canonical is no article URL; a plain text without one has none.
    for head in ('<link rel="canonical" href="/tin-tuc/a.html">', '<link rel="canonical" href="javascript:x()">'):
        assert process(_raw(_page(head)), None).url is None
    assert process(_raw(TEXT, "text/plain", "in/a.txt"), None).url is None
    # A JSON input's `url` (the id still comes from it, as before).
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"url": "https://longan.gov.vn/tin/1?utm_source=x", "text": TEXT}), encoding="utf-8")
    (raw,) = list(runtime(get_settings()).iter_sources([str(path)]))
    record = process(raw, None)  # type: ignore[arg-type]
    assert (record.url, record.source.uri) == ("https://longan.gov.vn/tin/1?utm_source=x", str(path))
    assert json.loads(record.model_dump_json())["url"] == record.url


def test_article_url_of_takes_the_first_absolute_http_url() -> None:
    assert article_url_of(None, "/a", "ftp://x/y", " https://a.vn/b ") == "https://a.vn/b"
    assert article_url_of("https://a.vn/\x00", "http:///nohost") is None


def test_a_feed_items_record_has_the_items_link_and_a_fetched_page_its_final_url(site: Site) -> None:
    settings = Settings(
        fetch_allow_addresses=["127.0.0.1/32"], fetch_min_interval=0.0, fetch_retries=0, http_timeout=2.0
    )  # type: ignore[call-arg]
    with Acquirer(settings, log=None) as acquirer:
        items = list(iter_sources([f"feed:{site.base}/feed.xml"], settings, acquirer=acquirer))
        redirected = list(iter_sources([f"{site.base}/redirect/a2"], settings, acquirer=acquirer))
    records = {r.url: r for r in (process(i, None) for i in items if isinstance(i, RawArticle))}
    # The item's own page (tracking parameters dropped), not the feed; source.uri is the feed that was read.
    assert f"{site.base}/news/a2.html" in records and f"{site.base}/news/a1.html" in records
    assert {r.source.uri for r in records.values()} == {f"{site.base}/feed.xml"}
    (page,) = [i for i in redirected if isinstance(i, RawArticle)]
    record = process(page, None)
    assert record.url == f"{site.base}/news/a2.html" and record.source.uri == f"{site.base}/redirect/a2"


# --- (4) allowed input directories ------------------------------------------------------------------------------


def test_input_roots_default_to_samples_and_the_inbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = get_settings()
    assert settings.resolved_input_roots == [(tmp_path / "samples").resolve(), (settings.data_dir / "inbox").resolve()]
    for value, expected in (
        (json.dumps(["/srv/a", "b"]), ["/srv/a", str(tmp_path / "b")]),
        ("/srv/a:/srv/b", ["/srv/a", "/srv/b"]),
    ):
        monkeypatch.setenv("NEWSFLOW_INPUT_ROOTS", value)
        reset_settings()
        assert [str(p) for p in get_settings().resolved_input_roots] == expected


def test_only_paths_under_the_allowed_directories_may_be_read(tmp_path: Path) -> None:
    root = tmp_path / "inbox"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text(TEXT, encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text(TEXT, encoding="utf-8")
    (root / "link.txt").symlink_to(secret)
    roots = [root.resolve()]
    allowed = [
        str(root),
        str(root / "sub"),
        str(root / "sub" / "a.txt"),
        "https://longan.gov.vn/a.html",
        "feed:https://longan.gov.vn/rss",
    ]
    assert refused_sources(allowed, roots) == []
    refused = refused_sources([str(secret), str(root / ".." / "secret.txt"), str(root / "link.txt"), "/etc"], roots)
    assert refused == [
        f"{secret}: outside the allowed input directories",
        f"{root / '..' / 'secret.txt'} (it leads to {secret}): outside the allowed input directories",
        f"{root / 'link.txt'} (it leads to {secret}): outside the allowed input directories",
        "/etc: outside the allowed input directories",
    ]
    with pytest.raises(SourceNotAllowed) as raised:
        check_sources([str(root / "sub"), str(secret)], roots)
    message = str(raised.value)
    assert message.startswith(
        f"{secret}: outside the allowed input directories. Deployments read files only under "
        f"{root.resolve()} (NEWSFLOW_INPUT_ROOTS on the worker)"
    )


# --- (5) the deployments' forms ---------------------------------------------------------------------------------


def _prefect_schema(fn: Any) -> dict[str, Any]:
    from prefect.utilities.callables import parameter_schema

    return parameter_schema(fn).model_dump_for_openapi()


def test_deployments_whose_parameters_all_have_defaults_need_no_parameters() -> None:
    from flows.ops import export_records, ingest_sources, process_text, reprocess
    from flows.retranslate import retranslate

    for flow in (ingest_sources, reprocess, export_records, retranslate):
        schema = _prefect_schema(flow.fn)
        assert not schema.get("required"), flow.name  # Quick run sends no parameters
        assert all("default" in field for field in schema["properties"].values()), flow.name
    assert _prefect_schema(ingest_sources.fn)["properties"]["sources"]["default"] == ["samples"]
    assert _prefect_schema(process_text.fn)["required"] == ["text"]  # the text has no default: no Quick run
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    # `prefect deploy` reads the defaults from the source (prefect.yaml's deployments)
    for entrypoint in ("flows/ops.py:reprocess", "flows/ops.py:export_records", "flows/ops.py:ingest_sources"):
        schema = parameter_schema_from_entrypoint(str(REPO / entrypoint)).model_dump_for_openapi()
        assert "required" not in schema and all("default" in f for f in schema["properties"].values()), entrypoint


def test_optional_fields_are_plain_dropdowns_and_strings_not_nullable_unions() -> None:
    from flows.ops import ingest_site, ingest_sources, process_text, reprocess

    for flow, model in (
        (ingest_sources, "IngestSourcesParams"),  # a dropdown with `default` too, no `str | None` switch
        (process_text, "ProcessTextParams"),
        (reprocess, "ReprocessParams"),
        (ingest_site, "IngestSiteParams"),
    ):
        schema = _prefect_schema(flow.fn)
        translator = schema["properties"]["translator"]
        assert "anyOf" not in translator and translator["default"] == "default", (model, translator)
        assert schema["definitions"]["TranslatorChoice"]["enum"][:3] == ["default", "auto", "none"]
    text = _prefect_schema(process_text.fn)["properties"]
    for name in ("title", "url", "language"):
        assert "anyOf" not in text[name], (name, text[name])
    assert text["language"]["default"] == "detect" and text["text"]["format"] == "textarea"
    # What the flows pass on.
    assert translator_name(TranslatorChoice.default) is None and translator_name(None) is None
    assert translator_name(TranslatorChoice.none) == "none" and translator_name("google") == "google"
    raw = raw_from_paste(ProcessTextParams(text=TEXT))
    assert (raw.url, raw.title, raw.language_hint, raw.source.uri[:6]) == (None, None, None, "paste:")
    raw = raw_from_paste(ProcessTextParams(text=TEXT, url="https://longan.gov.vn/a", title="Họp", language="vi"))
    assert (raw.url, raw.title, raw.language_hint, raw.source.site) == (
        "https://longan.gov.vn/a",
        "Họp",
        "vi",
        "longan.gov.vn",
    )


def test_validation_messages_say_what_is_wrong() -> None:
    from prefect.utilities.schema_tools.validation import ValidationError as PrefectValidationError
    from prefect.utilities.schema_tools.validation import validate

    from flows.ops import process_text, reprocess

    schema = _prefect_schema(reprocess.fn)
    with pytest.raises(PrefectValidationError, match=r"'klingon' is not one of \['default', 'auto'"):
        validate({"translator": "klingon"}, schema, raise_on_error=True)  # what the server answers
    schema = _prefect_schema(process_text.fn)
    with pytest.raises(PrefectValidationError, match=r"'not a url' does not match"):
        validate({"text": TEXT, "url": "not a url"}, schema, raise_on_error=True)
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is not an http"):  # a scheme without a host: pydantic says so
        ProcessTextParams(text=TEXT, url="https://")
    assert IngestSiteParams(site="longan.gov.vn", urls=["https://longan.gov.vn/a"]).translator == "default"
    assert ReprocessParams().translator == "default" and ExportParams().since == ""
    assert IngestSourcesParams().sources == ["samples"]


# --- (6) the output artifact and the site limit -------------------------------------------------------------------


def test_the_output_artifact_gives_the_path_to_copy_and_a_link_only_where_one_opens(tmp_path: Path) -> None:
    out = tmp_path / "output"
    run_file = out / "runs" / "r1.jsonl"
    md = report.output_markdown("JSONL of this run", str(run_file), out, None, [("records", str(out / "records"))])
    assert f"| file | `{run_file.resolve()}` |" in md and f"`{out / 'records'}`" in md
    assert "does not open file://" in md and "NEWSFLOW\\_OUTPUT\\_URL" in md  # why there is no link, what to do
    assert f"({run_file.resolve().as_uri()})" in md  # the file:// link is there for tools, labelled as such
    served = report.output_markdown("JSONL of this run", str(run_file), out, "https://files.example/nf/")
    assert "Open: [r1.jsonl](https://files.example/nf/runs/r1.jsonl)" in served and "does not open" not in served
    assert report.markdown_code("a`b") == "a\\`b" and report.markdown_code("/x/<y>") == "`/x/<y>`"


def test_the_summary_counts_clusters_and_pacts() -> None:
    from tests.test_ops import _record

    builder = SummaryBuilder(RunSummary(run_id="r1", run_file="/out/runs/r1.jsonl"))
    record = _record()
    builder.processed(record)  # type: ignore[arg-type]
    summary = builder.finish()
    assert set(summary.entities) >= {"clusters", "pacts"}
    markdown = report.summary_markdown(summary, None)
    assert f"| clusters | {summary.entities['clusters']} |" in markdown and "| pacts |" in markdown
    assert "- JSONL of this run, on the machine that ran it: `/out/runs/r1.jsonl`" in markdown
    assert "file://" not in markdown


def test_a_site_limit_that_does_not_exist_is_asked_once_and_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import prefect.concurrency.sync

    from flows import limits

    asked: list[list[str]] = []
    used: list[object] = []
    monkeypatch.setattr(limits, "existing_limits", lambda names: asked.append(names) or [])
    monkeypatch.setattr(prefect.concurrency.sync, "concurrency", lambda *a, **k: used.append(a))
    known: dict[str, bool] = {}
    for _ in range(3):
        with limits.site_slot("longan.gov.vn", known):
            pass
    assert asked == [["newsflow:site:longan.gov.vn"]] and used == []  # no slot asked: no Prefect warning
    with limits.site_slot(None, known):
        pass
    assert len(asked) == 1


# --- (8) the smaller points -------------------------------------------------------------------------------------


def test_version() -> None:
    from newsflow import __version__

    out = subprocess.run(
        [sys.executable, "-m", "newsflow.cli", "--version"], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert out.returncode == 0 and out.stdout == f"newsflow {__version__} (record schema {SCHEMA_VERSION})\n"


def test_a_stored_circuit_breaker_reason_has_no_countdown() -> None:
    from extractors.translate.resilience import _breaker

    key = ("google", "https://translate.example/test-operators")
    _breaker.trip(key, "connection refused")
    try:
        reason = _breaker.open_reason(key) or ""
    finally:
        _breaker._open.pop(key, None)
    assert reason.startswith("circuit open: connection refused") and "another" not in reason


def test_retranslate_keeps_a_pending_record_pending_when_its_provider_has_no_pair() -> None:
    from flows.retranslate import still_pending
    from schemas.models import Translation

    raw = _raw(TEXT, "text/plain", "in/a.txt")
    pending = process(raw, None)
    assert pending.translation.status == "pending"
    unsupported = pending.model_copy(
        update={
            "translation": Translation(
                status="unsupported", target="en", error="no configured provider translates vi -> en"
            )
        }
    )
    kept = still_pending(pending, unsupported)
    assert kept.translation.status == "pending"
    assert kept.translation.error == "still pending: no configured provider translates vi -> en"
    assert still_pending(unsupported, unsupported).translation.status == "unsupported"  # only pending is kept
    done = pending.model_copy(update={"translation": Translation(status="done", target="en", text="x")})
    assert still_pending(pending, done) is done


def test_deployment_descriptions_say_feeds_are_read() -> None:
    description = IngestSourcesParams.model_fields["sources"].description or ""
    assert "feed:" in description and "read as pages" not in description


def test_the_output_artifact_renders_hostile_paths_as_text(marked: Path) -> None:
    """The paths and names in the output artifact go through marked (Prefect's UI) as inert text too."""
    from tests.test_hostile_network import IMG, JS_LINK, assert_inert, render

    documents = [
        report.output_markdown(
            IMG, f"/out/runs/{IMG}{JS_LINK}.jsonl", Path("/out"), base, [(JS_LINK, f"/out/{IMG}`{JS_LINK}")]
        )
        for base in (None, "https://files.example/nf/")
    ]
    for document, rendered in zip(documents, render(marked, documents), strict=True):
        text = assert_inert(rendered)
        assert "onerror=alert(1)" in text, (document, text)  # shown as text, not markup
