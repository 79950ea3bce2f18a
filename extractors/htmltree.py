"""CSS selectors, text and element removal on the lxml tree of `pagemeta.parse_html`, as BeautifulSoup reads them.

The site profiles were written for BeautifulSoup (`soup.select_one`, `tag.get_text`, `tag.decompose`); building
the BeautifulSoup tree (a Python object per element) and matching with soupsieve cost more per page than the
rest of our own work. The same tree, read by lxml, gives the same answers here:

- selectors are translated to XPath by cssselect, with soupsieve's matching rules kept where the two differ: a
  class is one of the `\\S+` tokens of `class` (as BeautifulSoup splits it); attribute values of multi-valued
  attributes (`class`, `rel`, ...) are compared as those tokens joined by a space; the attributes HTML calls
  case-insensitive (`type`, `align`, ...) compare in ASCII lowercase; a selector's ancestors may lie outside the
  element it is run from (`body.select(".a .b")` finds a `.b` in `body` under a `.a` above it);
- text is BeautifulSoup's `get_text(separator, strip=True)`: each string stripped, empty ones left out; strings
  in `<script>`, `<style>`, `<template>`, `<rt>`, `<rp>` count only for an element of that same kind;
- a removed element leaves a comment in its place that keeps the text after it, so the strings on either side
  stay two strings (BeautifulSoup's `decompose` does not join them).

As with soupsieve, nothing inside a `<template>` is selected (soupsieve enters a template's contents only to
select from that template itself, which a profile does not do). Pseudo-classes other than `:not()`, `:has()`,
`:is()` and `:where()` are refused: cssselect and soupsieve do not agree on all of them.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cssselect import HTMLTranslator, SelectorError
from cssselect.parser import Attrib, Class, CombinedSelector, Function, Pseudo, Relation
from cssselect.xpath import ExpressionError, XPathExpr
from lxml import etree

_NS = "urn:newsflow:htmltree"
_NOT_WS = re.compile(r"\S+")  # how BeautifulSoup splits a multi-valued attribute
_CSS_WS = re.compile(r"[ \t\r\n\f]")  # whitespace for `~=` (as soupsieve reads it)

# BeautifulSoup's multi-valued ("CDATA list") attributes, per tag ("*": every tag)
_MULTI_VALUED = {
    "*": frozenset({"class", "accesskey", "dropzone"}),
    "a": frozenset({"rel", "rev"}),
    "link": frozenset({"rel", "rev"}),
    "td": frozenset({"headers"}),
    "th": frozenset({"headers"}),
    "form": frozenset({"accept-charset"}),
    "object": frozenset({"archive"}),
    "area": frozenset({"rel"}),
    "icon": frozenset({"sizes"}),
    "iframe": frozenset({"sandbox"}),
    "output": frozenset({"for"}),
}
# Attributes whose values HTML compares without case (soupsieve does too, in ASCII lowercase)
_CASELESS_NAMES = (
    "accept accept-charset align alink axis bgcolor charset checked clear codetype color compact declare defer "
    "dir direction disabled enctype face frame hreflang http-equiv lang language link media method multiple "
    "nohref noresize noshade nowrap readonly rel rev rules scope scrolling selected shape target text type "
    "valign valuetype vlink"
)
_CASELESS = frozenset(_CASELESS_NAMES.split())
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# BeautifulSoup's string containers: their strings are no text for any other element
_CONTAINERS = frozenset({"script", "style", "template", "rt", "rp"})


def _attribute_value(element: Any, name: str) -> str | None:
    raw = element.get(name)
    if raw is None:
        return None
    if name in _MULTI_VALUED["*"] or name in _MULTI_VALUED.get(element.tag, ()):
        return " ".join(_NOT_WS.findall(raw))
    return str(raw)


def _match_attribute(context: Any, op: str, name: str, wanted: str, caseless: str) -> bool:
    """soupsieve's comparison of one attribute selector (`op` as cssselect names it) for the context element."""
    value = _attribute_value(context.context_node, name)
    if value is None:
        return op == "!="
    if caseless == "1":
        value, wanted = value.translate(_ASCII_LOWER), wanted.translate(_ASCII_LOWER)
    if op == "=":
        return value == wanted
    if op == "!=":
        return value != wanted
    if op == "|=":
        return value == wanted or value.startswith(wanted + "-")
    if not wanted:  # ^= $= *= ~= with an empty value match nothing
        return False
    if op == "^=":
        return value.startswith(wanted)
    if op == "$=":
        return value.endswith(wanted)
    if op == "*=":
        return wanted in value
    # ~=
    return not _CSS_WS.search(wanted) and wanted in _CSS_WS.split(value)


