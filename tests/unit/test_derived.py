"""Derived views (front-page counts, VoID, /health, network measures) never block a read.

- after a write they are served from the previous data version, say so, and are recomputed in
  the background (at most once per CITYDIP_DERIVED_INTERVAL);
- the counts that follow a write from its changeset equal a SPARQL recount, with no recount;
- network results persist per data version: a restart with unchanged data reuses them;
- a large network's page and summary show the cheap measures at once and say what is still
  computing, then the value.
"""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from live import WRITE_TOKENS, bearer, citydip_server, until, write_env
from rdflib import Graph, URIRef
from rdflib.namespace import VOID

from graph.core.namespaces import CD, ID
from graph.core.settings import Settings
from server.app import create_app

PREFIXES = f"""PREFIX cd: <{CD}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
"""
GRAPHS = "https://w3id.org/citydiplomacy/graph/"


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(store_path=values.pop("store_path", ":memory:"), query_workers=1,
                    write_tokens=[f"alice:{WRITE_TOKENS['alice']}"],
                    history_path=str(tmp_path / "history.jsonl"), **values)


def write(http: TestClient, text: str) -> dict:
    response = http.post("/update", content=text.encode(),
                         headers={**bearer("alice"), "Content-Type": "application/sparql-update"})
    assert response.status_code == 200, response.text
    assert response.json()["committed"], response.text
    return response.json()


def new_city() -> tuple[str, str]:
    city = f"{ID}city/test-{uuid.uuid4().hex[:8]}"
    return city, f"""{PREFIXES} INSERT DATA {{ <{city}> a cd:City ;
        rdfs:label "Sopot"@en , "索波特"@zh-Hant ; cd:country <{ID}country/poland> ;
        cd:partOf <{ID}country/poland> . }}"""


def with_row(text: str, n: int) -> str:
    """An update that also adds a row of a pair list: a change the front page's counts do not
    follow from the changeset (server/front_counts.py), so they are recounted."""
    return (f'{text} ; INSERT DATA {{ <{ID}pair-row/test-{n}> a cd:PairListRow ;'
            f' rdfs:label "test, line {n}"@en ; cd:sourceLine {n + 1} }}')


