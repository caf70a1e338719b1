#!/usr/bin/env python3
"""First load of a generated file: `citydip load` against `oxigraph load`, in one run.

Each loader runs as its own process on a fresh folder; the figures are wall time, peak resident
memory of the process tree (sampled every 50 ms with psutil) and the store's size on disk.
`citydip load` fills the ontology, the file and the derived shortcuts, and optimizes; `oxigraph
load` only the file. The label index is not part of a load (the server builds it at its first
start): `--index` also times that.

Two references: `oxigraph load` as the issue states it (default graph), and `oxigraph load
--graph` (a named graph: six indexes of quads where the default graph has three). Ours loads a
file of CITYDIP_DEFAULT_GRAPH_BYTES or more (256 MiB: the 5M file, not the 1M one) into the
default graph too, and the others into named graphs; `--env CITYDIP_DEFAULT_GRAPH_BYTES=0` puts
every file in a named graph, `=1` every file in the default graph. Each reference is then
optimized with `oxigraph optimize`, as its load command advises for reading, timed apart:
compaction rewrites the bulk loader's files larger (95 MiB to 153 MiB at 1M in the default
graph), and ours is compacted too (its shortcuts are added after the file, and it optimizes).

    .venv/bin/python benchmarks/first_load.py --triples 5000000 --seed 1
    .venv/bin/python benchmarks/first_load.py --triples 1000000 --repeat 3
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

import psutil

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total


def measured(cmd: list[str], env: dict | None = None) -> dict:
    """Run a command to its end: seconds, peak RSS of its process tree, exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    watched = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, tree_rss(watched))
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{output[-3000:]}")
    return {"seconds": time.perf_counter() - started, "peak_rss": peak, "output": output}


def disk_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def data_file(triples: int, seed: int, base: Path) -> Path:
    folder = base / f"data-{triples}-s{seed}"
    files = sorted(folder.glob("*.nt")) if folder.is_dir() else []
    if not files:
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"), "--triples",
                        str(triples), "--seed", str(seed), "--out", f"{folder}/"], check=True)
        files = sorted(folder.glob("*.nt"))
    if len(files) != 1:
        raise SystemExit(f"{folder}: expected one .nt file, found {len(files)}")
    return files[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--triples", type=int, default=5_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citydip-bench")
    parser.add_argument("--index", action="store_true", help="also time the label index build")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--env", action="append", default=[], metavar="CITYDIP_X=VALUE",
                        help="a setting for `citydip load` (e.g. CITYDIP_DEFAULT_GRAPH_BYTES=0 "
                             "for every file in a named graph); repeatable")
    args = parser.parse_args()

    nt = data_file(args.triples, args.seed, args.data)
    print(f"file: {nt} ({nt.stat().st_size / 2**20:.0f} MiB); {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    names = ("citydip load", "oxigraph load", "oxigraph load --graph")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    # the two store folders while loading, then the two summaries of figures
    ours: Path | dict[str, float]
    theirs: Path | dict[str, float]
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="citydip-load-", dir=args.data) as tmp:
            ours = Path(tmp) / "ours"
            env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDIP_")}
            env.update(CITYDIP_DATA_DIR=str(nt.parent), CITYDIP_STORE_PATH=str(ours))
            env.update(item.split("=", 1) for item in args.env)
            oxigraph = [str(BIN / "oxigraph"), "load", "--file", str(nt), "--location"]
            for name, cmd, folder, run_env in (
                ("oxigraph load", [*oxigraph, str(Path(tmp) / "default")],
                 Path(tmp) / "default", None),
                ("citydip load", [str(BIN / "citydip"), "load"], ours, env),
                ("oxigraph load --graph", [*oxigraph, str(Path(tmp) / "named"), "--graph",
                                           "https://example.org/graph"], Path(tmp) / "named",
                 None),
            ):
                figure = measured(cmd, run_env)
                figure["disk"] = disk_size(folder)
                if name != "citydip load":
                    optimized = measured([str(BIN / "oxigraph"), "optimize", "--location",
                                          str(folder)])
                    figure["optimize_seconds"] = optimized["seconds"]
                    figure["optimized_disk"] = disk_size(folder)
                if name == "citydip load":
                    marker = json.loads(ours.with_name(ours.name + ".filled").read_text())
                    figure["default_graph"] = bool(marker.get("default_graph"))
                    figure["phases"] = marker.get("phases", {})
                runs[name].append(figure)
                print(f"{name:22} {figure['seconds']:7.1f} s  peak RSS "
                      f"{figure['peak_rss'] / 2**20:7.0f} MiB  disk {figure['disk'] / 2**20:7.0f}"
                      " MiB" + (f"; optimize {figure['optimize_seconds']:.1f} s, then "
                                f"{figure['optimized_disk'] / 2**20:.0f} MiB"
                                if "optimize_seconds" in figure else "")
                      + ("; the file in the default graph" if figure.get("default_graph")
                         else "")
                      + "".join(f"; {k} {v:.1f} s" for k, v in figure.get("phases", {}).items()),
                      flush=True)
            if args.index:
                code = ("import time,sys; from graph.core.settings import Settings; "
                        "from graph.store.embedded import Store; "
                        "from graph.store.labels import LabelIndex; "
                        "from pathlib import Path; s=Settings(); st=Store(Path(s.store_path)); "
                        "t=time.perf_counter(); ix=LabelIndex(None, s.resource_base); "
                        "n=ix.build(st); print(n, time.perf_counter()-t)")
                figure = measured([sys.executable, "-c", code], env)
                print(f"label index    {figure['seconds']:7.1f} s  peak RSS "
                      f"{figure['peak_rss'] / 2**20:7.0f} MiB  ({figure['output'].strip()})",
                      flush=True)
    summary = {}
    for name, figures in runs.items():
        summary[name] = {key: statistics.median(f[key] for f in figures)
                         for key in ("seconds", "peak_rss", "disk", "optimize_seconds",
                                     "optimized_disk") if key in figures[0]}
    ours = summary["citydip load"]
    for name in names[1:]:
        theirs = summary[name]
        both = theirs["seconds"] + theirs["optimize_seconds"]
        print(f"citydip / {name} (medians of {args.repeat}): time "
              f"{ours['seconds'] / theirs['seconds']:.2f}x ({ours['seconds'] / both:.2f}x with "
              f"its optimize), peak RSS {ours['peak_rss'] / theirs['peak_rss']:.2f}x, disk "
              f"{ours['disk'] / theirs['disk']:.2f}x "
              f"({ours['disk'] / theirs['optimized_disk']:.2f}x of its optimized store)")
    if args.json:
        args.json.write_text(json.dumps({"file": str(nt), "triples": args.triples,
                                         "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
