"""Real SPARQL clients against the live embedded server: SPARQLWrapper, SPARQLStore, httpx."""

from __future__ import annotations

import asyncio
import json
import warnings

import httpx
import pytest
import rdflib
from live import LiveServer
from rdflib.namespace import RDF, RDFS
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import (
    GET,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

CD = rdflib.Namespace("https://w3id.org/citydiplomacy/ns#")
ID = "https://w3id.org/citydiplomacy/id/"
GDYNIA = rdflib.URIRef(ID + "city/gdynia")
KAOHSIUNG = rdflib.URIRef(ID + "city/kaohsiung")
G = "https://w3id.org/citydiplomacy/graph/"
SELECT = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE {{ <{GDYNIA}> rdfs:label ?label FILTER (LANG(?label) = "en") }}"""
ASK = f"ASK {{ <{GDYNIA}> <{CD.sisterCityOf}> <{KAOHSIUNG}> }}"
CONSTRUCT = f"CONSTRUCT {{ <{GDYNIA}> ?p ?o }} WHERE {{ <{GDYNIA}> ?p ?o }}"
METHODS = [(GET, URLENCODED), (POST, URLENCODED), (POST, POSTDIRECTLY)]


def wrapper(server: LiveServer, fmt: str, method: str = GET,
            request_method: str = URLENCODED) -> SPARQLWrapper:
    client = SPARQLWrapper(server.url + "/sparql")
    client.setReturnFormat(fmt)
    client.setMethod(method)
    client.setRequestMethod(request_method)
    client.setTimeout(30)
    return client


@pytest.mark.parametrize("method, request_method", METHODS)
def test_sparqlwrapper_json(live_server: LiveServer, method: str, request_method: str) -> None:
    client = wrapper(live_server, JSON, method, request_method)
    client.setQuery(SELECT)
    result = client.queryAndConvert()
    assert result["head"]["vars"] == ["label"]
    assert [b["label"] for b in result["results"]["bindings"]] == [
        {"type": "literal", "value": "Gdynia", "xml:lang": "en"}]
    client.setQuery(ASK)
    assert client.queryAndConvert()["boolean"] is True


@pytest.mark.parametrize("method, request_method", METHODS)
def test_sparqlwrapper_xml(live_server: LiveServer, method: str, request_method: str) -> None:
    client = wrapper(live_server, XML, method, request_method)
    client.setQuery(SELECT)
    document = client.queryAndConvert()
    literals = document.getElementsByTagName("literal")
    assert [node.firstChild.data for node in literals] == ["Gdynia"]
    assert literals[0].getAttribute("xml:lang") == "en"
    client.setQuery(ASK)
    ask = client.queryAndConvert()
    assert ask.getElementsByTagName("boolean")[0].firstChild.data == "true"


@pytest.mark.parametrize("fmt", [XML, RDFXML, JSONLD, TURTLE, JSON])
def test_sparqlwrapper_construct(live_server: LiveServer, fmt: str) -> None:
    """SPARQLWrapper sends format=xml (or json) for a CONSTRUCT too: it means RDF/XML (JSON-LD)."""
    client = wrapper(live_server, fmt)
    client.setQuery(CONSTRUCT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SPARQLWrapper warns about JSON for a CONSTRUCT
        response = client.query()
        converted = response.convert()
    if isinstance(converted, bytes):  # TURTLE: the document itself
        graph = rdflib.Graph().parse(data=converted, format="turtle")
    elif isinstance(converted, dict | list):  # JSON: the JSON-LD document, loaded
        graph = rdflib.Graph().parse(data=json.dumps(converted), format="json-ld")
    else:
        graph = converted
    assert (GDYNIA, RDF.type, CD.City) in graph
    assert (GDYNIA, RDFS.label, rdflib.Literal("Gdynia", lang="en")) in graph


def test_rdflib_sparqlstore(live_server: LiveServer) -> None:
    store = SPARQLStore(query_endpoint=live_server.url + "/sparql", returnFormat="xml")
    graph = rdflib.Graph(store)
    labels = {row.label for row in graph.query(SELECT)}
    assert labels == {rdflib.Literal("Gdynia", lang="en")}
    assert graph.query(ASK).askAnswer is True
    constructed = graph.query(CONSTRUCT).graph
    assert (GDYNIA, RDF.type, CD.City) in constructed
    assert (GDYNIA, CD.sisterCityOf, KAOHSIUNG) in set(graph.triples((GDYNIA, None, None)))
    assert graph.value(GDYNIA, CD.country) == rdflib.URIRef(ID + "country/poland")
    assert {str(c) for c in store.contexts()} == {G + n for n in (
        "kaohsiung-report", "reference", "ontology", "shortcuts")}
    json_store = SPARQLStore(query_endpoint=live_server.url + "/sparql", returnFormat="json")
    assert len(rdflib.Graph(json_store).query(SELECT)) == 1
    store.close()
    json_store.close()


def test_httpx(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        response = http.post("/sparql", data={"query": SELECT},
                             headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200
        assert response.json()["results"]["bindings"][0]["label"]["value"] == "Gdynia"
        assert http.get("/sparql", params={"query": ASK}).json()["boolean"] is True
        turtle = http.post("/sparql", content=CONSTRUCT.encode(),
                           headers={"Content-Type": "application/sparql-query",
                                    "Accept": "text/turtle"})
        graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
        assert (GDYNIA, RDF.type, CD.City) in graph


async def _many(url: str) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        responses = await asyncio.gather(*(
            http.get("/sparql", params={"query": f"SELECT ({i} AS ?n) {{}}"}) for i in range(20)))
    return [int(r.json()["results"]["bindings"][0]["n"]["value"]) for r in responses]


def test_httpx_concurrent_requests_get_their_own_answers(live_server: LiveServer) -> None:
    assert asyncio.run(_many(live_server.url)) == list(range(20))
