"""The QuadStore protocol: a changeset applied whole, and graph IRIs that cannot change a request.

The embedded store is tested here in memory; the remote store against a recording transport (what
it sends, and that a hostile graph IRI sends nothing).
"""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest

from graph.store.data_update import data_update
from graph.store.embedded import Store
from graph.store.protocol import QuadSource, QuadStore
from graph.store.remote import RemoteStore
from graph.write.changes import Changeset
from graph.write.history import History, replay
from graph.write.staging import Staged

G = ox.NamedNode("urn:citydiplomacy:test:g")
H = ox.NamedNode("urn:citydiplomacy:test:h")
A, B, P = (ox.NamedNode(f"urn:citydiplomacy:test:{n}") for n in ("a", "b", "p"))
HOSTILE = ["urn:x> } } ; DROP ALL ; INSERT DATA { GRAPH <urn:y",
           "urn:x> ?p ?o } UNION { GRAPH ?g",
           "urn:with space",
           "urn:x>"]


def quad(s, o, g=G) -> ox.Quad:
    return ox.Quad(s, P, o, g)


def stored(store: QuadSource) -> set[ox.Quad]:
    return set(store.quads_for_pattern(None, None, None, None))


def test_the_three_classes_are_quad_sources() -> None:
    store = Store(None)
    sources: list[QuadSource] = [store, RemoteStore("http://127.0.0.1:9/q", None), Staged(store)]
    stores: list[QuadStore] = [store, RemoteStore("http://127.0.0.1:9/q", None)]
    assert all(callable(s.quads_for_pattern) for s in sources)
    assert all(callable(s.apply) for s in stores)


def test_apply_removes_then_adds_across_graphs() -> None:
    store = Store(None)
    store.raw.extend([quad(A, B), quad(A, ox.Literal("old"), H)])
    store.apply({quad(A, B), quad(A, ox.Literal("old"), H)},
                {quad(B, A), quad(A, ox.Literal("new", language="en"), H)})
    assert stored(store) == {quad(B, A), quad(A, ox.Literal("new", language="en"), H)}


def test_apply_of_nothing_changes_nothing() -> None:
    store = Store(None)
    store.raw.extend([quad(A, B)])
    store.apply(set(), set())
    assert stored(store) == {quad(A, B)}


def test_apply_is_all_or_nothing() -> None:
    """A changeset the store refuses (DELETE DATA cannot name a blank node) writes nothing."""
    store = Store(None)
    store.raw.extend([quad(A, B)])
    with pytest.raises(SyntaxError):
        store.apply({quad(A, B), quad(ox.BlankNode("x"), B)}, {quad(B, A)})
    assert stored(store) == {quad(A, B)}


def test_literals_are_written_as_terms() -> None:
    """A literal that looks like the end of the request stays a literal."""
    text = '" } } ; CLEAR ALL ; INSERT DATA { GRAPH <urn:y> { <urn:a> <urn:b> "c'
    store = Store(None)
    store.raw.extend([quad(A, B, H)])
    store.apply(set(), {quad(A, ox.Literal(text + "\n\\ 漢字"))})
    assert stored(store) == {quad(A, B, H), quad(A, ox.Literal(text + "\n\\ 漢字"))}


def test_one_delete_per_graph() -> None:
    """Virtuoso leaves language-tagged literals in a DELETE DATA's later GRAPH blocks."""
    removed = {quad(A, ox.Literal("x", language="en"), G),
               quad(A, ox.Literal("y", language="en"), H)}
    text = data_update(removed, {quad(B, A, G), quad(B, A, H)})
    assert text.count("DELETE DATA") == 2 and text.count("INSERT DATA") == 1
    store = Store(None)
    store.raw.extend(removed)
    store.apply(removed, {quad(B, A, G), quad(B, A, H)})
    assert stored(store) == {quad(B, A, G), quad(B, A, H)}


def test_replay_applies_the_log_through_the_store() -> None:
    history = History(None)
    history.append(Changeset(frozenset({quad(A, B)})), "test", "one")
    history.append(Changeset(frozenset({quad(B, A)}), frozenset({quad(A, B)})), "test", "two")
    store = Store(None)
    assert replay(store, history.entries()) == 2
    assert stored(store) == {quad(B, A)}


# --- the remote store: what it sends ----------------------------------------------------------


class Recorder:
    """A remote endpoint pair that records each request and answers as a store would."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode("ascii")))
        self.sent.append(form.get("update") or form.get("query", ""))
        if "update" in form:
            return httpx.Response(204)
        return httpx.Response(200, headers={"content-type": "application/sparql-results+json"},
                              json={"head": {"vars": ["n"]}, "results": {"bindings": [
                                  {"n": {"type": "literal", "value": "0", "datatype":
                                         "http://www.w3.org/2001/XMLSchema#integer"}}]}})


@pytest.fixture
def remote() -> tuple[RemoteStore, Recorder]:
    recorder = Recorder()
    store = RemoteStore("http://store.test/query", "http://store.test/update")
    store._client = httpx.Client(transport=httpx.MockTransport(recorder))
    return store, recorder


def test_remote_apply_is_one_update_request(remote) -> None:
    store, recorder = remote
    store.apply({quad(A, B)}, {quad(B, A), quad(A, ox.Literal("x"), H)})
    assert len(recorder.sent) == 1
    assert recorder.sent[0] == data_update({quad(A, B)}, {quad(B, A), quad(A, ox.Literal("x"), H)})
    assert recorder.sent[0].startswith("DELETE DATA {") and "INSERT DATA {" in recorder.sent[0]
    store.apply(set(), set())
    assert len(recorder.sent) == 1


def test_remote_graph_iris_are_written_as_terms(remote) -> None:
    store, recorder = remote
    assert store.count(G.value) == 0
    store.replace_graph(G.value, [ox.Triple(A, P, B)])
    assert recorder.sent[0] == f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {G} {{ ?s ?p ?o }} }}"
    assert recorder.sent[1] == f"DROP SILENT GRAPH {G}"
    assert recorder.sent[2].startswith(f"INSERT DATA {{ GRAPH {G} {{\n")


@pytest.mark.parametrize("iri", HOSTILE)
def test_a_hostile_graph_iri_cannot_inject(remote, iri: str) -> None:
    """A `>` or a space would end the IRI and let the rest be read as SPARQL: refused, unsent."""
    store, recorder = remote
    with pytest.raises(ValueError, match="not a graph IRI"):
        store.count(iri)
    with pytest.raises(ValueError, match="not a graph IRI"):
        store.replace_graph(iri, [ox.Triple(A, P, B)])
    with pytest.raises(ValueError, match="not a graph IRI"):
        store.insert(iri, [ox.Triple(A, P, B)])
    assert recorder.sent == []
