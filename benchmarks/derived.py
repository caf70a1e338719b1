#!/usr/bin/env python3
"""Benchmark of the derived views: front page, VoID, /network/stats, /viz/network (not a test).

For one data scale, against live `citydip serve` processes on an on-disk store, in one run:

1. first start (warm-up off, so that cold really is cold): the front page, VoID,
   /network/stats and /viz/network cold (first answer), then warm (median of repeats);
   how long the expensive network measures take to arrive in the background;
2. a write: how long the next answers take (stale, served from the previous version) and how
   long until they describe the new version;
3. a restart with unchanged data: the first /network/stats and /viz/network (from disk), the
   front page (cold again: its counts are not persisted) and /health.

    .venv/bin/python benchmarks/derived.py --scale report-world          # make world first
    .venv/bin/python benchmarks/derived.py --scale report
    .venv/bin/python benchmarks/derived.py --scale generated --data-dir /tmp/bench/gen-1m

It prints one line per measurement (`what  seconds  note`) and a Markdown table with --markdown.
The machine is usually shared: quote medians, and compare figures of the same run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import _paths  # noqa: F401  - the project and tests/support on sys.path
import httpx
from processes import citydip_serving

TOKEN = "bench-token-derived"
UPDATE = "application/sparql-update"


def timed_get(url: str, **kwargs) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = httpx.get(url, timeout=600, **kwargs)
    return time.perf_counter() - started, response


def warm(url: str, repeats: int, **kwargs) -> float:
    return statistics.median(timed_get(url, **kwargs)[0] for _ in range(repeats))


def until(check, seconds: float = 900) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        if check():
            return time.perf_counter() - started
        time.sleep(0.1)
    return float("nan")


PAGES = {"front page": "/", "VoID": "/.well-known/void", "/health": "/health",
         "/network/stats": "/network/stats", "/viz/network": "/viz/network"}


def run(args: argparse.Namespace) -> list[tuple[str, float, str]]:
    rows: list[tuple[str, float, str]] = []

    def record(what: str, seconds: float, note: str = "") -> None:
        rows.append((what, seconds, note))
        print(f"{what:<58} {seconds * 1000:>10.1f} ms  {note}", flush=True)

    work = Path(tempfile.mkdtemp(prefix="citydip-derived-"))
    store = Path(args.store) if args.store else work / "store"
    env = {"CITYDIP_STORE_PATH": str(store), "CITYDIP_ACCESS_LOG": "false",
           "CITYDIP_WRITE_TOKENS": f"bench:{TOKEN}",
           "CITYDIP_HISTORY_PATH": str(work / "history.jsonl"),
           "CITYDIP_DERIVED_DIR": str(work / "derived"), "CITYDIP_DERIVED_WARM": "false",
           "CITYDIP_QUERY_TIMEOUT": "120"}
    env["CITYDIP_DATASETS"] = {"report": "report", "report-world": "report,world",
                               "generated": "report"}[args.scale]
    if args.data_dir:
        env["CITYDIP_DATA_DIR"] = args.data_dir
    log = work / "server.log"
    try:
        with citydip_serving(env, log, limit=1800, strict=False, append=True) as server:
            record("start (store built or opened)", server.startup)
            base = server.url
            triples = httpx.get(base + "/health", timeout=60).json()["triples"]
            print(f"# {args.scale}: {triples:,} triples", flush=True)
            for name in ("front page", "VoID"):
                seconds, _ = timed_get(base + PAGES[name], headers={"Accept": "text/html"})
                record(f"{name} cold", seconds)
            seconds, response = timed_get(base + "/network/stats")
            body = response.json()
            record("/network/stats cold", seconds,
                   f"{body['nodes']:,} nodes, {body['edges']:,} edges; pending: "
                   f"{', '.join(body['pending']) or 'nothing'}")
            seconds, response = timed_get(base + "/viz/network")
            record("/viz/network cold (first screen: the HTML)", seconds,
                   f"{len(response.content) / 1024:.0f} KiB; "
                   + ("says 'still computing'" if "still computing" in response.text else
                      "complete"))
            record("expensive network measures arrive (after the cold answer)", until(
                lambda: not httpx.get(base + "/network/stats", timeout=600).json()["pending"]))
            for name, path in PAGES.items():
                record(f"{name} warm (median of {args.repeats})",
                       warm(base + path, args.repeats, headers={"Accept": "text/html"}))

            # A write: answers at once from the previous version, then the new one.
            city = f"https://w3id.org/citydiplomacy/id/city/bench-{int(time.time())}"
            text = (f"PREFIX cd: <https://w3id.org/citydiplomacy/ns#> PREFIX rdfs: "
                    f"<http://www.w3.org/2000/01/rdf-schema#> INSERT DATA {{ <{city}> a cd:City ; "
                    f"rdfs:label \"Bench\"@en , \"測試\"@zh-Hant ; cd:country "
                    f"<https://w3id.org/citydiplomacy/id/country/poland> . }}")
            started = time.perf_counter()
            response = httpx.post(base + "/update", content=text.encode(), timeout=600,
                                  headers={"Authorization": f"Bearer {TOKEN}",
                                           "Content-Type": UPDATE})
            record("write (INSERT DATA of one city)", time.perf_counter() - started,
                   f"HTTP {response.status_code}")
            for name in ("front page", "/network/stats", "/viz/network", "VoID", "/health"):
                seconds, response = timed_get(base + PAGES[name], headers={"Accept": "text/html"})
                record(f"{name} right after the write", seconds,
                       f"describes version {response.headers.get('X-Data-Version')}, current "
                       f"{response.headers.get('X-Current-Data-Version', 'the same')}")
            record("/network/stats describes the new version after", until(
                lambda: httpx.get(base + "/network/stats",
                                  timeout=600).json()["data_version"] == 1))
            record("/viz/network describes the new version after", until(
                lambda: httpx.get(base + "/viz/network", timeout=600).headers.get(
                    "X-Data-Version") == "1"))
            record("front page describes the new version after", until(
                lambda: httpx.get(base + "/", timeout=600).headers.get("X-Data-Version") == "1"))

        # A restart with unchanged data.
        with citydip_serving(env, log, limit=1800, strict=False, append=True) as server:
            base = server.url
            record("restart", server.startup)
            for name in ("/network/stats", "/viz/network", "front page", "/health"):
                seconds, response = timed_get(base + PAGES[name], headers={"Accept": "text/html"})
                record(f"{name} first answer after the restart", seconds,
                       f"HTTP {response.status_code}")
            record("/network/stats after the restart, warm (median)",
                   warm(base + "/network/stats", args.repeats))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", choices=["report", "report-world", "generated"],
                        default="report-world")
    parser.add_argument("--data-dir", help="CITYDIP_DATA_DIR (the generated graph's folder)")
    parser.add_argument("--store", help="an existing store folder to serve (else a new one)")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    rows = run(args)
    if args.markdown:
        print(f"\n| {args.scale} | ms | note |\n|---|---:|---|")
        for what, seconds, note in rows:
            print(f"| {what} | {seconds * 1000:.0f} | {note} |")


if __name__ == "__main__":
    main()
