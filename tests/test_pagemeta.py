"""A page's own metadata (extractors.pagemeta): JSON-LD read as Fundus reads it, the headline before og:title,
the site's name removed from the end of a title, bylines from JSON-LD."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml import etree

from extractors.html import extract_html
from extractors.pagemeta import Tags, ld_article, linked_data, page_title, parse_html, site_names, strip_site_name

BODY = (
    "<p>" + "Ủy ban nhân dân tỉnh Long An tổ chức hội nghị sơ kết công tác quản lý đất đai quý I và chỉ đạo "
    "các sở, ngành đẩy nhanh tiến độ số hóa hồ sơ địa chính. " * 3 + "</p>"
)


def _ld(*objects: Any) -> str:
    return "".join(f'<script type="application/ld+json">{json.dumps(o, ensure_ascii=False)}</script>' for o in objects)


def _page(head: str = "", body: str = "", lang: str = "vi") -> str:
    return f'<html lang="{lang}"><head><meta charset="utf-8">{head}</head><body>{body}{BODY}</body></html>'


def _soup(html: str) -> etree._Element | None:
    return parse_html(html)


# --- JSON-LD -----------------------------------------------------------------------------------------------


def test_linked_data_flattens_graphs_lists_and_nested_objects_and_skips_broken_scripts() -> None:
    head = (
        _ld(
            {
                "@context": "https://schema.org",
                "@graph": [{"@type": "WebSite", "name": "S"}, {"@type": "BreadcrumbList"}],
            }
        )
        + '<script type="application/ld+json">{"@type": "NewsArticle", broken</script>'
        + _ld(
            [{"@type": "Organization", "name": "O"}],
            {"@type": "WebPage", "mainEntity": {"@type": "ReportageNewsArticle", "headline": "Nested"}},
        )
    )
    objects = linked_data(Tags.of(_soup(_page(head))))
    assert [o["@type"] for o in objects] == [
        "WebSite",
        "BreadcrumbList",
        "Organization",
        "WebPage",
        "ReportageNewsArticle",
    ]
    article = ld_article(objects)
    assert article is not None and article["headline"] == "Nested"


@pytest.mark.parametrize(
    "kind",
    [
        "NewsArticle",
        "Article",
        "BlogPosting",
        ["NewsArticle", "WebPage"],
        "https://schema.org/AnalysisNewsArticle",
        "schema:Report",
    ],
)
def test_article_types(kind: object) -> None:
    assert ld_article([{"@type": "WebPage", "headline": "No"}, {"@type": kind, "headline": "Yes"}]) is not None


def test_no_article_type_no_article() -> None:
    assert ld_article([{"@type": "WebPage", "headline": "No"}, {"@type": "ClaimReview"}]) is None


def test_json_ld_headline_date_and_author_are_read() -> None:
    head = _ld(
        {
            "@type": "NewsArticle",
            "headline": "Ch&#237;nh s&#225;ch mới c&#243; hiệu lực",
            "datePublished": "2026-03-01T09:51:00+07:00",
            "author": [
                {"@type": "Person", "name": "Minh Anh"},
                {"@type": "Organization", "name": "Báo Mẫu"},
                "By Thu Hà and Lan Chi",
            ],
            "publisher": {"@type": "Organization", "name": "Báo Mẫu"},
        }
    )
    page = extract_html(_page(head + '<meta property="og:title" content="Khác - Báo Mẫu">'))
    assert page.title == "Chính sách mới có hiệu lực"  # entities decoded
    assert page.published_at is not None and page.published_at.isoformat() == "2026-03-01T09:51:00+07:00"
    assert page.authors == ["Minh Anh", "Thu Hà", "Lan Chi"]  # the outlet itself is no byline


def test_json_ld_date_wins_over_the_meta_tags() -> None:
    head = (
        _ld({"@type": "NewsArticle", "headline": "H", "datePublished": "2012-05-10T14:29:05Z"})
        + '<meta property="article:published_time" content="2026-04-24T11:16:53+00:00">'
    )
    page = extract_html(_page(head))
    assert page.published_at is not None and page.published_at.isoformat() == "2012-05-10T14:29:05+00:00"


def test_headline_escaped_twice_is_decoded() -> None:
    head = _ld({"@type": "NewsArticle", "headline": "Chi&amp;#7871;n s&amp;#7921; đẩy giá hoa"})
    assert extract_html(_page(head)).title == "Chiến sự đẩy giá hoa"


# --- the title ---------------------------------------------------------------------------------------------


def test_title_order_headline_then_h1_then_og_title() -> None:
    og = (
        '<meta property="og:title" content="Giá vàng giảm mạnh - Báo Mẫu"><meta property="og:site_name" '
        'content="Báo Mẫu"><title>Giá vàng giảm mạnh | Báo Mẫu</title>'
    )
    ld = _ld({"@type": "NewsArticle", "headline": "Giá vàng giảm, vẫn cao hơn thế giới"})
    h1 = "<article><h1>Giá vàng giảm mạnh hôm nay</h1></article>"
    assert extract_html(_page(og + ld, h1)).title == "Giá vàng giảm, vẫn cao hơn thế giới"
    assert extract_html(_page(og, h1)).title == "Giá vàng giảm mạnh hôm nay"
    assert extract_html(_page(og)).title == "Giá vàng giảm mạnh"  # og:title without the site's name


def test_h1_that_is_the_logo_or_a_box_title_is_not_the_headline() -> None:
    head = (
        '<meta property="og:title" content="Long An số hóa hồ sơ địa chính"><meta property="og:site_name" '
        'content="Báo Long An">'
    )
    logo = '<header><h1><a href="/">Báo Long An</a></h1></header><aside><h1>Đọc nhiều</h1></aside>'
    assert extract_html(_page(head, logo)).title == "Long An số hóa hồ sơ địa chính"
    story = logo + "<main><h1>Long An số hóa hồ sơ địa chính toàn tỉnh</h1></main>"
    assert extract_html(_page(head, story)).title == "Long An số hóa hồ sơ địa chính toàn tỉnh"
    # a portal named after its province: a headline naming the province is still the headline
    portal = (
        '<link rel="canonical" href="https://longan.example.gov.vn/tin/a.html">'
        '<meta property="og:title" content="Long An khởi công cầu mới - Cổng thông tin">'
    )
    assert extract_html(_page(portal, "<h1>Long An khởi công cầu mới</h1>")).title == "Long An khởi công cầu mới"


@pytest.mark.parametrize(
    ("title", "head", "url", "expected"),
    [
        (
            "Cách các nước đối phó cú sốc năng lượng - VnExpress",
            "",
            "https://vnexpress.net/a.html",
            "Cách các nước đối phó cú sốc năng lượng",
        ),  # the host's name
        (
            "Chiến sự đẩy giá hoa nhập khẩu | Báo Tuổi Trẻ",
            '<meta property="og:site_name" content="TUOI TRE ONLINE">',
            "https://tuoitre.vn/a.htm",
            "Chiến sự đẩy giá hoa nhập khẩu",
        ),  # diacritics and "Báo" aside
        (
            "Mining blasts shatter homes - Lesotho Times",
            '<meta property="og:site_name" content="Lesotho Times">',
            None,
            "Mining blasts shatter homes",
        ),
        (
            "Füchse Berlin mit Machtdemonstration | Berliner Morgenpost",
            '<meta name="application-name" content="Berliner Morgenpost">',
            None,
            "Füchse Berlin mit Machtdemonstration",
        ),
        (
            "宮崎県で震度5弱：朝日新聞デジタル",
            '<meta property="og:site_name" content="朝日新聞デジタル">',
            None,
            "宮崎県で震度5弱",
        ),
        (
            "Sở Y tế - Bản tin - Cổng TTĐT tỉnh",
            "",
            "https://soyte.example.gov.vn/a",
            "Sở Y tế - Bản tin - Cổng TTĐT tỉnh",
        ),
        (
            "Epstein case - then 'asked to meet her sister'",
            '<meta property="og:site_name" content="Daily Star">',
            None,
            "Epstein case - then 'asked to meet her sister'",
        ),  # a dash inside the headline is not a site suffix
    ],
)
def test_site_name_suffix_is_removed_by_a_general_rule(title: str, head: str, url: str | None, expected: str) -> None:
    soup = _soup(_page(f'<meta property="og:title" content="{title}">{head}'))
    assert page_title(Tags.of(soup), None, site_names(Tags.of(soup), url, None)) == expected


def test_strip_site_name_leaves_a_title_that_is_all_site_name() -> None:
    assert strip_site_name("VnExpress", ["vnexpress"]) == "VnExpress"
    assert strip_site_name("Tin mới - Thời sự | VnExpress", ["vnexpress"]) == "Tin mới - Thời sự"
