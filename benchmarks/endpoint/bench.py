"""One server through every query of a scale: start it, check its quads, measure, stop it.

rdflib-endpoint cannot stop a running query: after a client timeout its serving process is
replaced (benchmarks/rdflib_server.py forks it anew on SIGUSR1), a bounded number of times.
"""

from __future__ import annotations

import os
import signal
import time
from urllib.parse import urlencode

from processes import log_tail

from endpoint.common import SERVER_NAMES, THROUGHPUT_QUERIES, log
from endpoint.machine import cpu_used_since, other_cpu_seconds, wait_until_idle
from endpoint.measure import Latency, count_quads, measure_latency, measure_throughput
from endpoint.queries import Scale
from endpoint.servers import ASK, STARTERS, Server, ours_available, stop_process, wait_ready


def bench_server(key: str, scale: Scale, args) -> dict:
    """Start one server, check it, run every query, stop it."""
    record: dict = {"server": key, "latency": {}, "named_endpoint": {}, "throughput": {}}
    if key == "ours":
        ok, why = ours_available()
        if not ok:
            log(f"[{scale.label}] ours is not available: {why}")
            record["unavailable"] = why
            return record
    rdflib = key == "rdflib"
    reps = args.rdflib_reps if rdflib else args.reps
    budget = args.rdflib_budget if rdflib else args.budget
    timeout = args.rdflib_timeout if rdflib else args.client_timeout
    server: Server | None = None
    restarts = 0

    def start() -> Server:
        log(f"[{scale.label}] starting {SERVER_NAMES[key]}")
        srv = STARTERS[key](scale, args)
        log(
            f"[{scale.label}] {SERVER_NAMES[key]} ready on port {srv.port} after "
            f"{srv.ready_seconds:.1f} s"
        )
        return srv

    def restart_rdflib(srv: Server) -> None:
        """Replace rdflib-endpoint's serving process (rdflib_server.py forks it anew)."""
        nonlocal restarts
        restarts += 1
        log(
            f"[{scale.label}] replacing rdflib-endpoint's server process after a timeout "
            f"({restarts}/{args.rdflib_restarts})"
        )
        os.kill(srv.proc.pid, signal.SIGUSR1)
        time.sleep(0.5)
        wait_ready(srv.port, f"/sparql?{ASK}", srv.proc, srv.log_path, args.ready_timeout,
                   "rdflib-endpoint")

    record["cpu_busy_before"] = round(wait_until_idle(args), 3)
    try:
        try:
            server = start()
        except (RuntimeError, OSError) as exc:
            log(f"[{scale.label}] {SERVER_NAMES[key]} did not start: {exc}")
            record["unavailable"] = str(exc)[:2000]
            return record
        record["ready_seconds"] = server.ready_seconds
        mine = {os.getpgid(0), server.proc.pid}
        others_before, clock_before = other_cpu_seconds(mine), time.perf_counter()
        record["note"] = server.note
        server.quads = count_quads(server, max(timeout, 120))
        record["quads"] = server.quads
        same = "same as" if server.quads == scale.quads else "DIFFERENT from"
        log(
            f"[{scale.label}] {key} holds {server.quads} quads "
            f"({same} the reference {scale.quads:,})"
        )

        for query in scale.queries:
            if not server.alive():
                record["latency"][query.name] = Latency(error="server not running").summary()
                continue
            lat = measure_latency(server, query, None, args, reps, budget, timeout)
            record["latency"][query.name] = s = lat.summary()
            log(f"[{scale.label}] {key:8} {query.name:26} " + _fmt_lat(s))
            if lat.error and ("client timeout" in lat.error) and rdflib:
                # rdflib cannot stop a running query: replace its server process.
                if restarts < args.rdflib_restarts:
                    restart_rdflib(server)
                else:
                    log(
                        f"[{scale.label}] rdflib-endpoint: restart budget used up; "
                        "skipping the rest"
                    )
                    stop_process(server.proc)
            if key == "ours" and query.named and args.ours_named:
                qs = urlencode(query.params)
                path = f"/queries/{query.name}" + (f"?{qs}" if qs else "")
                lat = measure_latency(server, query, path, args, reps, budget, timeout)
                record["named_endpoint"][query.name] = s = lat.summary()
                log(f"[{scale.label}] {key:8} {'/queries/' + query.name:26} " + _fmt_lat(s))

        for query in scale.queries:
            if query.name not in THROUGHPUT_QUERIES or not args.throughput_seconds:
                continue
            if not server.alive():
                continue
            lat = record["latency"].get(query.name, {})
            if lat.get("errors") and not lat.get("n"):
                record["throughput"][query.name] = {"error": "skipped: the query failed"}
                continue
            log(
                f"[{scale.label}] {key:8} throughput {query.name} at {args.clients} clients "
                f"for {args.throughput_seconds:g} s"
            )
            t = measure_throughput(
                server, query, args.clients, args.throughput_seconds, args.max_requests, timeout
            )
            record["throughput"][query.name] = t
            if rdflib and "client timeout" in t.get("error", "") and server.alive():
                if restarts < args.rdflib_restarts:
                    restart_rdflib(server)
                else:
                    stop_process(server.proc)
            log(
                f"[{scale.label}] {key:8} {query.name:26} {t['rps']:8.1f} req/s "
                f"(p50 {t.get('median_ms', float('nan')):.1f} ms, p95 "
                f"{t.get('p95_ms', float('nan')):.1f} ms, {t['errors']} errors)"
            )
        if server.alive():
            record["server_log_tail"] = log_tail(server.log_path, 5)
        others = cpu_used_since(others_before, mine)
        record["other_cpu_share"] = round(others / (time.perf_counter() - clock_before), 3)
        if record["other_cpu_share"] > 0.1:
            log(
                f"[{scale.label}] other processes used {record['other_cpu_share']:.0%} of a CPU "
                f"while {key} was measured"
            )
        return record
    finally:
        if server is not None:
            stop_process(server.proc)
            log(f"[{scale.label}] stopped {SERVER_NAMES[key]}")


def _fmt_lat(s: dict) -> str:
    if not s.get("n"):
        return f"FAILED: {s.get('error', '')[:160]}"
    extra = f" ({s['errors']} errors: {s['error'][:80]})" if s.get("errors") else ""
    trunc = " TRUNCATED" if s.get("truncated") else ""
    return (
        f"median {s['median_ms']:8.2f} ms  p95 {s['p95_ms']:8.2f} ms  n={s['n']:3}  "
        f"rows={s['rows']}{trunc}{extra}"
    )
