"""The README's screenshots of the query page (YASGUI) and the map, from a live server.

Run: .venv/bin/python scripts/screenshots.py  (writes docs/figures/yasgui.png and map.png).
It starts `citydip serve` on a free port with the bundled report data, drives headless
Chromium (the browser the tests use) and stops the server again.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from live import citydip_server  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
FIGURES = ROOT / "docs" / "figures"


def main() -> None:
    with citydip_server() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(server.url + "/query?name=partners-of")
        page.locator(".tabPanel.active .yasqe_queryButton").click()
        page.locator(".tabPanel.active .yasr table tbody tr").first.wait_for()
        page.screenshot(path=str(FIGURES / "yasgui.png"))
        page.goto(server.url + "/viz/map?actor=city/kaohsiung")
        page.locator("#map[data-outlines=ready]").wait_for(state="attached")
        page.screenshot(path=str(FIGURES / "map.png"))
        browser.close()
    print("wrote", FIGURES / "yasgui.png", FIGURES / "map.png")


if __name__ == "__main__":
    main()
