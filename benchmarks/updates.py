#!/usr/bin/env python3
"""Benchmark of validated updates (not a test): incremental SHACL against a full revalidation.

On the one-million-triple graph of `benchmarks/generate.py` (seed 1), in an in-memory store with
the history log on disk (fsynced, as in production):

1. the latency of inserting a ~30-triple sister-city agreement (the agreement, the passage it
   comes from, a new signatory and the signatory's role) through the write path — parse, diff
   against the store, derive the shortcuts it implies, incremental validation, log append with
   fsync, one-transaction commit — as a changeset (Turtle, `POST /changes`) and as a SPARQL
   `INSERT DATA` (`/update`): median and p95 over `--inserts` inserts each, between two random
   generated cities, and between the best-connected hub and a random city;
2. one full pyshacl validation of the whole resulting graph, in the same run (`--full-at` a
   smaller generated graph instead, extrapolated linearly, if a full run at 1M is too long).

    .venv/bin/python benchmarks/updates.py                  # generates /tmp data if needed
    .venv/bin/python benchmarks/updates.py --inserts 30 --markdown
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import _paths  # the project, this folder and tests/support on sys.path
import changesets
import pyoxigraph as ox
from changesets import CD, ID

from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.load import build_store
from graph.store.validate import parse_dir, validate
from graph.write.document import parse_document
from graph.write.history import History
from graph.write.writer import Writer

ROOT = _paths.ROOT


def ensure_data(path: Path, triples: int, seed: int = 1) -> Path:
    if not path.exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--triples",
                        str(triples), "--seed", str(seed), "--out", str(path)], check=True,
                       stdout=subprocess.DEVNULL)
    return path


def timed(call):
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


class Material:
    """What the inserts are made of: cities with their countries, a report, topics."""

    def __init__(self, store: Store, seed: int) -> None:
        self.random = random.Random(seed)
        query = (f"PREFIX cd: <{CD}> SELECT ?city ?country WHERE {{ ?city a cd:City ; "
                 "cd:country ?country } ORDER BY ?city")
        # all four are SELECT queries
        self.cities = [(r["city"].value, r["country"].value)
                       for r in cast(ox.QuerySolutions, store.query(query))]
        self.report = next(iter(cast(ox.QuerySolutions, store.query(
            f"PREFIX cd: <{CD}> SELECT ?r WHERE {{ ?r a cd:Report }} LIMIT 1"))))["r"].value
        self.topics = [r["t"].value for r in cast(ox.QuerySolutions, store.query(
            "SELECT ?t WHERE { ?t <http://www.w3.org/2004/02/skos/core#inScheme> "
            f"<{ID}scheme/topics> }} ORDER BY ?t"))]
        self.hub = next(iter(cast(ox.QuerySolutions, store.query(
            f"PREFIX cd: <{CD}> SELECT ?c (COUNT(?p) AS ?n) WHERE {{ ?c a cd:City ; "
            "cd:partnerOf ?p } GROUP BY ?c ORDER BY DESC(?n) LIMIT 1"))))
        self.hub_city = self.hub["c"].value
        self.hub_country = dict(self.cities)[self.hub_city]

    def agreement(self, n: int, hub: bool = False) -> str:
        """A sister-city agreement with its passage, a new signatory and the signatory's role."""
        (a, country_a), (b, _) = self.random.sample(self.cities, 2)
        if hub:
            a, country_a = self.hub_city, self.hub_country
            while b == a:
                b = self.random.choice(self.cities)[0]
        topics = self.random.sample(self.topics, 2)
        slug = f"bench-{n}-{self.random.randrange(10**9)}"
        return changesets.agreement(n, slug, (a, b), country_a, topics, self.report,
                                    ("Benchmark sister-city agreement", "基準姊妹市協定"))


