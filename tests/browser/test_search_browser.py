"""The label index in a real browser: the query page's autocompletion, and the search page."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from test_browser import Watched, base_url, watched  # noqa: F401 - fixtures

GDYNIA = "https://w3id.org/citydiplomacy/id/city/gdynia"


def test_the_query_page_completes_resource_names(watched: Watched, base_url: str) -> None:  # noqa: F811
    page = watched.page
    page.goto(base_url + "/query/simple")  # the simple editor's finder; YASGUI completes terms
    editor = page.locator("#editor")
    editor.fill("SELECT * WHERE {  ?p ?o }")
    editor.evaluate("e => { e.selectionStart = e.selectionEnd = 17; }")
    finder = page.locator("#resource-finder")
    finder.fill("格丁尼")  # part of an alternative label, in Chinese
    expect(page.locator(f'#resource-hits option[value="{GDYNIA}"]')).to_have_count(1)
    assert "Gdynia" in page.locator(f'#resource-hits option[value="{GDYNIA}"]').get_attribute(
        "label")
    finder.fill(GDYNIA)  # what choosing the suggestion does
    expect(editor).to_have_value(f"SELECT * WHERE {{ <{GDYNIA}> ?p ?o }}")
    expect(finder).to_have_value("")
    assert watched.errors == [] and watched.dialogs == []


def test_the_search_page_folds_accents(watched: Watched, base_url: str) -> None:  # noqa: F811
    page = watched.page
    page.goto(base_url + "/search?q=gdansk")
    first = page.locator("ol.results > li").first
    expect(first).to_contain_text("Gdańsk")
    first.locator("a").first.click()
    expect(page.locator("h1")).to_have_text(re.compile("Gdańsk"))
    assert watched.errors == []
