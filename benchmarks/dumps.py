#!/usr/bin/env python3
"""How long /dump takes to write its files, and to find them again, at a given scale.

Generates data (benchmarks/generate.py), loads it into an in-memory store split over a few named
graphs, then times graph.store.dumps.current_dump: the first call writes the gzipped N-Quads and one
Turtle file per graph, later calls only serialize N-Quads to hash them and find the folder.
Prints medians of `--runs` repetitions beside a bare `Store.dump(N_QUADS)` (the floor of any
check), and the files' sizes.

    .venv/bin/python benchmarks/dumps.py --triples 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from graph.store.dumps import current_dump  # noqa: E402
from graph.store.embedded import Store  # noqa: E402

GRAPHS = 4


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citydip-dumps-") as tmp:
        nt = Path(tmp) / "gen.nt"
        subprocess.run([sys.executable, str(Path(__file__).parent / "generate.py"),
                        "--triples", str(args.triples), "--out", str(nt)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = Store(None)
        lines = nt.read_bytes().splitlines(keepends=True)
        for i in range(GRAPHS):  # a few named graphs, as the report and the pair lists are
            part = b"".join(lines[i::GRAPHS])
            store.load_data(part, ox.RdfFormat.N_TRIPLES,
                            f"https://w3id.org/citydiplomacy/graph/bench-{i}")
        quads = store.count()
        floor = [timed(lambda: store.dump(ox.RdfFormat.N_QUADS)) for _ in range(args.runs)]
        writes, finds = [], []
        for _ in range(args.runs):
            dump_dir = Path(tmp) / "dumps"
            shutil.rmtree(dump_dir, ignore_errors=True)
            writes.append(timed(lambda d=dump_dir: current_dump(store, d)))
            finds.append(timed(lambda d=dump_dir: current_dump(store, d)))
        folder, files = current_dump(store, Path(tmp) / "dumps")
        print(json.dumps({
            "quads": quads, "graphs": GRAPHS, "runs": args.runs,
            "nquads_dump_s_median": round(statistics.median(floor), 3),
            "write_s_median": round(statistics.median(writes), 3),
            "find_cached_s_median": round(statistics.median(finds), 3),
            "files": {f.name: f.bytes for f in files},
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