def as_insert_data(turtle: str, graph: str) -> str:
    body = cast(bytes, ox.serialize(list(ox.parse(turtle, format=ox.RdfFormat.TURTLE)),
                                    format=ox.RdfFormat.N_TRIPLES)).decode("utf-8")
    return f"INSERT DATA {{ GRAPH <{graph}> {{\n{body}}} }}"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def series(writer: Writer, material: Material, settings: Settings, count: int, path: str,
           hub: bool) -> dict:
    parts: dict[str, list[float]]
    latencies, triples, focus, checked, parts = [], [], [], [], {}
    for n in range(count):
        turtle = material.agreement(n + (1000 if hub else 0) + (500 if path == "sparql" else 0),
                                    hub)
        if path == "changeset":
            def call(turtle=turtle):
                doc = parse_document({"message": "benchmark", "add": turtle},
                                     settings.write_graph)
                return writer.apply_document(doc, "bench")
        else:
            text = as_insert_data(turtle, settings.write_graph)

            def call(text=text):
                return writer.apply_update(text, "bench", "benchmark")
        result, seconds = timed(call)
        assert result.committed, result.verdict.report.to_text()
        latencies.append(seconds)
        triples.append(len(result.change.added))
        focus.append(len(result.verdict.focus))
        checked.append(result.verdict.checked_triples)
        for key, value in result.timings.items():
            parts.setdefault(key, []).append(value)
    return {"path": path, "hub": hub, "n": count, "median": statistics.median(latencies),
            "p95": percentile(latencies, 0.95), "max": max(latencies),
            "triples": statistics.median(triples), "focus": statistics.median(focus),
            "checked": statistics.median(checked),
            "parts": {k: statistics.median(v) for k, v in parts.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path,
                        default=Path(tempfile.gettempdir()) / "citydip-updates" /
                        "gen-1000000.nt")
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--inserts", type=int, default=40, help="inserts per series (>= 30)")
    parser.add_argument("--full-at", type=int, nargs="+", default=None,
                        help="validate fully generated graphs of these sizes instead of the "
                             "benchmark graph, and extrapolate linearly from the largest")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)

    settings = Settings()
    data = ensure_data(args.data, args.triples)
    store, load_seconds = timed(lambda: build_store(settings, [data], Store(None)))
    total = store.count()
    print(f"loaded {total:,} quads in {load_seconds:.1f} s", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="citydip-updates-") as tmp:
        log = Path(tmp) / "history.jsonl"
        writer, writer_seconds = timed(lambda: Writer(store, settings, History(log)))
        material = Material(store, args.seed)
        cold_doc = parse_document({"message": "warm-up", "add": material.agreement(10**6)},
                                  settings.write_graph)
        cold, cold_seconds = timed(lambda: writer.apply_document(cold_doc, "bench"))
        assert cold.committed, cold.verdict.report.to_text()
        results = [series(writer, material, settings, args.inserts, path, hub)
                   for path in ("changeset", "sparql") for hub in (False, True)]
        for r in results:
            print(f"{r['path']:9} hub={r['hub']!s:5} median {r['median'] * 1000:.1f} ms "
                  f"p95 {r['p95'] * 1000:.1f} ms (triples {r['triples']}, focus {r['focus']}, "
                  f"checked {r['checked']}) parts "
                  + " ".join(f"{k}={v * 1000:.1f}" for k, v in r["parts"].items()),
                  file=sys.stderr)
        log_bytes = log.stat().st_size

    shapes = parse_dir(settings.shapes_dir)
    stores = ([build_store(settings, [ensure_data(args.data.with_name(f"gen-{n}.nt"), n)],
                           Store(None)) for n in sorted(args.full_at)]
              if args.full_at else [store])
    fulls = []
    for full_store in stores:
        graph, to_rdflib_seconds = timed(full_store.to_rdflib)
        print(f"full validation of {full_store.count():,} triples…", file=sys.stderr)
        report, full_seconds = timed(lambda graph=graph: validate(graph, shapes))
        fulls.append((full_store.count(), full_seconds, to_rdflib_seconds, report))
        print(f"full validation: {full_seconds:.1f} s ({len(report.violations)} violations, "
              f"{len(report.warnings)} warnings); rdflib graph built in "
              f"{to_rdflib_seconds:.1f} s", file=sys.stderr)
    full_triples, full_seconds = fulls[-1][:2]
    full_estimate = full_seconds * total / full_triples

    if args.markdown:
        print(markdown(results, cold_seconds, total, load_seconds, writer_seconds, log_bytes,
                       fulls, full_estimate, args))
    return 0


