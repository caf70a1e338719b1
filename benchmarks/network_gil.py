"""How long a cheap query waits while the server remakes the network after a write.

Why this measure: after a write the network's data and measures are made again for the new data
version, at world scale about 15 s of pure-Python CPU. Whether that work holds the GIL of the
process that answers reads (`CITYDIP_NETWORK_PROCESS=false`) or runs in a process of its own
(`true`, graph/network/process.py) shows in the latency of the cheapest request, `ASK {}`, sent
every 20 ms while it runs. benchmarks/load.py's burst phase shows it only when a recomputation
happens to fall within the burst; here one is made to. For each value given, this starts
`citydip serve` at world scale (store on disk, as load.py), waits until the network of the
start-up is complete, posts one changeset, asks for /network/stats (the network follows writes
on demand) and times `ASK {}` until /network/stats describes the new version, and 3 s more.

    .venv/bin/python benchmarks/network_gil.py false true
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import load
from load import TOKEN, Http, Material, percentile, start_server


def run(value: str, scale: str) -> dict:
    args = argparse.Namespace(timeout=5.0, env=[f"CITYDIP_NETWORK_PROCESS={value}"],
                              ready_timeout=900, work_dir=Path(tempfile.gettempdir()),
                              source=load.ROOT)
    work = Path(tempfile.mkdtemp(prefix="citydip-network-gil-", dir=args.work_dir))
    server = start_server(scale, work, args)
    try:
        client = Http(server.port)
        deadline = time.time() + 300
        while time.time() < deadline:  # the start-up's network, complete
            status, body, _ = client.request("GET", "/network/stats")
            if status == 200 and not json.loads(body)["pending"]:
                break
            time.sleep(1)
        time.sleep(10)  # and the start-up's pages and counts
        turtle, _ = Material(client, 7).agreement()
        status, text, _ = client.request(
            "POST", "/changes", body=json.dumps({"message": "gil", "add": turtle}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        assert status == 200, text
        written = time.perf_counter()
        client.request("GET", "/network/stats")
        times: list[float] = []
        stop = threading.Event()

        def ask() -> None:
            asker = Http(server.port)
            while not stop.is_set():
                started = time.perf_counter()
                asker.request("GET", "/sparql?query=ASK%7B%7D",
                              headers={"Accept": "application/sparql-results+json"})
                times.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)

        thread = threading.Thread(target=ask)
        thread.start()
        followed = None
        while time.perf_counter() - written < 180:
            _, _, headers = client.request("GET", "/network/stats")
            headers = {k.lower(): v for k, v in headers.items()}
            if "x-data-version" in headers and "x-current-data-version" not in headers:
                followed = time.perf_counter() - written
                break
            time.sleep(0.5)
        time.sleep(3)
        stop.set()
        thread.join()
        return {"network_process": value, "followed_s": followed, "asks": len(times),
                "ask_p50_ms": percentile(times, 0.5), "ask_p99_ms": percentile(times, 0.99),
                "ask_max_ms": max(times)}
    finally:
        server.stop(strict=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("values", nargs="+", choices=["true", "false"],
                        help="CITYDIP_NETWORK_PROCESS for each run, in order")
    parser.add_argument("--scale", default="world", help="as benchmarks/load.py's --scales")
    args = parser.parse_args(argv)
    for value in args.values:
        print(json.dumps(run(value, args.scale)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
