#!/usr/bin/env python3
"""What it costs a write to move the derived views that follow commits (not a test).

The front page's counts, VoID's triples and classes, and VoID's distinct subjects, partitions and
examples are moved from each commit's changeset, in the write's thread under the write lock
(server/cache.py, `Derived.follow`), instead of being counted again. This measures that cost per
write: in process, on an in-memory store filled with the datasets named, `--writes` agreements
of the load benchmark's kind (benchmarks/changesets.py) are added one by one, and after each the
three updaters are timed on its changeset. It prints the median per updater, in ms.

    .venv/bin/python benchmarks/following.py --datasets report
    .venv/bin/python benchmarks/following.py --datasets report,world
"""

from __future__ import annotations

import argparse
import statistics
import time

import _paths  # the project, this folder and tests/support on sys.path
import changesets
import pyoxigraph as ox

from graph.core.settings import Settings
from graph.core.terms import RDF_TYPE
from graph.store.embedded import Store
from graph.store.load import build_store
from server import describe, front_counts
from server.cache import Change


def first_of(store: ox.Store, cls: str) -> str:
    quad = next(iter(store.quads_for_pattern(None, RDF_TYPE, ox.NamedNode(changesets.CD + cls),
                                             None)))
    assert isinstance(quad.subject, ox.NamedNode)
    return quad.subject.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="report")
    parser.add_argument("--writes", type=int, default=200)
    args = parser.parse_args()
    settings = Settings(store_path=":memory:", datasets=args.datasets.split(","))
    raw = build_store(settings, store=Store()).raw
    roots = front_counts.group_roots(settings.queries_dir)
    examples = [str(row["resource"].value) for row in raw.query(  # type: ignore[union-attr]
        (_paths.ROOT / "queries/meta/void-examples.rq").read_text(),
        use_default_graph_as_union=True)]
    city, report = first_of(raw, "City"), first_of(raw, "Report")
    graph = ox.NamedNode("https://w3id.org/citydiplomacy/graph/edits")
    front: dict = {"totals": {}, "classes": []}
    entities: dict = {"entities": 0, "examples": examples, "partitions": []}
    costs: dict[str, list[float]] = {"front page": [], "VoID subjects, partitions, examples": [],
                                     "VoID triples and classes": []}
    for n in range(args.writes):
        # "z…": after the examples in IRI order, as the load benchmark's `load-…` slugs are
        turtle = changesets.agreement(n, f"z{n}", (city, city), changesets.ID + "country/taiwan",
                                      [changesets.ID + "topic/a", changesets.ID + "topic/b"],
                                      report, ("Agreement", "協定"))
        quads = [ox.Quad(t.subject, t.predicate, t.object, graph)
                 for t in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
        raw.extend(quads)
        change = Change(frozenset(quads), frozenset(), raw)
        for name, move, value in (
                ("front page", lambda v, c: front_counts.follow_front_page(v, c, roots), front),
                ("VoID subjects, partitions, examples",
                 lambda v, c: describe.follow_entities(v, c, settings.resource_base), entities),
                ("VoID triples and classes", describe.follow_counts,
                 {"graphs": {}, "property_triples": {}, "class_entities": {}})):
            started = time.perf_counter()
            move(value, change)
            costs[name].append(time.perf_counter() - started)
    print(f"{args.datasets}: {len(raw)} quads, {args.writes} writes")
    for name, seconds in costs.items():
        print(f"  {name}: median {statistics.median(seconds) * 1000:.3f} ms a write")


if __name__ == "__main__":
    main()
