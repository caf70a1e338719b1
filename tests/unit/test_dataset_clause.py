"""A query's own FROM / FROM NAMED chooses its dataset; otherwise the default graph is the union."""

import json

import pytest

from graph.sparql.text import has_dataset_clause
from graph.store.execution import QueryJob, run_job

REPORT = "https://w3id.org/citydiplomacy/graph/kaohsiung-report"
ONTOLOGY = "https://w3id.org/citydiplomacy/graph/ontology"
COUNT = "SELECT (COUNT(*) AS ?n) {FROM} WHERE {{ ?s ?p ?o }}"


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * FROM <http://g> WHERE { ?s ?p ?o }", True),
    ("SELECT *\nfrom named <a:b> { GRAPH ?g { ?s ?p ?o } }", True),
    ("SELECT ?from WHERE { ?s ?p ?from }", False),
    ("PREFIX from: <http://x/> SELECT * { ?s from:x ?o }", False),
    ("SELECT * { ?s ?p 'FROM' } # FROM <x:y>", False),
    ("SELECT (ex:from(?x) AS ?y) {}", False),
])
def test_a_dataset_clause_is_recognised_only_where_it_is_one(text, expected):
    assert has_dataset_clause(text) is expected


def count(store, query: str) -> int:
    outcome = run_job(store.raw, QueryJob(query, format="json"))
    assert outcome.status == 200, outcome.message
    return int(json.loads(outcome.body)["results"]["bindings"][0]["n"]["value"])


def test_from_restricts_the_default_graph_and_the_union_is_the_default(store):
    union = count(store, COUNT.format(FROM=""))
    report = count(store, COUNT.format(FROM=f"FROM <{REPORT}>"))
    both = count(store, COUNT.format(FROM=f"FROM <{REPORT}> FROM <{ONTOLOGY}>"))
    assert union == store.count()
    assert report == store.count(REPORT)
    assert both == store.count(REPORT) + store.count(ONTOLOGY)
