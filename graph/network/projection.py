"""The web of partnerships as networks, fetched from the store by the named queries of
`queries/network/` and projected three ways.

- The **partner network**: actors (areas, organizations, groups), one edge per pair of parties
  that share a partnership (an agreement or a twinning relation), weighted by how many they
  share, carrying the kinds, years and partnership ids. A partnership with k parties becomes a
  clique of k(k-1)/2 edges: a six-party memorandum looks like fifteen bilateral ties here.
- The **bipartite network**: actors and partnerships, one edge per cd:party link. It loses
  nothing, so it is the view to use where multi-party agreements matter.
- The **country network**: the partner network aggregated by the actors' cd:country.

Filters (kind, topic, actor class, country, year range) select partnerships and actors before
projecting. Everything here is plain Python over the rows of a few SELECTs: the store is read
once per data version (see `graph.network.cache`), never node by node.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import networkx as nx

from graph.core.namespaces import ID
from graph.network.data import Actor, NetworkData, Partnership, Term

PROJECTIONS = ("partner", "bipartite", "country")
ID_BASE = str(ID)
"""Node and partnership ids (`city/gdynia`) are IRIs relative to this base; exports say so."""


class FilterError(ValueError):
    """A filter value is not known; names the parameter and what it accepts."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param


# --- filters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """Which partnerships and actors make the network. Hashable: part of cache keys.

    A partnership is kept when it has one of the `kinds`, one of the `topics`, a party in one of
    the `countries` and a year within `since`..`until` (each filter only when given). Undated
    partnerships are kept unless a year bound is given. `classes` keeps only actors of those
    classes; a partnership left with fewer than two parties drops out.
    """

    kinds: frozenset[str] = frozenset()
    topics: frozenset[str] = frozenset()
    classes: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    since: int | None = None
    until: int | None = None
    sources: frozenset[str] = frozenset()
    """Partnerships stated by one of these sources (`report`, an imported pair list such as
    `wikipedia`); empty, or `union`, for all of them."""

    @classmethod
    def parse(cls, data: NetworkData, kind: Iterable[str] = (), topic: Iterable[str] = (),
              actor_class: Iterable[str] = (), country: Iterable[str] = (),
              since: int | str | None = None, until: int | str | None = None,
              source: Iterable[str] = ()) -> Filters:
        """Filters from user values, checked against the data's vocabulary (FilterError)."""
        vocab = data.vocabulary()
        kinds = _pick("kind", kind, data.kinds, vocab["kind"], extra={"agreement", "relation"})
        topics = _pick("topic", topic, data.topics, vocab["topic"])
        classes = _pick("class", actor_class, data.classes, vocab["class"])
        countries = _pick("country", country, data.countries, vocab["country"])
        lo, hi = _year("since", since), _year("until", until)
        if lo is not None and hi is not None and lo > hi:
            raise FilterError("since", f"{lo} is after until={hi}")
        return cls(kinds, topics, classes, countries, lo, hi, _sources(data, source))

    @property
    def dated_only(self) -> bool:
        return self.since is not None or self.until is not None

    def to_dict(self) -> dict:
        return {"kind": sorted(self.kinds), "topic": sorted(self.topics),
                "class": sorted(self.classes), "country": sorted(self.countries),
                "since": self.since, "until": self.until, "source": sorted(self.sources)}

    def describe(self) -> str:
        """One line for people: what the network holds."""
        parts = [f"source {' or '.join(sorted(self.sources))}"] if self.sources else []
        for name, values in (("kind", self.kinds), ("topic", self.topics),
                             ("class", self.classes), ("country", self.countries)):
            if values:
                parts.append(f"{name} {' or '.join(sorted(values))}")
        if self.dated_only:
            span = (f"{self.since}–{self.until}" if self.since and self.until
                    else f"as of {self.until}" if self.until else f"since {self.since}")
            parts.append(f"dated {span} (undated partnerships left out)")
        else:
            parts.append("undated partnerships included")
        return "; ".join(parts)


