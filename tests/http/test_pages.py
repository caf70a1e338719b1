"""The HTML pages and the Linked Data routes, over a live server holding the bundled data."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from fastapi.testclient import TestClient
from live import HOSTILE_LABEL, citydip_server, data_dir_with, until
from page_fixtures import HOSTILE_TURTLE, QUOTE
from rdflib.namespace import RDFS

from graph.backend import Backend
from graph.core.settings import Settings
from graph.store.execution import Outcome, QueryJob, QueryTimeout
from server import STATIC_DIR
from server.app import create_app
from server.rendering import TEMPLATES

ID = "https://w3id.org/citydiplomacy/id/"
GDYNIA = rdflib.URIRef(ID + "city/gdynia")
PAGES = ["/", "/browse", "/browse?class=City", "/search?q=gdynia", "/search?q=", "/query",
         "/id/city/gdynia", "/id/city/kaohsiung", "/id/agreement/kaohsiung-gdynia-sister-city-2025",
         "/id/passage/kaohsiung-report-l84", "/id/city/atlantis", "/query/simple"]


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with citydip_server() as server:
        yield server.url


@pytest.fixture(scope="module")
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the bundled data plus resources whose labels are HTML and script."""
    folder = data_dir_with(tmp_path_factory.mktemp("data"), "hostile.ttl", HOSTILE_TURTLE)
    with citydip_server({"CITYDIP_DATA_DIR": str(folder)}) as server:
        yield server.url


def html_of(client: httpx.Client, path: str, status: int = 200) -> str:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    return response.text


def section(html: str, name: str) -> str:
    """The text of `<section aria-labelledby=name>` (the pages mark each part that way)."""
    match = re.search(rf'<section aria-labelledby="{name}".*?</section>', html, re.S)
    assert match, f"no section {name!r}"
    return match.group(0)


