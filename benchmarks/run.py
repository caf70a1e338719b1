#!/usr/bin/env python3
"""Benchmark the citydiplomacy server against Oxigraph server and rdflib-endpoint.

For each scale (the bundled data, and generated data of a given size) the runner

1. builds the dataset once with the project's own loader (ontology -> graph/ontology, each data
   file -> graph/{stem}, the rules of queries/rules/ -> graph/shortcuts) and writes it as N-Quads,
   so that the three servers hold exactly the same quads;
2. starts one server at a time on 127.0.0.1 and a free port: ours (`citydip serve` over the data
   folder: it loads the ontology, the data and the shortcuts itself), Oxigraph server (`oxigraph
   load` of the N-Quads, `optimize`, `serve-read-only --union-default-graph`) and rdflib-endpoint
   (benchmarks/rdflib_server.py over an rdflib Dataset of the N-Quads), checks that it holds the
   expected number of quads, and stops it before the next one;
3. sends every server the same SPARQL text over HTTP (GET, Accept:
   application/sparql-results+json): the named queries of queries/ with their parameters inlined as
   a `VALUES` block (at the bundled scale their example/default values, at a generated scale
   representative values picked from the data: the hub city, its best-documented agreement, the
   largest event, ...), and the benchmark queries of benchmarks/queries/ (a lookup, a two-hop
   query over cd:partnerOf, a count per class) with the city written in as a constant;
4. measures per query the median and p95 latency of sequential requests after a warm-up, and the
   throughput of the lookup and two-hop queries at 8 concurrent clients; every answer is parsed,
   so an HTTP 200 with a broken body counts as an error;
5. prints the tables with the ratios (ours / Oxigraph, rdflib-endpoint / ours) and the targets,
   and writes them to benchmarks/results/ (JSON and Markdown).

    .venv/bin/pip install rdflib-endpoint          # the baseline, not a project dependency
    .venv/bin/python benchmarks/run.py                       # seed scale and 1,000,000 triples
    .venv/bin/python benchmarks/run.py --scales seed --servers ours,oxigraph

Every server process is started in its own process group and stopped (SIGTERM, then SIGKILL) at
the end, on an error and on Ctrl-C (endpoint/servers.py, with tests/support/processes.py). This
file is the command line; the parts of a run are the modules of endpoint/ (see its __init__).
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import signal
import sys
import time
from pathlib import Path

import _paths  # noqa: F401  - the project, this folder and tests/support on sys.path
from endpoint.bench import bench_server
from endpoint.common import HERE, SERVERS, log
from endpoint.machine import machine
from endpoint.queries import parse_scale, prepare_scale
from endpoint.report import report_scale
from endpoint.servers import ours_available, stop_all


def _on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument(
        "--scales",
        default="seed,1000000",
        help="comma-separated: 'seed' (graph/data) and/or triple counts (1000000, 200k, 1m)",
    )
    parser.add_argument(
        "--servers",
        default="ours,oxigraph,rdflib",
        help=f"comma-separated, from {', '.join(SERVERS)}",
    )
    parser.add_argument("--queries", default="", help="only these queries (comma-separated names)")
    parser.add_argument(
        "--inline",
        choices=("constants", "values"),
        default="constants",
        help="how the named queries' parameters are written into the text sent to "
        "/sparql: as constants (projected ones as (<iri> AS ?name)), or as a "
        "VALUES block at the start of WHERE",
    )
    parser.add_argument(
        "--seed", type=int, default=1, help="seed of the generator and the city pool"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path("/tmp/citydip-bench"),
        help="generated data, N-Quads, stores and server logs",
    )
    parser.add_argument("--results-dir", type=Path, default=HERE / "results")
    parser.add_argument("--reps", type=int, default=50, help="sequential requests per query")
    parser.add_argument("--warmup", type=int, default=3, help="requests before measuring")
    parser.add_argument(
        "--budget",
        type=float,
        default=30.0,
        help="at most this many seconds of sequential requests per query",
    )
    parser.add_argument("--pool-size", type=int, default=200, help="cities of the -random queries")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (throughput)")
    parser.add_argument(
        "--throughput-seconds",
        type=float,
        default=10.0,
        help="duration of each throughput run (0: none)",
    )
    parser.add_argument(
        "--max-requests", type=int, default=200_000, help="most requests of one throughput run"
    )
    parser.add_argument(
        "--server-timeout",
        type=float,
        default=30.0,
        help="query timeout of ours (CITYDIP_QUERY_TIMEOUT)",
    )
    parser.add_argument(
        "--oxigraph-timeout",
        type=float,
        default=0.0,
        help="--timeout-s of Oxigraph server (0: none; with it, Oxigraph 0.5 answers "
        "many concurrent requests with HTTP 500 'Resource temporarily "
        "unavailable (os error 11)')",
    )
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="before each server, wait up to this long for the CPUs to be idle "
        "(other processes below 15 %%)",
    )
    parser.add_argument(
        "--client-timeout",
        type=float,
        default=60.0,
        help="seconds the client waits for an answer (ours, Oxigraph)",
    )
    parser.add_argument(
        "--ready-timeout",
        type=float,
        default=1800.0,
        help="seconds a server may take to load and answer",
    )
    parser.add_argument("--rdflib-reps", type=int, default=10)
    parser.add_argument("--rdflib-budget", type=float, default=30.0)
    parser.add_argument(
        "--rdflib-timeout",
        type=float,
        default=30.0,
        help="client timeout for rdflib-endpoint (it cannot stop a query itself; "
        "it is restarted after a timeout)",
    )
    parser.add_argument(
        "--rdflib-restarts",
        type=int,
        default=20,
        help="most replacements of rdflib-endpoint's server process per scale",
    )
    parser.add_argument(
        "--ours-store",
        choices=("disk", "memory"),
        default="disk",
        help="CITYDIP_STORE_PATH: a fresh folder, or :memory:",
    )
    parser.add_argument(
        "--ours-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra environment for ours, e.g. CITYDIP_QUERY_WORKERS=2",
    )
    parser.add_argument(
        "--no-ours-named",
        dest="ours_named",
        action="store_false",
        help="do not also time ours' /queries/{name} endpoint",
    )
    parser.add_argument(
        "--no-oxigraph-optimize",
        dest="oxigraph_optimize",
        action="store_false",
        help="skip `oxigraph optimize` after the load",
    )
    parser.add_argument(
        "--wait-for-ours",
        type=float,
        default=0.0,
        metavar="MINUTES",
        help="if server/app.py is missing, poll for it this long before starting",
    )
    args = parser.parse_args(argv)
    args.servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    for s in args.servers:
        if s not in SERVERS:
            parser.error(f"unknown server {s!r}; choose from {', '.join(SERVERS)}")
    scales = [parse_scale(s) for s in args.scales.split(",") if s.strip()]
    args.work_dir.mkdir(parents=True, exist_ok=True)

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)

    if "ours" in args.servers and args.wait_for_ours:
        deadline = time.time() + args.wait_for_ours * 60
        while not ours_available()[0] and time.time() < deadline:
            log("waiting for ours (server/app.py) ...")
            time.sleep(180)

    info = machine()
    log(f"machine: {info.get('cpu', '?')}, {info['cpus']} cpus, load {info['loadavg_at_start']}")
    if info["loadavg_at_start"][0] > 0.5:
        log("WARNING: the machine is not idle (load average above 0.5); figures will be noisy")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    results: dict = {
        "started": stamp,
        "machine": info,
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "scales": [],
    }
    markdown = [
        f"## Benchmark run {stamp}",
        "",
        f"Machine: {info.get('cpu', '?')}, {info['cpus']} CPUs, {info['platform']}, "
        f"Python {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in info.get("versions", {}).items())
        + ".",
        f"Settings: {args.reps} sequential requests per query after {args.warmup} warm-up "
        f"(at most {args.budget:g} s per query; rdflib-endpoint {args.rdflib_reps} requests, "
        f"{args.rdflib_budget:g} s, client timeout {args.rdflib_timeout:g} s); throughput "
        f"{args.clients} clients × {args.throughput_seconds:g} s; query timeout of ours "
        f"{args.server_timeout:g} s, of Oxigraph server "
        f"{f'{args.oxigraph_timeout:g} s' if args.oxigraph_timeout else 'none'}; client "
        f"timeout {args.client_timeout:g} s.",
        "",
    ]
    interrupted = False
    try:
        for target in scales:
            scale = prepare_scale(target, args)
            records: dict[str, dict] = {}
            order = [k for k in ("oxigraph", "ours", "rdflib") if k in args.servers]
            for key in order:
                records[key] = bench_server(key, scale, args)
            text, summary = report_scale(scale, records, args)
            print("\n" + text + "\n", flush=True)
            markdown += [text, ""]
            results["scales"].append(
                {
                    "label": scale.label,
                    "quads": scale.quads,
                    "graphs": scale.graphs,
                    "parameters": scale.choice,
                    "servers": records,
                    "summary": summary,
                }
            )
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping the servers")
    finally:
        stop_all()
        args.results_dir.mkdir(parents=True, exist_ok=True)
        base = args.results_dir / f"run-{stamp}"
        base.with_suffix(".json").write_text(
            json.dumps(results, indent=2, ensure_ascii=False, default=str)
        )
        base.with_suffix(".md").write_text("\n".join(markdown) + "\n", encoding="utf-8")
        log(f"results: {base}.json, {base}.md")
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
