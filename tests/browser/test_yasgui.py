"""The YASGUI query page in headless Chromium, with every request to another host blocked."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from live import citydip_server
from playwright.sync_api import Browser, BrowserContext, Page, expect
from test_browser import screenshot

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "server" / "static" / "vendor" / "yasgui"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with citydip_server() as server:
        yield server.url


class Offline:
    """A page whose requests to any other origin are aborted and recorded, with its errors."""

    def __init__(self, context: BrowserContext, origin: str) -> None:
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []

        def route(r) -> None:
            if r.request.url.startswith(origin + "/") or r.request.url.startswith("data:"):
                r.continue_()
            else:
                self.outside.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        self.page: Page = context.new_page()
        self.page.set_default_timeout(20_000)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))


@pytest.fixture
def offline(browser: Browser, base_url: str) -> Iterator[Offline]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB",
                                  accept_downloads=True)
    try:
        yield Offline(context, base_url)
    finally:
        context.close()


def active(page: Page):
    return page.locator(".tabPanel.active")


def set_query(page: Page, text: str) -> None:
    page.evaluate("text => window.citydipYasgui.getTab().getYasqe().setValue(text)", text)


def test_a_named_query_runs_from_its_tab_offline(offline: Offline, base_url: str,
                                                 tmp_path: Path) -> None:
    page = offline.page
    page.goto(base_url + "/query")
    expect(active(page).locator(".CodeMirror")).to_be_visible()
    tab = page.locator(".tabsList .tab a", has_text=re.compile("^partners-of"))
    tab.click()
    expect(active(page).locator(".CodeMirror")).to_contain_text("cd:party")
    active(page).locator(".yasqe_queryButton").click()
    rows = active(page).locator(".yasr table tbody tr")
    expect(rows.first).to_be_visible()
    expect(active(page).locator(".yasr_response_chip")).to_contain_text("results")
    # IRIs of this graph link to the entity pages, here.
    gdynia = active(page).locator('.yasr a[href="/id/city/gdynia"]').first
    expect(gdynia).to_be_visible()
    assert gdynia.get_attribute("target") is None
    with page.expect_download() as download:
        active(page).locator(".yasr_downloadIcon").click()
    saved = tmp_path / "result.csv"
    download.value.save_as(saved)
    table = list(csv.reader(saved.read_text(encoding="utf-8").splitlines()))
    assert table[0][:2] == ["actor", "partner"]
    assert any("https://w3id.org/citydiplomacy/id/city/gdynia" in row for row in table)
    # The Response plugin downloads the server's JSON as it came.
    active(page).locator(".yasr .select_response").click()
    with page.expect_download() as download:
        active(page).locator(".yasr_downloadIcon").click()
    assert download.value.suggested_filename.endswith(".json")
    answer = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert len(answer["results"]["bindings"]) == len(table) - 1
    active(page).locator(".yasr .select_table").click()
    shot = screenshot(page, tmp_path / "yasgui.png")
    gdynia.click()
    expect(page.locator("h1")).to_have_text("Gdynia")
    assert offline.outside == [] and offline.errors == [] and offline.dialogs == []
    assert shot.exists()


def test_every_named_query_is_a_tab_and_name_selects_one(offline: Offline, base_url: str) -> None:
    page = offline.page
    page.goto(base_url + "/query?name=visits-by-year")
    expect(page.locator(".tabsList .tab[class*=active] a")).to_contain_text("visits-by-year")
    names = page.evaluate(
        "() => fetch('/queries').then(r => r.json()).then(q => q.map(x => x.name))")
    tabs = page.locator(".tabsList .tab a span").all_inner_texts()
    assert set(names) <= set(tabs) and "Query" in tabs
    assert offline.outside == []


def test_a_syntax_error_shows_the_servers_message(offline: Offline, base_url: str) -> None:
    page = offline.page
    page.goto(base_url + "/query")
    expect(active(page).locator(".CodeMirror")).to_be_visible()
    set_query(page, "SELECT * WHERE { ?s ?p }")
    active(page).locator(".yasqe_queryButton").click()
    error = active(page).locator(".yasr .errorResult")
    expect(error).to_be_visible()
    expect(error).to_contain_text("400")
    message = httpx.post(base_url + "/sparql", data={"query": "SELECT * WHERE { ?s ?p }"},
                         timeout=30)
    assert message.status_code == 400
    expect(error).to_contain_text(message.text.strip().splitlines()[0])
    assert offline.outside == [] and offline.errors == []


def test_a_shared_link_runs_here_whatever_endpoint_it_names(offline: Offline,
                                                           base_url: str) -> None:
    page = offline.page
    page.goto(base_url + "/query?" + urlencode({
        "query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/citydiplomacy/ns#City> }",
        "endpoint": "http://example.org/sparql"}))
    cell = active(page).locator(".yasr table tbody tr td").nth(1)
    expect(cell).to_contain_text(re.compile(r"\d+"))
    assert active(page).locator(".yasr .errorResult").count() == 0
    assert offline.outside == [] and offline.errors == []


def test_completion_comes_from_our_ontology(offline: Offline, base_url: str) -> None:
    page = offline.page
    page.goto(base_url + "/query")
    expect(active(page).locator(".CodeMirror")).to_be_visible()
    set_query(page, "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\nSELECT * WHERE { ?x a cd:Cit")
    page.evaluate("""() => { const y = window.citydipYasgui.getTab().getYasqe();
                             y.focus(); y.setCursor(y.lineCount() - 1, 1000); }""")
    page.keyboard.press("Control+Space")
    hints = page.locator(".CodeMirror-hints li")
    expect(hints.first).to_be_visible()
    assert "cd:City" in hints.all_inner_texts()
    page.keyboard.press("Escape")
    set_query(page, "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
                    "SELECT * WHERE { ?x cd:sisterCity")
    page.evaluate("""() => { const y = window.citydipYasgui.getTab().getYasqe();
                             y.focus(); y.setCursor(y.lineCount() - 1, 1000); }""")
    page.keyboard.press("Control+Space")
    expect(hints.first).to_be_visible()
    assert any(h.startswith("cd:sisterCity") for h in hints.all_inner_texts())
    # Nothing asked prefix.cc or LOV (the default completers are off).
    assert offline.outside == [] and offline.errors == []


def test_the_vendored_bundle_is_local_licensed_and_reasonably_small(base_url: str) -> None:
    js, css = VENDOR / "yasgui.min.js", VENDOR / "yasgui.min.css"
    assert (VENDOR / "LICENSE").read_text().startswith("The MIT License") or "MIT" in (
        VENDOR / "LICENSE").read_text()
    assert js.stat().st_size < 1_500_000 and css.stat().st_size < 100_000
    assert "sourceMappingURL" not in js.read_text(encoding="utf-8")[-500:]
    html = httpx.get(base_url + "/query", timeout=30).text
    assert '<script src="/static/vendor/yasgui/yasgui.min.js"></script>' in html
    assert "cdn" not in html.lower()
