"""The partnership web as read from the store: actors, partnerships and their vocabulary.

A few SELECTs (the named queries of `queries/network/`) give one row per partnership-party, per
partnership kind, per topic and per actor; `NetworkData` joins them into plain Python objects
that `graph.network.projection` filters and projects. The store is never asked node by node.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pyoxigraph as ox

from graph.core.namespaces import CD, ID, WORLD_GRAPH_PREFIX
from graph.sparql.catalogue import internal_query
from graph.sparql.formats import select_rows

NETWORK_QUERIES = ("partnership-parties", "partnerships", "partnership-topics", "actors",
                   "vocabulary", "partnership-sources")
"""The named queries (in `queries/network/`) whose rows make a `NetworkData`."""

Rows = list[dict[str, object]]


class UnknownActor(LookupError):
    """The actor named is not in the network (or not in it under the filters given)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


# --- the data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """A kind, topic, actor class or country: the id filters use, its IRI and its labels."""

    id: str
    iri: str
    label_en: str
    label_zh: str = ""
    code: str = ""

    def to_dict(self) -> dict:
        out = {"id": self.id, "iri": self.iri, "label": self.label_en, "label_zh": self.label_zh}
        if self.code:
            out["code"] = self.code
        return out


@dataclass(frozen=True)
class Actor:
    id: str
    """`city/gdynia` for resources under the id base, the full IRI otherwise."""
    iri: str
    cls: str
    """Local name of the most specific class: `City`, `School`, `ActorGroup`…"""
    group: str
    """The broad class: `AdministrativeArea`, `Organization`, `ActorGroup` or `Person`."""
    label_en: str
    label_zh: str
    country: str
    """Country id (`poland`), empty when the data gives none."""

    @property
    def label(self) -> str:
        return self.label_en or self.label_zh or self.id


@dataclass(frozen=True)
class Partnership:
    id: str
    iri: str
    kinds: tuple[str, ...]
    relation: bool
    """A twinning relation (a standing status) rather than an agreement (an instrument)."""
    date: str
    """As precise as the source (`2025-09`, `1982`), empty when it gives none."""
    year: int | None
    label_en: str
    label_zh: str
    topics: tuple[str, ...]
    parties: tuple[str, ...]
    """Actor ids, sorted."""
    sources: tuple[str, ...] = ()
    """Where its parties are stated: `report` (the report's data) or an imported pair list's
    source name (`wikipedia` for the graph `world-wikipedia`); see `source_of`."""

    @property
    def label(self) -> str:
        return self.label_en or self.label_zh or self.id

    def to_dict(self) -> dict:
        return {"id": self.id, "iri": self.iri, "label": self.label_en, "label_zh": self.label_zh,
                "kinds": list(self.kinds), "date": self.date or None, "year": self.year,
                "topics": list(self.topics), "parties": list(self.parties)}