def sparql(http: TestClient, query: str) -> list[dict]:
    response = http.get("/sparql", params={"query": query},
                        headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    return response.json()["results"]["bindings"]



def void(http: TestClient) -> Graph:
    response = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    return Graph().parse(data=response.text, format="turtle")


def test_counts_after_writes_equal_a_sparql_recount(tmp_path: Path) -> None:
    # A long interval: nothing is recomputed in the background during the test, so the
    # counts after the writes can only come from the changesets.
    app = create_app(settings(tmp_path, derived_interval=3600, derived_warm=False))
    with TestClient(app) as http:
        assert http.get("/health").json()["triples"] > 0
        void(http)
        keeper = app.state.derived
        computed = dict(keeper.recomputations)
        city, text = new_city()
        write(http, text)
        write(http, f"{PREFIXES} INSERT DATA {{ GRAPH <{GRAPHS}other> {{ <{city}> a cd:City }} }}")
        write(http, f'{PREFIXES} DELETE DATA {{ <{city}> rdfs:label "索波特"@zh-Hant }} ; '
                    f'INSERT DATA {{ <{city}> rdfs:label "索波特市"@zh-Hant }}')
        write(http, f"{PREFIXES} DELETE DATA {{ GRAPH <{GRAPHS}edits> {{ <{city}> a cd:City }} }}")

        health = http.get("/health")
        # Everything is in named graphs (the endpoint's default graph is their union).
        total = sparql(http, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        assert health.json()["triples"] == int(total[0]["n"]["value"])
        assert health.json()["data_version"] == health.json()["current_data_version"] == 4
        assert health.headers["X-Data-Version"] == "4"

        described = void(http)
        dataset = URIRef("http://testserver/.well-known/void#dataset")
        per_class = {str(described.value(p, VOID["class"])): int(described.value(p, VOID.entities))
                     for p in described.objects(dataset, VOID.classPartition)}
        recount = {r["c"]["value"]: int(r["n"]["value"]) for r in sparql(
            http, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } "
                  "GROUP BY ?c")}
        assert per_class == recount
        assert per_class[f"{CD}City"] >= 1
        named = sparql(http, "SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?p) AS ?props) "
                             "WHERE { GRAPH ?g { ?s ?p ?o } }")[0]
        assert int(described.value(dataset, VOID.triples)) == int(named["n"]["value"])
        assert int(described.value(dataset, VOID.properties)) == int(named["props"]["value"])
        graphs = {r["g"]["value"]: int(r["n"]["value"]) for r in sparql(
            http, "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
        subsets = {str(described.value(s, URIRef("http://www.w3.org/ns/sparql-service-"
                                                 "description#name"))):
                   int(described.value(s, VOID.triples))
                   for s in described.objects(dataset, VOID.subset)}
        assert subsets == graphs
        subjects = sparql(http, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o }"
                                f' FILTER (STRSTARTS(STR(?s), "{ID}")) }}')[0]
        assert int(described.value(dataset, VOID.distinctSubjects)) == int(subjects["n"]["value"])
        queries = Path(app.state.settings.queries_dir) / "meta"
        partitions = [{"class": r["class"]["value"], "graph": (r.get("graph") or {}).get("value"),
                       "entities": int(r["entities"]["value"]), "rows": int(r["rows"]["value"])}
                      for r in sparql(http, (queries / "void-partitions.rq").read_text())]
        kept = keeper.peek("statistics:entities")
        assert kept.version == 4 and kept.value["partitions"] == partitions
        examples = {r["resource"]["value"]
                    for r in sparql(http, (queries / "void-examples.rq").read_text())}
        assert set(kept.value["examples"]) == examples
        # Followed, not recounted.
        assert keeper.recomputations.get("statistics:counts") == computed["statistics:counts"]
        assert keeper.recomputations.get("statistics:entities") == \
            computed["statistics:entities"]
        assert "triple_count" not in keeper.recomputations


def test_the_front_page_counts_after_writes_equal_a_sparql_recount(tmp_path: Path) -> None:
    from server.front_counts import FRONT_PAGE

    app = create_app(settings(tmp_path, derived_interval=3600, derived_warm=False))
    with TestClient(app) as http:
        assert until(lambda: 'id="counting"' not in http.get("/").text)
        keeper = app.state.derived
        counted = keeper.recomputations[FRONT_PAGE]
        city, text = new_city()
        write(http, text)  # a new city: areas and the City class
        # The same type in a second graph: still one resource.
        write(http, f"{PREFIXES} INSERT DATA {{ GRAPH <{GRAPHS}other> {{ <{city}> a cd:City }} }}")
        # A country: a class of its own group, and not an area (overview.rq).
        country = f"{ID}country/test-{uuid.uuid4().hex[:8]}"
        write(http, f'{PREFIXES} INSERT DATA {{ <{country}> a cd:Country ; rdfs:label "Q"@en ,'
                    f' "Q國"@zh-Hant ; cd:iso3166Alpha2 "XQ" ; cd:languageCode "en" ;'
                    f' cd:country <{country}> }}')
        write(http, f"{PREFIXES} DELETE DATA {{ GRAPH <{GRAPHS}other> {{ <{city}> a cd:City }} }}")
        write(http, f"{PREFIXES} DELETE {{ <{city}> ?p ?o }} WHERE {{ <{city}> ?p ?o }}")

        kept = keeper.peek(FRONT_PAGE)
        assert kept.version == 5 and keeper.recomputations[FRONT_PAGE] == counted
        queries = Path(app.state.settings.queries_dir) / "pages"
        totals = {r["group"]["value"]: int(r["count"]["value"])
                  for r in sparql(http, (queries / "overview.rq").read_text())}
        classes = {(r["group"]["value"], r["class"]["value"]): int(r["count"]["value"])
                   for r in sparql(http, (queries / "class-breakdown.rq").read_text())}
        assert kept.value["totals"] == totals
        assert {(r["group"], r["iri"]): r["count"] for r in kept.value["classes"]} == classes


def test_the_class_tree_the_counts_follow_is_read_once_until_a_commit_changes_it(
        tmp_path: Path) -> None:
    # The counts that follow a commit keep the class tree they read (a scan of every
    # rdfs:subClassOf) from one commit to the next: the write API does not change it (the
    # vocabulary changes through ontology/ in git). A commit that did would drop it.
    from graph.core.terms import RDFS_SUBCLASS_OF
    from server.cache import Derived
    from server.front_counts import FRONT_PAGE

    app = create_app(settings(tmp_path, derived_interval=3600, derived_warm=False))
    with TestClient(app) as http:
        assert until(lambda: 'id="counting"' not in http.get("/").text)
        keeper = app.state.derived
        write(http, new_city()[1])
        tree = keeper.looked_up["narrower"]
        assert f"{CD}City" in tree[f"{CD}AdministrativeArea"]
        write(http, new_city()[1])
        assert keeper.peek(FRONT_PAGE).version == 2
        assert keeper.looked_up["narrower"] is tree  # not read again
        refused = http.post("/update", content=f"{PREFIXES} INSERT DATA {{ "
                            f"<https://example.org/Town> rdfs:subClassOf cd:City }}".encode(),
                            headers={**bearer("alice"),
                                     "Content-Type": "application/sparql-update"})
        assert refused.status_code == 403

    keeper = Derived(lambda: 1)
    keeper.looked_up["narrower"] = {}
    town = ox.Quad(ox.NamedNode("https://example.org/Town"), RDFS_SUBCLASS_OF,
                   ox.NamedNode(f"{CD}City"), ox.NamedNode(f"{GRAPHS}ontology"))
    keeper.follow(1, [town], [], ox.Store(), lambda: [])
    assert "narrower" not in keeper.looked_up


def test_derived_views_are_stale_while_recomputing_and_say_so(tmp_path: Path) -> None:
    app = create_app(settings(tmp_path, derived_interval=3, derived_warm=False))
    with TestClient(app) as http:
        # the counted page, not the label index's figures shown while the first count runs
        first = until(lambda: 'id="counting"' not in (r := http.get("/")).text and r)
        assert first.status_code == 200 and first.headers["X-Data-Version"] == "0"
        cities = int(first.text.split('id="count-areas" data-count="')[1].split('"')[0])
        _, text = new_city()
        # With a row of a pair list the counts cannot follow: they are recounted, and within
        # the interval of the count above, later.
        write(http, with_row(text, 0))
        stale = http.get("/")
        assert stale.headers["X-Data-Version"] == "0"
        assert stale.headers["X-Current-Data-Version"] == "1"
        assert "Counts as of data version 0 (version 1 is being counted)" in stale.text
        assert f'id="count-areas" data-count="{cities}"' in stale.text
        # /health says what the server is still catching up with, until it has
        assert "front_page" in http.get("/health").json()["catching_up"]

        fresh = until(lambda: (r := http.get("/")).headers["X-Data-Version"] == "1" and r)
        assert fresh, "the front page was not recounted in the background"
        assert until(lambda: "front_page" not in http.get("/health").json()["catching_up"])
        assert "X-Current-Data-Version" not in fresh.headers
        assert "Counts as of data version 1." in fresh.text
        assert f'id="count-areas" data-count="{cities + 1}"' in fresh.text

        # A burst of writes costs one recount per interval, not one per write.
        counted = app.state.derived.recomputations["front_page"]
        for n in range(1, 5):
            write(http, with_row(new_city()[1], n))
        http.get("/")
        time.sleep(0.5)
        assert app.state.derived.recomputations["front_page"] <= counted + 1


def test_network_results_are_reused_after_a_restart(tmp_path: Path) -> None:
    env = write_env(tmp_path / "history.jsonl", CITYDIP_STORE_PATH=str(tmp_path / "store"),
                    CITYDIP_DERIVED_WARM="false")
    with citydip_server(env) as server:
        stats = httpx.get(f"{server}/network/stats", timeout=60).json()
        page = httpx.get(f"{server}/viz/network", timeout=60).text
    assert stats["pending"] == [] and stats["data_version"] == 0
    folder = tmp_path / "store.derived" / "network"
    kept = {f: f.stat().st_mtime_ns for f in folder.glob("*/*") if f.is_file()}
    assert len([f for f in kept if f.suffix == ".json"]) == 2
    assert [f.name for f in kept if f.suffix == ".pickle"] == ["data.pickle"]

    with citydip_server(env) as server:
        assert httpx.get(f"{server}/network/stats", timeout=60).json() == stats
        assert httpx.get(f"{server}/viz/network", timeout=60).text == page
        # Read from disk, not recomputed: no file was written again.
        assert {f: f.stat().st_mtime_ns for f in folder.glob("*/*") if f.is_file()} == kept
        # Other answers use the persisted network data too (not rewritten either).
        assert httpx.get(f"{server}/network/top?by=degree", timeout=60).status_code == 200
        assert [f for f in folder.glob("*/data.pickle")] == [f for f in kept
                                                               if f.suffix == ".pickle"]
        assert next(folder.glob("*/data.pickle")).stat().st_mtime_ns == next(
            t for f, t in kept.items() if f.suffix == ".pickle")

        # After a write the data is another version: nothing persisted for it is reused.
        city, text = new_city()
        response = httpx.post(f"{server}/update", content=text.encode(), timeout=60,
                              headers={**bearer("alice"),
                                       "Content-Type": "application/sparql-update"})
        assert response.status_code == 200, response.text
        fresh = until(lambda: (b := httpx.get(f"{server}/network/stats",
                                              timeout=60).json())["data_version"] == 1 and b)
        assert fresh and fresh["nodes"] == stats["nodes"]
    assert len({f.parent for f in folder.glob("*/*.json")}) == 2


def counts(page: str) -> list[str]:
    """The figures of a front page, in order."""
    return re.findall(r'id="count-[a-z]+" data-count="\d+"', page)


def test_the_front_page_counts_are_read_back_after_a_restart(tmp_path: Path) -> None:
    env = write_env(tmp_path / "history.jsonl", CITYDIP_STORE_PATH=str(tmp_path / "store"),
                    CITYDIP_DERIVED_WARM="false")
    folder = tmp_path / "store.derived" / "network"

    def kept() -> dict[Path, int]:
        return {f: f.stat().st_mtime_ns for f in folder.glob("*/*.json")}

    with citydip_server(env) as server:
        first = until(lambda: 'id="counting"' not in (t := httpx.get(f"{server}/",
                                                                    timeout=60).text) and t)
        void = httpx.get(f"{server}/.well-known/void", timeout=60,
                         headers={"Accept": "text/turtle"}).text
        # front page, counts, entities, licences
        written = until(lambda: len(kept()) == 4 and kept())
        void = void.replace(str(server), "SERVER")  # the description names the server's address
    assert written

    with citydip_server(env) as server:
        assert httpx.get(f"{server}/", timeout=60).text == first
        assert httpx.get(f"{server}/.well-known/void", timeout=60,
                         headers={"Accept": "text/turtle"}).text.replace(str(server),
                                                                         "SERVER") == void
        time.sleep(0.5)
        assert kept() == written  # read back, not counted and written again
        # After a write the data is another version: its counts are not the persisted ones.
        response = httpx.post(f"{server}/update", content=new_city()[1].encode(), timeout=60,
                              headers={**bearer("alice"),
                                       "Content-Type": "application/sparql-update"})
        assert response.status_code == 200, response.text
        assert until(lambda: httpx.get(f"{server}/", timeout=60).text != first)
        # Moved by the write, not counted again, and written out within the interval.
        assert until(lambda: len({f.parent for f in kept()}) == 2 and len(kept()) == 8)
        after = counts(httpx.get(f"{server}/", timeout=60).text)
        assert len(after) >= 5
        moved = kept()

    with citydip_server(env) as server:
        # The write's counts read back (a new process numbers its versions from 0 again).
        assert counts(httpx.get(f"{server}/", timeout=60).text) == after
        time.sleep(0.5)
        assert kept() == moved  # not counted and written again


def test_large_network_shows_cheap_measures_at_once_then_the_rest(tmp_path: Path) -> None:
    # Every network counts as large here: the expensive measures go to the background.
    app = create_app(settings(tmp_path, network_background_nodes=0, derived_warm=False))
    with TestClient(app) as http:
        page = http.get("/viz/network").text
        assert "still computing" in page
        assert 'data-pending="communities largest_component"' in page
        quick = http.get("/network/stats?kind=sister-city-agreement").json()
        assert quick["nodes"] > 0 and quick["components"]["count"] >= 1
        assert set(quick["pending"]) == {"communities", "largest_component"}
        assert quick["communities"] is None and quick["largest_component"] is None

        done = until(lambda: "still computing" not in (p := http.get("/viz/network").text) and p)
        assert done, "the expensive measures never arrived"
        assert 'data-pending=""' in done and "modularity" in done and "diameter" in done
        complete = until(lambda: not (b := http.get(
            "/network/stats?kind=sister-city-agreement").json())["pending"] and b)
        assert complete and complete["communities"]["count"] >= 1
        assert complete["largest_component"]["diameter"] >= 1


@pytest.mark.parametrize("path", ["/health", "/.well-known/void", "/"])
def test_answers_state_their_version(tmp_path: Path, path: str) -> None:
    with TestClient(create_app(settings(tmp_path))) as http:
        response = http.get(path)
        assert response.status_code == 200
        assert response.headers["X-Data-Version"] == "0"
        assert "X-Current-Data-Version" not in response.headers


def test_a_view_computed_for_a_request_is_not_charged_to_its_client() -> None:
    import asyncio

    from server import admission
    from server.cache import Derived

    seen: list = []

    async def compute() -> int:
        seen.append(admission._ticket.get())
        return 1

    async def main() -> None:
        admission._ticket.set(admission.Ticket("address:192.0.2.1"))
        assert await Derived(lambda: 0).get("counts", compute) == (1, 0)
        assert admission._ticket.get() is not None  # the request's own context keeps its client

    asyncio.run(main())
    assert seen == [None]


@pytest.mark.parametrize("share, max_wait", [(0.5, 60.0), (0.0, 60.0), (0.5, 0.1)])
def test_a_long_recomputation_waits_longer_before_the_next(share: float, max_wait: float
                                                           ) -> None:
    import asyncio

    from server.cache import Derived

    version = [0]

    async def compute() -> int:
        await asyncio.sleep(0.3)
        return version[0]

    async def main() -> float | None:
        keeper = Derived(lambda: version[0], interval=0.01, share=share, max_wait=max_wait)
        await keeper.get("view", compute)  # took 0.3 s
        version[0] = 1  # a write: the view is stale
        keeper.schedule("view")
        timer = keeper.timers.get("view")
        waiting = None if timer is None else timer.when() - asyncio.get_running_loop().time()
        keeper.close()
        return waiting

    waiting = asyncio.run(main())
    if share and max_wait < 0.3:
        # 0.1 s at most between two starts: the last began 0.3 s ago, so at once
        assert waiting is None
    elif share:
        # at most half the time: the next starts 0.6 s after the last began, 0.3 s from now
        assert waiting is not None and 0.15 < waiting <= 0.6
    else:
        assert waiting is None  # the interval alone, long past: recomputed at once


def test_a_restart_before_the_measures_were_done_answers_at_once_while_the_warm_up_computes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from server import network_views

    # Each start fills a store of its own (a stopped app's store is not let go of at once in
    # this process); the same data has the same durable key, so they share what is persisted.
    kept = str(tmp_path / "derived")

    def store() -> dict:
        return {"store_path": str(tmp_path / uuid.uuid4().hex), "derived_dir": kept}

    # Every network counts as large: the first answers say what is still computing. The
    # server stops before the background measures are done (here: they never start).
    for module in ("server.routes.network", "server.routes.viz"):
        monkeypatch.setattr(f"{module}.complete_later", lambda *args: None)
    app = create_app(settings(tmp_path, **store(), derived_warm=False,
                              network_background_nodes=0))
    with TestClient(app) as http:
        first = http.get("/network/stats").json()
        page = http.get("/viz/network").text
    assert first["pending"] and "still computing" in page
    folder = tmp_path / "derived" / "network"
    provisional = sorted(folder.glob(f"*/*{network_views.PROVISIONAL}.json"))
    assert len(provisional) == 2  # the summary and the picture, and no complete answer
    assert not [f for f in folder.glob("*/*.json") if network_views.PROVISIONAL not in f.name]
    monkeypatch.undo()

    async def held(app) -> None:  # a warm-up that is still computing the complete answers
        await asyncio.Event().wait()

    monkeypatch.setattr(network_views, "warm", held)
    app = create_app(settings(tmp_path, **store(), network_background_nodes=0))
    with TestClient(app) as http:
        assert until(lambda: network_views.warming(app), 10)
        assert http.get("/network/stats").json() == first
        assert http.get("/viz/network").text == page
        # Answered from disk: the network data was not read back for them.
        cache = getattr(app.state, "network_cache", None)
        assert cache is None or cache.latest() is None
    monkeypatch.undo()  # the warm-up as it is

    # A warm-up that runs to its end makes the complete answers (its own page made ahead is
    # not the provisional one), and they are what is served after it.
    app = create_app(settings(tmp_path, **store(), network_background_nodes=0))
    with TestClient(app) as http:
        assert until(lambda: not network_views.warming(app), 120)
        # the summary and the picture, complete before anyone asked
        complete = [f.with_name(f.name.replace(network_views.PROVISIONAL, ""))
                    for f in provisional]
        assert all(f.is_file() for f in complete)
        assert "still computing" not in http.get("/viz/network").text
        assert http.get("/network/stats").json()["pending"] == []

    # Without a warm-up to finish them, the provisional answers are not served: the measures
    # are computed on demand, and complete in the end.
    for answer in complete:
        answer.unlink()
    app = create_app(settings(tmp_path, **store(), derived_warm=False,
                              network_background_nodes=0))
    with TestClient(app) as http:
        done = until(lambda: not (b := http.get("/network/stats").json())["pending"] and b)
        assert done and done["communities"]["count"] >= 1


def test_a_restart_with_every_default_answer_on_disk_does_not_read_the_network_back(
        tmp_path: Path) -> None:
    from server import network_views

    kept = str(tmp_path / "derived")

    def store() -> dict:
        return {"store_path": str(tmp_path / uuid.uuid4().hex), "derived_dir": kept}

    with TestClient(create_app(settings(tmp_path, **store(), derived_warm=False))) as http:
        stats = http.get("/network/stats").json()
        page = http.get("/viz/network").text
    assert stats["pending"] == []

    app = create_app(settings(tmp_path, **store()))
    with TestClient(app) as http:
        assert until(lambda: not network_views.warming(app), 120)
        cache = getattr(app.state, "network_cache", None)
        assert cache is None or cache.latest() is None  # the warm-up left the data on disk
        assert http.get("/network/stats").json() == stats
        assert http.get("/viz/network").text == page
        # A view that needs the data reads it then.
        assert http.get("/network/top?by=degree").status_code == 200
        assert app.state.network_cache.latest() is not None


def test_a_view_nobody_read_since_it_was_computed_waits_for_a_reader_after_a_write() -> None:
    import asyncio

    from server.cache import Derived

    version, computed = [0], []

    async def compute() -> int:
        computed.append(version[0])
        return version[0]

    async def write(keeper: Derived) -> None:
        version[0] += 1
        keeper.moved(version[0], {})
        await asyncio.sleep(0.05)  # time for a recomputation started at once

    async def main() -> None:
        keeper = Derived(lambda: version[0], interval=0.0)
        assert await keeper.get("view", compute) == (0, 0)
        await write(keeper)
        # Nobody read it since it was computed: left stale, nothing pending.
        assert computed == [0] and keeper.pending() == []
        # The next reader gets the kept value, its version stated; it is recomputed behind.
        assert await keeper.get("view", compute) == (0, 0)
        await asyncio.sleep(0.05)
        assert computed == [0, 1]
        assert await keeper.get("view", compute) == (1, 1)
        # Read since its last computation began: recomputed after the next write unasked.
        await write(keeper)
        assert computed == [0, 1, 2]
        assert keeper.peek("view").version == 2
        keeper.close()

    asyncio.run(main())


def test_what_the_warm_up_reads_ahead_is_not_asked_for() -> None:
    import asyncio

    from server.cache import Derived, reading_ahead

    version, computed = [0], []

    async def compute() -> int:
        computed.append(version[0])
        return version[0]

    async def main() -> None:
        keeper = Derived(lambda: version[0], interval=0.0)

        async def warm_up() -> None:
            reading_ahead()
            await keeper.get("view", compute)
            await keeper.get("view", compute)  # read again once made, as the warm-up does

        await asyncio.create_task(warm_up())
        version[0] = 1
        keeper.moved(1, {})
        await asyncio.sleep(0.05)
        assert computed == [0]  # only the warm-up read it: not recomputed unasked
        # The marking stayed in the warm-up's task: a request's read counts.
        assert await keeper.get("view", compute) == (0, 0)
        await asyncio.sleep(0.05)
        assert computed == [0, 1]
        keeper.close()

    asyncio.run(main())
