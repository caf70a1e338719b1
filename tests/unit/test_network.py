"""The partnership network of the bundled data: projections, filters and measures, with the
answers the report gives (counted by hand from graph/data/kaohsiung-report.ttl)."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from graph.network.cache import NetworkCache, View
from graph.network.data import NETWORK_QUERIES, UnknownActor, fetch, query_texts, store_select
from graph.network.measures import (
    Analysis,
    attribute_assortativity,
    degree_assortativity,
    pagerank,
    shortest_path,
    timeline,
)
from graph.network.projection import FilterError, Filters, project, select

TRILATERAL = "agreement/kaohsiung-arizona-kumamoto-economic-exchange-mou"
SIX_PARTY = "agreement/six-party-semiconductor-ecosystem-global-talent-mou"
TEN_SCHOOLS = "agreement/kaohsiung-gdynia-five-schools-education-letter-of-intent-2026"


@pytest.fixture(scope="module")
def data(store, settings):
    return fetch(store_select(store), settings.queries_dir)


@pytest.fixture(scope="module")
def view(data):
    return View(data, Filters())


def parse(data, **values):
    return Filters.parse(data, **values)


# --- reading the store -------------------------------------------------------------------------

def test_the_network_queries_are_named_queries_with_headers(settings):
    texts = query_texts(settings.queries_dir)
    assert set(texts) == set(NETWORK_QUERIES)
    assert all(text.startswith("#+ summary:") for text in texts.values())


def test_every_partnership_and_party_is_read(data, store):
    parties = sum(1 for _ in store.query(
        "SELECT * { ?p <https://w3id.org/citydiplomacy/ns#party> ?a }"))
    assert len(data.partnerships) == 41  # 32 agreements and 9 twinning relations
    assert sum(len(p.parties) for p in data.partnerships.values()) == parties == 98
    assert len(data.actors) == 58
    gdynia = data.actors["city/gdynia"]
    assert (gdynia.label_en, gdynia.label_zh, gdynia.cls, gdynia.group, gdynia.country) == (
        "Gdynia", "格丁尼亞市", "City", "AdministrativeArea", "poland")


def test_kinds_dates_and_topics_of_partnerships(data):
    sister_school_mou = data.partnerships[
        "agreement/wenzao-oregon-four-universities-sister-school-mou"]
    assert sister_school_mou.kinds == ("memorandum-of-understanding", "sister-school-agreement")
    gdynia = data.partnerships["agreement/kaohsiung-gdynia-sister-city-2025"]
    assert (gdynia.date, gdynia.year, gdynia.kinds) == ("2025-09", 2025, ("sister-city-agreement",))
    busan = data.partnerships["relation/kaohsiung-busan-sister-city"]
    assert busan.relation and busan.kinds == ("sister-city-relation",) and busan.year is None
    assert data.partnerships[SIX_PARTY].topics == ("semiconductors", "silicon-photonics", "talent")
    assert sum(1 for p in data.partnerships.values() if p.year is None) == 19


# --- projections -----------------------------------------------------------------------------

def test_kaohsiung_has_29_partners_as_the_shortcuts_say(view, store):
    partner_of = {row["b"].value for row in store.query(
        "SELECT DISTINCT ?b { <https://w3id.org/citydiplomacy/id/city/kaohsiung> "
        "<https://w3id.org/citydiplomacy/ns#partnerOf> ?b }")}
    assert view.analysis.degree()["city/kaohsiung"] == len(partner_of) == 29
    assert view.graph.number_of_nodes() == 58
    assert view.graph.number_of_edges() == 102


@pytest.mark.parametrize("agreement,size", [(TRILATERAL, 3), (SIX_PARTY, 6), (TEN_SCHOOLS, 10)])
def test_a_multi_party_agreement_is_a_clique_among_its_parties(view, data, agreement, size):
    parties = data.partnerships[agreement].parties
    assert len(parties) == size
    pairs = list(itertools.combinations(parties, 2))
    assert len(pairs) == size * (size - 1) // 2
    for a, b in pairs:
        assert agreement in view.graph.edges[a, b]["partnerships"]


def test_the_trilateral_memorandum_links_kaohsiung_arizona_and_kumamoto(view):
    trio = ["city/kaohsiung", "prefecture/kumamoto", "state/arizona"]
    assert nx.density(view.graph.subgraph(trio)) == 1.0
    edge = view.graph.edges["state/arizona", "prefecture/kumamoto"]
    assert edge["partnerships"] == [TRILATERAL] and edge["weight"] == 1


def test_edges_carry_weight_kinds_years_and_partnerships(view):
    kumamoto = view.graph.edges["city/kaohsiung", "city/kumamoto-city"]
    assert kumamoto["weight"] == 3
    assert kumamoto["years"] == [2017, 2024, 2026]
    assert kumamoto["kinds"] == ["friendship-city-agreement", "memorandum-of-understanding"]
    goyang = view.graph.edges["city/kaohsiung", "city/goyang"]
    assert goyang["weight"] == 2 and goyang["undated"] == 2
    assert goyang["kinds"] == ["memorandum-of-understanding", "mou-city-relation"]


def test_the_bipartite_network_loses_nothing(data):
    g = project(data, Filters(), "bipartite")
    assert g.number_of_edges() == 98
    assert g.degree(SIX_PARTY) == 6
    for pid, p in data.partnerships.items():
        assert tuple(sorted(g[pid])) == p.parties
    assert nx.is_bipartite(g)


def test_the_country_network_counts_partnerships_between_countries(data):
    g = project(data, Filters(), "country")
    # Every Kaohsiung–Poland instrument: Gdynia ×5 (sister city, economy MOU, two school letters,
    # port MOU), Katowice ×3 (declaration, sister city, school), Poznań.
    assert g.edges["poland", "taiwan"]["weight"] == 9
    assert g.edges["japan", "taiwan"]["weight"] == 20
    assert g.edges["japan", "united-states"]["weight"] == 2  # the two trilateral memoranda
    assert g.nodes["taiwan"]["label"] == "Taiwan" and g.nodes["taiwan"]["label_zh"] == "臺灣"
    assert not any(a == b for a, b in g.edges)


# --- filters ---------------------------------------------------------------------------------

def test_the_web_as_of_2020_holds_only_partnerships_dated_up_to_2020(data):
    kept = select(data, parse(data, until=2020))
    assert sorted(p.id for p in kept) == [
        "agreement/kaohsiung-hachioji-friendship-city-2006",
        "agreement/kaohsiung-kumamoto-city-friendship-city-2017",
        "agreement/kaohsiung-san-antonio-sister-city-1982",
        "agreement/kaohsiung-tochigi-economic-education-friendship-mou-2017",
        "agreement/yangming-kawauchi-sister-school-1993",
    ]
    assert parse(data, until="2020").describe().startswith("dated as of 2020")


def test_filters_by_kind_topic_class_and_country(data):
    sister = View(data, parse(data, kind=["sister-city-agreement"]))
    assert sorted(sister.graph["city/kaohsiung"]) == [
        "city/gdynia", "city/katowice", "city/san-antonio", "territory/guam"]
    assert View(data, parse(data, kind=["relation"])).graph.number_of_edges() == 9
    semis = select(data, parse(data, topic=["semiconductors"]))
    assert sorted(p.id for p in semis) == [
        "agreement/kaohsiung-arizona-kumamoto-economic-exchange-mou",
        "agreement/kaohsiung-dresden-city-cooperation-mou", SIX_PARTY]
    cities = View(data, parse(data, actor_class=["city"]))
    assert {cities.graph.nodes[n]["cls"] for n in cities.graph} == {"City"}
    assert "territory/guam" not in cities.graph
    # The six-party memorandum keeps its two cities, Kaohsiung and Tucson.
    assert cities.graph.edges["city/kaohsiung", "city/tucson"]["partnerships"] == [SIX_PARTY]
    poland = View(data, parse(data, country=["PL"]))
    # A partnership with a Polish party is kept whole (Kaohsiung schools tie to each other too).
    assert all(any(data.actors[a].country == "poland" for a in p.parties)
               for p in poland.partnerships)
    # 9 partnerships: the ten-school letter alone is a clique of 45 ties.
    assert (len(poland.partnerships), len(poland.graph), poland.graph.number_of_edges()) == (
        9, 23, 57)


def test_a_bad_filter_names_the_parameter(data):
    with pytest.raises(FilterError) as kind:
        parse(data, kind=["treaty"])
    assert kind.value.param == "kind" and "sister-city-agreement" in str(kind.value)
    with pytest.raises(FilterError) as since:
        parse(data, since=2020, until=1990)
    assert since.value.param == "since"
    with pytest.raises(FilterError) as year:
        parse(data, until="twenty")
    assert year.value.param == "until"


def test_actors_are_named_by_path_iri_or_label(data, view):
    assert data.resolve("city/gdynia").id == "city/gdynia"
    assert data.resolve("https://w3id.org/citydiplomacy/id/city/gdynia").id == "city/gdynia"
    assert data.resolve("Gdynia").id == "city/gdynia"  # the label, not port/gdynia's slug
    assert data.resolve("熊本市").id == "city/kumamoto-city"
    with pytest.raises(UnknownActor, match="city/atlantis"):
        view.actor("city/atlantis")
    sister = View(data, parse(data, kind=["sister-city-agreement"]))
    with pytest.raises(UnknownActor, match="not in the network under the filters"):
        sister.actor("city/busan")


# --- measures --------------------------------------------------------------------------------

def test_how_gdynia_reaches_kumamoto_city(view):
    found = view.path("city/gdynia", "city/kumamoto-city")
    assert [n["id"] for n in found["nodes"]] == ["city/gdynia", "city/kaohsiung",
                                                 "city/kumamoto-city"]
    assert found["length"] == 2
    first, second = found["hops"]
    assert [p["id"] for p in first["partnerships"]] == [
        "agreement/kaohsiung-gdynia-sister-city-2025"]
    assert {p["date"] for p in second["partnerships"]} == {"2017", "2024", "2026-03"}


def test_unconnected_actors_have_no_path(view, data):
    found = shortest_path(view.graph, data, "city/gdynia", "port/gdynia")
    assert found == {"connected": False, "length": None, "nodes": [], "hops": [],
                     "alternatives": 0}


def test_whole_network_measures(view):
    stats = view.stats()
    assert stats["components"] == {"count": 7, "largest": 30, "sizes": [30, 10, 10, 2, 2, 2, 2]}
    assert stats["core"]["max_k"] == 9 and stats["core"]["main_core_size"] == 10
    assert stats["largest_component"]["diameter"] == 2
    assert stats["largest_component"]["method"] == "exact"
    assert stats["betweenness"] == {"method": "exact"}
    assert stats["communities"]["count"] >= 7 and stats["communities"]["modularity"] > 0.5
    assert stats["assortativity"]["degree"] < 0  # a hub with many one-tie partners
    assert stats["undated_partnerships"] == 19


def test_kaohsiung_leads_every_centrality(view):
    for by in ("degree", "weighted_degree", "betweenness", "pagerank"):
        assert view.top(by, 1)["actors"][0]["id"] == "city/kaohsiung", by
    assert view.analysis.actor("city/kaohsiung")["degree"] == 29


def test_ego_network(view):
    centre, sub = view.ego("city/gdynia", 1)
    assert set(sub) == {"city/gdynia", "city/kaohsiung"}
    _, wider = view.ego("city/gdynia", 2)
    assert wider.number_of_nodes() == 30 and wider.nodes["city/tucson"]["distance"] == 2


def test_growth_over_time(data):
    grown = timeline(select(data, Filters()))
    years = {row["year"]: row for row in grown["years"]}
    assert sorted(years) == [1982, 1993, 2006, 2017, 2024, 2025, 2026]
    assert years[1982] == {"year": 1982, "partnerships": 1, "new_actors": 2, "nodes": 2,
                           "edges": 1, "components": 1}
    assert (years[2017]["nodes"], years[2017]["edges"], years[2017]["components"]) == (7, 5, 2)
    assert grown["undated"] == 19


def test_large_graphs_sample_betweenness_with_a_fixed_seed_and_say_so(view):
    small_limit = Analysis(view.graph, exact_limit=10, samples=20)
    method = small_limit.betweenness_method()
    assert method["method"] == "sampled" and method["k"] == 20 and method["seed"] == 42
    again = Analysis(view.graph, exact_limit=10, samples=20)
    assert again.betweenness() == small_limit.betweenness()
    assert small_limit.distances()["method"] == "estimated"
    assert small_limit.distances()["diameter"] == 2


def test_communities_are_the_same_on_every_run(view):
    assert Analysis(view.graph).communities() == Analysis(view.graph).communities()


def test_pagerank_matches_networkx():
    g = nx.karate_club_graph()
    for a, b in g.edges:
        g.edges[a, b]["weight"] = 1 + (a + b) % 3
    from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

    expected = _pagerank_python(g, weight="weight")
    ours = pagerank(g)
    assert sum(ours.values()) == pytest.approx(1.0)
    assert all(ours[n] == pytest.approx(expected[n], abs=1e-6) for n in g)


def test_assortativity_on_known_graphs():
    assert degree_assortativity(nx.star_graph(4)) == pytest.approx(-1.0)
    two = nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(3))
    for n in two:
        two.nodes[n]["country"] = "a" if n < 3 else "b"
    assert attribute_assortativity(two, "country") == pytest.approx(1.0)
    assert degree_assortativity(nx.cycle_graph(5)) is None  # every degree equal


# --- caching per data version ------------------------------------------------------------------

def test_results_are_cached_per_data_version(data):
    cache = NetworkCache(max_views=2)
    reads = []

    def read():
        reads.append(1)
        return data

    assert cache.load(1, read) is data and cache.load(1, read) is data
    assert len(reads) == 1
    first = cache.view(1, Filters())
    assert cache.view(1, Filters()) is first
    first.analysis.betweenness()
    assert "betweenness" in cache.view(1, Filters()).analysis.computed()
    cache.load(2, read)  # the data changed: read again, measure again
    assert len(reads) == 2
    assert cache.view(2, Filters()) is not first
    with pytest.raises(LookupError):
        cache.view(1, Filters())
    for year in (2000, 2010, 2020):  # least recently used views make way
        cache.view(2, Filters(until=year))
    assert len(cache._views) == 2