class Assets(HTMLParser):
    """Every URL a page makes the browser load by itself: src=, <link href=>, CSS url()."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("src", "srcset", "poster", "data"):
            if values.get(key):
                self.urls.append(values[key] or "")
        if tag == "link" and values.get("href"):
            self.urls.append(values["href"] or "")
        if values.get("style"):
            self.urls += re.findall(r"url\(([^)]*)\)", values["style"] or "")


# --- entity pages ----------------------------------------------------------------------------


def test_entity_page_shows_labels_agreement_and_passage(client: httpx.Client) -> None:
    response = client.get("/id/city/gdynia", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "Accept" in response.headers["vary"]
    html = response.text
    assert '<meta charset="utf-8">' in html and '<html lang="en">' in html
    assert re.search(r"<h1[^>]*>Gdynia</h1>", html)
    labels = section(html, "labels")
    assert re.search(r'lang="en">Gdynia<', labels)
    assert re.search(r'lang="zh-Hant">格丁尼亞市<', labels)
    assert re.search(r'lang="pl">Gdynia<', labels)
    agreements = section(html, "partnerships")
    assert 'href="/id/agreement/kaohsiung-gdynia-sister-city-2025"' in agreements
    assert 'href="/id/city/kaohsiung"' in agreements and ">Kaohsiung<" in agreements
    assert "Sister-city agreement" in agreements and "2025-09" in agreements
    sources = section(html, "sources")
    assert QUOTE in sources and "line 84" in sources
    assert re.search(r'<a href="/browse\?class=City"[^>]*>City</a>', html)  # its type
    assert 'href="/id/country/poland"' in section(html, "statements")
    assert 'href="/id/membership/aleksandra-kosiorek-mayor-gdynia"' in section(html, "referenced")


def test_agreement_page_lists_its_parties(client: httpx.Client) -> None:
    html = html_of(client, "/id/agreement/kaohsiung-gdynia-sister-city-2025")
    agreements = section(html, "partnerships")
    for party in ("city/gdynia", "city/kaohsiung", "person/aleksandra-kosiorek"):
        assert f'href="/id/{party}"' in agreements
    assert QUOTE in section(html, "sources")


RDF_FORMATS = [
    ({"Accept": "text/turtle"}, "", "text/turtle", "turtle"),
    ({"Accept": "application/ld+json"}, "", "application/ld+json", "json-ld"),
    ({"Accept": "application/n-triples"}, "", "application/n-triples", "nt"),
    ({"Accept": "text/html"}, "?format=ttl", "text/turtle", "turtle"),
    ({}, "?format=jsonld", "application/ld+json", "json-ld"),
    ({}, "?format=nt", "application/n-triples", "nt"),
]


@pytest.mark.parametrize(("headers", "query", "media", "parser"), RDF_FORMATS)
def test_entity_description_by_content_negotiation(client: httpx.Client, headers: dict,
                                                   query: str, media: str, parser: str) -> None:
    response = client.get("/id/city/gdynia" + query, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    assert "Accept" in response.headers["vary"]
    graph = rdflib.Graph().parse(data=response.text, format=parser)
    labels = {(str(o), (o.language or "").lower()) for o in graph.objects(GDYNIA, RDFS.label)}
    assert {("Gdynia", "en"), ("格丁尼亞市", "zh-hant"), ("Gdynia", "pl")} <= labels
    assert set(graph.subjects()) == {GDYNIA}  # the description of this resource only


def test_browsers_get_html_and_star_gets_html(client: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for accept in (browser, "*/*"):
        response = client.get("/id/city/gdynia", headers={"Accept": accept})
        assert response.headers["content-type"].startswith("text/html")
    head = client.head("/id/city/gdynia", headers={"Accept": "text/turtle"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/turtle")
    links = client.get("/id/city/gdynia").headers["link"]
    assert '</id/city/gdynia?format=ttl>; rel="alternate"; type="text/turtle"' in links


def test_unknown_resource_is_404_page_or_text(client: httpx.Client) -> None:
    html = html_of(client, "/id/city/atlantis", status=404)
    assert "Not found" in html and f"{ID}city/atlantis" in html
    for accept in ("text/turtle", "text/plain", "application/ld+json"):
        response = client.get("/id/city/atlantis", headers={"Accept": accept})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")
        assert "atlantis" in response.text and "<" + "html" not in response.text
        assert "Accept" in response.headers["vary"]
    assert client.get("/id/city/atl%20antis").status_code == 404


def test_unacceptable_type_is_406(client: httpx.Client) -> None:
    response = client.get("/id/city/gdynia", headers={"Accept": "image/png"})
    assert response.status_code == 406


# --- search, browse, front page ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["格丁尼亞", "gdynia", "GDYNIA"])
def test_search_finds_gdynia(client: httpx.Client, text: str) -> None:
    html = client.get("/search", params={"q": text}, headers={"Accept": "text/html"}).text
    results = re.search(r'<ol class="results">.*?</ol>', html, re.S)
    assert results, html[:1000]
    first = re.search(r'<li>\s*<div class="hit-title"><a href="([^"]+)"', results.group(0))
    assert first and first.group(1) == "/id/city/gdynia"


def test_search_without_hits_and_every_page_has_the_search_box(client: httpx.Client) -> None:
    html = html_of(client, "/search?q=no-such-label-anywhere")
    assert "0 resources" in html
    for path in ("/", "/query", "/browse", "/id/city/gdynia"):
        page = client.get(path, headers={"Accept": "text/html"}).text
        assert re.search(r'<form class="search" role="search" action="/search"', page)


def test_front_page_counts_agree_with_sparql(client: httpx.Client, store) -> None:
    # the counted page, not the label index's figures shown while the first count runs
    html = until(lambda: 'id="counting"' not in (t := html_of(client, "/")) and t)
    assert isinstance(html, str)

    def shown(key: str) -> int:
        match = re.search(rf'id="count-{key}" data-count="(\d+)"', html)
        assert match, f"no count for {key}"
        return int(match.group(1))

    def count(sparql: str) -> int:
        return int(next(iter(store.query(sparql)))["n"].value)

    cd = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#> " \
         "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
    assert shown("triples") == count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert shown("graphs") == count(
        "SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    for key, cls in [("agreements", "Agreement"), ("people", "Person"), ("events", "Event"),
                     ("organizations", "Organization"), ("countries", "Country")]:
        assert shown(key) == count(
            cd + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a/rdfs:subClassOf* cd:{cls} }}")
    areas = count(cd + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { VALUES ?c "
                       "{ cd:City cd:County cd:Prefecture cd:State cd:Territory } ?s a ?c }")
    assert shown("areas") == areas > 0
    cities = count(cd + "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a cd:City }")
    assert f'data-class="https://w3id.org/citydiplomacy/ns#City">{cities}<' in html
    for link in ('href="/query"', 'href="/queries"', 'href="/docs"', 'href="/browse?class=City"'):
        assert link in html
    assert "Network visualizations" in section(html, "viz")


def test_browse_lists_instances_of_a_class(client: httpx.Client) -> None:
    for spelling in ("City", "cd:City", "https://w3id.org/citydiplomacy/ns#City"):
        html = client.get("/browse", params={"class": spelling}).text
        assert re.search(r'<a href="/id/city/gdynia"[^>]*>Gdynia</a>', html)
        assert "格丁尼亞市" in html
    agreements = html_of(client, "/browse?class=Agreement")
    assert 'href="/id/agreement/kaohsiung-gdynia-sister-city-2025"' in agreements
    index = html_of(client, "/browse")
    assert 'href="/browse?class=SisterCityAgreement"' in index
    assert client.get("/browse", params={"class": "no such<class>"}).status_code == 400


# --- the query page ----------------------------------------------------------------------------


def test_query_page_carries_the_catalogue(client: httpx.Client) -> None:
    html = html_of(client, "/query/simple")
    assert re.search(r'<textarea id="editor"[^>]*>[^<]*SELECT', html)
    assert '<script src="/static/query.js"></script>' in html
    data = re.search(r'<script type="application/json" id="catalogue">(.*?)</script>', html, re.S)
    assert data
    examples = {q["name"]: q for q in json.loads(data.group(1))}
    named = {q["name"] for q in client.get("/queries").json()}
    assert set(examples) == named
    assert "SELECT" in examples["partners-of"]["text"]
    assert examples["partners-of"]["params"][0]["name"] == "actor"
    for asset in ("/static/query.js", "/static/site.css"):
        assert client.get(asset).status_code == 200
    preset = client.get("/query/simple", params={"query": "ASK { ?s ?p ?o }"}).text
    assert "ASK { ?s ?p ?o }" in preset
    yasgui = client.get("/query", params={"query": "ASK { ?s ?p ?o }"}).text
    assert '"start": "ASK { ?s ?p ?o }"' in yasgui


def test_sparql_redirects_browsers_to_the_query_page(client: httpx.Client) -> None:
    response = client.get("/sparql", headers={"Accept": "text/html"}, follow_redirects=True)
    assert response.status_code == 200 and 'id="yasgui"' in response.text


# --- safety ------------------------------------------------------------------------------------


def test_pages_load_nothing_from_other_hosts(client: httpx.Client) -> None:
    for path in PAGES:
        response = client.get(path, headers={"Accept": "text/html"})
        parser = Assets()
        parser.feed(response.text)
        assert parser.urls, path
        for url in parser.urls:
            assert not re.match(r"(?i)(https?:)?//", url.strip()), f"{path} loads {url}"
        assert "default-src 'self'" in response.headers["content-security-policy"]
    for name in ("query.js", "site.css"):
        text = (STATIC_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"(?i)(url\(|@import|src=|fetch\()\s*['\"]?(https?:)?//", text)


def test_labels_are_escaped_everywhere(hostile_url: str) -> None:
    with httpx.Client(base_url=hostile_url, timeout=30) as http:
        pages = {
            "entity": http.get("/id/city/hostile").text,
            "agreement": http.get("/id/agreement/hostile-gdynia-sister-city").text,
            "gdynia": http.get("/id/city/gdynia").text,
            "search": http.get("/search", params={"q": "<img"}).text,
            "browse": http.get("/browse?class=City").text,
        }
        for name, html in pages.items():
            assert "&lt;img src=x onerror=alert(1)&gt;" in html, name
            assert "<img" not in html, name
            assert "<script>alert" not in html and "<svg" not in html, name
            assert 'href="javascript:' not in html, name
        assert "&lt;/blockquote&gt;&lt;script&gt;" in pages["entity"]
        assert "javascript:alert(3)" in pages["entity"]  # shown as text, not as a link
        query_page = http.get("/query/simple", params={"query": "</textarea><img src=x>"}).text
        assert "&lt;/textarea&gt;&lt;img src=x&gt;" in query_page
        yasgui = http.get("/query", params={"query": "</script><img src=x>"}).text
        assert "<img src=x>" not in yasgui and "</script><img" not in yasgui
        assert "\\u003c/script\\u003e\\u003cimg src=x\\u003e" in yasgui


HOSTILE_KIND = """\
@prefix cd:   <https://w3id.org/citydiplomacy/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

