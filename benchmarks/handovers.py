#!/usr/bin/env python3
"""A write's steps beside busy threads, in one process: what the GIL's hand-overs cost a write.

Why this measure: in the server a write's thread shares one GIL with an event loop that, beside
16 readers, always wants it back. A thread gives the GIL up around each call that may block (a
SQLite statement, an engine query or update, a file write, an fsync, a pipe to the validation
process), and then waits up to a whole switch interval to get it back; Python that only computes
is merely shared. So a step's time beside busy threads, against its time alone, says how many
hand-overs it makes, and that is what the write lock is held for. `benchmarks/load.py` measures
the same steps in the server among readers (each write's Server-Timing); this one takes the
readers out and replaces the loop by `--busy` threads that only compute, so that a change to a
step shows in a few minutes and without the noise of a whole server.

It builds a store of the report and the world lists on disk (as `make serve`), opens its label
index (kept current by the writes, as in the server), and applies `--writes` sister-city
agreements (benchmarks/updates.py's material) through the write path with validation in its own
process, once alone and once beside each number of busy threads, with the server's switch
interval (`CITYDIP_SWITCH_INTERVAL`). It prints each step's median (ms).

    .venv/bin/python benchmarks/handovers.py                   # --busy 0,1,2 --writes 25
    .venv/bin/python benchmarks/handovers.py --store /tmp/hand/store   # keep and reuse the store
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import _paths  # noqa: F401 - the project, this folder and tests/support on sys.path
from updates import Material

from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.labels import open_index
from graph.store.load import build_store
from graph.write.document import parse_document
from graph.write.payload import Bounds
from graph.write.writer import Writer

STEPS = ("stage", "validate", "shacl", "log", "apply", "index", "total")


def busy(stop: threading.Event) -> None:
    """Python that only computes, as an event loop with readers always waiting."""
    while not stop.is_set():
        sum(range(200))


def run(writer: Writer, material: Material, settings: Settings, writes: int, threads: int,
        first: int) -> dict[str, float]:
    bounds = Bounds.of(settings)
    docs = [parse_document({"message": "benchmark", "add": material.agreement(first + n)},
                           settings.write_graph, bounds) for n in range(writes)]
    stop = threading.Event()
    spinning = [threading.Thread(target=busy, args=(stop,), daemon=True) for _ in range(threads)]
    for thread in spinning:
        thread.start()
    steps: dict[str, list[float]] = {}
    try:
        for doc in docs:
            result = writer.apply_document(doc, "benchmark")
            if not result.committed:
                raise SystemExit(f"a write was not committed: {result.verdict.report.to_text()}")
            for name, seconds in result.timings.items():
                steps.setdefault(name, []).append(seconds * 1000)
    finally:
        stop.set()
        for thread in spinning:
            thread.join()
    return {name: statistics.median(values) for name, values in steps.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", default="0,1,2", help="numbers of busy threads, in turn")
    parser.add_argument("--writes", type=int, default=25, help="writes measured per turn")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--store", type=Path, help="the store's folder (built if absent)")
    args = parser.parse_args(argv)
    folder = args.store or Path(tempfile.mkdtemp(prefix="citydip-handovers-")) / "store"
    settings = Settings(store_path=str(folder), history_path=str(folder) + ".history.jsonl",
                        datasets=["report", "world"], validation_process=True)
    sys.setswitchinterval(settings.switch_interval)
    started = time.perf_counter()
    store = build_store(settings, store=Store(folder)) if not folder.exists() else Store(folder)
    writer = Writer(store, settings)
    open_index(store, settings, writer)
    print(f"store and label index ready in {time.perf_counter() - started:.0f} s ({folder}); "
          f"switch interval {settings.switch_interval * 1000:g} ms", file=sys.stderr)
    material = Material(store, args.seed)
    writer.start()
    run(writer, material, settings, 5, 0, 10**6)  # the validation process warmed up
    rows = []
    try:
        for n, threads in enumerate(int(x) for x in args.busy.split(",")):
            medians = run(writer, material, settings, args.writes, threads, n * args.writes)
            rows.append((threads, medians))
    finally:
        writer.close()
    print(f"A write's steps, median ms over {args.writes} writes (world scale, validation in "
          "its own process):\n")
    print("| busy threads | " + " | ".join(STEPS) + " |")
    print("|---:|" + "---:|" * len(STEPS))
    for threads, medians in rows:
        print(f"| {threads} | " + " | ".join(f"{medians.get(s, 0):.1f}" for s in STEPS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