@dataclass
class NetworkData:
    """Every partnership with its parties, and every party: the input of all projections."""

    actors: dict[str, Actor]
    partnerships: dict[str, Partnership]
    kinds: dict[str, Term] = field(default_factory=dict)
    topics: dict[str, Term] = field(default_factory=dict)
    classes: dict[str, Term] = field(default_factory=dict)
    countries: dict[str, Term] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Mapping[str, Rows]) -> NetworkData:
        """Build from the rows of the `NETWORK_QUERIES`, keyed by query name."""
        vocab: dict[str, dict[str, Term]] = {"kind": {}, "topic": {}, "class": {}, "country": {}}
        for row in rows["vocabulary"]:
            what, iri = _value(row.get("what")), _value(row.get("term"))
            if what not in vocab or not iri:
                continue
            term_id = _term_id(what, iri)
            if term_id not in vocab[what]:
                vocab[what][term_id] = Term(term_id, iri, _value(row.get("labelEn")),
                                            _value(row.get("labelZh")), _value(row.get("code")))

        kinds: dict[str, set[str]] = defaultdict(set)
        info: dict[str, dict[str, object]] = {}
        seen: dict[str, object] | dict[str, str]  # a partnership's info, then an actor's labels
        for row in rows["partnerships"]:
            iri = _value(row["partnership"])
            relation = _value(row.get("relation")) == "true"
            kind_iri = _value(row.get("kind"))
            kind = _kind_id(kind_iri, relation)
            if kind not in vocab["kind"]:
                vocab["kind"][kind] = Term(kind, kind_iri, _local(kind_iri) if kind_iri else kind)
            kinds[iri].add(kind)
            seen = info.setdefault(iri, {"relation": relation, "date": "", "en": "", "zh": ""})
            for key, var in (("date", "date"), ("en", "labelEn"), ("zh", "labelZh")):
                value = _value(row.get(var))
                if value and (not seen[key] or value < str(seen[key])):
                    seen[key] = value  # the smallest of several values, so runs agree
        parties: dict[str, set[str]] = defaultdict(set)
        for row in rows["partnership-parties"]:
            parties[_value(row["partnership"])].add(_short(_value(row["actor"])))
        sources: dict[str, set[str]] = defaultdict(set)
        for row in rows.get("partnership-sources", ()):
            sources[_value(row["partnership"])].add(source_of(_value(row.get("graph"))))
        topics: dict[str, set[str]] = defaultdict(set)
        for row in rows["partnership-topics"]:
            topic_iri = _value(row["topic"])
            topic = _term_id("topic", topic_iri)
            topics[_value(row["partnership"])].add(topic)
            if topic not in vocab["topic"]:
                vocab["topic"][topic] = Term(topic, topic_iri, topic)

        partnerships = {}
        for iri, seen in info.items():
            if iri not in parties:
                continue
            found = kinds[iri]
            if len(found) > 1:  # cd:Agreement itself only when nothing more specific is said
                found = found - {"agreement"}
            date = str(seen["date"])
            pid = _short(iri)
            partnerships[pid] = Partnership(
                id=pid, iri=iri, kinds=tuple(sorted(found)), relation=bool(seen["relation"]),
                date=date, year=int(date[:4]) if re.match(r"\d{4}", date) else None,
                label_en=str(seen["en"]), label_zh=str(seen["zh"]),
                topics=tuple(sorted(topics.get(iri, ()))),
                parties=tuple(sorted(parties[iri])),
                sources=tuple(sorted(sources.get(iri, ()))))

        actors: dict[str, Actor] = {}
        classes: dict[str, list[tuple[str, str]]] = defaultdict(list)
        labels: dict[str, dict[str, str]] = defaultdict(dict)
        for row in rows["actors"]:
            iri = _value(row["actor"])
            if row.get("class") is not None:
                classes[iri].append((_local(_value(row["class"])),
                                     _local(_value(row.get("group")))))
            seen = labels[iri]
            for key, var in (("en", "labelEn"), ("zh", "labelZh"), ("country", "country")):
                value = _value(row.get(var))
                if value and (key not in seen or value < seen[key]):
                    seen[key] = value
        for iri, seen in labels.items():
            cls_, group = _most_specific(classes.get(iri, []))
            country = _term_id("country", seen["country"]) if seen.get("country") else ""
            actor = Actor(_short(iri), iri, cls_, group, seen.get("en", ""), seen.get("zh", ""),
                          country)
            actors[actor.id] = actor
        return cls(actors, partnerships, vocab["kind"], vocab["topic"], vocab["class"],
                   vocab["country"])

    # --- names ---------------------------------------------------------------------------------

    def resolve(self, name: str, within: Iterable[str] | None = None) -> Actor:
        """The actor a user means: an IRI, a path (`city/gdynia`), a slug or a label (en or zh).

        With `within` (the node ids of a filtered network), an actor outside it is an error too.
        """
        raw = name.strip().removeprefix("<").removesuffix(">")
        actor = self.actors.get(raw) or self.actors.get(_short(raw))
        if actor is None and raw:
            wanted = raw.casefold()
            # A label names an actor before a slug does: "Gdynia" is the city, not port/gdynia.
            for tier in (lambda a: wanted in (a.label_en.casefold(), a.label_zh.casefold()),
                         lambda a: wanted == a.id.rsplit("/", 1)[-1].casefold()):
                matches = [a for a in self.actors.values() if tier(a)]
                if len(matches) == 1:
                    actor = matches[0]
                    break
                if len(matches) > 1:
                    options = ", ".join(sorted(a.id for a in matches)[:10])
                    raise UnknownActor(name, f"{name!r} names more than one actor: {options}; "
                                             "give the path, such as city/gdynia")
        if actor is None:
            raise UnknownActor(name, f"no actor {name!r} is a party to any partnership "
                                     "(give a path such as city/gdynia, an IRI or a label)")
        if within is not None and actor.id not in within:
            raise UnknownActor(name, f"actor {actor.id!r} ({actor.label}) is not in the network "
                                     "under the filters given")
        return actor

    def sources(self) -> list[str]:
        """The sources the partnerships come from (`report`, `wikipedia`…), sorted."""
        return sorted({s for p in self.partnerships.values() for s in p.sources})

    def years(self) -> list[int]:
        return sorted({p.year for p in self.partnerships.values() if p.year is not None})

    def vocabulary(self) -> dict:
        """What the filters accept, with labels: for forms, legends and error messages.

        Made once (every request parses its filters against it); do not change the result.
        """
        return self._vocabulary

    @cached_property
    def _vocabulary(self) -> dict:
        used_kinds = {k for p in self.partnerships.values() for k in p.kinds}
        used_topics = {t for p in self.partnerships.values() for t in p.topics}
        used_classes = ({a.cls for a in self.actors.values()}
                        | {a.group for a in self.actors.values()})
        used_countries = {a.country for a in self.actors.values()}
        years = self.years()
        return {
            "kind": [self.kinds[k].to_dict() for k in sorted(used_kinds) if k in self.kinds],
            "topic": [self.topics[t].to_dict() for t in sorted(used_topics) if t in self.topics],
            "class": [self.classes[c].to_dict() for c in sorted(used_classes) if c in self.classes],
            "country": [self.countries[c].to_dict() for c in sorted(used_countries)
                        if c in self.countries],
            "years": [years[0], years[-1]] if years else [],
            "source": self.sources(),
        }


