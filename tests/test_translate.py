"""extractors.translate against real HTTP servers on 127.0.0.1 that speak each provider's contract.

Nothing in deep-translator or requests is mocked: the servers in tests/translate_servers.py answer
the way Google's mobile page, MyMemory, LibreTranslate, DeepL and Microsoft do.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from extractors.translate import (
    MAX_CHUNK_CHARS,
    PROVIDERS,
    Translator,
    reset_circuit_breakers,
    split_into_chunks,
)
from newsflow.settings import Settings
from tests.translate_servers import (  # noqa: F401 (apertium_installed is a fixture)
    MICROSOFT_KEY,
    FakeProvider,
    apertium_installed,
    closed_port_url,
    fake_translation,
)

VI = "Ủy ban nhân dân tỉnh Long An họp bàn về kế hoạch phát triển kinh tế năm 2025."


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_circuit_breakers()
    yield
    reset_circuit_breakers()


def make_settings(**overrides: Any) -> Settings:
    """Settings that never reach the internet: optional providers off unless a test turns them on."""
    values: dict[str, Any] = {
        "translator": "auto",
        "translation_target": "en",
        "translation_timeout": 2.0,
        "translation_retries": 1,
        "libre_url": None,
        "deepl_api_key": None,
        "microsoft_api_key": None,
        "microsoft_region": None,
        "translation_endpoints": {},
        "translation_cache": False,  # the cache has its own tests (test_translate_cache.py)
        "translation_rate_limits": {},  # so is the rate limiter
    }
    values.update(overrides)
    return Settings(**values)


def one(kind: str, url: str, **overrides: Any) -> Translator:
    """A Translator for provider `kind`, pointed at `url`."""
    return Translator(make_settings(translation_endpoints={kind: url}, **overrides), kind)


# -- each provider end to end -------------------------------------------------------------------------


def test_google_end_to_end() -> None:
    with FakeProvider("google") as server:
        result = one("google", server.url).translate(VI, "vi")
    assert result.status == "done"
    assert result.provider == "google"
    assert result.target == "en"
    assert result.text == fake_translation(VI)
    assert result.error is None
    assert result.translated_at is not None and result.translated_at.utcoffset() is not None
    [sent] = server.requests
    assert (sent.method, sent.path) == ("GET", "/m")
    assert (sent.params["sl"], sent.params["tl"], sent.params["q"]) == ("vi", "en", VI)


def test_mymemory_end_to_end_uses_regional_codes() -> None:
    with FakeProvider("mymemory") as server:
        result = one("mymemory", server.url).translate(VI, "vi")
    assert (result.status, result.provider, result.text) == ("done", "mymemory", fake_translation(VI))
    [sent] = server.requests
    assert sent.path == "/get"
    assert sent.params["langpair"] == "vi-VN|en-GB"  # deep-translator's table has no bare 'vi'


def test_libre_end_to_end_with_custom_url_without_trailing_slash() -> None:
    with FakeProvider("libre") as server:
        translator = Translator(make_settings(libre_url=server.url, libre_api_key="secret"), "libre")
        result = translator.translate(VI, "vi")
    assert (result.status, result.provider, result.text) == ("done", "libre", fake_translation(VI))
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/translate")
    assert (sent.params["source"], sent.params["target"], sent.params["api_key"]) == ("vi", "en", "secret")


def test_deepl_end_to_end_and_vietnamese_unsupported() -> None:
    german = "Das Volkskomitee der Provinz tagt heute."
    with FakeProvider("deepl") as server:
        translator = one("deepl", server.url, deepl_api_key="key:fx")
        result = translator.translate(german, "de")
        vietnamese = translator.translate(VI, "vi")
    assert (result.status, result.provider, result.text) == ("done", "deepl", fake_translation(german))
    [sent] = server.requests  # the Vietnamese text never left the process
    assert sent.path == "/v2/translate"
    assert sent.params["source_lang"] == "de" and sent.params["target_lang"] == "en"
    assert sent.params["auth_key"] == "key:fx"
    assert vietnamese.status == "unsupported"
    assert "deepl" in (vietnamese.error or "") and "vi" in (vietnamese.error or "")


def test_microsoft_end_to_end_fetches_languages_once() -> None:
    with FakeProvider("microsoft") as server:
        translator = one("microsoft", server.url, microsoft_api_key=MICROSOFT_KEY, microsoft_region="southeastasia")
        first = translator.translate(VI, "vi")
        second = translator.translate("Tỉnh Đồng Tháp.", "vi")
    assert (first.status, first.provider, first.text) == ("done", "microsoft", fake_translation(VI))
    assert second.text == fake_translation("Tỉnh Đồng Tháp.")
    assert [r.path for r in server.requests].count("/languages") == 1
    sent = server.translate_requests()[0]
    assert (sent.method, sent.path) == ("POST", "/translate")
    assert (sent.params["from"], sent.params["to"]) == ("vi", "en")
    assert sent.params["api-version"] == "3.0"
    assert sent.headers["Ocp-Apim-Subscription-Region"] == "southeastasia"


def test_microsoft_rejected_key_is_failed_without_retry() -> None:
    with FakeProvider("microsoft") as server:
        result = one("microsoft", server.url, microsoft_api_key="wrong", translation_retries=3).translate(VI, "vi")
    assert result.status == "failed"
    assert "401" in (result.error or "")
    assert len(server.translate_requests()) == 1


# -- timeouts, retries, circuit breaker ---------------------------------------------------------------


def test_server_that_never_answers_times_out_and_opens_the_circuit() -> None:
    with FakeProvider("google", mode="hang") as server:
        translator = one("google", server.url, translation_timeout=2.0, translation_retries=0)
        started = time.monotonic()
        result = translator.translate(VI, "vi")
        elapsed = time.monotonic() - started
        assert result.status == "pending"
        assert "no answer within 2 s" in (result.error or "")
        assert 1.5 <= elapsed < 10
        assert len(server.requests) == 1

        started = time.monotonic()
        again = translator.translate(VI, "vi")
        assert again.status == "pending"
        assert "circuit open" in (again.error or "")
        assert len(server.requests) == 1  # the second article did not touch the network
        assert time.monotonic() - started < 1.5


def test_hanging_server_with_retries_is_still_bounded() -> None:
    with FakeProvider("mymemory", mode="hang") as server:
        started = time.monotonic()
        result = one("mymemory", server.url, translation_timeout=1.0, translation_retries=2).translate(VI, "vi")
        elapsed = time.monotonic() - started
    assert result.status == "pending"
    assert "after 3 attempts" in (result.error or "")
    assert len(server.requests) == 3
    assert elapsed < 15


def test_429_then_200_is_retried_and_honours_retry_after() -> None:
    with FakeProvider("google") as server:
        server.reply(429, "rate limited", {"Retry-After": "1", "Content-Type": "text/plain"})
        started = time.monotonic()
        result = one("google", server.url, translation_retries=2).translate(VI, "vi")
        elapsed = time.monotonic() - started
    assert (result.status, result.text) == ("done", fake_translation(VI))
    assert len(server.requests) == 2
    assert 0.95 <= elapsed < 10  # first backoff alone would be 0.25-0.5 s: the 1 s came from Retry-After


def test_500s_are_retried_then_pending_and_do_not_open_the_circuit() -> None:
    with FakeProvider("libre") as server:
        server.reply(500, '{"error": "boom"}', times=3)
        translator = Translator(make_settings(libre_url=server.url, translation_retries=2), "libre")
        result = translator.translate(VI, "vi")
        assert result.status == "pending"
        assert "HTTP 500" in (result.error or "") and "after 3 attempts" in (result.error or "")
        assert len(server.requests) == 3
        later = translator.translate(VI, "vi")  # a server error is not an outage: next article tries again
    assert (later.status, later.text) == ("done", fake_translation(VI))


def test_dropped_connection_is_transient() -> None:
    with FakeProvider("deepl", mode="drop") as server:
        result = one("deepl", server.url, deepl_api_key="k", translation_retries=1).translate("Guten Tag.", "de")
    assert result.status == "pending"
    assert "ConnectionError" in (result.error or "")
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("kind", "status", "body"),
    [
        ("google", 200, "<html><body><p>no result element</p></body></html>"),
        ("mymemory", 200, "this is not json"),
        ("libre", 200, '{"unexpected": "shape"}'),
        ("deepl", 200, '{"translations": []}'),
        ("mymemory", 400, '{"responseDetails": "bad request"}'),
    ],
)
def test_malformed_or_rejected_answer_is_failed_without_retry(kind: str, status: int, body: str) -> None:
    with FakeProvider(kind) as server:  # type: ignore[arg-type]
        server.reply(status, body, times=5)
        settings = make_settings(
            translation_endpoints={kind: server.url},
            libre_url=server.url if kind == "libre" else None,
            deepl_api_key="k" if kind == "deepl" else None,
            translation_retries=3,
        )
        text, source = ("Guten Tag.", "de") if kind == "deepl" else (VI, "vi")  # DeepL has no Vietnamese
        result = Translator(settings, kind).translate(text, source)
    assert result.status == "failed", result.error
    assert result.error and result.error.startswith(f"translation failed: {kind}: ")
    assert len(server.requests) == 1
    if status == 200:
        assert "malformed response" in result.error


def test_mymemory_error_status_inside_a_200_body() -> None:
    detail = "'XX' IS AN INVALID TARGET LANGUAGE"
    body = json.dumps({"responseData": {"translatedText": detail}, "responseStatus": 403, "responseDetails": detail})
    with FakeProvider("mymemory") as server:
        server.reply(200, body)
        result = one("mymemory", server.url).translate(VI, "vi")
    assert result.status == "unsupported"
    assert "INVALID TARGET LANGUAGE" in (result.error or "")


def test_mymemory_quota_inside_a_200_body_is_transient() -> None:
    quota = {
        "responseData": {"translatedText": None},
        "responseStatus": 429,
        "responseDetails": "MYMEMORY WARNING: YOU USED ALL AVAILABLE FREE TRANSLATIONS FOR TODAY",
        "matches": [],
    }
    with FakeProvider("mymemory") as server:
        server.reply(200, json.dumps(quota), times=2)
        translator = one("mymemory", server.url, translation_retries=1)
        result = translator.translate(VI, "vi")
        assert result.status == "pending"
        assert "HTTP 429" in (result.error or "") and "FREE TRANSLATIONS" in (result.error or "")
        assert len(server.requests) == 2
        assert translator.translate(VI, "vi").status == "done"


def test_microsoft_language_list_5xx_is_retried() -> None:
    with FakeProvider("microsoft") as server:
        server.reply(503, '{"error": {"code": 503000, "message": "busy"}}')
        result = one("microsoft", server.url, microsoft_api_key=MICROSOFT_KEY).translate(VI, "vi")
    assert (result.status, result.text) == ("done", fake_translation(VI))
    assert [r.path for r in server.requests] == ["/languages", "/languages", "/translate"]


def test_connection_refused_is_pending_and_the_breaker_skips_the_network() -> None:
    url = closed_port_url()
    translator = one("google", url, translation_retries=3)
    first = translator.translate(VI, "vi")
    assert first.status == "pending"
    assert first.error and first.error.startswith("no provider reachable: google: ConnectionError")
    assert "refused" in first.error.lower()
    assert "circuit open" not in first.error  # no retries were spent on a refused connection

    started = time.monotonic()
    second = Translator(translator.settings, "google").translate(VI, "vi")  # process-wide, not per instance
    assert second.status == "pending"
    assert "circuit open" in (second.error or "")
    assert time.monotonic() - started < 1.0


# -- auto ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("apertium_installed")
def test_auto_order_is_documented_order_of_configured_providers() -> None:
    assert Translator(make_settings()).providers == ("google", "mymemory", "apertium")
    full = make_settings(libre_url="http://libre.invalid", deepl_api_key="k", microsoft_api_key="m")
    assert Translator(full).providers == PROVIDERS
    assert PROVIDERS == ("google", "mymemory", "libre", "deepl", "microsoft", "apertium")


def test_auto_falls_through_unreachable_google_to_mymemory() -> None:
    with FakeProvider("mymemory") as mymemory:
        settings = make_settings(translation_endpoints={"google": closed_port_url(), "mymemory": mymemory.url})
        translator = Translator(settings)
        result = translator.translate(VI, "vi")
        assert (result.status, result.provider, result.text) == ("done", "mymemory", fake_translation(VI))
        again = translator.translate("Tỉnh Tây Ninh.", "vi")  # google skipped by the breaker this time
    assert (again.status, again.provider) == ("done", "mymemory")
    assert len(mymemory.requests) == 2


def test_auto_with_nothing_reachable_is_pending_and_names_each_provider() -> None:
    settings = make_settings(translation_endpoints={"google": closed_port_url(), "mymemory": closed_port_url()})
    result = Translator(settings).translate(VI, "vi")
    assert result.status == "pending"
    assert result.provider is None
    error = result.error or ""
    assert error.startswith("no provider reachable: google: ConnectionError")
    assert "; mymemory: ConnectionError" in error


def test_auto_with_unknown_language_is_unsupported_without_network() -> None:
    with FakeProvider("google") as google, FakeProvider("mymemory") as mymemory:
        settings = make_settings(translation_endpoints={"google": google.url, "mymemory": mymemory.url})
        result = Translator(settings).translate(VI, "xx")
    assert result.status == "unsupported"
    assert "no configured provider translates xx -> en" in (result.error or "")
    assert google.requests == [] and mymemory.requests == []


# -- chunking -----------------------------------------------------------------------------------------


def _long_article() -> str:
    sentence = "Sở Tài nguyên và Môi trường tỉnh Tiền Giang báo cáo tiến độ thực hiện kế hoạch. "
    huge_paragraph = (sentence * 80).strip()  # about 6,600 characters: must be cut at sentence ends
    paragraphs = [
        "Tin tức tỉnh Long An",
        (sentence * 30).strip(),
        huge_paragraph,
        "Dòng một\nDòng hai ngay sau một ngắt dòng đơn",
        (sentence * 25).strip(),
    ]
    return "\n\n".join(paragraphs)


def test_split_into_chunks_keeps_text_and_limits() -> None:
    text = _long_article() + "\n\n" + "x" * 1200  # one unbroken token longer than the limit
    for limit in (499, 1000, 4999):
        chunks = split_into_chunks(text, limit)
        assert "".join(c.text + c.sep for c in chunks) == text
        assert all(0 < len(c.text) <= limit for c in chunks)
        assert all(c.text == "".join(p + s for p, s in c.parts) for c in chunks)
    assert split_into_chunks("  \n ", 10) == []
    # paragraphs are packed whole while they fit
    assert [c.text for c in split_into_chunks("a b\n\nc d\n\ne f", 8)] == ["a b\n\nc d", "e f"]


def test_google_chunking_across_the_5000_limit_keeps_paragraphs() -> None:
    text = _long_article()
    assert len(text) > 10_000 and max(len(p) for p in text.split("\n\n")) > 5000
    with FakeProvider("google") as server:
        result = one("google", server.url).translate(text, "vi")
    assert result.status == "done", result.error
    assert result.text == fake_translation(text)  # every "\n\n" and "\n" in place
    sent = [r.params["q"] for r in server.requests]
    assert len(sent) >= 3
    assert all(len(q) <= MAX_CHUNK_CHARS["google"] < 5000 for q in sent)
    assert all(p["sl"] == "vi" and p["tl"] == "en" for p in (r.params for r in server.requests))


def test_mymemory_chunks_stay_under_500() -> None:
    text = _long_article()[:3000]
    with FakeProvider("mymemory") as server:
        result = one("mymemory", server.url).translate(text, "vi")
    assert result.status == "done", result.error
    assert result.text == fake_translation(text.strip())
    assert all(len(r.params["q"]) < 500 for r in server.requests)
    assert len(server.requests) >= 6


def test_provider_that_collapses_line_breaks_is_sent_paragraph_by_paragraph() -> None:
    text = "Đoạn một.\n\nĐoạn hai.\nDòng ba."
    with FakeProvider("google", mode="collapse_newlines") as server:
        result = one("google", server.url).translate(text, "vi")
    assert (result.status, result.text) == ("done", fake_translation(text))
    assert [r.params["q"] for r in server.requests] == [text, "Đoạn một.", "Đoạn hai.", "Dòng ba."]


# -- statuses that need no provider -------------------------------------------------------------------


def test_none_same_language_empty_and_und() -> None:
    off = Translator(make_settings(translator="none"))
    assert off.translate(VI, "vi").model_dump(exclude_none=True) == {
        "status": "unsupported",
        "target": "en",
        "error": "translation disabled (--translator none)",
    }
    on = Translator(make_settings(translation_endpoints={"google": closed_port_url()}), "google")
    for translator in (off, on):
        assert translator.translate("Already English.", "en").status == "not_needed"
        assert translator.translate("Already English.", "en-US").status == "not_needed"
        assert translator.translate("  \n ", "vi").status == "not_needed"
        assert translator.translate(VI, "vi", target="vi").status == "not_needed"
    und = on.translate("Long An", "und")
    assert und.status == "unsupported" and "und" in (und.error or "")


def test_bad_names_and_missing_configuration_fail_fast() -> None:
    with pytest.raises(ValueError, match="unknown translator"):
        Translator(make_settings(), "bing")
    with pytest.raises(ValueError, match="DEEPL_API_KEY"):
        Translator(make_settings(), "deepl")
    with pytest.raises(ValueError, match="LIBRE_URL"):
        Translator(make_settings(), "libre")