cd:HostileKind rdfs:subClassOf cd:Event ; rdfs:label "<img src=x onerror=alert(1)>"@en .
<https://w3id.org/citydiplomacy/id/event/hostile-kind> a cd:HostileKind ;
    rdfs:label "<script>alert(2)</script>"@en .
"""
"""A kind of event whose name is HTML: the front page and the browse index name it."""


def test_the_front_page_escapes_the_data_while_counting_and_after(tmp_path) -> None:
    # No wait for the first count: the first pages are made from the label index.
    folder = data_dir_with(tmp_path / "data", "hostile.ttl", HOSTILE_TURTLE + HOSTILE_KIND)
    env = {"CITYDIP_DATA_DIR": str(folder), "CITYDIP_FRONT_PAGE_WAIT": "0",
           "CITYDIP_DERIVED_WARM": "false"}
    with citydip_server(env) as server, httpx.Client(base_url=server.url, timeout=30) as http:
        # /browse first: it counts the classes only, and `/` then still waits for the rest
        counting = {path: http.get(path) for path in ("/browse", "/")}
        done = until(lambda: 'id="counting"' not in (p := http.get("/")).text and p)
        assert done, "the front page was never counted"
        pages = {**{f"{path} counting": r.text for path, r in counting.items()},
                 "/": done.text, "/browse": http.get("/browse").text}
        for path, response in counting.items():
            assert response.status_code == 200, path
            assert 'id="counting"' in response.text, path
        for name, html in pages.items():
            assert "&lt;img src=x onerror=alert(1)&gt;" in html, name
            assert "<img" not in html and "<script>alert" not in html, name
        assert 'id="counting"' not in pages["/browse"]


# --- failures ----------------------------------------------------------------------------------


class FailingBackend(Backend):
    """A backend whose every query times out, or whose store fails."""

    def __init__(self, settings: Settings, failure: Exception) -> None:
        self.settings = settings
        self.failure = failure
        self.store = None  # type: ignore[assignment]

    async def execute(self, job: QueryJob) -> Outcome:
        raise self.failure


@pytest.mark.parametrize("failure", [QueryTimeout("the query ran longer than 10 s"),
                                     OSError("disk on fire")])
def test_store_failures_give_a_friendly_503(failure: Exception) -> None:
    settings = Settings()
    app = create_app(settings, backend=FailingBackend(settings, failure))
    with TestClient(app, raise_server_exceptions=False) as http:
        for path in ("/", "/browse?class=City", "/search?q=gdynia", "/id/city/gdynia"):
            response = http.get(path, headers={"Accept": "text/html"})
            assert response.status_code == 503, path
            assert response.headers["content-type"].startswith("text/html")
            assert "Please try again" in response.text and "Traceback" not in response.text
            assert "disk on fire" not in response.text
        data = http.get("/id/city/gdynia", headers={"Accept": "text/turtle"})
        assert data.status_code == 503 and data.headers["content-type"].startswith("text/plain")


def test_a_failed_page_query_is_503_not_500() -> None:
    settings = Settings()

    class Broken(FailingBackend):
        async def execute(self, job: QueryJob) -> Outcome:
            return Outcome(500, message="the query worker stopped unexpectedly")

    with TestClient(create_app(settings, backend=Broken(settings, RuntimeError())),
                    raise_server_exceptions=False) as http:
        assert http.get("/id/city/gdynia").status_code == 503


def test_every_page_template_is_compiled_before_the_server_answers() -> None:
    """The first visitor of a page does not wait for its template to be compiled."""
    TEMPLATES.cache.clear()
    settings = Settings()
    with TestClient(create_app(settings, backend=FailingBackend(settings, RuntimeError()))):
        compiled = {name for _, name in TEMPLATES.cache.keys()}
    assert compiled == set(TEMPLATES.list_templates())


def test_hostile_fixture_is_valid_turtle() -> None:
    store = ox.Store()
    store.load(HOSTILE_TURTLE.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    labels = [q.object.value for q in store.quads_for_pattern(
        ox.NamedNode(ID + "city/hostile"), ox.NamedNode(str(RDFS.label)), None)]
    assert HOSTILE_LABEL in labels


def test_an_actors_page_links_to_its_partner_network_picture(client: httpx.Client) -> None:
    assert 'href="/viz/ego/city/gdynia"' in html_of(client, "/id/city/gdynia")
    agreement = html_of(client, "/id/agreement/kaohsiung-gdynia-sister-city-2025")
    assert "/viz/ego/" not in agreement
    home = html_of(client, "/")
    assert 'href="/viz/network"' in home and 'href="/viz/countries"' in home


def test_the_api_documentation_loads_its_assets_from_this_server(client: httpx.Client) -> None:
    parser = Assets()
    parser.feed(client.get("/docs").text)
    assert parser.urls
    for url in parser.urls:
        assert url.startswith("/"), url
        assert client.get(url).status_code == 200, url