# --- fetching --------------------------------------------------------------------------------

def query_texts(queries_dir: Path) -> dict[str, str]:
    """The SPARQL text of each network query."""
    return {name: internal_query(queries_dir, f"network/{name}").text for name in NETWORK_QUERIES}


def fetch(select: Callable[[str], Rows], queries_dir: Path) -> NetworkData:
    """Read the network from a store through `select(sparql) -> rows` (a few SELECTs)."""
    return NetworkData.from_rows({name: select(text)
                                  for name, text in query_texts(queries_dir).items()})


def store_select(store) -> Callable[[str], Rows]:
    """`select` over a `graph.store.embedded.Store` (the CLI's in-memory store)."""
    def select(sparql: str) -> Rows:
        solutions = store.query(sparql)
        names = [v.value for v in solutions.variables]
        return [{n: s[n] for n in names} for s in solutions]
    return select


async def fetch_async(backend, queries_dir: Path) -> NetworkData:
    """Read the network through the server's backend: off the event loop, with its timeout."""
    return from_bodies(await fetch_bodies(backend, queries_dir))


async def fetch_bodies(backend, queries_dir: Path) -> dict[str, bytes]:
    """The answers to the network queries as the engine gives them (SPARQL results in JSON),
    keyed by query name: what `from_bodies` turns into a `NetworkData`, here or in a process of
    its own (graph.network.process), as the parsing holds the GIL for seconds at world scale.

    `Backend.select` caps rows at the endpoint's `max_rows`, which a large store exceeds, so the
    job here asks for every row; a cut result would be a wrong network, and is refused.
    """
    from graph.store.execution import QueryJob

    bodies: dict[str, bytes] = {}
    for name, text in query_texts(queries_dir).items():
        outcome = await backend.execute(QueryJob(
            text, {}, format="json", max_rows=10**9, background=True))
        if outcome.status != 200:
            raise RuntimeError(f"network query {name}: {outcome.message}")
        if outcome.truncated:
            raise RuntimeError(f"network query {name}: the result was cut")
        bodies[name] = outcome.body
    return bodies


def from_bodies(bodies: Mapping[str, bytes]) -> NetworkData:
    """The network from the network queries' answers (SPARQL results in JSON)."""
    rows: dict[str, Rows] = {}
    for name, body in bodies.items():  # the network queries are SELECT queries
        rows[name] = select_rows(body)
    return NetworkData.from_rows(rows)


# --- helpers -----------------------------------------------------------------------------------

def _value(term: object) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal | ox.NamedNode):
        return term.value
    return str(term)


def source_of(graph: str) -> str:
    """The source a named graph holds: an imported pair list's name (`…/graph/world-wikipedia`
    is `wikipedia`), or `report` for the report's data and everything else (none: the default
    graph, which holds only the data folder's own files, graph.store.load)."""
    return graph[len(WORLD_GRAPH_PREFIX):] if graph.startswith(WORLD_GRAPH_PREFIX) else "report"


def _local(iri: str) -> str:
    return re.split(r"[#/]", iri)[-1] if iri else ""


def _short(iri: str) -> str:
    """`city/gdynia` for `…/id/city/gdynia`; other IRIs stay whole."""
    base = str(ID)
    return iri[len(base):] if iri.startswith(base) else iri


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


def _kind_id(iri: str, relation: bool) -> str:
    """`sister-city-agreement` for cd:SisterCityAgreement, `sister-city-relation` for the
    relation kind `relation-kind/sister-city`, `twinning-relation` for a relation of no kind."""
    if relation:
        return f"{_local(iri)}-relation" if iri else "twinning-relation"
    return _kebab(_local(iri))


def _term_id(what: str, iri: str) -> str:
    if what == "kind":
        return _kind_id(iri, not iri.startswith(str(CD)))
    if what == "class":
        return _local(iri)
    return _local(iri) if iri.startswith(str(ID)) else iri


_GROUPS = ("AdministrativeArea", "Organization", "ActorGroup", "Person")


def _most_specific(found: list[tuple[str, str]]) -> tuple[str, str]:
    """The class that is not itself a broad group (City over AdministrativeArea), stably."""
    if not found:
        return "", ""
    specific = sorted(f for f in found if f[0] not in _GROUPS) or sorted(found)
    return specific[0]
