"""The pictures in a real browser: headless Chromium against a live `citydip serve`.

Each page must lay out (the network stabilises), show as many nodes and edges as the API
reports, open an entity page when a node is clicked, and draw something (the screenshot is not
blank). The data includes an actor and an agreement labelled with HTML and script: no dialog may
open and the labels must show as text.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import httpx
import pytest
from live import HOSTILE_LABEL, HOSTILE_TURTLE, citydip_server, data_dir_with
from typer.testing import CliRunner

from graph.cli.main import app as cli

STABLE = "body[data-stable=true]"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = data_dir_with(tmp_path_factory.mktemp("data"), "hostile.ttl", HOSTILE_TURTLE)
    with citydip_server({"CITYDIP_DATA_DIR": str(folder), "CITYDIP_QUERY_WORKERS": "1"}) as live:
        yield live.url


class Watched:
    """A page that records dialogs, script errors and console errors."""

    def __init__(self, browser) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda exc: self.errors.append(f"script error: {exc}"))
        self.page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message) -> None:
        url = (message.location or {}).get("url", "")
        if message.type == "error" and not url.endswith("favicon.ico"):
            self.errors.append(f"console: {message.text} ({url})")

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector(STABLE, state="attached", timeout=30_000)

    def counts(self) -> tuple[int, int]:
        drawn = self.page.evaluate("[window.viz.nodes.length, window.viz.edges.length]")
        shown = self.page.eval_on_selector(
            "#viz-counts", "el => [Number(el.dataset.nodes), Number(el.dataset.edges)]")
        assert drawn == shown
        return tuple(drawn)

    def node_point(self, node_id: str) -> tuple[float, float]:
        """Where a node is drawn, in page coordinates."""
        return tuple(self.page.evaluate(
            """id => { const p = window.viz.network.canvasToDOM(window.viz.network.getPosition(id));
                       const box = document.getElementById('viz-network').getBoundingClientRect();
                       return [box.left + p.x, box.top + p.y]; }""", node_id))

    def close(self) -> None:
        self.page.close()


@pytest.fixture
def page(browser):
    watched = Watched(browser)
    yield watched
    watched.close()


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Decode an 8-bit RGB or RGBA PNG (what Chromium writes) into rows of pixel bytes."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                      else corner)) & 255
        rows.append(bytes(line))
        prev = line
    return width, bpp, rows


def assert_not_blank(path: Path) -> None:
    width, bpp, rows = png_pixels(path.read_bytes())
    background = rows[0][:3]
    inked = sum(1 for row in rows[::3] for x in range(0, width * bpp, bpp * 3)
                if row[x:x + 3] != background)
    colours = {row[x:x + 3] for row in rows[::3] for x in range(0, width * bpp, bpp * 3)}
    assert inked > 200 and len(colours) > 5, f"{path.name} looks blank"


PAGES = [
    ("/viz/network", "/network/stats", None),
    ("/viz/ego/city/kaohsiung", "/network/ego/city/kaohsiung", "city/gdynia"),
    ("/viz/path?from=city/gdynia&to=city/kumamoto-city",
     "/network/path?from=city/gdynia&to=city/kumamoto-city", "city/kaohsiung"),
    ("/viz/countries", "/network/countries", "poland"),
]


@pytest.mark.parametrize("url,api,click", PAGES, ids=[p[0].split("?")[0] for p in PAGES])
def test_picture_matches_the_api_and_opens_entity_pages(server, page, tmp_path, url, api,
                                                        click):
    expected = httpx.get(server + api, timeout=30).json()
    if "hops" in expected:
        expected = {"nodes": len(expected["nodes"]), "edges": len(expected["hops"])}
    page.open(server + url)
    assert page.counts() == (expected["nodes"], expected["edges"])
    shot = tmp_path / "picture.png"
    page.page.locator("#viz-network").screenshot(path=str(shot))
    assert_not_blank(shot)
    if click is not None:
        x, y = page.node_point(click)
        page.page.mouse.click(x, y)
        target = click if "/" in click else f"country/{click}"
        page.page.wait_for_url(f"**/id/{target}", timeout=10_000)
    assert page.errors == [] and page.dialogs == []


def test_a_hostile_label_is_shown_as_text(server, page):
    page.open(server + "/viz/ego/city/hostile")
    heading = page.page.inner_text("h1")
    assert heading == f"Partners of {HOSTILE_LABEL} · <script>alert(2)</script>"
    x, y = page.node_point("city/hostile")
    page.page.mouse.move(x, y)
    tooltip = page.page.locator("div.vis-tooltip")
    tooltip.wait_for(state="visible", timeout=10_000)
    assert HOSTILE_LABEL in tooltip.inner_text()
    assert tooltip.locator("img, script").count() == 0
    page.open(server + "/viz/path?from=city/hostile&to=city/kaohsiung")
    assert f"{HOSTILE_LABEL} and Gdynia" in page.page.inner_text(".viz-details")
    assert page.page.locator(".viz-details img").count() == 0
    assert page.dialogs == [] and page.errors == []


def test_above_the_budget_the_page_says_what_it_left_out(server, page):
    page.open(server + "/viz/network?budget=20")
    assert page.counts()[0] == 20
    assert "shows the 20 actors with the most partners" in page.page.inner_text(".viz-note")
    page.page.click("text=See it by country.")
    page.page.wait_for_selector(STABLE, state="attached", timeout=30_000)
    assert page.page.url.startswith(server + "/viz/countries")


def test_a_standalone_file_works_offline(browser, tmp_path):
    out = tmp_path / "web.html"
    result = CliRunner().invoke(cli, ["viz", "network", "--out", str(out)])
    assert result.exit_code == 0, result.output
    watched = Watched(browser)
    try:
        requested = []
        watched.page.route("**/*", lambda route: (
            route.continue_() if route.request.url.startswith("file:")
            else (requested.append(route.request.url), route.abort())))
        watched.open(out.as_uri())
        assert watched.counts() == (58, 102)
        assert requested == [] and watched.errors == []
    finally:
        watched.close()
