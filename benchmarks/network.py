#!/usr/bin/env python3
"""Benchmark of the network analysis on a generated graph (not a test).

Times, on the one-million-triple graph of `benchmarks/generate.py`:

1. reading the network from an in-memory store (each query of `queries/network/`);
2. building each projection (partner, bipartite, country), cold;
3. each measure, cold (first computation) and cached (the same call again);
4. a cold full recomputation: read + partner projection + every measure;
5. every `/network` endpoint of a live `citydip serve` over the same data: the first (cold)
   answer and the median of five cached answers.

    .venv/bin/python benchmarks/network.py                       # generates /tmp data if needed
    .venv/bin/python benchmarks/network.py --data /tmp/bench/gen-1m --skip-server
    .venv/bin/python benchmarks/network.py --markdown            # also print a Markdown report
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _paths  # the project, this folder and tests/support on sys.path
import httpx
from processes import citydip_serving

from graph.core.settings import Settings
from graph.network.cache import NetworkCache
from graph.network.data import NETWORK_QUERIES, NetworkData, query_texts, store_select
from graph.network.projection import Filters
from graph.store.embedded import Store
from graph.store.load import build_store

Row = tuple[str, float, float | None, str]
"""(what, cold seconds, cached seconds or None, note)"""


def timed(call):
    started = time.perf_counter()
    value = call()
    return value, time.perf_counter() - started


def ensure_data(folder: Path, triples: int, seed: int) -> Path:
    if folder.is_dir() and any(folder.glob("*.nt")):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            str(_paths.HERE / "generate.py"),
            "--triples",
            str(triples),
            "--seed",
            str(seed),
            "--out",
            f"{folder}/",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return folder


def in_process(folder: Path) -> tuple[list[Row], dict]:
    settings = Settings(store_path=":memory:")
    store, load_s = timed(lambda: build_store(settings, [folder], Store(None)))
    facts = {"triples": store.count(), "load_s": load_s}
    rows: list[Row] = []

    select = store_select(store)
    texts = query_texts(settings.queries_dir)
    results = {}
    for name in NETWORK_QUERIES:
        results[name], seconds = timed(lambda name=name: select(texts[name]))
        rows.append((f"query {name} ({len(results[name]):,} rows)", seconds, None, ""))
    data, seconds = timed(lambda: NetworkData.from_rows(results))
    rows.append(("join rows into NetworkData", seconds, None, ""))
    facts.update(actors=len(data.actors), partnerships=len(data.partnerships))

    cache = NetworkCache()
    cache.put(0, data)
    for projection in ("partner", "bipartite", "country"):
        view, seconds = timed(lambda p=projection: cache.view(0, Filters(), p))
        _, again = timed(lambda p=projection: cache.view(0, Filters(), p))
        rows.append(
            (
                f"projection {projection} ({view.graph.number_of_nodes():,} nodes, "
                f"{view.graph.number_of_edges():,} edges)",
                seconds,
                again,
                "",
            )
        )
    view = cache.view(0, Filters())
    facts.update(nodes=view.graph.number_of_nodes(), edges=view.graph.number_of_edges())
    a = view.analysis
    hub = a.top("degree", 1)[0]["id"]
    far = sorted(a.components()[0])[len(a.components()[0]) // 2]
    measures = [
        ("degree", a.degree),
        ("weighted degree", a.weighted_degree),
        ("betweenness", a.betweenness),
        ("PageRank", a.pagerank),
        ("clustering", a.clustering),
        ("k-core", a.core),
        ("components", a.components),
        ("communities (Louvain)", a.communities),
        ("modularity", a.modularity),
        ("assortativity", a.assortativity),
        ("diameter and mean distance", a.distances),
        ("stats (all of the above summarised)", view.stats),
        ("top 10 by betweenness", lambda: view.top("betweenness", 10)),
        (f"path {hub} → {far}", lambda: view.path(hub, far)),
        (f"ego {hub}, radius 1", lambda: view.ego(hub, 1)),
        ("communities report", view.communities),
        ("timeline", view.timeline),
        ("export graphml", lambda: view.export("graphml")),
        ("export gexf", lambda: view.export("gexf")),
        ("export csv (edges)", lambda: view.export("csv")),
        ("export json", lambda: view.export("json")),
    ]
    for label, call in measures:
        _, cold = timed(call)
        _, cached = timed(call)
        note = ""
        if label == "betweenness":
            note = str(a.betweenness_method().get("note", "exact"))
        if label.startswith("diameter"):
            note = a.distances()["method"]
        rows.append((label, cold, cached, note))

    # A cold full recomputation: read the store, project, every measure (fresh cache).
    def full() -> None:
        fresh = NetworkCache()
        fresh.put(1, NetworkData.from_rows({n: select(texts[n]) for n in NETWORK_QUERIES}))
        v = fresh.view(1, Filters())
        v.stats()
        for by in ("degree", "weighted_degree", "betweenness", "pagerank", "clustering", "core"):
            v.top(by, 10)
        v.communities()
        v.timeline()
        fresh.view(1, Filters(), "bipartite")
        fresh.view(1, Filters(), "country")

    _, seconds = timed(full)
    rows.append(
        ("COLD FULL RECOMPUTATION (read + 3 projections + every measure)", seconds, None, "")
    )
    return rows, facts


# --- the live server -------------------------------------------------------------------------


def server_rows(folder: Path, hub: str, far: str) -> tuple[list[Row], float]:
    settings = {"CITYDIP_STORE_PATH": ":memory:", "CITYDIP_DATA_DIR": str(folder),
                "CITYDIP_QUERY_TIMEOUT": "60"}
    log = tempfile.NamedTemporaryFile(prefix="citydip-bench-", suffix=".log", delete=False)
    log.close()
    with citydip_serving(settings, Path(log.name), own_group=True, limit=1800,
                         strict=False) as server:
        startup, base = server.startup, server.url
        urls = [
            "/network/stats",
            "/network/top?by=degree",
            "/network/top?by=betweenness",
            "/network/top?by=pagerank",
            f"/network/path?from={hub}&to={far}",
            f"/network/ego/{hub}",
            f"/network/actors/{hub}",
            "/network/communities",
            "/network/timeline",
            "/network/countries",
            "/network/filters",
            "/network/stats?until=2000",
            "/network/export?format=graphml",
            "/network/export?format=gexf",
            "/network/export?format=csv",
            "/network/export?format=json",
        ]
        rows: list[Row] = []
        with httpx.Client(base_url=base, timeout=300) as client:
            for url in urls:
                response, cold = timed(lambda url=url: client.get(url))
                response.raise_for_status()
                cached = []
                for _ in range(5):
                    _, seconds = timed(lambda url=url: client.get(url))
                    cached.append(seconds)
                rows.append(
                    (
                        f"GET {url}",
                        cold,
                        statistics.median(cached),
                        f"{len(response.content):,} bytes",
                    )
                )
            for url in (
                "/viz/network",
                "/viz/network?color=community",
                "/viz/countries",
                f"/viz/ego/{hub}",
                f"/viz/path?from={hub}&to={far}",
            ):
                response, cold = timed(lambda url=url: client.get(url))
                response.raise_for_status()
                _, cached = timed(lambda url=url: client.get(url))
                rows.append((f"GET {url} (HTML)", cold, cached, f"{len(response.content):,} bytes"))
        rows += browser_rows(base, hub, far)
        return rows, startup


def browser_rows(base: str, hub: str, far: str) -> list[Row]:
    """Headless Chromium: from navigation to a stable layout, for each picture."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    rows: list[Row] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        for url in (
            "/viz/network",
            "/viz/countries",
            f"/viz/ego/{hub}",
            f"/viz/path?from={hub}&to={far}",
        ):
            started = time.perf_counter()
            page.goto(base + url)
            page.wait_for_selector("body[data-stable=true]", state="attached", timeout=120_000)
            seconds = time.perf_counter() - started
            nodes, edges = page.evaluate("[window.viz.nodes.length, window.viz.edges.length]")
            rows.append(
                (
                    f"browser: {url} laid out and still",
                    seconds,
                    None,
                    f"{nodes:,} nodes, {edges:,} edges drawn",
                )
            )
        browser.close()
    return rows


