"""The least a Python HTTP layer costs per request, beside Oxigraph server and ours.

Serves one answer four ways on the bundled data and times them with the same client
(`endpoint.client.Client`, one kept-alive connection, sequential GETs), in interleaved rounds:

- Oxigraph server answering the lookup query (`oxigraph serve-read-only`);
- a bare ASGI app under uvicorn returning Oxigraph's answer bytes (no framework, no query);
- a bare FastAPI app with one route returning the same bytes (no query);
- ours (`citydip serve`) answering the same query.

The two bare apps answer nothing: they show the floor of any server built on uvicorn or on
FastAPI, which bounds how close such a server can come to Oxigraph server on a query that
Oxigraph answers in a fraction of a millisecond.

    .venv/bin/python benchmarks/floor.py [--requests 3000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import _paths  # noqa: F401  - the project, this folder and tests/support on sys.path
from endpoint.client import Client, query_path
from endpoint.common import VENV_BIN, log
from endpoint.measure import percentile
from endpoint.servers import run_checked, start_process, stop_all, wait_ready
from processes import free_port

BARE_APP = '''
import sys, uvicorn
body = open(sys.argv[2], "rb").read()
headers = [(b"content-type", b"application/sparql-results+json")]
if sys.argv[3] == "asgi":
    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
else:
    from fastapi import FastAPI, Response
    app = FastAPI()
    @app.get("/sparql")
    async def answer() -> Response:
        return Response(body, media_type="application/sparql-results+json")
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
'''
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/citydiplomacy/id/city/kaohsiung> ?p ?o }"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per server in all")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    args = parser.parse_args(argv)

    import pyoxigraph as ox

    from graph.core.settings import Settings
    from graph.store.embedded import Store
    from graph.store.load import build_store

    with tempfile.TemporaryDirectory(prefix="citydip-floor-") as tmp:
        work = Path(tmp)
        nquads = work / "all.nq"
        store = build_store(Settings(store_path=":memory:"), store=Store(None))
        nquads.write_bytes(store.dump(ox.RdfFormat.N_QUADS))
        path = query_path("/sparql", LOOKUP)
        servers: dict[str, tuple[int, str]] = {}
        try:
            oxigraph = str(VENV_BIN / "oxigraph")
            location = work / "oxigraph-store"
            run_checked([oxigraph, "load", "--location", str(location),
                         "--file", str(nquads)], work / "oxigraph.log")
            port = free_port()
            proc = start_process([oxigraph, "serve-read-only", "--location", str(location),
                                  "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                                 work / "oxigraph.log")
            oxi_path = query_path("/query", LOOKUP)
            wait_ready(port, oxi_path, proc, work / "oxigraph.log", 60, "Oxigraph server")
            servers["Oxigraph server"] = (port, oxi_path)
            _, _, _, answer = Client(port, 30).get(oxi_path)
            (work / "answer.json").write_bytes(answer)
            (work / "bare.py").write_text(BARE_APP)
            for kind, name in (("asgi", "bare ASGI app (uvicorn)"),
                               ("fastapi", "bare FastAPI app (uvicorn)")):
                port = free_port()
                proc = start_process([sys.executable, str(work / "bare.py"), str(port),
                                      str(work / "answer.json"), kind], work / f"{kind}.log")
                wait_ready(port, path, proc, work / f"{kind}.log", 60, name)
                servers[name] = (port, path)
            port = free_port()
            env = {"CITYDIP_STORE_PATH": str(work / "ours-store"), "CITYDIP_ACCESS_LOG": "false"}
            proc = start_process([str(VENV_BIN / "citydip"), "serve", "--host", "127.0.0.1",
                                  "--port", str(port)], work / "ours.log", env)
            wait_ready(port, "/health", proc, work / "ours.log", 120, "ours")
            servers["ours (citydip serve)"] = (port, path)

            samples: dict[str, list[float]] = {name: [] for name in servers}
            clients = {name: Client(port, 30) for name, (port, _) in servers.items()}
            per_round = max(1, args.requests // args.rounds)
            for name, (_, p) in servers.items():  # warm-up
                for _ in range(50):
                    clients[name].get(p)
            for round_ in range(args.rounds):
                log(f"round {round_ + 1} of {args.rounds}")
                for name, (_, p) in servers.items():
                    for _ in range(per_round):
                        seconds, status, _, body = clients[name].get(p)
                        if status != 200 or len(body) < 100:
                            raise RuntimeError(f"{name} answered {status}: {body[:200]!r}")
                        samples[name].append(seconds)
        finally:
            stop_all()

    base = statistics.median(samples["Oxigraph server"])
    print(f"Lookup of Kaohsiung on the bundled data ({len(answer):,} bytes of SPARQL JSON), "
          f"{per_round * args.rounds} sequential requests per server in {args.rounds} "
          "interleaved rounds, one kept-alive connection.\n")
    print("| server | median ms | p95 ms | / Oxigraph server |")
    print("|---|---:|---:|---:|")
    for name, values in samples.items():
        values.sort()
        median = statistics.median(values)
        p95 = percentile(values, 95)
        print(f"| {name} | {median * 1e3:.3f} | {p95 * 1e3:.3f} | {median / base:.2f}× |")
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    log(f"done in {time.perf_counter() - started:.0f} s")
    sys.exit(code)
