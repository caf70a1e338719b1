"""The pages in a real browser: headless Chromium (playwright) against a live server."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live import HOSTILE_LABEL, citydip_server, data_dir_with
from page_fixtures import HOSTILE_TURTLE, QUOTE
from playwright.sync_api import Browser, Page, expect

MAX_ROWS = 1000
TIMEOUT = 2


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    # A small row limit, so that the query page's note on cut results can be seen.
    # A short time limit, so that a query can be seen to time out.
    with citydip_server({"CITYDIP_MAX_ROWS": str(MAX_ROWS),
                         "CITYDIP_QUERY_TIMEOUT": str(TIMEOUT)}) as server:
        yield server.url


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = data_dir_with(tmp_path_factory.mktemp("data"), "hostile.ttl", HOSTILE_TURTLE)
    with citydip_server({"CITYDIP_DATA_DIR": str(folder)}) as server:
        yield server.url


class Watched:
    """A page with what it raised: alert/confirm dialogs and uncaught script errors."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  accept_downloads=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield Watched(page)
    finally:
        context.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def screenshot(page: Page, path: Path, full_page: bool = False) -> Path:
    """Take a screenshot and check it shows something: a real PNG with many pixel values."""
    page.screenshot(path=str(path), full_page=full_page)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5_000, f"{path.name} is only {len(data)} bytes"
    idat, offset = b"", 8
    while offset < len(data):
        length = int.from_bytes(data[offset:offset + 4], "big")
        if data[offset + 4:offset + 8] == b"IDAT":
            idat += data[offset + 8:offset + 8 + length]
        offset += 12 + length
    # A blank page filters down to a few byte values; text and colour give many.
    assert len(set(zlib.decompress(idat))) > 64, f"{path.name} looks blank"
    return path