def select(data: NetworkData, filters: Filters) -> list[Partnership]:
    """The partnerships the filters keep, their parties cut down to the actors kept."""
    kept = []
    for p in data.partnerships.values():
        if filters.sources and not filters.sources.intersection(p.sources):
            continue
        if filters.kinds and not _kind_match(p, filters.kinds):
            continue
        if filters.topics and not filters.topics.intersection(p.topics):
            continue
        if filters.dated_only:
            if p.year is None:
                continue
            if filters.since is not None and p.year < filters.since:
                continue
            if filters.until is not None and p.year > filters.until:
                continue
        if filters.countries and not any(data.actors[a].country in filters.countries
                                         for a in p.parties if a in data.actors):
            continue
        parties = p.parties
        if filters.classes:
            parties = tuple(a for a in parties if a in data.actors
                            and {data.actors[a].cls, data.actors[a].group} & filters.classes)
        if len(parties) < 2:
            continue
        kept.append(p if parties == p.parties else replace(p, parties=parties))
    return kept


def _kind_match(p: Partnership, kinds: frozenset[str]) -> bool:
    if ("agreement" in kinds and not p.relation) or ("relation" in kinds and p.relation):
        return True
    return bool(kinds.intersection(p.kinds))


# --- projections -------------------------------------------------------------------------------

def _actor_attrs(actor: Actor | None, node: str) -> dict:
    if actor is None:
        return {"label": node, "label_zh": "", "cls": "", "group": "", "country": "",
                "iri": node}
    return {"label": actor.label, "label_zh": actor.label_zh, "cls": actor.cls,
            "group": actor.group, "country": actor.country, "iri": actor.iri}


def partner_network(data: NetworkData, partnerships: list[Partnership]) -> nx.Graph:
    """Actors, an edge per pair of parties sharing a partnership (a clique per partnership).

    Edge attributes: weight (partnerships shared), partnerships (ids), kinds, years (distinct
    years of the dated ones), undated (how many have no date).
    """
    g = nx.Graph(projection="partner", id_base=ID_BASE)
    edges: dict[tuple[str, str], dict] = {}
    for p in partnerships:
        for a in p.parties:
            if a not in g:
                g.add_node(a, **_actor_attrs(data.actors.get(a), a))
        for pair in itertools.combinations(p.parties, 2):
            _add_tie(edges, pair, p)
    _add_edges(g, edges)
    return g


def _add_tie(edges: dict[tuple[str, str], dict], pair: tuple[str, str], p: Partnership) -> None:
    """Count one more partnership on the edge of a pair (weight, ids, kinds, years, undated)."""
    e = edges.setdefault(pair, {"weight": 0, "partnerships": [], "kinds": set(), "years": set(),
                                "undated": 0})
    e["weight"] += 1
    e["partnerships"].append(p.id)
    e["kinds"].update(p.kinds)
    if p.year is None:
        e["undated"] += 1
    else:
        e["years"].add(p.year)


def _add_edges(g: nx.Graph, edges: dict[tuple[str, str], dict]) -> None:
    g.add_edges_from((a, b, {**e, "kinds": sorted(e["kinds"]), "years": sorted(e["years"])})
                     for (a, b), e in edges.items())


def bipartite_network(data: NetworkData, partnerships: list[Partnership]) -> nx.Graph:
    """Actors (bipartite=0) and partnerships (bipartite=1), an edge per party: nothing lost."""
    g = nx.Graph(projection="bipartite", id_base=ID_BASE)
    for p in partnerships:
        g.add_node(p.id, bipartite=1, node_type="partnership", label=p.label,
                   label_zh=p.label_zh, kinds=list(p.kinds), date=p.date, year=p.year,
                   topics=list(p.topics), iri=p.iri)
        for a in p.parties:
            if a not in g:
                g.add_node(a, bipartite=0, node_type="actor", **_actor_attrs(data.actors.get(a), a))
            g.add_edge(a, p.id, weight=1)
    return g


