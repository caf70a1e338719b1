#!/usr/bin/env python3
"""The pages people use without SPARQL, at three scales, cold and warm, with the endpoint's lookup.

For each scale a `citydip serve` starts on a fresh on-disk store in a temporary folder (so the
first fill, the label index and the query workers are what a first start does), then every page
is fetched once (cold: the first request after the start) and `--repeat` times more (warm:
median and 90th percentile). The reference is the SPARQL endpoint answering the lookup behind an
entity page (`SELECT * WHERE { <actor> ?p ?o }`), measured the same way in the same run. The
server is then restarted on the same store and every page fetched once more (cold after a
restart: what is persisted per data version, the network results, is read back). With
`--settle`, the first request waits for the start's warm-up to end (/health names nothing it
still computes): cold then means a page made for the first time by a server that has started,
not one still starting.

    .venv/bin/python benchmarks/pages.py                         # report, report+world, 1M
    .venv/bin/python benchmarks/pages.py --scales "generated 5M" --repeat 10
    .venv/bin/python benchmarks/pages.py --scales report --repeat 50
    .venv/bin/python benchmarks/pages.py --scales "generated 1M" --pages / --repeat 0 \
        --source /work/main --source .           # two checkouts side by side, `/` asked first

`--source` runs the server of another checkout (its code, this one's benchmark); given more
than once, each scale is measured for each checkout in turn, in the same run. `--pages` keeps
only the pages named (comma-separated, in the order given), so that one is asked first after
the start.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import _paths  # noqa: F401  - the project and tests/support on sys.path
import httpx
from processes import citydip_serving

ROOT = Path(__file__).resolve().parent.parent
ID = "https://w3id.org/citydiplomacy/id/"


def scales(data: Path) -> dict[str, dict]:
    gen = data / "data-1000000-s1"
    hub = "city/gen-orka-747"
    common = ["/browse?class=City", "/browse?class=City&page=20", "/search?q=Gdynia",
              "/search?q=orka", "/search?q=%E9%AB%98%E9%9B%84", "/search?format=json&q=gd",
              "/queries/partner-links-beyond", "/", "/network/stats", "/viz/network"]
    return {
        "report": {"env": {"CITYDIP_DATASETS": "report"}, "actor": "city/kaohsiung",
                   "pages": ["/id/city/kaohsiung", "/id/city/gdynia", *common]},
        "report+world": {"env": {"CITYDIP_DATASETS": "all"}, "actor": "city/kaohsiung",
                         "pages": ["/id/city/kaohsiung", "/id/city/gdynia",
                                   "/id/city/kaohsiung?partnerships=2", *common]},
        "generated 1M": {"env": {"CITYDIP_DATA_DIR": str(gen)}, "actor": hub, "generate": gen,
                         "triples": 1_000_000,
                         "pages": [f"/id/{hub}", f"/id/{hub}?in=3", *common]},
        # the hub of 5M is found once the server runs (the city with the most partners)
        "generated 5M": {"env": {"CITYDIP_DATA_DIR": str(data / "data-5000000-s1")},
                         "actor": None, "generate": data / "data-5000000-s1",
                         "triples": 5_000_000,
                         "pages": ["/id/{hub}", "/id/{hub}?in=3", *common]},
    }


HUB = """PREFIX cd: <https://w3id.org/citydiplomacy/ns#>
SELECT ?city (COUNT(?other) AS ?partners) WHERE { ?city a cd:City ; cd:partnerOf ?other }
GROUP BY ?city ORDER BY DESC(?partners) LIMIT 1"""


def find_hub(url: str) -> str:
    """The city with the most partners, as `city/<slug>` (asked through /sparql)."""
    answer = httpx.get(url + "/sparql", params={"query": HUB}, timeout=600,
                       headers={"Accept": "application/sparql-results+json"})
    answer.raise_for_status()
    return answer.json()["results"]["bindings"][0]["city"]["value"].removeprefix(ID)


def settings_of(env_extra: dict, folder: Path) -> dict[str, str]:
    return {**env_extra, "CITYDIP_STORE_PATH": str(folder / "store"),
            "CITYDIP_ACCESS_LOG": "false"}


def timed(client: httpx.Client, path: str, accept: str) -> tuple[float, int, int]:
    began = time.perf_counter()
    # no-cache: the endpoint's lookup (the reference) answered by the engine, not kept
    # (server/kept_queries.py); the pages do not read it
    response = client.get(path, headers={"Accept": accept, "Cache-Control": "no-cache"})
    return (time.perf_counter() - began) * 1000, response.status_code, len(response.content)


def settled(url: str, limit: float) -> float:
    """Seconds until the server's /health names nothing it is still computing in the background
    (`catching_up`: the start's warm-up, the counts, the network), waiting `limit` at most."""
    began = time.perf_counter()
    while time.perf_counter() - began < limit:
        if not httpx.get(url + "/health", timeout=30).json().get("catching_up"):
            break
        time.sleep(0.5)
    return time.perf_counter() - began


def measure(url: str, pages: list[str], actor: str, repeat: int) -> list[dict]:
    lookup = f"/sparql?query={quote(f'SELECT * WHERE {{ <{ID}{actor}> ?p ?o }}')}"
    rows = []
    with httpx.Client(base_url=url, timeout=120) as client:
        targets = [(p, "text/html") for p in pages]
        targets.append((lookup, "application/sparql-results+json"))
        for path, accept in targets:
            cold, status, size = timed(client, path, accept)
            warm = [timed(client, path, accept)[0] for _ in range(repeat)] or [cold]
            rows.append({"page": path if path != lookup else "SPARQL lookup (reference)",
                         "status": status, "bytes": size, "cold_ms": cold,
                         "warm_p50_ms": statistics.median(warm),
                         "warm_p90_ms": sorted(warm)[int(0.9 * (len(warm) - 1))]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default="report,report+world,generated 1M")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citydip-bench")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--source", action="append", type=Path, default=[],
                        help="a checkout whose server is measured (repeat for several; "
                             "default: this one)")
    parser.add_argument("--pages", help="only these pages, comma-separated, in this order")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the server, e.g. CITYDIP_PAGE_CACHE_MB=0 (pages "
                             "made anew at every request)")
    parser.add_argument("--settle", type=float, default=0, metavar="SECONDS",
                        help="after each start, wait up to this long for the warm-up to end "
                             "(/health's catching_up empty) before the first request: cold "
                             "then means a page not made yet, not a server still starting")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    args.data.mkdir(parents=True, exist_ok=True)
    known = scales(args.data)
    results = {}
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    sources = [s.resolve() for s in args.source] or [ROOT]
    runs = [(name.strip(), source) for name in args.scales.split(",") for source in sources]
    for name, source in runs:
        scale = known[name]
        if "generate" in scale and not any(scale["generate"].glob("*.nt")):
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"),
                            "--triples", str(scale["triples"]), "--seed", "1", "--out",
                            f"{scale['generate']}/"], check=True)
        chosen = scale["pages"]
        if args.pages:
            chosen = [p.strip() for p in args.pages.split(",") if p.strip()]
        with tempfile.TemporaryDirectory(prefix="citydip-pages-", dir=args.data) as tmp:
            env = {**settings_of(scale["env"], Path(tmp)), **extra}
            with citydip_serving(env, Path(tmp) / "server.log", cwd=source,
                                 limit=1800, strict=False) as server:
                url, startup = server.url, server.startup
                waited = settled(url, args.settle) if args.settle else 0.0
                triples = httpx.get(url + "/health", timeout=30).json().get("triples")
                actor = scale["actor"] or find_hub(url)
                pages = [page.replace("{hub}", actor) for page in chosen]
                rows = measure(url, pages, actor, args.repeat)
            # a restart on the same store: what is persisted per data version is read back
            with citydip_serving(env, Path(tmp) / "server-again.log", cwd=source,
                                 limit=1800, strict=False) as server:
                waited_again = settled(server.url, args.settle) if args.settle else 0.0
                again, restart = measure(server.url, pages, actor, 0), server.startup
        for row, later in zip(rows, again, strict=True):
            row["restart_cold_ms"] = later["cold_ms"]
        label = name if len(sources) == 1 else f"{name}, {source}"
        results[label] = {"triples": triples, "first_start_s": startup, "restart_s": restart,
                          "settled_s": waited, "settled_again_s": waited_again, "pages": rows}
        print(f"\n### {label}: {triples} triples, first start {startup:.1f} s, "
              f"restart {restart:.1f} s"
              + (f"; warm-up over {waited:.1f} s and {waited_again:.1f} s after them"
                 if args.settle else "") + "\n")
        print("| page | status | KB | cold ms | warm p50 ms | warm p90 ms | cold after restart "
              "ms |")
        print("|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| `{r['page']}` | {r['status']} | {r['bytes'] / 1024:.0f} | "
                  f"{r['cold_ms']:.0f} | {r['warm_p50_ms']:.1f} | {r['warm_p90_ms']:.1f} | "
                  f"{r['restart_cold_ms']:.0f} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