# --- report ----------------------------------------------------------------------------------


def fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def table(rows: list[Row], header: str) -> str:
    lines = [f"| {header} | cold | cached | note |", "|---|---:|---:|---|"]
    lines += [
        f"| {what} | {fmt(cold)} | {fmt(cached)} | {note} |" for what, cold, cached, note in rows
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "citydip-bench" / "gen-1m",
        help="folder of generated data (generated when empty)",
    )
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-server", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown report")
    args = parser.parse_args(argv)

    folder = ensure_data(args.data, args.triples, args.seed)
    rows, facts = in_process(folder)
    print(
        f"{facts['triples']:,} triples loaded in {facts['load_s']:.1f} s; "
        f"{facts['actors']:,} actors, {facts['partnerships']:,} partnerships; partner network "
        f"{facts['nodes']:,} nodes, {facts['edges']:,} edges"
    )
    for what, cold, cached, note in rows:
        print(f"{what:<70} cold {fmt(cold):>10}  cached {fmt(cached):>10}  {note}")
    http_rows: list[Row] = []
    startup = None
    if not args.skip_server:
        hub = next(r[0] for r in rows if r[0].startswith("path ")).split()[1]
        far = next(r[0] for r in rows if r[0].startswith("path ")).split()[3]
        http_rows, startup = server_rows(folder, hub, far)
        print(f"server ready in {startup:.1f} s")
        for what, cold, cached, note in http_rows:
            print(f"{what:<70} cold {fmt(cold):>10}  cached {fmt(cached):>10}  {note}")
    if args.markdown:
        print()
        print(
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}."
        )
        print(
            f"Data: {facts['triples']:,} triples; {facts['actors']:,} actors, "
            f"{facts['partnerships']:,} partnerships; partner network {facts['nodes']:,} "
            f"nodes and {facts['edges']:,} edges.\n"
        )
        print(table(rows, "in process"))
        if http_rows:
            print(f"\nServer start-up (load + workers): {startup:.1f} s.\n")
            print(table(http_rows, "endpoint"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
