"""Measuring one query on one server: sequential latency and concurrent throughput.

Latency: a warm-up, then up to a number of sequential requests within a time budget, on one
kept-alive connection. Throughput: a number of clients, each on its own connection, for a number
of seconds. Every answer is parsed (endpoint.client.check_answer).
"""

from __future__ import annotations

import concurrent.futures
import json
import math
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from endpoint.client import Client, RequestFailed, check_answer, query_path
from endpoint.common import log
from endpoint.queries import BenchQuery
from endpoint.servers import Server


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


@dataclass
class Latency:
    samples: list[float] = field(default_factory=list)
    rows: int | float | None = None
    truncated: bool = False
    errors: int = 0
    error: str = ""
    bytes: int = 0

    def summary(self) -> dict:
        out: dict[str, Any] = {
            "n": len(self.samples),
            "rows": self.rows,
            "truncated": self.truncated,
            "errors": self.errors,
            "error": self.error,
            "bytes": self.bytes,
        }
        if self.samples:
            out.update(
                median_ms=statistics.median(self.samples) * 1000,
                p95_ms=percentile(self.samples, 95) * 1000,
                mean_ms=statistics.fmean(self.samples) * 1000,
                min_ms=min(self.samples) * 1000,
            )
        return out


def measure_latency(
    server: Server,
    query: BenchQuery,
    path: str | None,
    args,
    reps: int,
    budget: float,
    timeout: float,
) -> Latency:
    """Warm-up, then up to `reps` sequential requests within `budget` seconds."""
    client = Client(server.port, timeout)
    result = Latency()
    paths = [path] if path else [query_path(server.endpoint, t) for t in query.texts]
    rows: list[int] = []
    counter = iter(range(10**9))

    def one() -> tuple[float, int]:
        p = paths[next(counter) % len(paths)]
        elapsed, status, headers, body = client.get(p)
        n, truncated = check_answer(status, headers, body)
        result.truncated |= truncated
        result.bytes = len(body)
        return elapsed, n

    try:
        try:
            for _ in range(args.warmup):
                if one()[0] > 1.0:
                    break  # a slow query: one warm-up is enough
        except RequestFailed as exc:
            result.errors += 1
            result.error = str(exc)
            return result
        started = time.perf_counter()
        while len(result.samples) < reps and time.perf_counter() - started < budget:
            try:
                elapsed, n = one()
            except RequestFailed as exc:
                result.errors += 1
                result.error = str(exc)
                if "timeout" in str(exc) or "connection" in str(exc):
                    break
                continue
            result.samples.append(elapsed)
            rows.append(n)
        if rows:
            # One query: its row count; a pool of queries: the mean rows per query.
            result.rows = rows[-1] if len(paths) == 1 else round(statistics.fmean(rows), 1)
        return result
    finally:
        client.close()


def measure_throughput(
    server: Server,
    query: BenchQuery,
    clients: int,
    seconds: float,
    max_requests: int,
    timeout: float,
) -> dict:
    paths = [query_path(server.endpoint, t) for t in query.texts]
    stop = threading.Event()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    counter = {"sent": 0}

    def worker(n: int) -> None:
        client = Client(server.port, timeout)
        i = n * 7919
        while not stop.is_set():
            with lock:
                if counter["sent"] >= max_requests:
                    break
                counter["sent"] += 1
            try:
                elapsed, status, headers, body = client.get(paths[i % len(paths)])
                check_answer(status, headers, body)
                with lock:
                    latencies.append(elapsed)
            except RequestFailed as exc:
                with lock:
                    errors.append(str(exc))
                if "timeout" in str(exc):
                    break
            i += 1
        client.close()

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(worker, n) for n in range(clients)]
        while time.perf_counter() - started < seconds and not all(f.done() for f in futures):
            time.sleep(0.05)
        stop.set()
        for f in futures:
            f.result()
    elapsed = time.perf_counter() - started
    out = {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "ok": len(latencies),
        "errors": len(errors),
        "error": errors[0] if errors else "",
        "rps": len(latencies) / elapsed if elapsed else 0.0,
    }
    if latencies:
        out.update(
            median_ms=statistics.median(latencies) * 1000, p95_ms=percentile(latencies, 95) * 1000
        )
    return out


def count_quads(server: Server, timeout: float) -> int | None:
    client = Client(server.port, timeout)
    sparql = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    try:
        _, status, headers, body = client.get(query_path(server.endpoint, sparql))
        check_answer(status, headers, body)
        return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])
    except (RequestFailed, KeyError, IndexError, ValueError) as exc:
        log(f"  cannot count the quads: {exc}")
        return None
    finally:
        client.close()