def country_network(data: NetworkData, partnerships: list[Partnership]) -> nx.Graph:
    """Countries, an edge per pair of countries whose actors share a partnership.

    Edge weight counts partnerships (a partnership between three Japanese and two Polish parties
    counts once for Japan–Poland). A partnership within one country adds to that country's
    `domestic` count instead of a self-loop; parties without a country are left out.
    """
    g = nx.Graph(projection="country", id_base=ID_BASE)

    def add_country(c: str) -> None:
        if c not in g:
            term = data.countries.get(c)
            g.add_node(c, label=term.label_en if term else c,
                       label_zh=term.label_zh if term else "",
                       code=term.code if term else "", iri=term.iri if term else c,
                       cls="Country", group="AdministrativeArea", country=c, actors=0,
                       partnerships=0, domestic=0)

    actors_by_country: dict[str, set[str]] = defaultdict(set)
    edges: dict[tuple[str, str], dict] = {}
    for p in partnerships:
        countries = sorted({data.actors[a].country for a in p.parties
                            if a in data.actors and data.actors[a].country})
        for c in countries:
            add_country(c)
            g.nodes[c]["partnerships"] += 1
        for a in p.parties:
            if a in data.actors and data.actors[a].country:
                actors_by_country[data.actors[a].country].add(a)
        if len(countries) == 1:
            g.nodes[countries[0]]["domestic"] += 1
        for pair in itertools.combinations(countries, 2):
            _add_tie(edges, pair, p)
    for c, members in actors_by_country.items():
        g.nodes[c]["actors"] = len(members)
    _add_edges(g, edges)
    return g


PROJECTORS: dict[str, Callable[[NetworkData, list[Partnership]], nx.Graph]] = {
    "partner": partner_network,
    "bipartite": bipartite_network,
    "country": country_network,
}


def project(data: NetworkData, filters: Filters, projection: str = "partner") -> nx.Graph:
    """One projection of the partnerships the filters keep."""
    if projection not in PROJECTORS:
        raise FilterError("projection", f"unknown projection {projection!r}; "
                                        f"use {', '.join(PROJECTIONS)}")
    return PROJECTORS[projection](data, select(data, filters))

# --- helpers -----------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return re.sub(r"[\s_-]", "", text).casefold()


def _pick(param: str, values: Iterable[str], terms: Mapping[str, Term], used: list[dict],
          extra: Iterable[str] = ()) -> frozenset[str]:
    """Map user values (id, IRI, label, ISO code; any case) onto term ids."""
    chosen = set()
    for raw in values:
        for value in (v.strip() for v in str(raw).split(",")):
            if not value:
                continue
            if value in extra:
                chosen.add(value)
                continue
            wanted = _norm(value)
            match = next((t.id for t in terms.values()
                          if wanted in (_norm(t.id), _norm(t.iri), _norm(t.label_en),
                                        _norm(t.code) if t.code else "\0")
                          or value == t.label_zh), None)
            if match is None:
                known = ", ".join([*extra, *(u["id"] for u in used)])
                raise FilterError(param, f"unknown {param} {value!r}; known: {known}")
            chosen.add(match)
    return frozenset(chosen)


def _sources(data: NetworkData, values: Iterable[str]) -> frozenset[str]:
    """`report`, an imported list's source name (`wikipedia`, or its graph `world-wikipedia`),
    or `union` (all of them, as without the filter)."""
    known = data.sources()
    chosen = set()
    for raw in values:
        for value in (v.strip() for v in str(raw).split(",")):
            name = value.removeprefix("world-")
            if not value or name == "union":
                continue
            if name not in known:
                raise FilterError("source", f"unknown source {value!r}; known: "
                                            f"{', '.join(['union', *known])}")
            chosen.add(name)
    if set(known) <= chosen:
        return frozenset()  # every source is the union
    return frozenset(chosen)


def _year(param: str, value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}", text):
        raise FilterError(param, f"{text!r} is not a year (four digits, such as 2020)")
    return int(text)