def _has_class(context: Any, name: str) -> bool:
    return name in _NOT_WS.findall(context.context_node.get("class") or "")


_EXTENSIONS = {(_NS, "attr"): _match_attribute, (_NS, "class"): _has_class}


class _Translator(HTMLTranslator):
    """cssselect's HTML translation, with soupsieve's rules for classes and attribute values."""

    def xpath_class(self, class_selector: Class) -> XPathExpr:
        xpath = self.xpath(class_selector.selector)
        name = class_selector.class_name
        if not name or _NOT_WS.fullmatch(name) is None:  # a token never holds whitespace
            return xpath.add_condition("false()")
        literal = self.xpath_literal(name)
        return xpath.add_condition(f"@class and contains(@class, {literal}) and ss:class({literal})")

    def xpath_attrib(self, selector: Attrib) -> XPathExpr:
        xpath = self.xpath(selector.selector)
        name = selector.attrib.lower()
        if selector.namespace or not re.fullmatch(r"[a-z_][a-z0-9_.-]*", name):
            raise ExpressionError(f"attribute {selector.attrib!r}: only plain attribute names are supported")
        if selector.operator == "exists":
            return xpath.add_condition(f"@{name}")
        wanted = str(selector.value.value) if selector.value is not None else ""
        flag = (selector.flag or "").lower()
        caseless = flag == "i" or (not flag and name in _CASELESS)
        args = ", ".join(self.xpath_literal(v) for v in (selector.operator, name, wanted, "1" if caseless else "0"))
        if selector.operator == "!=":
            return xpath.add_condition(f"ss:attr({args})")
        condition = f"@{name}"
        if not caseless and wanted and _NOT_WS.fullmatch(wanted):  # the raw value holds it too: a fast pre-check
            condition += f" and contains(@{name}, {self.xpath_literal(wanted)})"
        return xpath.add_condition(f"{condition} and ss:attr({args})")

    def xpath_relation(self, relation: Relation) -> XPathExpr:
        """`:has()`, not looking into a `<template>`'s contents (as soupsieve; exact for an element outside one,
        and elements inside one are never selected)."""
        found = []
        for combinator, subselector in relation.arguments:
            if isinstance(subselector.parsed_tree, CombinedSelector) or "Relation[" in repr(subselector.parsed_tree):
                # soupsieve's rule: a leading combinator and one compound selector, no :has() in it
                raise ExpressionError(":has() takes a compound selector after an optional combinator")
            kind = self.combinator_mapping[str(combinator.value)]
            path = getattr(self, f"xpath_relation_{kind}_combinator")(self.xpath(subselector.parsed_tree))
            found.append(f"({path})[not(ancestor::template)]")
        return self.xpath(relation.selector).add_condition(" or ".join(found))

    def xpath_pseudo(self, pseudo: Pseudo) -> XPathExpr:
        raise ExpressionError(f"pseudo-class :{pseudo.ident} is not supported")

    def xpath_function(self, function: Function) -> XPathExpr:
        raise ExpressionError(f"pseudo-class :{function.name}() is not supported")


_TRANSLATOR = _Translator()
_LOCAL = threading.local()  # compiled XPath objects are not shared between threads


@lru_cache(maxsize=512)
def _xpath_source(css: str) -> str:
    # "/descendant-or-self::": from the document, so every top-level element (libxml2 makes one for what follows
    # a stray </html>) is searched, as BeautifulSoup searches its whole document
    return _TRANSLATOR.css_to_xpath(css, prefix="/descendant-or-self::")


def check_selector(css: str) -> None:
    """ValueError with the reason when `css` is not a selector this module can run."""
    try:
        _compiled(css)(_EMPTY)
    except (SelectorError, ExpressionError, etree.XPathError) as exc:
        raise ValueError(f"CSS selector {css!r}: {exc}") from None


