"""Pictures of the web (graph/network/viz.py): budgets, legends, escaping — without a browser."""

from __future__ import annotations

import json
import re

import pytest
from live import HOSTILE_LABEL, HOSTILE_TURTLE, data_dir_with

from graph.network.cache import View
from graph.network.data import fetch, store_select
from graph.network.projection import Filters
from graph.network.viz import (
    VENDOR_DIR,
    country_picture,
    ego_picture,
    network_picture,
    path_picture,
    render,
    script_json,
)
from graph.store.embedded import Store
from graph.store.load import build_store

VENDOR = VENDOR_DIR / "vis-network"


@pytest.fixture(scope="module")
def view(store, settings):
    return View(fetch(store_select(store), settings.queries_dir), Filters())


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, settings):
    folder = data_dir_with(tmp_path_factory.mktemp("hostile"), "hostile.ttl", HOSTILE_TURTLE)
    store = build_store(settings, [folder], Store(None))
    return View(fetch(store_select(store), settings.queries_dir), Filters())


def embedded_data(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="viz-data">(.*?)</script>', page,
                      re.S)
    assert block, "no data block"
    return json.loads(block.group(1))


def test_script_json_cannot_close_the_script_element():
    text = script_json({"label": "</script><script>alert(1)</script> & <!--"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text)["label"] == "</script><script>alert(1)</script> & <!--"


def test_whole_web_picture(view):
    picture = network_picture(view)
    assert (picture.summary["nodes"], picture.summary["edges"]) == (58, 102)
    assert not picture.notes and not picture.summary["cut"]
    kaohsiung = next(n for n in picture.nodes if n["id"] == "city/kaohsiung")
    assert kaohsiung["url"] == "/id/city/kaohsiung" and kaohsiung["value"] == 30
    assert kaohsiung["tip"]["label_zh"] == "高雄市" and kaohsiung["tip"]["country"] == "Taiwan"
    legend = {item["label"] for item in picture.legend["edges"]}
    assert {"Sister-city agreement", "Memorandum of understanding", "Letter of intent"} <= legend
    assert {item["label"] for item in picture.legend["nodes"]} >= {"City", "School"}
    edge = next(e for e in picture.edges if {e["from"], e["to"]} == {"city/kaohsiung",
                                                                      "city/kumamoto-city"})
    assert edge["value"] == 3 and {p["date"] for p in edge["tip"]["partnerships"]} == {
        "2017", "2024", "2026-03"}


def test_above_the_node_budget_the_picture_keeps_the_best_connected_and_says_so(view):
    picture = network_picture(view, budget=12, edge_budget=20)
    assert picture.summary["nodes"] == 12 and picture.summary["edges"] == 20
    assert picture.summary["total_nodes"] == 58 and picture.summary["cut"]
    assert "city/kaohsiung" in {n["id"] for n in picture.nodes}
    assert "shows the 12 actors with the most partners" in picture.notes[0]
    assert "the 20 strongest are drawn" in picture.notes[1]
    page = render(picture)
    assert "shows the 12 actors with the most partners" in page
    assert 'data-nodes="12"' in page and 'data-edges="20"' in page


def test_a_whole_web_picture_stays_within_its_page_budget(view):
    def weight(picture) -> int:
        return len(json.dumps(picture.nodes + picture.edges, ensure_ascii=False,
                              separators=(",", ":")).encode())

    full = network_picture(view)
    lean = network_picture(view, budget=10_000)  # a budget given: the same picture, all ties
    assert weight(lean) == weight(full)
    # Over the budget, the hover lists go first: every tie kept, its count kept.
    first = network_picture(view, max_bytes=weight(full) - 1)
    assert len(first.edges) == len(full.edges) and weight(first) < weight(full)
    assert all(not e["tip"]["partnerships"] and e["tip"]["more"] == e["tip"]["weight"]
               for e in first.edges)
    assert "leaves out the list of partnerships" in first.notes[-1]
    # Then the weakest ties: what is drawn fits, and the strongest are kept.
    cut = network_picture(view, max_bytes=weight(first) // 2)
    assert weight(cut) <= weight(first) // 2 and 0 < len(cut.edges) < len(full.edges)
    assert cut.summary["edges"] == len(cut.edges) and "strongest are drawn" in cut.notes[-1]
    assert min(e["value"] for e in cut.edges) >= max(
        e["value"] for e in full.edges if (e["from"], e["to"]) not in {
            (c["from"], c["to"]) for c in cut.edges})


def test_colour_by_community(view):
    picture = network_picture(view, color_by="community")
    assert picture.legend["colour_by"] == "community"
    assert len(picture.legend["nodes"]) == len(view.analysis.communities())
    with pytest.raises(ValueError):
        network_picture(view, color_by="shoe size")


def test_ego_path_and_country_pictures(view):
    ego = ego_picture(view, "city/gdynia", 2)
    assert ego.summary["nodes"] == 30 and ego.summary["centre"] == "city/gdynia"
    path = path_picture(view, "city/gdynia", "city/kumamoto-city")
    assert [n["id"] for n in path.nodes] == ["city/gdynia", "city/kaohsiung",
                                             "city/kumamoto-city"]
    assert path.details[0]["partnerships"][0]["kinds"] == ["Sister-city agreement"]
    countries = country_picture(View(view.data, Filters(), "country"), links="/id/")
    assert countries.summary["nodes"] == 6
    assert next(n for n in countries.nodes if n["id"] == "poland")["url"] == "/id/country/poland"


def test_served_pages_load_assets_from_this_server_only(view):
    page = render(network_picture(view), root="/prefix")
    urls = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert "/prefix/static/vendor/vis-network/vis-network.min.js" in urls
    assert all(u.startswith("/prefix/") for u in urls), urls
    assert "http://" not in page and "https://" not in page.replace(
        "https://w3id.org/citydiplomacy/id/", "")


def test_standalone_files_inline_every_asset(view):
    page = render(network_picture(view, links="https://w3id.org/citydiplomacy/id/"),
                  inline_from=VENDOR)
    assert not re.search(r"<(script|link)[^>]+(src|href)=", page)
    assert "vis-network" in page and len(page) > 500_000
    assert embedded_data(page)["nodes"][0]["url"].startswith("https://w3id.org/")


def test_vendor_assets_keep_their_licence():
    licence = (VENDOR / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in licence and "Almende" in licence
    assert (VENDOR / "vis-network.min.js").read_text(encoding="utf-8").startswith(
        "/**\n * vis-network")


def test_a_hostile_label_is_text_in_the_page(hostile):
    page = render(ego_picture(hostile, "city/hostile"))
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the title, escaped by Jinja
    data = embedded_data(page)
    centre = next(n for n in data["nodes"] if n["id"] == "city/hostile")
    assert centre["label"] == HOSTILE_LABEL and centre["tip"]["label_zh"] == \
        "<script>alert(2)</script>"
    edge = data["edges"][0]
    assert edge["tip"]["partnerships"][0]["label"].startswith(HOSTILE_LABEL)
    path_page = render(path_picture(hostile, "city/hostile", "city/kaohsiung"))
    assert "<img src=x" not in path_page and "&lt;img src=x onerror=alert(1)&gt;" in path_page
