"""extractors.htmltree answers as BeautifulSoup and soupsieve do (the site profiles were written for them): the same
elements for a selector, the same text, the same text after a removal. BeautifulSoup is the oracle here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from extractors import htmltree
from extractors.html import load_profiles
from extractors.pagemeta import parse_html

PAGE = """<html><head><title>Tin</title><style>p{}</style></head><body>
<div id="main-detail"><div class="detail-content" data-role="content">
  <p>Mở đầu <b>đậm</b> cuối<script>var x = 1;</script></p>
  <div type="relatednewsbox" class="VCSortableInPreviewMode box"><p>Tin liên quan (type viết thường)</p></div>
  <div type="RelatedOneNews" class="VCSortableInPreviewMode"><p>Tin liên quan</p></div>
  <p align="RIGHT">Tác giả căn phải</p><p style="color:red;
text-align:right">Kiểu nhiều dòng</p>
  <div class="detail-content\u00a0phu"><p>lớp cách bằng NBSP</p></div>
  <div class="Detail-Content"><p>lớp khác chữ hoa</p></div>
  <div data-role="content
"><p>giá trị có xuống dòng</p></div>
</div></div>
<article data-slot="container"><h1 data-slot="title">Tiêu đề</h1>
  <div data-slot="content"><p>Một</p><a href="/tac-gia/an">Nguyễn An</a><a href="/tac-gia/b"><img src="a.jpg">Ảnh</a>
  <template><p class="mau">mẫu</p></template><ruby>漢<rt>kan</rt><rp>(</rp></ruby><li>mục <p>lồng</p> đuôi</li></div>
</article>
</body></html><p class="detail-content">sau thẻ html đóng</p>"""

SELECTORS = [
    "div.detail-content",
    ".detail-content p",
    "#main-detail div.detail-content[data-role=content]",
    ".VCSortableInPreviewMode[type=RelatedNewsBox]",
    "[type=RelatedOneNews]",
    "p[align=right]",
    "p[style*='text-align:right']",
    "[data-role=content]",
    "[class*=detail]",
    "[class~=box]",
    "[data-role^=cont]",
    "[data-role$=tent]",
    "[data-role|=content]",
    "[data-role!=content]",
    "article[data-slot=container] a[href*='/tac-gia/']:not(:has(img))",
    ".detail-content > p",
    "h1 + div",
    "p, li",
    "rt",
    "li:has(p)",
    "div:has(> template)",
    "*",
]
# soupsieve never looks into a <template>'s contents
NOTHING = ["template p", ".mau", "div:has(.mau)", "template:has(> p)"]


def _soup_and_tree(html: str) -> tuple[BeautifulSoup, object]:
    return BeautifulSoup(html, "lxml"), parse_html(html)


def _path(node: object) -> str:
    """An element's place in its tree as tag names and sibling positions (same for bs4 and lxml trees)."""
    steps = []
    while node is not None and getattr(node, "name", getattr(node, "tag", None)) not in (None, "[document]"):
        name = node.name if hasattr(node, "name") else node.tag  # type: ignore[attr-defined]
        parent = node.parent if hasattr(node, "name") else node.getparent()  # type: ignore[attr-defined]
        if hasattr(node, "name"):
            siblings = parent.find_all(True, recursive=False) if parent is not None else [node]
        else:
            siblings = [e for e in parent if isinstance(e.tag, str)] if parent is not None else htmltree.tops(node)
        steps.append(f"{name}[{[s is node for s in siblings].index(True)}]")
        node = parent
    return "/".join(reversed(steps))


@pytest.mark.parametrize("css", SELECTORS + NOTHING)
def test_a_selector_finds_what_soupsieve_finds(css: str) -> None:
    soup, root = _soup_and_tree(PAGE)
    expected = [(_path(t), t.get_text(" ", strip=True)) for t in soup.select(css)]
    got = [(_path(e), htmltree.text(e, " ")) for e in htmltree.select(root, css)]
    assert got == expected
    assert bool(expected) == (css not in NOTHING), f"{css}: the page is meant to have a match or none"


@pytest.mark.parametrize("css", [".detail-content p", "p", "[class*=Preview] p", "a:not(:has(img))"])
def test_a_scoped_selection_is_soupsieves_select_from_that_element(css: str) -> None:
    """`body.select(".a .b")`: only elements inside `body` (not `body` itself), their ancestors anywhere."""
    soup, root = _soup_and_tree(PAGE)
    for scope_css in ("div.detail-content[data-role=content]", "div[data-slot=content]", "body"):
        scope_soup, scope_tree = soup.select_one(scope_css), htmltree.select_one(root, scope_css)
        assert scope_soup is not None and scope_tree is not None
        expected = [_path(t) for t in scope_soup.select(css)]
        assert [_path(e) for e in htmltree.select(root, css, scope=scope_tree)] == expected


def test_text_is_get_text_for_every_element_and_separator() -> None:
    """Strings stripped, empty ones dropped; script/style/template/ruby strings count only for their own kind."""
    soup, root = _soup_and_tree(PAGE)
    bs_tags = soup.find_all(True)
    lxml_tags = [e for top in htmltree.tops(root) for e in top.iter() if isinstance(e.tag, str)]
    assert [t.name for t in bs_tags] == [e.tag for e in lxml_tags]
    for tag, element in zip(bs_tags, lxml_tags, strict=True):
        for separator in ("", " ", "\n"):
            assert htmltree.text(element, separator) == tag.get_text(separator, strip=True), (tag.name, separator)
    assert htmltree.text(htmltree.select_one(root, "script")) == "var x = 1;"  # its own kind: its text


def test_a_removed_element_leaves_the_strings_around_it_apart() -> None:
    """decompose() keeps "a" and "b" as two strings: get_text(" ") gives "a b", not "ab"."""
    html = "<html><body><div>a<aside>x</aside>b<p>c<span>y</span>d</p></div></body></html>"
    soup, root = _soup_and_tree(html)
    for css in ("aside", "span"):
        for tag in soup.select(css):
            tag.decompose()
        for element in htmltree.select(root, css):
            htmltree.remove(element)
    div = soup.select_one("div")
    assert div is not None
    assert htmltree.text(htmltree.select_one(root, "div"), " ") == div.get_text(" ", strip=True)
    assert htmltree.text(htmltree.select_one(root, "div"), " ") == "a b c d"
    assert htmltree.select(root, "aside, span") == []


def test_an_unsupported_selector_is_refused_when_the_profile_loads(tmp_path: Path) -> None:
    profile = {"name": "x", "domains": ["x.vn"], "body": "div.noi-dung", "drop": ["p:nth-child(2)"]}
    (tmp_path / "x.json").write_text(json.dumps(profile))
    with pytest.raises(ValueError, match=r"x.json: field 'drop': CSS selector 'p:nth-child\(2\)': .*not supported"):
        load_profiles(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps({**profile, "drop": ["div:has(p a)"]}))  # soupsieve refuses it too
    with pytest.raises(ValueError, match=r"x.json: field 'drop': CSS selector 'div:has\(p a\)': :has\(\) takes"):
        load_profiles(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps({**profile, "drop": [], "title": "h1["}))
    with pytest.raises(ValueError, match=r"x.json: field 'title': CSS selector 'h1\['"):
        load_profiles(tmp_path)
