#!/usr/bin/env python3
"""Serve an N-Quads file with rdflib-endpoint (the baseline of benchmarks/run.py).

The quads go into an rdflib `Dataset` with `default_union=True`, so that, as on the other two
servers, the default graph of a query is the union of the named graphs. The SPARQL endpoint is at
/sparql. rdflib-endpoint is not a dependency of the project; install it for the benchmark only:

    .venv/bin/pip install rdflib-endpoint
    .venv/bin/python benchmarks/rdflib_server.py --nquads all.nq --port 8003
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nquads", required=True, help="the N-Quads file to serve")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8003)
    args = parser.parse_args(argv)

    try:
        import uvicorn
        from rdflib import Dataset
        from rdflib_endpoint import SparqlEndpoint
    except ImportError as exc:
        print(
            f"rdflib-endpoint is not installed ({exc}): pip install rdflib-endpoint",
            file=sys.stderr,
        )
        return 3

    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(args.nquads, format="nquads")
    print(
        f"rdflib: {len(dataset)} quads parsed in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
        flush=True,
    )
    app = SparqlEndpoint(
        graph=dataset, path="/sparql", title="citydiplomacy benchmark (rdflib)", cors_enabled=False
    )

    # rdflib cannot stop a running query, and rdflib-endpoint runs queries on its event loop, so
    # a runaway query blocks the server for good. The endpoint is served by a forked child; on
    # SIGUSR1 the child is killed and a fresh one forked from the loaded dataset (about a second,
    # instead of parsing the data again).
    child = 0
    restart = False

    def on_usr1(_signum, _frame) -> None:
        nonlocal restart
        restart = True
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def on_term(_signum, _frame) -> None:
        if child:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        os._exit(0)

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    while True:
        restart = False
        child = os.fork()
        if child == 0:
            signal.signal(signal.SIGUSR1, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
            os._exit(0)
        while True:
            try:
                _, status = os.waitpid(child, 0)
                break
            except InterruptedError:
                continue
        if not restart:
            print(f"rdflib: the server process ended ({status}); stopping", file=sys.stderr)
            return 1
        print("rdflib: server process replaced", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