def sparql_count(base_url: str, query: str) -> int:
    response = httpx.post(base_url + "/sparql", data={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, timeout=30)
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_front_page_shows_the_counts(watched: Watched, base_url: str, shots: Path) -> None:
    page = watched.page
    page.goto(base_url + "/")
    expect(page.locator("h1")).to_contain_text("City diplomacy knowledge graph")
    triples = sparql_count(base_url, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    expect(page.locator("#count-triples")).to_have_text(str(triples))
    cities = sparql_count(base_url, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                          "{ ?s a <https://w3id.org/citydiplomacy/ns#City> }")
    expect(page.locator('[data-class="https://w3id.org/citydiplomacy/ns#City"]')).to_have_text(
        str(cities))
    for key in ("areas", "organizations", "people", "agreements", "events"):
        count = page.locator(f"#count-{key}")
        expect(count).to_be_visible()
        assert int(count.inner_text()) > 0
    expect(page.locator("#viz")).to_have_text("Network visualizations")
    screenshot(page, shots / "front.png", full_page=True)
    page.get_by_role("link", name="City", exact=True).first.click()
    expect(page.locator('a[href="/id/city/gdynia"]')).to_have_text("Gdynia")
    assert watched.errors == [] and watched.dialogs == []


def test_query_page_runs_a_named_query(watched: Watched, base_url: str, shots: Path) -> None:
    page = watched.page
    page.goto(base_url + "/query/simple")
    expect(page.locator("#editor")).to_have_value(re.compile("SELECT"))
    page.locator('button.example[data-name="partners-of"]').click()
    expect(page.locator("#editor")).to_have_value(re.compile(r"cd:party \?actor"))
    expect(page.locator("#param-form")).to_be_visible()
    page.locator("#param-actor").fill("city/kaohsiung")
    page.locator("#run-named").click()
    rows = page.locator("table.results tbody tr")
    expect(rows.first).to_be_visible()
    assert rows.count() > 10
    expect(page.locator('table.results a[href="/id/city/gdynia"]')).to_have_count(1)
    expect(page.locator("#status")).to_contain_text("rows")
    screenshot(page, shots / "query-named.png")
    page.locator('table.results a[href="/id/city/gdynia"]').click()
    expect(page.locator("h1")).to_have_text("Gdynia")
    assert watched.errors == [] and watched.dialogs == []


def test_query_page_runs_the_editor_and_downloads(watched: Watched, base_url: str,
                                                   tmp_path: Path) -> None:
    page = watched.page
    page.goto(base_url + "/query/simple")
    page.locator("#editor").press("Control+Enter")
    expect(page.locator('table.results a[href="/id/city/gdynia"]')).to_be_visible()
    expect(page.locator("#truncated")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("city,name,nameZh,date")
    assert any("https://w3id.org/citydiplomacy/id/city/gdynia" in line for line in lines)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download JSON").click()
    assert download.value.suggested_filename.endswith(".json")

    # Tab indents inside the editor instead of leaving it.
    editor = page.locator("#editor")
    editor.fill("SELECT")
    editor.press("End")
    editor.press("Tab")
    expect(editor).to_have_value("SELECT  ")
    expect(editor).to_be_focused()
    assert watched.errors == []


def test_query_page_shows_errors_cut_results_and_graphs(watched: Watched, base_url: str,
                                                        shots: Path) -> None:
    page = watched.page
    page.goto(base_url + "/query/simple")
    editor = page.locator("#editor")
    editor.fill("SELECT * WHERE { ?s ?p }")
    editor.press("Control+Enter")
    expect(page.locator("#error")).to_be_visible()
    expect(page.locator("#error")).to_contain_text("The query has an error (400) at line 1")
    screenshot(page, shots / "query-error.png")

    editor.fill("SELECT * WHERE { ?s ?p ?o }")
    page.locator("#run").click()
    expect(page.locator("#truncated")).to_be_visible()
    expect(page.locator("#truncated")).to_contain_text(str(MAX_ROWS))
    expect(page.locator("#error")).to_be_hidden()
    assert page.locator("table.results tbody tr").count() == MAX_ROWS

    editor.fill("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }")
    page.locator("#run").click()
    expect(page.locator("#error")).to_contain_text("The query took too long (503)",
                                                   timeout=(TIMEOUT + 10) * 1000)
    expect(page.locator("#run")).to_be_enabled()

    editor.fill("DESCRIBE <https://w3id.org/citydiplomacy/id/city/gdynia>")
    page.locator("#run").click()
    expect(page.locator("pre.turtle")).to_contain_text("格丁尼亞市")
    expect(page.get_by_role("button", name="Download Turtle")).to_be_visible()
    expect(page.get_by_role("button", name="Download CSV")).to_be_hidden()
    assert watched.errors == []


def test_entity_page(watched: Watched, base_url: str, shots: Path) -> None:
    page = watched.page
    page.goto(base_url + "/id/city/gdynia")
    expect(page.locator("h1")).to_have_text("Gdynia")
    expect(page.locator(".subtitle")).to_have_text("格丁尼亞市")
    expect(page.locator("figure.passage blockquote").filter(has_text=QUOTE)).to_be_visible()
    expect(page.locator("#partnerships + .partnership")).to_contain_text("2025-09")
    screenshot(page, shots / "entity-gdynia.png", full_page=True)
    page.locator("#site-search").fill("格丁尼亞")
    page.locator("#site-search").press("Enter")
    expect(page.locator("ol.results li").first).to_contain_text("Gdynia")
    assert watched.errors == [] and watched.dialogs == []


def test_hostile_labels_stay_text(watched: Watched, hostile_url: str, shots: Path) -> None:
    page = watched.page
    page.goto(hostile_url + "/id/city/hostile")
    expect(page.locator("h1")).to_have_text(HOSTILE_LABEL)
    expect(page.locator("figure.passage blockquote")).to_contain_text("<img src=y")
    assert page.locator("main img, main script, main svg").count() == 0
    screenshot(page, shots / "entity-hostile.png", full_page=True)

    page.goto(hostile_url + "/query/simple")
    page.locator('button.example[data-name="partners-of"]').click()
    page.locator("#param-actor").fill("city/gdynia")
    page.locator("#run-named").click()
    expect(page.locator("table.results")).to_contain_text(HOSTILE_LABEL)
    assert page.locator("table.results img, table.results b").count() == 0

    page.goto(hostile_url + "/search?q=%3Cimg")
    expect(page.locator("ol.results li").first).to_contain_text(HOSTILE_LABEL)
    page.wait_for_timeout(300)  # give any injected handler the chance to fire
    assert watched.dialogs == [], watched.dialogs
    assert watched.errors == []
