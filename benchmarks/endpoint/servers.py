"""Starting each server of the endpoint benchmark on the data of a scale.

The processes themselves are started, waited for and stopped by tests/support/processes.py (the
one helper, shared with the tests). What is the benchmark's own: each server is put in a process
group of its own (its CPU time is told from other processes' by group; Ctrl-C reaches the runner,
which stops it), and every process started is registered, so that stop_all stops what is left on
exit, on an error and on a signal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import processes

from endpoint.common import HERE, ROOT, VENV_BIN, log

if TYPE_CHECKING:
    from endpoint.queries import Scale

ASK = urlencode({"query": "ASK {}"})
"""The cheapest query: a SPARQL server that answers it is up."""

_PROCESSES: list[subprocess.Popen] = []


def start_process(
    cmd: list[str], log_path: Path, env: dict | None = None, cwd: Path = ROOT
) -> subprocess.Popen:
    """Start `cmd` in its own process group, its output appended to `log_path`."""
    proc = processes.spawn(cmd, log_path, {**os.environ, **(env or {})}, cwd, own_group=True,
                           append=True)
    _PROCESSES.append(proc)
    return proc


def stop_process(proc: subprocess.Popen | None) -> None:
    """Stop a process we started and its whole process group (uvicorn's query workers)."""
    if proc is None:
        return
    processes.stop(proc, "server", strict=False)
    if proc in _PROCESSES:
        _PROCESSES.remove(proc)


def stop_all() -> None:
    for proc in list(_PROCESSES):
        stop_process(proc)


def run_checked(cmd: list[str], log_path: Path) -> float:
    """Run `cmd` to its end, its output appended to `log_path`; return the seconds it took."""
    started = time.perf_counter()
    with log_path.open("ab") as handle:
        result = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=str(ROOT))
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {result.returncode}); see {log_path}")
    return time.perf_counter() - started


def wait_ready(
    port: int, path: str, proc: subprocess.Popen, log_path: Path, limit: float, what: str
) -> float:
    """Poll until GET path answers 200; return the seconds waited."""
    return processes.wait_until_up(
        f"http://127.0.0.1:{port}{path}", proc, log_path, what, limit,
        progress=lambda seconds: log(f"  ... still waiting for {what} ({seconds:.0f} s)"),
    )


@dataclass
class Server:
    key: str
    port: int
    endpoint: str
    proc: subprocess.Popen
    log_path: Path
    ready_seconds: float
    quads: int | None = None
    note: str = ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def ours_available() -> tuple[bool, str]:
    if not (ROOT / "server" / "app.py").is_file():
        return False, "server/app.py does not exist (yet)"
    result = subprocess.run(
        [str(VENV_BIN / "citydip"), "serve", "--help"],
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return False, f"`citydip serve --help` failed: {result.stderr.strip()[-300:]}"
    return True, ""


def start_ours(scale: Scale, args) -> Server:
    store = scale.work / "ours-store"
    shutil.rmtree(store, ignore_errors=True)
    port = processes.free_port()
    log_path = scale.work / "ours.log"
    env = {
        "CITYDIP_STORE_PATH": str(store) if args.ours_store == "disk" else ":memory:",
        "CITYDIP_DATA_DIR": str(scale.data_dir),
        "CITYDIP_QUERY_TIMEOUT": str(args.server_timeout),
    }
    for item in args.ours_env:
        key, _, value = item.partition("=")
        env[key] = value
    proc = start_process(
        [str(VENV_BIN / "citydip"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        log_path,
        env,
    )
    ready = wait_ready(port, "/health", proc, log_path, args.ready_timeout, "ours")
    note = f"store {'on disk' if args.ours_store == 'disk' else 'in memory'}; " + ", ".join(
        f"{k}={v}" for k, v in env.items() if k not in ("CITYDIP_DATA_DIR", "CITYDIP_STORE_PATH")
    )
    return Server("ours", port, "/sparql", proc, log_path, ready, note=note)


def start_oxigraph(scale: Scale, args) -> Server:
    location = scale.work / "oxigraph-store"
    shutil.rmtree(location, ignore_errors=True)
    log_path = scale.work / "oxigraph.log"
    oxigraph = str(VENV_BIN / "oxigraph")
    started = time.perf_counter()
    run_checked(
        [oxigraph, "load", "--location", str(location), "--file", str(scale.nquads)], log_path
    )
    if args.oxigraph_optimize:
        run_checked([oxigraph, "optimize", "--location", str(location)], log_path)
    prepared = time.perf_counter() - started
    port = processes.free_port()
    timeout = ["--timeout-s", str(int(args.oxigraph_timeout))] if args.oxigraph_timeout else []
    proc = start_process(
        [
            oxigraph,
            "serve-read-only",
            "--location",
            str(location),
            "--bind",
            f"127.0.0.1:{port}",
            "--union-default-graph",
            *timeout,
        ],
        log_path,
    )
    ready = wait_ready(port, f"/query?{ASK}", proc, log_path, args.ready_timeout,
                       "Oxigraph server")
    note = (
        (
            "load + optimize + serve-read-only"
            if args.oxigraph_optimize
            else "load + serve-read-only"
        )
        + " --union-default-graph "
        + " ".join(timeout)
    )
    return Server("oxigraph", port, "/query", proc, log_path, prepared + ready, note=note)


def start_rdflib(scale: Scale, args) -> Server:
    port = processes.free_port()
    log_path = scale.work / "rdflib.log"
    proc = start_process(
        [
            sys.executable,
            str(HERE / "rdflib_server.py"),
            "--nquads",
            str(scale.nquads),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        log_path,
    )
    ready = wait_ready(port, f"/sparql?{ASK}", proc, log_path, args.ready_timeout,
                       "rdflib-endpoint")
    return Server(
        "rdflib",
        port,
        "/sparql",
        proc,
        log_path,
        ready,
        note="rdflib Dataset(default_union=True), one uvicorn worker; queries block "
        "its event loop, so requests are served one at a time",
    )


STARTERS = {"ours": start_ours, "oxigraph": start_oxigraph, "rdflib": start_rdflib}
