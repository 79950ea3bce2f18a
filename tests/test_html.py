"""Main text and metadata from the team's HTML sample pages (site furniture around the article)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from extractors import html as html_module
from extractors.html import SiteProfile, extract_html

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
PAGE = SAMPLES / "es" / "vinh-long-agricultura-alta-tecnologia-2024.html"


def test_main_text_without_furniture() -> None:
    page = extract_html(PAGE.read_text(encoding="utf-8"))
    assert page.method == "trafilatura"
    assert "Hanoi amplía sus zonas peatonales" not in page.text  # "Ver más" sidebar
    assert "cometas" not in page.text
    assert "<script" not in page.text and "function" not in page.text
    assert "agricultura" in page.text and len(page.text) > 500
    assert page.title == "Vinh Long atrae inversiones en agricultura de alta tecnología"
    assert page.published_at == datetime(2024, 4, 18, 17, 42, tzinfo=timezone(timedelta(hours=7)))
    assert page.language_hint == "es"
    assert page.canonical_url and page.canonical_url.startswith("https://es.vietnamplus.example.vn/")


@pytest.mark.parametrize("path", sorted(SAMPLES.rglob("*.html")), ids=lambda p: p.name)
def test_every_sample_page_has_text_title_and_date(path: Path) -> None:
    page = extract_html(path.read_text(encoding="utf-8"))
    assert len(page.text) > 400, path
    assert page.title and page.published_at and page.published_at.tzinfo is not None
    for furniture in ("Comment (0)", "Comentario (0)", "Copyright", "©"):
        assert furniture not in page.text, (path, furniture)


def test_site_profile_comes_first_in_the_cascade(monkeypatch: pytest.MonkeyPatch) -> None:
    profile = SiteProfile(
        name="vietnamplus-es",
        domains=("es.vietnamplus.example.vn",),
        body="article",
        drop=("figure", "figcaption", ".article__meta"),
        language="es",
    )
    monkeypatch.setattr(html_module, "PROFILES", [profile])
    page = extract_html(PAGE.read_text(encoding="utf-8"))
    assert page.method == "profile:vietnamplus-es"
    assert "Quang cảnh buổi gặp gỡ" not in page.text  # the Vietnamese caption was dropped by the profile
    assert "Ver más" not in page.text


def test_fallback_when_trafilatura_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Step 3 of the cascade: trafilatura gave up (it returns None on such pages in the field).
    monkeypatch.setattr(html_module, "_by_trafilatura", lambda html, url: None)
    html = (
        "<html><body><nav>Menu Home</nav><article><p>Long An ký giao ước.</p><p>Sở TN&amp;MT dự.</p>"
        "</article><footer>Bản quyền</footer><script>var x=1;</script></body></html>"
    )
    page = extract_html(html)
    assert page.method == "fallback"
    assert page.text == "Long An ký giao ước.\n\nSở TN&MT dự."


def test_extraction_does_not_depend_on_what_ran_before() -> None:
    html = PAGE.read_text(encoding="utf-8")
    texts = {extract_html(html).text for _ in range(5)}
    assert len(texts) == 1