def _compiled(css: str) -> etree.XPath:
    cache: dict[str, etree.XPath] | None = getattr(_LOCAL, "xpaths", None)
    if cache is None:
        cache = _LOCAL.xpaths = {}
    found = cache.get(css)
    if found is None:
        found = etree.XPath(_xpath_source(css), namespaces={"ss": _NS}, extensions=_EXTENSIONS)
        cache[css] = found
    return found


_EMPTY = etree.fromstring("<html><body><p class='x' id='y'>z</p></body></html>")


def _outside_templates(element: Any) -> bool:
    return not any(parent.tag == "template" for parent in element.iterancestors())


def _is_inside(element: Any, scope: Any) -> bool:
    return any(parent is scope for parent in element.iterancestors())


def select(document: Any, css: str, scope: Any = None) -> list[Any]:
    """The elements matching `css` in document order (soupsieve's `select`); with `scope`, only those inside
    it (the scope itself excluded), their ancestors still matched anywhere in the document."""
    if document is None:
        return []
    found = [e for e in _compiled(css)(document) if isinstance(e, etree._Element) and _outside_templates(e)]
    return found if scope is None else [e for e in found if _is_inside(e, scope)]


def select_one(document: Any, css: str, scope: Any = None) -> Any | None:
    """The first element matching `css` (soupsieve's `select_one`), or None."""
    return next(iter(select(document, css, scope)), None)


def tops(document: Any) -> list[Any]:
    """The document's top-level elements: its root and the `<html>` elements libxml2 adds after a stray
    `</html>` (BeautifulSoup keeps them as the root's siblings)."""
    if document is None:
        return []
    nodes = [*reversed(list(document.itersiblings(preceding=True))), document, *document.itersiblings()]
    return [n for n in nodes if isinstance(n.tag, str)]


def iter_tags(nodes: list[Any], *names: str, self_too: bool = True) -> Iterator[Any]:
    """The elements named `names` in `nodes` and their descendants, in document order (`find_all`)."""
    for node in nodes:
        yield from (node.iter(*names) if self_too else node.iterdescendants(*names))


def _container(element: Any) -> str | None:
    """The string container (script, style, ...) the element's own strings belong to: the nearest one among the
    element and its ancestors."""
    if element.tag in _CONTAINERS:
        return str(element.tag)
    return next((str(a.tag) for a in element.iterancestors() if a.tag in _CONTAINERS), None)


def strings(node: Any) -> Iterator[str]:
    """BeautifulSoup's `node.get_text(strip=True)` strings: each text node stripped, the empty ones left out;
    comments and processing instructions are no text, nor are strings of another string container."""
    wanted = str(node.tag) if node.tag in _CONTAINERS else None
    start = _container(node)
    if node.text and start == wanted and (text := node.text.strip()):
        yield text
    stack: list[tuple[Any, Iterator[Any], str | None]] = [(node, iter(node), start)]
    while stack:
        _, children, container = stack[-1]
        child = next(children, None)
        if child is None:
            element, _, _ = stack.pop()
            if stack and element.tail and stack[-1][2] == wanted and (text := element.tail.strip()):
                yield text
            continue
        if not isinstance(child.tag, str):  # comment, processing instruction: only its tail is text
            if child.tail and container == wanted and (text := child.tail.strip()):
                yield text
            continue
        inner = str(child.tag) if child.tag in _CONTAINERS else container
        if wanted is None and inner is not None:  # nothing in there is this element's text
            if child.tail and container == wanted and (text := child.tail.strip()):
                yield text
            continue
        if child.text and inner == wanted and (text := child.text.strip()):
            yield text
        stack.append((child, iter(child), inner))


def text(node: Any, separator: str = "") -> str:
    """BeautifulSoup's `node.get_text(separator, strip=True)`."""
    return separator.join(strings(node))


def remove(element: Any) -> None:
    """Take `element` out of the tree (BeautifulSoup's `decompose`); the text after it stays a string of its
    own, kept by an empty comment in its place."""
    parent = element.getparent()
    if parent is None:
        return
    mark = etree.Comment("")
    mark.tail = element.tail
    parent.replace(element, mark)
