#!/usr/bin/env python3
"""What a kept read costs the serving process: sent from a note, through the application, and
uvicorn alone sending the same bytes.

The readers of `benchmarks/load.py` are mostly answered from kept pages (server/page_cache.py);
what each costs the one serving process bounds how many it can answer and how much room is left
for the editors' writes. This starts `citydip serve` with `CITYDIP_REPLAY_KEPT` on and off, and a
bare ASGI app under uvicorn that sends each kind's bytes with the same headers, and for each kind
of read (an entity page, `partners-of`, a `/sparql` lookup, over `--areas` areas, each read
three times first so that it is kept and noted) sends the reads from `--threads` client threads
for `--seconds`: the server's CPU time (user + system, psutil) divided by the reads answered,
and the reads a second. Servers alternate within each of `--rounds` rounds; the medians are
printed.

    .venv/bin/python benchmarks/kept_reads.py                    # the report
    .venv/bin/python benchmarks/kept_reads.py --datasets report,world
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import _paths  # noqa: F401  - the project, this folder and tests/support on sys.path
import psutil
from endpoint.servers import start_process, stop_process, wait_ready
from processes import free_port, start_citydip

ID = "https://w3id.org/citydiplomacy/id/"
JSON = "application/sparql-results+json"
BARE_APP = '''
import json, sys, uvicorn
answer = json.load(open(sys.argv[2]))
body = bytes.fromhex(answer["body"])
headers = [(k.encode(), v.encode()) for k, v in answer["headers"]]
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
'''


def reads(port: int, areas: int) -> dict[str, tuple[list[str], str]]:
    """Each kind's paths over `areas` areas that have a country, and its Accept."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    query = ("SELECT DISTINCT ?c WHERE { VALUES ?k { <https://w3id.org/citydiplomacy/ns#City> "
             "<https://w3id.org/citydiplomacy/ns#AdministrativeArea> } ?c a ?k ; "
             f"<https://w3id.org/citydiplomacy/ns#country> ?n }} ORDER BY ?c LIMIT {areas}")
    client.request("GET", "/sparql?" + urlencode({"query": query}), headers={"Accept": JSON})
    answer = json.loads(client.getresponse().read())
    found = [b["c"]["value"] for b in answer["results"]["bindings"]]
    return {
        "entity page": (["/id/" + c.removeprefix(ID) for c in found], "text/html"),
        "partners-of": (["/queries/partners-of?" + urlencode({"actor": c}) for c in found], JSON),
        "lookup": (["/sparql?" + urlencode({"query": f"SELECT ?p ?o WHERE {{ <{c}> ?p ?o }}"})
                    for c in found], JSON),
    }


def warm(port: int, paths: list[str], accept: str) -> tuple[bytes, list[tuple[str, str]]]:
    """Every path three times (made, kept, noted); the last answer's body and headers."""
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body, headers = b"", []
    for _ in range(3):
        for path in paths:
            client.request("GET", path, headers={"Accept": accept})
            answer = client.getresponse()
            body, headers = answer.read(), answer.getheaders()
            if answer.status != 200:
                raise SystemExit(f"{path}: {answer.status}")
    return body, [(k.lower(), v) for k, v in headers if k.lower() not in ("date", "server")]


def hammer(port: int, pid: int, paths: list[str], accept: str, threads: int,
           seconds: float) -> dict:
    """Reads from `threads` threads for `seconds`: reads a second and server µs per read."""
    stop, lock, count = threading.Event(), threading.Lock(), [0]

    def run(seed: int) -> None:
        client, rng, n = http.client.HTTPConnection("127.0.0.1", port, timeout=60), \
            random.Random(seed), 0
        while not stop.is_set():
            client.request("GET", rng.choice(paths), headers={"Accept": accept})
            answer = client.getresponse()
            answer.read()
            if answer.status != 200:
                raise SystemExit(f"status {answer.status}")
            n += 1
        with lock:
            count[0] += n

    server = psutil.Process(pid)
    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    before, started = sum(server.cpu_times()[:2]), time.perf_counter()
    for worker in workers:
        worker.start()
    time.sleep(seconds)
    stop.set()
    for worker in workers:
        worker.join()
    elapsed, used = time.perf_counter() - started, sum(server.cpu_times()[:2]) - before
    return {"per_s": count[0] / elapsed, "server_us": 1e6 * used / max(1, count[0]),
            "server_pct": 100 * used / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="report")
    parser.add_argument("--areas", type=int, default=100)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures: dict[tuple[str, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="citydip-kept-reads-") as tmp:
        work = Path(tmp)
        base = {"CITYDIP_STORE_PATH": str(work / "store"), "CITYDIP_DATASETS": args.datasets,
                "CITYDIP_HISTORY_PATH": str(work / "history.jsonl"),
                "CITYDIP_ACCESS_LOG": "false", "CITYDIP_CLIENT_MAX_PARALLEL": "0",
                "CITYDIP_CLIENT_QUERY_SECONDS": "0"}
        for round_ in range(1, args.rounds + 1):
            for replay in ("true", "false"):
                name = "sent from a note" if replay == "true" else "through the application"
                server = start_citydip({**base, "CITYDIP_REPLAY_KEPT": replay},
                                       work / "server.log", own_group=True, limit=900)
                try:
                    kinds = reads(server.port, args.areas)
                    for kind, (paths, accept) in kinds.items():
                        body, headers = warm(server.port, paths, accept)
                        (work / f"{kind}.json").write_text(json.dumps(
                            {"body": body.hex(), "headers": headers}))
                        figures.setdefault((kind, name), []).append(hammer(
                            server.port, server.process.pid, paths, accept, args.threads,
                            args.seconds))
                finally:
                    server.stop()
            for kind in kinds:
                port, paths, accept = free_port(), *kinds[kind]
                log_path = work / "bare.log"
                bare = start_process([sys.executable, "-c", BARE_APP, str(port),
                                      str(work / f"{kind}.json")], log_path)
                try:
                    wait_ready(port, paths[0], bare, log_path, 30, "uvicorn alone")
                    figures.setdefault((kind, "uvicorn alone, the same bytes"), []).append(
                        hammer(port, bare.pid, paths, accept, args.threads, args.seconds))
                finally:
                    stop_process(bare)
            print(f"round {round_} of {args.rounds} done", file=sys.stderr, flush=True)
    print(f"{args.datasets}, {args.areas} areas, {args.threads} client threads, {args.seconds} s "
          f"per kind, medians of {args.rounds} rounds\n")
    print("| read | served | reads/s | server µs per read | server % of a core |")
    print("|---|---|---:|---:|---:|")
    for (kind, name), runs in sorted(figures.items(), key=lambda item: item[0][0]):
        print(f"| {kind} | {name} | {statistics.median(r['per_s'] for r in runs):,.0f} | "
              f"{statistics.median(r['server_us'] for r in runs):.0f} | "
              f"{statistics.median(r['server_pct'] for r in runs):.0f} |")


if __name__ == "__main__":
    main()
