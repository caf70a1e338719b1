"""The partnership map (/viz/map) in headless Chromium, with every other host blocked."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from live import HOSTILE_LABEL, HOSTILE_TURTLE, citydip_server, data_dir_with
from playwright.sync_api import Browser, expect
from test_yasgui import Offline

PLACED_HOSTILE = HOSTILE_TURTLE + """
@prefix geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/citydiplomacy/id/city/hostile> geo:lat "10.5"^^xsd:decimal ;
    geo:long "20.25"^^xsd:decimal .

<https://w3id.org/citydiplomacy/id/school/lonely-a> a cd:School ; rdfs:label "Lonely A"@en .
<https://w3id.org/citydiplomacy/id/school/lonely-b> a cd:School ; rdfs:label "Lonely B"@en .
<https://w3id.org/citydiplomacy/id/agreement/lonely-sister-school> a cd:SisterSchoolAgreement ;
    rdfs:label "Lonely A and Lonely B"@en ;
    cd:party <https://w3id.org/citydiplomacy/id/school/lonely-a> ,
        <https://w3id.org/citydiplomacy/id/school/lonely-b> ;
    cd:dateNotStated true ;
    prov:wasDerivedFrom <https://w3id.org/citydiplomacy/id/passage/hostile-l1> .
"""
"""The hostile data, with the hostile city placed, and two schools whose partners have no place."""
ID = "https://w3id.org/citydiplomacy/id/"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = data_dir_with(tmp_path_factory.mktemp("data"), "hostile.ttl", PLACED_HOSTILE)
    with citydip_server({"CITYDIP_DATA_DIR": str(folder)}) as server:
        yield server.url


@pytest.fixture
def offline(browser: Browser, base_url: str) -> Iterator[Offline]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        yield Offline(context, base_url)
    finally:
        context.close()


def map_json(base_url: str, **params: str) -> dict:
    response = httpx.get(base_url + "/viz/map/data", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


def placed_iris(base_url: str) -> set[str]:
    query = ("PREFIX geo: <http://www.w3.org/2003/01/geo/wgs84_pos#> "
             "SELECT DISTINCT ?s WHERE { ?s geo:lat ?lat ; geo:long ?long }")
    response = httpx.post(base_url + "/sparql", data={"query": query}, timeout=30,
                          headers={"Accept": "application/sparql-results+json"})
    return {b["s"]["value"] for b in response.json()["results"]["bindings"]}


def test_kaohsiungs_partners_with_coordinates_are_points(offline: Offline, base_url: str) -> None:
    data = map_json(base_url, actor="city/kaohsiung")
    ego = httpx.get(base_url + "/network/ego/city/kaohsiung", timeout=60).json()
    neighbours = {n["id"] for n in ego["network"]["nodes"]} - {"city/kaohsiung"}
    placed = placed_iris(base_url)
    with_coords = {n for n in neighbours if ID + n in placed}
    assert len(with_coords) > 10
    assert {p["id"] for p in data["points"]} == with_coords | {"city/kaohsiung"}
    assert {u["id"] for u in data["unplaced"]} == neighbours - with_coords

    page = offline.page
    page.goto(base_url + "/viz/map?actor=city/kaohsiung")
    expect(page.locator("#map[data-outlines=ready]")).to_have_count(1)
    assert page.locator("#map path.country").count() > 150  # the world's outlines, offline
    points = page.locator("#map circle.point")
    expect(points).to_have_count(len(data["points"]))
    for point in data["points"]:
        expect(page.locator(f'#map circle[data-id="{point["id"]}"]')).to_have_count(1)
    expect(page.locator("#map path.arc")).to_have_count(len(data["ties"]))
    # Kaohsiung–Gdynia is a great-circle arc: many segments, not one straight line.
    arc = page.locator('#map path.arc[data-target="city/gdynia"]').first
    assert len(re.findall(r"[LC]", arc.get_attribute("d") or "")) > 5
    expect(page.locator("#unplaced li")).to_have_count(len(data["unplaced"]))
    # A click on a point opens the entity page.
    page.locator('#map circle[data-id="city/gdynia"]').click()
    expect(page.locator("h1")).to_have_text("Gdynia")
    assert offline.outside == [] and offline.errors == [] and offline.dialogs == []


def test_the_year_and_kind_filters_hide_ties(offline: Offline, base_url: str) -> None:
    data = map_json(base_url, actor="city/kaohsiung")
    years = data["years"]
    assert len(years) >= 2
    page = offline.page
    page.goto(base_url + "/viz/map?actor=city/kaohsiung")
    visible = page.locator("#map a:not(.hidden) > path.arc, #map g:not(.hidden) > path.arc")
    expect(visible).to_have_count(len(data["ties"]))
    page.locator("#year").fill(str(years[0]))
    expected = [t for t in data["ties"] if t["year"] is None or t["year"] <= years[0]]
    expect(visible).to_have_count(len(expected))
    page.locator("#undated").uncheck()
    expect(visible).to_have_count(len([t for t in expected if t["year"] is not None]))
    page.locator("#year").fill(str(years[-1]))
    page.locator("#undated").check()
    kind = data["kinds"][0]["id"]
    page.locator(f'.kind-toggle[value="{kind}"]').uncheck()
    expect(visible).to_have_count(len([t for t in data["ties"] if t["kind"] != kind]))
    assert offline.errors == []


def test_a_filter_selects_the_ties_and_unknown_actors_are_404(base_url: str) -> None:
    data = map_json(base_url, kind="sister-city-agreement")
    assert data["ties"] and {t["kind"] for t in data["ties"]} == {"sister-city-agreement"}
    assert httpx.get(base_url + "/viz/map", params={"actor": "city/atlantis"},
                     timeout=30).status_code == 404
    assert httpx.get(base_url + "/viz/map", params={"kind": "no-such-kind"},
                     timeout=30).status_code == 422


def test_hostile_labels_stay_text(offline: Offline, base_url: str) -> None:
    data = map_json(base_url, actor="city/gdynia")
    assert "city/hostile" in {p["id"] for p in data["points"]}
    page = offline.page
    page.goto(base_url + "/viz/map?actor=city/gdynia")
    title = page.locator('#map circle[data-id="city/hostile"] title')
    assert title.text_content().startswith(HOSTILE_LABEL)
    arc = page.locator('#map path.arc[data-target="city/hostile"] title').first
    assert HOSTILE_LABEL in (arc.text_content() or "")
    hostile = "main img, main script:not([type=\"application/json\"]), #map foreignObject"
    assert page.locator(hostile).count() == 0
    page.goto(base_url + "/viz/map?actor=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    page.wait_for_timeout(300)
    assert offline.dialogs == [] and offline.errors == [] and offline.outside == []


def test_entity_pages_link_to_the_map_when_a_partner_has_coordinates(base_url: str) -> None:
    page = httpx.get(base_url + "/id/city/kaohsiung", timeout=30).text
    assert 'href="/viz/map?actor=city/kaohsiung"' in page
    seen = {True: 0, False: 0}
    for node in map_json(base_url, actor="city/kaohsiung")["unplaced"]:
        own = map_json(base_url, actor=node["id"])
        has = any(p["id"] != node["id"] for p in own["points"])
        html = httpx.get(base_url + node["href"], timeout=30).text
        assert ('id="map-link"' in html) == has, node["id"]
        seen[has] += 1
    assert seen[True] > 0
    # Two schools whose only partner has no coordinates: a map would be empty, so no link.
    lonely = map_json(base_url, actor="school/lonely-a")
    assert lonely["points"] == [] and [u["id"] for u in lonely["unplaced"]] == [
        "school/lonely-a", "school/lonely-b"]
    html = httpx.get(base_url + "/id/school/lonely-a", timeout=30).text
    assert "Lonely A" in html and 'id="map-link"' not in html
