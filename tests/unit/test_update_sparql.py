"""SPARQL Update turned into changesets (graph/write/sparql_update.py), in process on the bundled
data."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from graph.core.namespaces import SKOLEM
from graph.store.embedded import Store
from graph.write.changes import ChangeError, Changeset
from graph.write.policy import Policy
from graph.write.sparql_update import update_changeset

CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
GRAPHS = "https://w3id.org/citydiplomacy/graph/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREFIXES = "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
REPORT_GRAPH = f"{GRAPHS}kaohsiung-report"


def run(store: Store, text: str, **kwargs) -> Changeset:
    return update_changeset(store, text, store.graphs, f"{GRAPHS}edits", Policy(),
                            **kwargs)


def triples(quads) -> set[tuple[str, str, str, str]]:
    return {(q.subject.value, q.predicate.value, str(q.object), q.graph_name.value)
            for q in quads}


def test_insert_data_goes_to_the_write_graph_or_the_named_one(store: Store) -> None:
    change = run(store, f'INSERT DATA {{ <{ID}x/a> <{CD}p> "01"^^<http://www.w3.org/2001/'
                        f'XMLSchema#integer> . GRAPH <{GRAPHS}other> '
                        f'{{ <{ID}x/a> <{CD}p> "b" }} }}')
    assert triples(change.added) == {
        (f"{ID}x/a", f"{CD}p", '"1"^^<http://www.w3.org/2001/XMLSchema#integer>',
         f"{GRAPHS}edits"),  # as the store keeps it: canonical
        (f"{ID}x/a", f"{CD}p", '"b"', f"{GRAPHS}other")}
    assert not change.removed


def test_blank_nodes_become_skolem_iris(store: Store) -> None:
    change = run(store, f"INSERT DATA {{ _:b <{CD}p> _:b . _:c <{CD}p> _:b }}")
    subjects = {q.subject.value for q in change.added}
    assert len(subjects) == 2 and all(s.startswith(SKOLEM) for s in subjects)
    looped = [q for q in change.added if q.subject == q.object]
    assert len(looped) == 1


def test_delete_data_without_a_graph_deletes_wherever_the_triple_is(store: Store) -> None:
    change = run(store, f'{PREFIXES} DELETE DATA {{ <{ID}city/gdynia> rdfs:label "Gdynia"@en }}')
    assert triples(change.removed) == {(f"{ID}city/gdynia", LABEL, '"Gdynia"@en', REPORT_GRAPH)}
    nothing = run(store, f'{PREFIXES} DELETE DATA {{ GRAPH <{GRAPHS}reference> '
                         f'{{ <{ID}city/gdynia> rdfs:label "Gdynia"@en }} }}')
    assert not nothing


def test_delete_insert_where_with_and_using(store: Store) -> None:
    body = (f'DELETE {{ ?c rdfs:label ?l }} INSERT {{ ?c rdfs:label "Gdynia!"@en }} '
            f'WHERE {{ ?c rdfs:label ?l FILTER(?c = <{ID}city/gdynia> && lang(?l) = "en") }}')
    text = PREFIXES + body
    change = run(store, text)
    assert triples(change.removed) == {(f"{ID}city/gdynia", LABEL, '"Gdynia"@en', REPORT_GRAPH)}
    assert triples(change.added) == {(f"{ID}city/gdynia", LABEL, '"Gdynia!"@en',
                                      f"{GRAPHS}edits")}
    with_graph = run(store, f"{PREFIXES} WITH <{GRAPHS}reference> {body}")
    assert not with_graph  # the WHERE reads the reference graph only, which lacks the label
    using = run(store, text.replace("WHERE", f"USING <{REPORT_GRAPH}> WHERE"))
    assert using == change
    protocol = run(store, text, using=[f"{GRAPHS}reference"])
    assert not protocol
    named = run(store, f'{PREFIXES} INSERT {{ ?c rdfs:comment "x" }} WHERE {{ GRAPH ?g '
                       f'{{ ?c rdfs:label "Gdynia"@en }} }}', using_named=[REPORT_GRAPH])
    assert len(named.added) == 1
    with pytest.raises(ChangeError):
        run(store, f"{PREFIXES} WITH <{GRAPHS}edits> {body}", using=[REPORT_GRAPH])


def test_operations_see_the_earlier_ones(store: Store) -> None:
    change = run(store, f'INSERT DATA {{ <{ID}x/a> <{CD}p> "1" }} ; '
                        f'INSERT {{ ?s <{CD}q> "2" }} WHERE {{ ?s <{CD}p> "1" }} ; '
                        f'DELETE DATA {{ <{ID}x/a> <{CD}p> "1" }}')
    assert triples(change.added) == {(f"{ID}x/a", f"{CD}q", '"2"', f"{GRAPHS}edits")}
    assert not change.removed


def test_graph_management(store: Store) -> None:
    reference = f"{GRAPHS}reference"
    copied = run(store, f"COPY <{reference}> TO <{GRAPHS}copy>")
    assert len(copied.added) == store.count(reference) and not copied.removed
    moved = run(store, f"MOVE <{reference}> TO <{GRAPHS}copy>")
    assert len(moved.removed) == store.count(reference)
    cleared = run(store, f"CLEAR GRAPH <{reference}>")
    assert len(cleared.removed) == store.count(reference)
    assert not run(store, f"CREATE GRAPH <{GRAPHS}new>")
    with pytest.raises(ChangeError):
        run(store, f"CREATE GRAPH <{reference}>")
    assert not run(store, f"CREATE SILENT GRAPH <{reference}>")


@pytest.mark.parametrize("text", [
    "LOAD <http://example.org/x.ttl>",
    "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
    f"INSERT {{ ?s <{CD}p> 1 }} WHERE {{ SERVICE <http://example.org/sparql> {{ ?s ?p ?o }} }}",
    "CLEAR DEFAULT", "DROP ALL", "CLEAR NAMED",
    f"COPY <{GRAPHS}reference> TO DEFAULT",
    f"DROP GRAPH <{GRAPHS}ontology>",
    f"INSERT DATA {{ GRAPH <{GRAPHS}shortcuts> {{ <{ID}city/gdynia> <{CD}partnerOf> "
    f"<{ID}city/kaohsiung> }} }}",
    f"DELETE DATA {{ <{ID}city/gdynia> <{CD}partnerOf> <{ID}city/kaohsiung> }}",
    f"INSERT DATA {{ GRAPH <{GRAPHS}meta> {{ <{ID}x/a> <{CD}p> 1 }} }}",
])
def test_refused(store: Store, text: str) -> None:
    with pytest.raises(ChangeError) as refused:
        run(store, text)
    assert refused.value.status == 403, refused.value


def test_syntax_errors_are_400(store: Store) -> None:
    with pytest.raises(ChangeError) as error:
        run(store, "INSERT DATA { <a> }")
    assert error.value.status == 400


def test_nothing_is_written(store: Store) -> None:
    before = set(store.raw)
    run(store, f'{PREFIXES} DELETE WHERE {{ <{ID}city/gdynia> rdfs:label ?l }}')
    assert set(store.raw) == before
    assert isinstance(next(iter(before)), ox.Quad)
