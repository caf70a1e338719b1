#!/usr/bin/env python3
"""What a read costs when a write made its page or answer go: made anew against kept.

Why this measure: the server keeps each entity page and each repeated answer until a write
reaches it (server/page_cache.py), and with 16 readers as fast as they are answered it is
saturated, so whatever a write makes the server do again comes out of the readers' share. A
write of `benchmarks/load.py` (a sister-city agreement between two cities) reaches the two
cities' pages, their `partners-of` answers and their lookups: its cost beyond its own steps is
six reads made anew instead of kept (load.py counts them per second, "made anew"). This script
times each kind of read both ways, one at a time on an otherwise idle server, on the store of
`make serve`'s data: the last read of a resource made anew (and kept; an endpoint's answer is
kept from the second time its text is seen) and the first read sent as kept.

    .venv/bin/python benchmarks/remakes.py                       # 200 areas of the world lists
    .venv/bin/python benchmarks/remakes.py --store /tmp/rm/store # keep and reuse the store
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import _paths  # noqa: F401 - the project, this folder and tests/support on sys.path
from processes import citydip_serving

from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.load import build_store

ID = "https://w3id.org/citydiplomacy/id/"
JSON = "application/sparql-results+json"
AREAS = ("SELECT DISTINCT ?c WHERE { GRAPH ?g { ?c <https://w3id.org/citydiplomacy/ns#country> "
         "?x } }")


def reads(city: str) -> dict[str, tuple[str, dict]]:
    """The three reads of benchmarks/load.py about one city."""
    lookup = f"SELECT ?p ?o WHERE {{ <{city}> ?p ?o }}"
    return {"page": ("/id/" + city.removeprefix(ID), {"Accept": "text/html"}),
            "partners-of": ("/queries/partners-of?" + urlencode({"actor": city}),
                            {"Accept": JSON}),
            "lookup": ("/sparql?" + urlencode({"query": lookup}), {"Accept": JSON})}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cities", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=20,
                        help="seconds to wait after the start (the derived views' first run)")
    parser.add_argument("--store", type=Path, help="the store's folder (built if absent)")
    args = parser.parse_args(argv)
    folder = args.store or Path(tempfile.mkdtemp(prefix="citydip-remakes-")) / "store"
    history = str(folder) + ".history.jsonl"
    if not folder.exists():
        settings = Settings(store_path=str(folder), history_path=history,
                            datasets=["report", "world"])
        built = build_store(settings, store=Store(folder))
        built.flush()
        del built  # the server opens the folder next
    env = {"CITYDIP_STORE_PATH": str(folder), "CITYDIP_HISTORY_PATH": history,
           "CITYDIP_DATASETS": "report,world", "CITYDIP_CLIENT_MAX_PARALLEL": "100",
           "CITYDIP_CLIENT_QUERY_SECONDS": "100000"}
    timings: dict[str, dict[str, list[float]]] = {}
    with citydip_serving(env, folder.parent / "remakes-server.log") as server:
        port = int(server.url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def get(path: str, headers: dict) -> tuple[float, bool]:
            started = time.perf_counter()
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise SystemExit(f"{path} answered {response.status}")
            return time.perf_counter() - started, response.getheader("x-page-cache") == "hit"

        conn.request("GET", "/sparql?" + urlencode({"query": AREAS}), headers={"Accept": JSON})
        cities = [b["c"]["value"] for b in json.loads(conn.getresponse().read())
                  ["results"]["bindings"]]
        random.Random(args.seed).shuffle(cities)
        time.sleep(args.settle)
        conn.close()  # the server closes an idle connection meanwhile
        for city in cities[:args.cities]:
            for kind, (path, headers) in reads(city).items():
                made: float | None = None  # the last read made anew before the first kept
                for _ in range(4):  # an answer is kept from the second time its text is seen
                    seconds, kept = get(path, headers)
                    if kept:
                        found = timings.setdefault(kind, {})
                        found.setdefault("kept", []).append(seconds * 1000)
                        if made is not None:
                            found.setdefault("made", []).append(made * 1000)
                        break
                    made = seconds
    print(f"One read at a time, {args.cities} areas of the world lists (ms; made: the page or "
          "answer made anew, kept: sent as kept):\n")
    print("| read | made n | made p50 | made mean | kept n | kept p50 | kept mean |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, found in timings.items():
        cells = []
        for way in ("made", "kept"):
            values = found.get(way, [])
            cells += [str(len(values)), *(f"{f(values):.2f}" if values else "-"
                                          for f in (statistics.median, statistics.mean))]
        print(f"| {kind} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