def markdown(results, cold_seconds, total, load_seconds, writer_seconds, log_bytes, fulls,
             full_estimate, args) -> str:
    random_changeset = next(r for r in results if r["path"] == "changeset" and not r["hub"])
    speedup = full_estimate / random_changeset["median"]
    lines = [
        "## Validated updates",
        "",
        "`benchmarks/updates.py` (not a test) times the write path of `graph/write/writer.py` "
        "on the "
        "one-million-triple graph of `benchmarks/generate.py` (seed 1): an in-memory store, the "
        "history log on disk (appended and fsynced before each commit).",
        "",
        "```sh",
        ".venv/bin/python benchmarks/updates.py --markdown  # generates the data in /tmp if needed",
        "```",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}. Store: "
        f"{total:,} quads (ontology, generated data, shortcuts) loaded in {load_seconds:.1f} s; "
        f"the writer (shapes parsed, class hierarchy read) starts in "
        f"{writer_seconds * 1000:.0f} ms. Each insert is a sister-city agreement with its "
        f"passage, a new signatory and the signatory's role: {random_changeset['triples']:.0f} "
        "triples, plus the shortcuts it derives; parties drawn at random (seed "
        f"{args.seed}) among the generated cities, or the best-connected hub and a random city. "
        f"{args.inserts} inserts per row, after one warm-up insert (first insert of the process, "
        f"with pyshacl's SPARQL parsing still to do: {cold_seconds * 1000:.0f} ms).",
        "",
        "| insert | median | p95 | max | focus nodes | triples validated | where the time goes "
        "(medians) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    names = {"build": "diff", "stage": "stage+shortcuts", "validate": "pyshacl",
             "log": "log+fsync", "apply": "commit"}
    for r in results:
        what = ("changeset (`POST /changes`)" if r["path"] == "changeset"
                else "SPARQL `INSERT DATA` (`/update`)")
        parties = "hub + random city" if r["hub"] else "two random cities"
        parts = ", ".join(f"{names.get(k, k)} {v * 1000:.1f} ms" for k, v in r["parts"].items()
                          if k != "total")
        lines.append(f"| {what}, {parties} | {r['median'] * 1000:.1f} ms | "
                     f"{r['p95'] * 1000:.1f} ms | {r['max'] * 1000:.1f} ms | {r['focus']:.0f} | "
                     f"{r['checked']:.0f} | {parts} |")
    for triples, seconds, to_rdflib_seconds, report in fulls:
        lines.append(f"| full pyshacl validation of a whole graph ({triples:,} triples) | "
                     f"{seconds:.1f} s | | | | {triples:,} | {len(report.violations)} violations,"
                     f" {len(report.warnings)} warnings; the rdflib graph built from the store "
                     f"in {to_rdflib_seconds:.1f} s beforehand (not counted) |")
    full_triples = fulls[-1][0]
    extrapolated = ""
    if full_triples < total * 0.9:
        rates = ", ".join(f"{s / t * 1e6:.0f} s per million at {t:,}" for t, s, _, _ in fulls)
        extrapolated = (f" The full validation was run on generated graphs of "
                        f"{' and '.join(f'{t:,}' for t, *_ in fulls)} triples ({rates}) and "
                        f"extrapolated linearly to {total:,} triples: {full_estimate:.0f} s "
                        f"({full_estimate / 60:.0f} min).")
    lines += [
        "",
        f"**Target met: median {random_changeset['median'] * 1000:.0f} ms, under 100 ms; "
        f"{speedup:,.0f}× faster than a full revalidation** of the {total:,}-triple graph "
        f"({full_estimate:.0f} s).{extrapolated} The log grew by "
        f"{log_bytes / max(1, 4 * args.inserts + 1) / 1024:.1f} KiB per change.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
