#!/usr/bin/env python3
"""Benchmark of the refusals (not a test): how fast, and at what memory, hostile input is refused.

Starts `citydip serve` (in memory, writes enabled, tests/support/live.py) on a free port, replays
every
input of tests/regressions/ `--rounds` times, and prints per input the status, the median and
maximum answer time, and how much the server's resident memory moved from before the first round
to after the last. Issue 11's targets: the billion-laughs upload answers 4xx in under a second
with the server's memory unchanged within 50 MB; nested-group bombs answer 400.

    .venv/bin/python benchmarks/hostile.py --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _paths
import httpx
from fuzzing import fuzz_env
from live import citydip_server

sys.path.insert(0, str(_paths.ROOT / "tests" / "http"))  # the regression cases of the fuzz suite
from test_fuzz_regressions import CASES, request_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, \
            citydip_server(fuzz_env(Path(tmp) / "history.jsonl")) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        process = server.process()
        statuses: set[int] | list[int]  # a case's statuses, then the sorted ones of a row
        for case in CASES:
            request = request_of(case)
            client.request(**request)  # warm-up (first use of a route)
            before = process.memory_info().rss
            times, statuses = [], set()
            for _ in range(args.rounds):
                started = time.perf_counter()
                response = client.request(**request)
                times.append(time.perf_counter() - started)
                statuses.add(response.status_code)
            after = process.memory_info().rss
            size = len(request["content"] or b"")
            rows.append((case["name"], size, sorted(statuses), statistics.median(times),
                         max(times), (after - before) / 2**20))
        alive = client.get("/health").status_code
    print("| input | body | status | median | max | RSS change |\n|---|---:|---|---:|---:|---:|")
    for name, size, statuses, median, worst, rss in rows:
        print(f"| {name} | {size:,} B | {','.join(map(str, statuses))} | {median * 1000:.1f} ms "
              f"| {worst * 1000:.1f} ms | {rss:+.1f} MB |")
    print(f"\n{args.rounds} rounds per input after one warm-up; /health after all: {alive}")


if __name__ == "__main__":
    main()
