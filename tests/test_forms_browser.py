"""Issue 21 in a real browser: each deployment's run form, as the Prefect UI renders it in headless Chromium.

The machinery is scripts/form_screenshots.py's (the README's screenshots): one `prefect server start` with its UI
and one `newsflow serve` for the module, one Chromium driven over the DevTools protocol. Both UIs are checked: v2
(the one a browser gets by default) and v1 (Prefect's "Switch to V1 UI").
What an operator relies on: the parameters are top-level fields (no `params` group); no nullable type switch
('Property is type "None"'); the translator is a dropdown with a `default` choice; the pasted text is a textarea;
the sources field is filled in (samples) and its description gives an example.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from scripts.form_screenshots import NAMES, Chromium, Forms, find_chromium, served_forms

pytestmark = pytest.mark.e2e
UIS = ("v2", "v1")


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Forms, Chromium]]:
    binary = find_chromium()
    if binary is None:
        reason = "no Chromium to render the deployment forms (apt-get install chromium, or NEWSFLOW_CHROMIUM=path)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)  # CI installs it (.ci/run): missing there is a broken setup, not a skip
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("forms")
    with served_forms(work) as forms, Chromium(binary, work) as browser:
        yield forms, browser


def _form(ui: tuple[Forms, Chromium], version: str, name: str) -> tuple[Chromium, dict[str, Any], list[str]]:
    forms, browser = ui
    titles = forms.titles(name)
    browser.open_form(forms.form_url(name, version), titles)
    return browser, browser.fields(titles), titles


@pytest.mark.parametrize("version", UIS)
@pytest.mark.parametrize("name", NAMES)
def test_each_form_shows_its_parameters_as_plain_fields(ui: tuple[Forms, Chromium], version: str, name: str) -> None:
    forms, _ = ui
    browser, fields, _ = _form(ui, version, name)
    text = browser.body_text()
    assert 'Property is type "None"' not in text, (version, name)  # a nullable union's type switch
    assert "params" not in {line.strip().lower().removesuffix(" (optional)") for line in text.splitlines()}
    schema = forms.deployments[name]["parameter_openapi_schema"]["properties"]
    for key, field in schema.items():
        shown = fields[field["title"]]
        if field.get("type") == "array" and "default" not in field:  # a required list starts empty: "Add item"
            assert shown is not None and "Add item" in text, (version, name, key)
            continue
        assert shown is not None and shown["control"] is not None, (version, name, key, shown)
        if isinstance(field.get("default"), str) and shown["control"] != "textarea":
            assert shown["value"] == field["default"], (version, name, key, shown)  # dropdowns show their default
        if isinstance(field.get("default"), int):
            assert shown["value"] == str(field["default"]), (version, name, key, shown)


@pytest.mark.parametrize("version", UIS)
def test_translator_is_a_dropdown_with_a_default_choice(ui: tuple[Forms, Chromium], version: str) -> None:
    for name in NAMES:
        browser, fields, titles = _form(ui, version, name)
        if "Translator" not in titles:
            continue
        translator = fields["Translator"]
        assert translator["value"] == "default", (version, name, translator)
        if version == "v1":
            assert translator["control"] == "select", (name, translator)
            options = translator["options"]
        else:
            assert translator["control"] == "listbox", (name, translator)
            options = browser.listbox_options("Translator")
        assert options[0] == "default" and "auto" in options, (version, name, options)
        assert ("none" in options) is (name != "retranslate-pending"), (version, name, options)


@pytest.mark.parametrize("version", UIS)
def test_pasted_text_is_a_textarea_and_sources_show_the_example(ui: tuple[Forms, Chromium], version: str) -> None:
    _, fields, _ = _form(ui, version, "process-text")
    assert fields["Text"]["control"] == "textarea" and fields["Text"]["value"] == "", fields["Text"]
    _, fields, _ = _form(ui, version, "ingest-sources")
    sources = fields["Sources"]
    assert sources["value"] == "samples", sources  # the default is filled in: Submit at once reads samples/
    assert "feed:https://longan.gov.vn/rss" in sources["text"] and "<data dir>" not in sources["text"], sources
