"""Apertium (the real Debian package), name protection, language runs, the cache, rate limits, entity merge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from extractors.pipeline import merge_entities, protected_spans
from extractors.protect import Protector
from extractors.translate import MemoryCache, Translator, reset_circuit_breakers
from extractors.translate.resilience import _RateLimiter
from newsflow.runtime import process, runtime
from newsflow.settings import Settings
from newsflow.storage import Store
from schemas.models import Entities, RawArticle, SourceInfo
from tests.translate_servers import (  # noqa: F401 (apertium_installed is a fixture)
    FakeProvider,
    apertium_installed,
    closed_port_url,
    fake_translation,
)

REPO = Path(__file__).resolve().parent.parent
SPANISH = "Las provincias de Son La y Ca Mau firmaron el pacto.\n\nEl vicepresidente Nguyen Van Ba asistió."


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_circuit_breakers()
    yield
    reset_circuit_breakers()


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "translation_timeout": 20.0,
        "translation_retries": 1,
        "translation_cache": False,
        "translation_rate_limits": {},
        "translation_endpoints": {},
    }
    values.update(overrides)
    return Settings(**values)


def spans_of(text: str, *names: str) -> list[tuple[int, int]]:
    return [(text.index(n), text.index(n) + len(n)) for n in names]


# -- Apertium --------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("apertium_installed")
def test_apertium_translates_spanish_and_records_its_engine() -> None:
    result = Translator(settings(), "apertium", cache=None).translate(SPANISH, "es")
    assert (result.status, result.provider, result.source) == ("done", "apertium", "es")
    assert result.text is not None and "signed the pact" in result.text
    assert result.text.count("\n\n") == 1  # the paragraph break survives
    assert result.engine and result.engine.startswith("apertium ") and "spa-eng" in result.engine
    assert "apertium-eng-spa" in result.engine  # the Debian pair's version, for provenance


@pytest.mark.usefixtures("apertium_installed")
def test_apertium_mangles_names_unless_they_are_protected() -> None:
    engine = Translator(settings(), "apertium", cache=None)
    raw = engine.translate(SPANISH, "es")
    assert raw.text is not None and "Sound The" in raw.text and "Nguyen Go Ba" in raw.text  # why we protect
    kept = engine.translate(SPANISH, "es", protect=spans_of(SPANISH, "Son La", "Ca Mau", "Nguyen Van Ba"))
    assert kept.text == (
        "The provinces of Son La and Ca Mau signed the pact.\n\nThe vice-president Nguyen Van Ba assisted."
    )
    assert kept.error is None


@pytest.mark.usefixtures("apertium_installed")
def test_apertium_has_no_vietnamese_pair() -> None:
    result = Translator(settings(), "apertium", cache=None).translate("Ủy ban nhân dân tỉnh Long An họp.", "vi")
    assert result.status == "unsupported"
    assert "no Apertium pair vi -> en" in (result.error or "")


@pytest.mark.usefixtures("apertium_installed")
def test_mixed_page_translates_spanish_and_keeps_vietnamese_captions_apertium_cannot() -> None:
    raw = next(runtime(settings()).iter_sources([str(REPO / "tests/data/langid/mixed/es-captions-vi.txt")]))
    record = process(raw, Translator(settings(), "apertium", cache=None), "en", detector="langdetect")
    text = record.translation.text or ""
    assert record.translation.status == "done"
    assert text.startswith("The Popular Committee of the province of Ben Tre")
    assert "\n\nQuang cảnh hội nghị đánh giá tình hình cấp nước sinh hoạt mùa khô.\n\nAccording to" in text
    assert text.count("\n\n") == record.text.count("\n\n")
    assert any("kept untranslated (apertium has no pair): vi" in w for w in record.pipeline.warnings)
    assert any(w.startswith("mixed languages: es 0-") for w in record.pipeline.warnings)


def test_mixed_page_online_translates_each_run_from_its_own_language() -> None:
    text = (REPO / "tests/data/langid/mixed/en-quote-vi.txt").read_text(encoding="utf-8").strip()
    raw = RawArticle(
        source=SourceInfo(kind="text", uri="-", fetched_at=datetime.now(UTC)), content=text, media_type="text/plain"
    )
    with FakeProvider("google") as server:
        engine = Translator(settings(translation_endpoints={"google": server.url}), "google", cache=None)
        record = process(raw, engine, "en", detector="langdetect")
    [sent] = server.requests  # only the Vietnamese caption left the process, as Vietnamese
    assert sent.params["sl"] == "vi" and sent.params["q"].startswith("Photo: Ngư dân xã")
    assert record.translation.text == text.replace(sent.params["q"], fake_translation(sent.params["q"]))


@pytest.mark.usefixtures("apertium_installed")
def test_the_reference_article_through_apertium_merges_entities_and_translates_the_theme() -> None:
    raw = next(runtime(settings()).iter_sources([str(REPO / "samples/reference/cluster-viii-pact.es.txt")]))
    record = process(raw, Translator(settings(), "apertium", cache=None), "en", detector="langdetect")
    text = record.translation.text or ""
    for name in ("Long An", "Tien Giang", "Vinh Long", "Dong Thap", "Ben Tre", "Tra Vinh", "Vo Minh Thanh"):
        assert name in text, name  # protected names come back as the original wrote them
    assert "Mucho" not in text and "Long Year" not in text
    ids = [p.id for p in record.entities.provinces]
    assert len(ids) == len(set(ids)) == 6  # found in both texts, listed once
    assert all(p.source == "text" and p.mentions for p in record.entities.provinces)
    for entity in (*record.entities.provinces, *record.entities.departments, *record.entities.officials):
        for m in entity.mentions:
            assert record.text[m.start : m.end] == m.text  # mentions still point into the original
    slogan = next(t for t in record.entities.themes if t.mentions)
    assert slogan.text_en is not None and slogan.text_en.startswith("Discipline, responsibility")


def test_protector_restores_tolerantly_and_reports_lost_names() -> None:
    protector = Protector()
    out = protector.protect("Long An và Long An, Tiền Giang", [(0, 7), (11, 18), (20, 30)])
    assert out == "ZQ0X và ZQ0X, ZQ1X"
    assert protector.restore("zq0x and Z Q0X, ZQ1 X") == ("Long An and Long An, Tiền Giang", [])
    assert protector.restore("ZQ0X only") == ("Long An only", ["Tiền Giang"])
    with pytest.raises(ValueError, match=r"span \(5, 99\) is outside a text of 30 characters"):
        Protector().protect("Long An và Long An, Tiền Giang", [(5, 99)])


def test_a_provider_that_drops_a_placeholder_is_reported() -> None:
    with FakeProvider("libre") as server:
        server.reply(200, '{"translatedText": "THE PROVINCE SIGNED."}')
        engine = Translator(settings(libre_url=server.url), "libre", cache=None)
        result = engine.translate("La provincia de Long An firmó.", "es", protect=[(16, 23)])
    assert server.requests[0].params["q"] == "La provincia de ZQ0X firmó."
    assert result.status == "done" and "libre dropped protected name(s): Long An" in (result.error or "")


def test_protected_spans_cover_provinces_officials_and_personal_names() -> None:
    from extractors.entities.engine import extract_entities

    text = "El director Vo Minh Thanh y el ciudadano Nguyen Van Ba visitaron Son La."
    spans = protected_spans(text, extract_entities(text, "es"))
    assert {text[a:b] for a, b in spans} >= {"Vo Minh Thanh", "Nguyen Van Ba", "Son La"}


# -- the cache -------------------------------------------------------------------------------------------


def test_database_cache_a_rerun_costs_no_provider_call(tmp_path: Path) -> None:
    text = "Sở Nội vụ tỉnh Bến Tre tổ chức hội nghị.\n\n" + "Đoạn thứ hai của bài viết dài. " * 200
    store = Store(f"sqlite:///{tmp_path / 'cache.db'}")
    with FakeProvider("google") as server:
        config = settings(translation_endpoints={"google": server.url}, translation_cache=True)
        first = Translator(config, "google", cache=store).translate(text, "vi")
        calls = len(server.requests)
        again = Translator(config, "google", cache=store).translate(text, "vi")  # a new run, same database
    assert first.status == again.status == "done" and first.text == again.text
    assert calls == 2 and len(server.requests) == calls  # two chunks, then nothing
    assert store.count_translations() == 2
    assert again.translated_at == first.translated_at  # provenance of the cached translation is kept
    assert again.engine == first.engine and (first.engine or "").startswith("deep-translator 1.11.4 GoogleTranslator")
    store.close()


def test_cache_is_keyed_by_provider_source_and_target() -> None:
    cache = MemoryCache()
    with FakeProvider("google") as google, FakeProvider("mymemory") as mymemory:
        config = settings(translation_endpoints={"google": google.url, "mymemory": mymemory.url})
        Translator(config, "google", cache=cache).translate("Tỉnh Long An họp.", "vi")
        Translator(config, "mymemory", cache=cache).translate("Tỉnh Long An họp.", "vi")  # another provider
        Translator(config, "google", cache=cache).translate("Tỉnh Long An họp.", "vi", target="fr")
        Translator(config, "google", cache=cache).translate("Tỉnh Long An họp.", "vi")
    assert (len(google.requests), len(mymemory.requests), len(cache)) == (2, 1, 3)


def test_default_cache_is_the_settings_database(isolated_settings: Path) -> None:
    with FakeProvider("google") as server:
        config = Settings(translation_endpoints={"google": server.url}, translation_rate_limits={})
        assert runtime(config).translator("google").translate("Tỉnh Long An họp.", "vi").status == "done"
        assert runtime(config).translator("google").translate("Tỉnh Long An họp.", "vi").status == "done"
    assert len(server.requests) == 1
    assert Store(config.resolved_database_url).count_translations() == 1


# -- rate limits -----------------------------------------------------------------------------------------


def test_rate_limiter_spaces_requests_per_provider() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    limiter = _RateLimiter(clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.wait(("google", "root"), 4.0)
    limiter.wait(("mymemory", "root"), 4.0)  # another provider has its own budget
    limiter.wait(("libre", "root"), None)  # no limit configured
    assert slept == [0.25, 0.5]
    now[0] = 200.0
    limiter.wait(("google", "root"), 4.0)  # long after: no wait
    assert slept == [0.25, 0.5]


def test_acquire_hook_is_called_before_every_request() -> None:
    taken: list[str] = []
    with FakeProvider("google") as server:
        server.reply(503, "busy")
        engine = Translator(
            settings(translation_endpoints={"google": server.url}, translation_retries=2),
            "google",
            cache=None,
            acquire=taken.append,
        )
        assert engine.translate("Tỉnh Long An họp.", "vi").status == "done"
    assert taken == ["google", "google"] and len(server.requests) == 2


# -- entity merge ----------------------------------------------------------------------------------------


def test_merge_keeps_original_mentions_and_marks_translation_only_entities() -> None:
    from extractors.entities.engine import extract_entities

    original = extract_entities("Das Volkskomitee der Provinz Long An tagte.", "de")
    translated = extract_entities(
        "The People's Committee of Long An Province met. Director Vo Minh Thanh of the Department of "
        "Natural Resources and Environment of Long An attended.",
        "en",
    )
    merged = merge_entities(original, translated)
    assert [p.id for p in merged.provinces] == [p.id for p in original.provinces]
    assert merged.provinces[0].mentions == original.provinces[0].mentions
    extra = [o for o in merged.officials if o.source == "translation"]
    assert [o.name for o in extra] == ["Vo Minh Thanh"] and extra[0].mentions == []
    again = merge_entities(merged, translated)  # repeating the step duplicates nothing
    assert again == merged
    assert merge_entities(merged, Entities()).officials == original.officials  # and can be undone


# -- the store's side: pending records and the cache table, on SQLite and PostgreSQL ------------------------


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_store_lists_pending_translations_and_caches(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from extractors.translate import CachedTranslation

    url = f"sqlite:///{tmp_path / 'p.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    store = Store(url)
    raws = [
        RawArticle(
            source=SourceInfo(kind="text", uri=f"{i}.txt", fetched_at=datetime.now(UTC)),
            content=f"Sở Tài chính tỉnh Long An họp phiên thứ {i} về ngân sách năm 2024.",
            media_type="text/plain",
        )
        for i in range(5)
    ]
    for i, raw in enumerate(raws):
        record = process(raw, None, "en", detector="langdetect")  # pending: not attempted
        if i == 3:
            failed = record.translation.model_copy(update={"status": "failed"})
            record = record.model_copy(update={"translation": failed})
        store.save(record, raw)
    pending = list(store.iter_pending_translation(batch=2))
    assert len(pending) == 4 and [r.id for r, _ in pending] == sorted(r.id for r, _ in pending)
    assert all(raw.content == record.text for record, raw in pending)
    assert len(list(store.iter_pending_translation(limit=3, batch=2))) == 3
    with pytest.raises(ValueError, match="limit must be >= 1"):
        list(store.iter_pending_translation(limit=0))
    when = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    store.put_translation("google", "vi", "en", "h" * 64, CachedTranslation("text", "engine 1", when))
    store.put_translation("google", "vi", "en", "h" * 64, CachedTranslation("other", "engine 2", when))  # first stays
    assert store.get_translation("google", "vi", "en", "h" * 64) == CachedTranslation("text", "engine 1", when)
    assert store.get_translation("mymemory", "vi", "en", "h" * 64) is None
    store.close()


def test_every_list_of_providers_is_built_from_the_table() -> None:
    """The settings, the CLI and the deployment forms offer the providers of the one table, in its order."""
    import typing

    from extractors.translate.providers import PROVIDERS, TABLE, TRANSLATOR_CHOICES, default_rate_limits
    from flows.params import RetranslateProvider, TranslatorChoice
    from newsflow.cli import Translator as CliTranslator
    from newsflow.settings import TranslatorName

    assert tuple(p.name for p in TABLE) == PROVIDERS
    assert typing.get_args(TranslatorName) == TRANSLATOR_CHOICES == ("auto", "none", *PROVIDERS)
    assert [m.value for m in CliTranslator] == list(TRANSLATOR_CHOICES)
    assert [m.value for m in TranslatorChoice] == ["default", *TRANSLATOR_CHOICES]
    assert [m.value for m in RetranslateProvider] == ["default", "auto", *PROVIDERS]
    assert Settings.model_fields["translation_rate_limits"].default_factory is default_rate_limits
    assert set(default_rate_limits()) == {p.name for p in TABLE if p.online}
