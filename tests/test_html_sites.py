"""Every stored sample page of tests/sites/<profile>/ extracts to its expected JSON exactly; profiles are data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractors.html import PROFILES, SiteProfile, extract_html, load_profiles

SITES = Path(__file__).resolve().parent / "sites"
PAIRS = sorted(p for p in SITES.rglob("*.json"))


def test_every_profile_has_a_stored_sample_page() -> None:
    assert {p.name for p in PROFILES} == {p.parent.name for p in PAIRS}
    assert len(PAIRS) >= 2


@pytest.mark.parametrize("expected_path", PAIRS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_stored_page_matches_its_expected_output(expected_path: Path) -> None:
    spec = json.loads(expected_path.read_text(encoding="utf-8"))
    page = extract_html(expected_path.with_suffix(".html").read_text(encoding="utf-8"), url=spec["url"])
    got = {
        "method": page.method,
        "title": page.title,
        "published_at": page.published_at.isoformat() if page.published_at else None,
        "authors": page.authors,
        "language_hint": page.language_hint,
        "canonical_url": page.canonical_url,
        "text": page.text,
    }
    assert got == spec["expected"]
    assert got["method"] == f"profile:{expected_path.parent.name}"


def test_profile_files_are_checked(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"name": "x", "domains": ["x.vn"], "body": "div", "colour": 1}))
    with pytest.raises(ValueError, match=r"bad.json: unknown field\(s\) \['colour'\]"):
        load_profiles(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"name": "x", "domains": ["x.vn"]}))
    with pytest.raises(ValueError, match="field 'body' is required"):
        load_profiles(tmp_path)


def test_profile_matches_by_host_pattern() -> None:
    profile = SiteProfile(name="p", domains=("*.vietnamplus.vn",), body="div")
    assert profile.matches("https://es.vietnamplus.vn/a-post1.vnp")
    assert not profile.matches("https://es.vietnamplus.example.vn/a")


def test_a_family_profile_steps_aside_for_a_page_of_another_layout() -> None:
    """`*.gov.vn` covers many portals: one whose markup has none of the profile's selectors goes on down
    the cascade instead of yielding an empty or wrong text."""
    body = " ".join(["Sở Nông nghiệp và Phát triển nông thôn tỉnh Bến Tre hướng dẫn nông dân trữ nước ngọt."] * 6)
    html = (
        f'<html lang="vi"><head><title>Tin</title></head><body><div class="khac"><h1>Bến Tre trữ nước ngọt</h1>'
        f"<p>{body}</p><p>{body}</p></div></body></html>"
    )
    page = extract_html(html, url="https://bentre.example.gov.vn/tin/tru-nuoc-ngot.html")
    assert page.method in ("trafilatura", "fallback") and "trữ nước ngọt" in page.text
    gov = next(p for p in PROFILES if p.name == "gov-vn-portal")
    assert gov.matches("https://bentre.example.gov.vn/a") and not gov.matches("https://gov.vn.example.com/a")
