"""Nothing acknowledged is ever lost, nothing is ever half-applied, and the history is the store.

The main test runs the server on an on-disk store, has several clients post changes at once,
kills the server with SIGKILL in the middle of the stream, starts it again on the same store and
checks every change that was attempted; then it replays the history log on the data files and
compares with the store, quad for quad. The others take the crash windows one at a time.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from live import bearer, citydip_server, kill_hard, write_env

from graph.store.embedded import Store
from graph.store.load import build_store, materialise_shortcuts
from graph.write.changes import META_GRAPH, Changeset
from graph.write.history import History, HistoryError, replay
from graph.write.writer import MARKER, Writer

CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
REPORT = f"{ID}report/kaohsiung-administration-international-affairs-2026"
PARTNERS = ["city/gdynia", "city/gdansk", "city/poznan", "city/katowice", "city/busan"]
CLIENTS = 4
ACKNOWLEDGED_BEFORE_KILL = 12


def change_document(key: str, partner: str) -> dict:
    """A passage and a memorandum citing it: 12 triples, and maybe new shortcuts."""
    passage, agreement = f"{ID}passage/crash-{key}", f"{ID}agreement/crash-{key}"
    return {"message": f"crash test {key}", "add": f"""
        @prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .
        @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
        <{passage}> a cd:Passage ; cd:quote "測試 {key}"@zh-Hant ; cd:lineStart 1 ;
            cd:lineEnd 2 ; prov:wasQuotedFrom <{REPORT}> .
        <{agreement}> a cd:MemorandumOfUnderstanding ;
            rdfs:label "Memorandum {key}"@en , "備忘錄 {key}"@zh-Hant ;
            cd:party <{ID}city/kaohsiung> , <{ID}{partner}> ; cd:dateNotStated true ;
            prov:wasDerivedFrom <{passage}> ."""}


def triples_of(server, key: str) -> int:
    query = (f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?s {{ <{ID}passage/crash-{key}> "
             f"<{ID}agreement/crash-{key}> }} ?s ?p ?o }}")
    response = httpx.get(f"{server}/sparql", params={"query": query}, timeout=30,
                         headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_sigkill_mid_stream_loses_no_acknowledged_change(tmp_path: Path, settings) -> None:
    store_path, history_path = tmp_path / "store", tmp_path / "store.history.jsonl"
    env = write_env(history_path, CITYDIP_STORE_PATH=str(store_path))
    acknowledged: dict[str, int] = {}
    attempted: list[str] = []
    refused: list[str] = []
    stop = threading.Event()

    def client(number: int, url: str) -> None:
        with httpx.Client(timeout=60) as http:
            sent = 0
            while not stop.is_set():
                key = f"{number}-{sent}"
                attempted.append(key)
                try:
                    response = http.post(f"{url}/changes", headers=bearer("alice"),
                                         json=change_document(key, PARTNERS[sent % 5]))
                except httpx.HTTPError:
                    return  # the server is gone: this change may or may not have landed
                if response.status_code == 200:
                    acknowledged[key] = response.json()["change"]
                else:
                    refused.append(f"{key}: {response.status_code} {response.text[:300]}")
                sent += 1

    with citydip_server(env) as server:
        # On an on-disk store the query workers are separate processes with their own view of
        # the store: after a write, the next query must already see it.
        assert triples_of(server, "probe") == 0
        first = httpx.post(f"{server}/changes", headers=bearer("alice"), timeout=60,
                           json=change_document("probe", "city/gdynia"))
        assert first.status_code == 200, first.text
        assert triples_of(server, "probe") == 12

        threads = [threading.Thread(target=client, args=(n, server.url)) for n in range(CLIENTS)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 90
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline:
            time.sleep(0.05)
        kill_hard(server)  # mid-stream: every client has a request in flight
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not refused, refused
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    with citydip_server(env) as server:
        for key in attempted:
            found = triples_of(server, key)
            assert found in (0, 12), f"change {key} is half-applied: {found} of 12 triples"
            if key in acknowledged:
                assert found == 12, f"acknowledged change {key} was lost"
        listed = httpx.get(f"{server}/changes", params={"limit": 1000}, timeout=30).json()
        logged = {e["id"]: e["message"] for e in listed}
        for key, change in acknowledged.items():
            assert logged.get(change) == f"crash test {key}"
        for key in attempted:  # a change in the store is in the history, and the reverse
            assert (f"crash test {key}" in logged.values()) == (triples_of(server, key) == 12)

    # The history is the store: the log replayed on the data files gives every quad of it.
    stored = Store(store_path)
    marker = [q.object.value for q in stored.quads_for_pattern(META_GRAPH, MARKER, None, None)]
    history = History(history_path)
    assert marker == [f"{history.log_id}#{history.last_id()}"]
    actual = {q for q in stored.raw if q.graph_name != META_GRAPH}
    del stored
    expected = build_store(settings, store=Store(None))
    replay(expected, history.entries())
    materialise_shortcuts(expected, settings)
    assert actual == set(expected.raw)


# --- the crash windows, one at a time ------------------------------------------------------------

def passage_change(graph: str) -> tuple[str, Changeset]:
    node = ox.NamedNode(f"{ID}passage/window-{uuid.uuid4().hex[:8]}")
    g = ox.NamedNode(graph)
    quads = [ox.Quad(node, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                     ox.NamedNode(f"{CD}Passage"), g),
             ox.Quad(node, ox.NamedNode(f"{CD}quote"), ox.Literal("測試", language="zh-Hant"), g),
             ox.Quad(node, ox.NamedNode(f"{CD}lineStart"),
                     ox.Literal("1", datatype=ox.NamedNode(
                         "http://www.w3.org/2001/XMLSchema#integer")), g),
             ox.Quad(node, ox.NamedNode(f"{CD}lineEnd"),
                     ox.Literal("1", datatype=ox.NamedNode(
                         "http://www.w3.org/2001/XMLSchema#integer")), g),
             ox.Quad(node, ox.NamedNode("http://www.w3.org/ns/prov#wasQuotedFrom"),
                     ox.NamedNode(REPORT), g)]
    return node.value, Changeset(added=frozenset(quads))


def test_a_change_logged_but_not_applied_is_applied_at_the_next_start(tmp_path, settings):
    log = tmp_path / "history.jsonl"
    store = build_store(settings, store=Store(None))
    writer = Writer(store, settings, History(log))
    node, change = passage_change(settings.write_graph)
    # The process died after the log's fsync and before the store's commit:
    History(log).append(change, "alice", "logged, then the crash")
    assert not any(True for _ in store.quads_for_pattern(ox.NamedNode(node), None, None, None))

    replayed = Writer(store, settings, History(log)).recover()
    assert [e.message for e in replayed] == ["logged, then the crash"]
    assert all(any(True for _ in store.quads_for_pattern(q.subject, q.predicate, q.object,
                                                         q.graph_name)) for q in change.added)
    assert writer.marker() == f"{History(log).log_id}#1"
    assert Writer(store, settings, History(log)).recover() == []  # once only


def test_a_store_rebuilt_from_the_files_gets_the_whole_history_again(tmp_path, settings):
    log = tmp_path / "history.jsonl"
    first = build_store(settings, store=Store(None))
    writer = Writer(first, settings, History(log))
    node, change = passage_change(settings.write_graph)
    result = writer.write(lambda: change, "alice", "a passage")
    assert result.committed
    rebuilt = build_store(settings, store=Store(None))  # e.g. `citydip load --force`
    assert len(Writer(rebuilt, settings, History(log)).recover()) == 1
    assert {q for q in first.raw} == {q for q in rebuilt.raw}


def test_a_torn_last_line_is_cut_off_and_the_log_goes_on(tmp_path):
    log = tmp_path / "history.jsonl"
    history = History(log)
    _, change = passage_change("https://w3id.org/citydiplomacy/graph/edits")
    history.append(change, "alice", "complete")
    with log.open("ab") as handle:
        handle.write(b'{"type": "change", "id": 2, "time": "2026-01-01T00:00:00Z", "auth')
    reopened = History(log)
    assert [e.id for e in reopened.entries()] == [1]
    assert log.read_bytes().endswith(b"\n")
    assert reopened.append(change, "bob", "next").id == 2
    assert [e.author for e in History(log).entries()] == ["alice", "bob"]


def test_a_damaged_line_inside_the_log_is_an_error(tmp_path):
    log = tmp_path / "history.jsonl"
    history = History(log)
    _, change = passage_change("https://w3id.org/citydiplomacy/graph/edits")
    history.append(change, "alice", "one")
    history.append(change, "alice", "two")
    lines = log.read_bytes().split(b"\n")
    lines[1] = lines[1][:20]
    log.write_bytes(b"\n".join(lines))
    with pytest.raises(HistoryError):
        History(log)


def test_a_change_the_store_fails_to_apply_is_taken_back_from_the_log(
        tmp_path, settings, monkeypatch):
    log = tmp_path / "history.jsonl"
    store = build_store(settings, store=Store(None))
    writer = Writer(store, settings, History(log))
    _, change = passage_change(settings.write_graph)

    def full_disk(sparql: str) -> None:
        raise OSError("no space left on device")

    monkeypatch.setattr(store, "update", full_disk)
    with pytest.raises(OSError):
        writer.write(lambda: change, "alice", "lost to a full disk")
    assert writer.history.entries() == [] and History(log).entries() == []
    monkeypatch.undo()
    assert writer.write(lambda: change, "alice", "room again").entry.id == 1
    assert [e.message for e in History(log).entries()] == ["room again"]
