"""What one validated write costs the server process: CPU time, with validation in or out of it.

Why this measure: the server process answers reads with one GIL; what a write spends in it (in
Python, holding the GIL) is taken from readers, while what it spends in another process only
competes for a core. So this benchmark starts `citydip serve` (report data, store on disk) once
with `CITYDIP_VALIDATION_PROCESS=true` and once with `false`, posts the same `--writes` small
changesets to `/changes` one after another (a sister-city agreement with its
passage, signatory and role, benchmarks/changesets.py), and reports per write the CPU seconds of
the server process and of its child processes (the validation process and the query workers,
which no write uses; psutil, before and after), and the wall time of the request. No query runs
on a worker meanwhile, so no checkpoint of the store is made for the workers (graph.store.snapshots
makes one ahead of demand only while workers read); benchmarks/load.py measures writes among
readers. CPU time does
not depend much on what else the machine runs, so the figures hold on a shared machine; the wall
times do not.

    .venv/bin/python benchmarks/write_cpu.py --writes 60 [--datasets report,world]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import _paths  # noqa: F401 - the project, this folder and tests/support on sys.path
import changesets
import httpx
import psutil
from processes import citydip_serving

TOKEN = "bench-write-token"
CD, ID = changesets.CD, changesets.ID


def cpu(process: psutil.Process) -> float:
    try:
        times = process.cpu_times()
    except psutil.NoSuchProcess:
        return 0.0
    return times.user + times.system


def material(client: httpx.Client) -> tuple[list[tuple[str, str]], str, list[str]]:
    def rows(query: str) -> list[dict]:
        answer = client.get("/sparql", params={"query": query},
                            headers={"Accept": "application/sparql-results+json"})
        answer.raise_for_status()
        return [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]

    cities = [(r["c"], r["k"]) for r in rows(
        f"PREFIX cd: <{CD}> SELECT ?c ?k WHERE {{ ?c a cd:City ; cd:country ?k }} ORDER BY ?c "
        "LIMIT 40")]
    report = rows(f"PREFIX cd: <{CD}> SELECT ?r WHERE {{ ?r a cd:Report }} LIMIT 1")[0]["r"]
    topics = [r["t"] for r in rows(
        "SELECT ?t WHERE { ?t <http://www.w3.org/2004/02/skos/core#inScheme> "
        f"<{ID}scheme/topics> }} ORDER BY ?t")]
    return cities, report, topics


def run(in_process: bool, writes: int, folder: Path, datasets: str = "report") -> dict:
    settings = {"CITYDIP_DATASETS": datasets, "CITYDIP_STORE_PATH": str(folder / "store"),
                "CITYDIP_WRITE_TOKENS": f"bench:{TOKEN}", "CITYDIP_ACCESS_LOG": "false",
                "CITYDIP_VALIDATION_PROCESS": "false" if in_process else "true",
                "CITYDIP_DERIVED_WARM": "false"}
    with citydip_serving(settings, folder / "server.log", strict=False) as server, \
            httpx.Client(base_url=server.url, timeout=120) as client:
        cities, report, topics = material(client)
        parent = psutil.Process(server.process.pid)


        def post(n: int) -> float:
            (a, country), (b, _) = cities[n % len(cities)], cities[(n * 7 + 3) % len(cities)]
            body = changesets.agreement(n, f"cpu-{n}-{int(in_process)}", (a, b), country,
                                        topics[:2], report, ("CPU benchmark agreement", "協定"))
            began = time.perf_counter()
            answer = client.post("/changes", json={"message": "cpu", "add": body},
                                 headers={"Authorization": f"Bearer {TOKEN}"})
            answer.raise_for_status()
            assert answer.json()["committed"], answer.text
            return time.perf_counter() - began

        for n in range(3):  # warm-up: the validation process's first graph, caches
            post(n)
        time.sleep(1)
        kids = parent.children(recursive=True)  # the query workers and the validation process
        before = (cpu(parent), sum(cpu(k) for k in kids))
        walls = [post(n) for n in range(3, 3 + writes)]
        time.sleep(1)  # what follows the last commit in the background
        after = (cpu(parent), sum(cpu(k) for k in kids))
    per = [(a - b) * 1000 / writes for a, b in zip(after, before, strict=True)]
    return {"validation": "in the server process" if in_process else "in its own process",
            "server_ms": per[0], "children_ms": per[1],
            "wall_p50_ms": statistics.median(walls) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writes", type=int, default=60)
    parser.add_argument("--datasets", default="report",
                        help="CITYDIP_DATASETS: report, or report,world (after `make world`)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {args.datasets}; "
          f"{args.writes} writes each, one after another; CPU per write\n")
    print("| validation | server process CPU ms | its child processes CPU ms | "
          "write wall p50 ms |")
    print("|---|---:|---:|---:|")
    for in_process in (True, False):
        with tempfile.TemporaryDirectory(prefix="citydip-write-cpu-") as tmp:
            r = run(in_process, args.writes, Path(tmp), args.datasets)
        print(f"| {r['validation']} | {r['server_ms']:.1f} | {r['children_ms']:.1f} | "
              f"{r['wall_p50_ms']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
