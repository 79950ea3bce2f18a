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


def _with_profile(monkeypatch: pytest.MonkeyPatch, **fields: object) -> None:
    profile = SiteProfile.from_dict({"name": "lead-test", "domains": ["tin.example.vn"], **fields})
    monkeypatch.setattr("extractors.html.PROFILES", [profile])


def test_a_lead_outside_the_body_comes_first_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """`lead`: the sapo sits beside the body container; it becomes the first paragraph, and a lead the body
    already holds is not repeated."""
    _with_profile(monkeypatch, body="div.noi-dung", lead="h2.sapo", drop=["div.lien-quan"])
    html = (
        '<html lang="vi"><body><h2 class="sapo">Tỉnh giao chỉ tiêu trồng rừng cho các huyện.</h2>'
        '<div class="noi-dung"><p>Mỗi huyện báo cáo kết quả hằng quý.</p>'
        '<div class="lien-quan"><p>Tin liên quan</p></div></div></body></html>'
    )
    page = extract_html(html, url="https://tin.example.vn/a.htm")
    assert page.method == "profile:lead-test"
    assert page.text == "Tỉnh giao chỉ tiêu trồng rừng cho các huyện.\n\nMỗi huyện báo cáo kết quả hằng quý."
    inside = html.replace(
        '<h2 class="sapo">Tỉnh giao chỉ tiêu trồng rừng cho các huyện.</h2><div class="noi-dung">',
        '<div class="noi-dung"><h2 class="sapo">Tỉnh giao chỉ tiêu trồng rừng cho các huyện.</h2>',
    )
    assert extract_html(inside, url="https://tin.example.vn/a.htm").text == page.text


def test_a_lead_alone_does_not_make_a_profile_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose body container is empty goes on down the cascade even when the lead matched."""
    _with_profile(monkeypatch, body="div.noi-dung", lead="h2.sapo")
    body = " ".join(["Sở Tài chính hướng dẫn các xã lập dự toán ngân sách năm sau theo mẫu mới."] * 6)
    html = (
        '<html lang="vi"><body><h2 class="sapo">Dự toán ngân sách.</h2><div class="noi-dung"></div>'
        f"<article><p>{body}</p><p>{body}</p></article></body></html>"
    )
    assert extract_html(html, url="https://tin.example.vn/b.htm").method in ("trafilatura", "fallback")


def test_the_page_date_with_seconds_outranks_the_profile_date_of_the_same_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _with_profile(monkeypatch, body="div.noi-dung", date="div.ngay")
    text = "<p>Sở Nội vụ công bố kết quả xét tuyển công chức.</p>"
    head = '<meta property="article:published_time" content="2025-03-07T08:52:11+07:00">'
    html = (
        f'<html lang="vi"><head>{head}</head><body><div class="ngay">07/03/2025 08:52</div>'
        f'<div class="noi-dung">{text}</div></body></html>'
    )

    def published(page_html: str) -> str | None:
        found = extract_html(page_html, url="https://tin.example.vn/c.htm").published_at
        return found.isoformat() if found else None

    assert published(html) == "2025-03-07T08:52:11+07:00"
    assert published(html.replace("08:52</div>", "09:10</div>")) == "2025-03-07T09:10:00+07:00"


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ("Hà Thu (tổng hợp)", ["Hà Thu"]),
        ("Theo Minh An (theo Reuters)", ["Minh An"]),
        ("Lan Anh, Quốc Bảo (lược dịch)", ["Lan Anh", "Quốc Bảo"]),
        ("Nguyễn Văn (Ba)", ["Nguyễn Văn (Ba)"]),  # a bracket that is no note stays
    ],
)
def test_a_note_after_the_bylines_name_is_not_part_of_it(
    monkeypatch: pytest.MonkeyPatch, byline: str, authors: list[str]
) -> None:
    _with_profile(monkeypatch, body="div.noi-dung", byline="p.tac-gia", drop=["p.tac-gia"])
    body = "Sở Tài chính hướng dẫn các xã lập dự toán ngân sách năm sau theo mẫu mới. " * 4
    html = (
        f'<html lang="vi"><body><div class="noi-dung"><p>{body}</p><p class="tac-gia">{byline}</p></div></body></html>'
    )
    page = extract_html(html, url="https://tin.example.vn/c.htm")
    assert page.method == "profile:lead-test" and page.authors == authors


@pytest.mark.parametrize(
    ("sapo", "text"),
    [
        ('<span class="location-stamp">TP HCM</span>Sở Y tế kiểm tra an toàn thực phẩm.', "TP HCM - Sở Y tế"),
        ('<span class="location-stamp">Hà Nội - </span> - Sở Y tế kiểm tra an toàn thực phẩm.', "Hà Nội - Sở Y tế"),
        ("Sở Y tế kiểm tra an toàn thực phẩm.", "Sở Y tế"),  # no stamp: the sapo as it is
    ],
)
def test_a_location_stamp_set_apart_by_style_is_kept_as_a_dateline(
    monkeypatch: pytest.MonkeyPatch, sapo: str, text: str
) -> None:
    """`stamp`: VnExpress writes the place of a story in a span of the sapo and draws the dash in CSS; the text
    keeps the place, written as a dateline, instead of gluing it to the sapo's first word."""
    _with_profile(monkeypatch, body="article.noi-dung", lead="p.description", stamp="span.location-stamp")
    html = (
        f'<html lang="vi"><body><p class="description">{sapo}</p>'
        '<article class="noi-dung"><p>Đoàn kiểm tra làm việc tại 20 bếp ăn tập thể.</p></article></body></html>'
    )
    page = extract_html(html, url="https://tin.example.vn/d.htm")
    assert page.text == f"{text} kiểm tra an toàn thực phẩm.\n\nĐoàn kiểm tra làm việc tại 20 bếp ăn tập thể."


def test_a_language_per_host_for_the_editions_of_one_site(monkeypatch: pytest.MonkeyPatch) -> None:
    """`languages`: one profile for the editions of one site, each host with its language; the page's own
    `<html lang>` still comes first."""
    monkeypatch.setattr(
        "extractors.html.PROFILES",
        [
            SiteProfile.from_dict(
                {
                    "name": "ed",
                    "domains": ["*.tin.example.vn"],
                    "body": "div.noi-dung",
                    "languages": {"en.tin.example.vn": "en", "fr.tin.example.vn": "fr"},
                }
            )
        ],
    )
    body = '<div class="noi-dung"><p>The province opened a new customs lane for farm produce.</p></div>'
    assert extract_html(f"<html><body>{body}</body></html>", url="https://en.tin.example.vn/a").language_hint == "en"
    assert extract_html(f"<html><body>{body}</body></html>", url="https://fr.tin.example.vn/a").language_hint == "fr"
    assert extract_html(f"<html><body>{body}</body></html>", url="https://zh.tin.example.vn/a").language_hint is None
    page = extract_html(f'<html lang="es"><body>{body}</body></html>', url="https://en.tin.example.vn/a")
    assert page.language_hint == "es"
    with pytest.raises(ValueError, match="'languages' must map host patterns"):
        SiteProfile.from_dict({"name": "x", "domains": ["x.vn"], "body": "div", "languages": ["en"]})
