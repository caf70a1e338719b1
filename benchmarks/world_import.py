#!/usr/bin/env python3
"""Benchmark of the world import with the gazetteer, and what the gazetteer merged (not a test).

Imports both bundled pair lists (`citydip import world`, i.e. `graph.importing.world.import_world`)
into temporary folders and prints, for each run, the wall time and the CPU time of the process:

1. `cold`: the gazetteer's SQLite index built from scratch (a fresh cache folder), the import's
   first run on a machine;
2. `warm` (repeated): the index already built, every later import;
3. `without`: CITYDIP_GAZETTEER_MIN_POPULATION=0, the import as it was before the gazetteer
   (the lists reconciled by their names only), still one tie per pair.

Then the union of the two lists as the graph holds it with and without the gazetteer (areas
that are party to a tie, distinct ties, ties stated by both lists) and the gazetteer's own
counts from the import reports (areas located, ambiguous, merged in a list, matched by
GeoNames ID): so the nodes and ties the gazetteer merged are the differences.

    .venv/bin/python benchmarks/world_import.py [--warm 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from graph.core.namespaces import CD  # noqa: E402
from graph.core.settings import Settings  # noqa: E402
from graph.importing.gazetteer import gazetteer  # noqa: E402
from graph.importing.world import import_world  # noqa: E402


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(settings: Settings, out: Path) -> tuple[float, float, list]:
    gazetteer.cache_clear()  # every run opens (or builds) the gazetteer as a new process would
    wall, cpu = time.perf_counter(), _cpu()
    results = import_world(settings, out)
    return time.perf_counter() - wall, _cpu() - cpu, results


def union(out: Path) -> dict:
    """Areas that are a party to a tie, distinct ties, ties of both lists."""
    party = ox.NamedNode(str(CD.party))
    relation = ox.NamedNode(str(CD.TwinningRelation))
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    ties_by_list: dict[str, set[str]] = {}
    areas: set[str] = set()
    for path in sorted(out.glob("world-*.nt")):
        ties = ties_by_list.setdefault(path.stem, set())
        for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
            if t.predicate == party:
                areas.add(t.object.value)
            elif t.predicate == rdf_type and t.object == relation:
                ties.add(t.subject.value)
    every = set().union(*ties_by_list.values())
    both = set.intersection(*ties_by_list.values()) if ties_by_list else set()
    return {"areas": len(areas), "ties": len(every), "ties in both lists": len(both),
            **{f"ties of {k}": len(v) for k, v in ties_by_list.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warm", type=int, default=2, help="warm runs (default 2)")
    args = parser.parse_args()
    print(f"# world import benchmark — {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory(prefix="world-bench-") as tmp:
        tmp_path = Path(tmp)
        cache = tmp_path / "cache"
        with_gaz = Settings(gazetteer_cache=str(cache))
        timings: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "without": []}
        wall, cpu, results = run(with_gaz, tmp_path / "cold")
        timings["cold"].append((wall, cpu))
        for i in range(args.warm):
            wall, cpu, results = run(with_gaz, tmp_path / f"warm-{i}")
            timings["warm"].append((wall, cpu))
        wall, cpu, _ = run(Settings(gazetteer_min_population=0), tmp_path / "without")
        timings["without"].append((wall, cpu))
        print("\n| run | runs | wall s (median) | CPU s (median) |\n|---|---|---|---|")
        for name, values in timings.items():
            print(f"| {name} | {len(values)} | {statistics.median(v[0] for v in values):.1f} | "
                  f"{statistics.median(v[1] for v in values):.1f} |")
        merged, plain = union(tmp_path / "cold"), union(tmp_path / "without")
        print("\n| union of the two lists | with the gazetteer | without | difference |\n"
              "|---|---|---|---|")
        for key in merged:
            print(f"| {key} | {merged[key]:,} | {plain.get(key, 0):,} | "
                  f"{merged[key] - plain.get(key, 0):+,} |")
        print("\n| list | located | ambiguous (reported) | not found | no country or "
              "coordinates | merged in the list | matched by GeoNames ID | graph areas "
              "located |\n|---|---|---|---|---|---|---|---|")
        for r in results:
            g = r.summary["gazetteer"]
            print(f"| {r.spec.source} | {g['located']:,} | {g['ambiguous']:,} | "
                  f"{g['not_found']:,} | {g['no_evidence']:,} | {g['merged_in_list']:,} | "
                  f"{g['matched_by_geonames_id']:,} | {g['graph_areas_located']:,} |")


if __name__ == "__main__":
    main()
