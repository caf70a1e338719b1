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
the end, on an error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import concurrent.futures
import contextlib
import datetime as dt
import http.client
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

VENV_BIN = Path(sys.executable).parent
JSON_RESULTS = "application/sparql-results+json"
SERVERS = ("ours", "oxigraph", "rdflib")
SERVER_NAMES = {
    "ours": "ours (citydip serve)",
    "oxigraph": "Oxigraph server",
    "rdflib": "rdflib-endpoint",
}
THROUGHPUT_QUERIES = ("lookup", "two-hop", "lookup-random", "two-hop-random")
TARGET_QUERIES = THROUGHPUT_QUERIES
STARTED = time.perf_counter()


def log(message: str) -> None:
    elapsed = time.perf_counter() - STARTED
    print(f"[{elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


_PROCESSES: list[subprocess.Popen] = []


def start_process(
    cmd: list[str], log_path: Path, env: dict | None = None, cwd: Path = ROOT
) -> subprocess.Popen:
    handle = log_path.open("ab")
    proc = subprocess.Popen(
        cmd,
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=str(cwd),
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    handle.close()
    _PROCESSES.append(proc)
    return proc


def stop_process(proc: subprocess.Popen | None) -> None:
    """Stop a process we started and its whole process group (uvicorn's query workers)."""
    if proc is None:
        return
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # Workers that outlive their parent keep the group alive; make sure it is empty.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if proc in _PROCESSES:
        _PROCESSES.remove(proc)


def stop_all() -> None:
    for proc in list(_PROCESSES):
        stop_process(proc)


def _on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_checked(cmd: list[str], log_path: Path) -> float:
    started = time.perf_counter()
    with log_path.open("ab") as handle:
        result = subprocess.run(cmd, stdout=handle, stderr=subprocess.STDOUT, cwd=str(ROOT))
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {result.returncode}); see {log_path}")
    return time.perf_counter() - started


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# HTTP


class RequestFailed(Exception):
    pass


class Client:
    """One persistent HTTP/1.1 connection; a request returns (seconds, status, headers, body)."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None

    def _connect(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        return self.conn

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self, path: str, accept: str = JSON_RESULTS) -> tuple[float, int, dict, bytes]:
        for attempt in (1, 2):
            conn = self._connect()
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Accept": accept})
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the server closed: retry once on a new one.
                self.close()
                if attempt == 2:
                    raise RequestFailed(f"connection failed: {exc}") from None
                continue
            except TimeoutError:
                self.close()
                raise RequestFailed(
                    f"no answer within {self.timeout:g} s (client timeout)"
                ) from None
            except OSError as exc:
                self.close()
                raise RequestFailed(f"connection failed: {exc}") from None
            if response.getheader("connection", "").lower() == "close":
                self.close()
            return elapsed, response.status, {k.lower(): v for k, v in response.getheaders()}, body
        raise AssertionError("unreachable")


def query_path(endpoint: str, sparql: str) -> str:
    return f"{endpoint}?{urlencode({'query': sparql})}"


def check_answer(status: int, headers: dict, body: bytes) -> tuple[int, bool]:
    """(rows, truncated) of a SPARQL JSON answer; raise RequestFailed if it is not a good one."""
    if status != 200:
        text = body[:300].decode("utf-8", "replace").strip().replace("\n", " ")
        raise RequestFailed(f"HTTP {status}: {text}")
    try:
        data = json.loads(body)
    except ValueError:
        end = body[-120:].decode("utf-8", "replace").replace("\n", " ")
        raise RequestFailed(
            f"HTTP 200 but the body is not valid JSON ({len(body)} bytes, ends with {end!r})"
        ) from None
    if "boolean" in data:
        return 1, False
    try:
        rows = len(data["results"]["bindings"])
    except (KeyError, TypeError):
        raise RequestFailed("HTTP 200 but not SPARQL JSON results") from None
    truncated = headers.get("x-result-truncated", "").lower() == "true"
    return rows, truncated


# ---------------------------------------------------------------------------------------------
# Servers


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


def wait_ready(
    port: int, path: str, proc: subprocess.Popen, log_path: Path, limit: float, what: str
) -> float:
    """Poll until GET path answers 200; return the seconds since `proc` was started."""
    started = time.perf_counter()
    client = Client(port, timeout=30)
    last = time.perf_counter()
    while True:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{what} exited with {proc.returncode} before it was ready:\n" + tail(log_path)
            )
        try:
            _, status, _, _ = client.get(path, accept="*/*")
            if status == 200:
                client.close()
                return time.perf_counter() - started
        except RequestFailed:
            pass
        if time.perf_counter() - started > limit:
            raise RuntimeError(f"{what} was not ready after {limit:.0f} s:\n" + tail(log_path))
        if time.perf_counter() - last > 30:
            log(f"  ... still waiting for {what} ({time.perf_counter() - started:.0f} s)")
            last = time.perf_counter()
        time.sleep(0.25)


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
    port = free_port()
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
    port = free_port()
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
    ready = wait_ready(
        port,
        "/query?" + urlencode({"query": "ASK {}"}),
        proc,
        log_path,
        args.ready_timeout,
        "Oxigraph server",
    )
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
    port = free_port()
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
    ready = wait_ready(
        port,
        "/sparql?" + urlencode({"query": "ASK {}"}),
        proc,
        log_path,
        args.ready_timeout,
        "rdflib-endpoint",
    )
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


# ---------------------------------------------------------------------------------------------
# Data and queries


@dataclass
class BenchQuery:
    name: str
    texts: list[str]  # one text, or one per city of the pool (the -random variants)
    params: dict[str, str] = field(default_factory=dict)
    named: bool = False  # a named query of queries/ (also run on ours via /queries/{name})


@dataclass
class Scale:
    label: str
    triples_target: int | None
    data_dir: Path
    work: Path
    nquads: Path = Path()
    quads: int = 0
    graphs: dict[str, int] = field(default_factory=dict)
    queries: list[BenchQuery] = field(default_factory=list)
    choice: dict[str, str] = field(default_factory=dict)


def parse_scale(text: str) -> int | None:
    text = text.strip().lower()
    if text == "seed":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a scale is 'seed' or a number like 1000000, 200k, 1m"
        )
    return int(float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)])


def prepare_scale(target: int | None, args) -> Scale:
    """Data folder, N-Quads of the whole dataset, and the query texts for one scale."""
    import pyoxigraph as ox

    from graph.core.settings import Settings
    from graph.store.embedded import Store
    from graph.store.load import build_store

    if target is None:
        label, data_dir = "seed", ROOT / "graph" / "data"
        work = args.work_dir / "seed"
    else:
        label = f"{target:,} triples"
        data_dir = args.work_dir / f"data-{target}-s{args.seed}"
        work = args.work_dir / f"gen-{target}-s{args.seed}"
        nt = data_dir / f"gen-{target}.nt"
        if not nt.is_file():
            import generate

            log(f"generating {target:,} triples (seed {args.seed}) into {data_dir}")
            with contextlib.redirect_stdout(sys.stderr):
                generate.main(
                    ["--triples", str(target), "--seed", str(args.seed), "--out", str(data_dir)]
                )
        else:
            log(f"reusing generated data {nt}")
    work.mkdir(parents=True, exist_ok=True)
    scale = Scale(label, target, data_dir, work)

    log(f"[{label}] building the reference dataset with graph.store.load "
        "(ontology, data, shortcuts)")
    started = time.perf_counter()
    settings = Settings(data_dir=data_dir, store_path=":memory:")
    store = build_store(settings, [data_dir], Store(None))
    scale.quads = store.count()
    scale.graphs = {g: store.count(g) for g in store.graphs()}
    scale.nquads = work / "all.nq"
    scale.nquads.write_bytes(store.dump(ox.RdfFormat.N_QUADS))
    log(
        f"[{label}] {scale.quads:,} quads in {len(scale.graphs)} graphs "
        f"({time.perf_counter() - started:.1f} s); N-Quads at {scale.nquads}"
    )

    scale.queries, scale.choice = build_queries(store, target is None, args)
    qdir = work / "queries"
    qdir.mkdir(exist_ok=True)
    for q in scale.queries:
        (qdir / f"{q.name}.rq").write_text(q.texts[0], encoding="utf-8")
    log(
        f"[{label}] {len(scale.queries)} queries (texts in {qdir}); parameters: "
        + json.dumps(scale.choice, ensure_ascii=False)
    )
    del store
    return scale


def _one(store, sparql: str) -> str | None:
    for row in store.query(sparql):
        return row[0].value
    return None


def representative_values(store, defaults: dict[str, str]) -> dict[str, str]:
    """Values of the parameters that exercise the generated data: its hub, its biggest records."""
    cd = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
    hub = _one(
        store,
        cd + "SELECT ?c WHERE { ?c a cd:City ; cd:partnerOf ?p } "
        "GROUP BY ?c ORDER BY DESC(COUNT(DISTINCT ?p)) ?c LIMIT 1",
    )
    values = dict(defaults)
    if hub is None:
        return values
    for key in ("actor", "hub", "city", "host"):
        values[key] = hub
    agreement = _one(
        store,
        cd + f"SELECT ?a WHERE {{ ?a cd:party <{hub}> ; cd:signatory ?s }} "
        "GROUP BY ?a ORDER BY DESC(COUNT(DISTINCT ?s)) ?a LIMIT 1",
    ) or _one(store, cd + f"SELECT ?a WHERE {{ ?a cd:party <{hub}> ; a ?k }} ORDER BY ?a LIMIT 1")
    if agreement:
        values["agreement"] = agreement
        values["resource"] = agreement
    event = _one(
        store,
        cd + "SELECT ?e WHERE { ?e cd:participant ?x } "
        "GROUP BY ?e ORDER BY DESC(COUNT(?x)) ?e LIMIT 1",
    )
    if event:
        values["event"] = event
    school = _one(
        store,
        cd + "SELECT ?s WHERE { ?s a cd:School ; cd:sisterSchoolOf ?o } "
        "GROUP BY ?s ORDER BY DESC(COUNT(?o)) ?s LIMIT 1",
    )
    if school:
        values["school"] = school
    label = _one(
        store,
        cd + "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"SELECT ?l WHERE {{ <{hub}> rdfs:label ?l "
        'FILTER (LANGMATCHES(LANG(?l), "zh-Hant")) }',
    )
    if label:
        values["text"] = label.removesuffix("市")
    return values


def inline_values(text: str, bindings: dict) -> str:
    """The named query with its parameters bound by a VALUES block at the start of WHERE."""
    if not bindings:
        return text
    match = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if not match:
        raise ValueError("no WHERE { in the query")
    block = "".join(f"\n  VALUES ?{name} {{ {term} }}" for name, term in bindings.items())
    return text[: match.end()] + block + text[match.end() :]


def inline_constants(text: str, bindings: dict) -> str:
    """The query with its parameters written in as constants, as a client would write it by hand.

    A projected parameter becomes `(<term> AS ?name)` in the SELECT clause, is dropped from
    GROUP BY (grouping by a constant changes nothing), and is replaced by the term everywhere
    else. Comment lines are left alone.
    """
    if not bindings:
        return text
    lines = text.split("\n")
    code = [i for i, line in enumerate(lines) if not line.lstrip().startswith("#")]
    body = "\n".join(lines[i] for i in code)
    where = re.search(r"\bWHERE\s*\{", body, re.IGNORECASE)
    head, rest = (body[: where.start()], body[where.start() :]) if where else ("", body)
    for name, term in bindings.items():
        var = re.escape(name)
        head = re.sub(rf"(?<!AS )\?{var}\b", f"({term} AS ?{name})", head)
        group = re.search(
            r"\bGROUP\s+BY\b(.*?)(?=\bHAVING\b|\bORDER\s+BY\b|\bLIMIT\b|"
            r"\bOFFSET\b|\}|\Z)",  # a subquery's GROUP BY ends at its closing brace
            rest,
            re.IGNORECASE | re.DOTALL,
        )
        if group:
            keys = re.sub(rf"\?{var}\b\s*", "", group.group(1))
            rest = rest[: group.start(1)] + keys + rest[group.end(1) :]
        rest = re.sub(rf"\?{var}\b", str(term), rest)
    new_lines = (head + rest).split("\n")
    assert len(new_lines) == len(code), "the rewrite must keep the lines"
    for i, line in zip(code, new_lines, strict=True):
        lines[i] = line
    return "\n".join(lines)


def build_queries(store, seed_scale: bool, args) -> tuple[list[BenchQuery], dict[str, str]]:
    """The query texts of one scale, with the parameter values they were given."""
    from graph.sparql.catalogue import NamedQuery, catalogue

    named = catalogue(ROOT / "queries")
    bench = catalogue(HERE / "queries")
    # At the bundled scale each query gets its own example (or default) value; at a generated
    # scale the parameters get representative values of the generated data, by name.
    representative = {} if seed_scale else representative_values(store, {})

    def value(param) -> str | None:
        if not (param.required or param.default is not None or param.example is not None):
            return None
        if param.name in representative:
            return representative[param.name]
        return param.example if param.example is not None else param.default

    only = set(args.queries.split(",")) if args.queries else None
    queries: list[BenchQuery] = []
    q: NamedQuery | BenchQuery  # a catalogue query, then a benchmark query
    for q in named.values():
        # Optional parameters without a default (since, lang) stay unbound, as in the product.
        raw = {p.name: value(p) for p in q.params if p.required or p.default is not None}
        bindings = q.bindings({k: v for k, v in raw.items() if v is not None})
        shown = {
            k: str(v).strip("<>") if str(v).startswith("<") else v.value
            for k, v in bindings.items()
        }
        inline = inline_values if args.inline == "values" else inline_constants
        queries.append(BenchQuery(q.name, [inline(q.text, bindings)], shown, named=True))

    # The benchmark queries: on the hub, and on a pool of cities taken at random (-random).
    city_param = bench["lookup"].params[0]
    hub = city_param.term(cast(str, value(city_param)))  # the city is required, with an example
    cd = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
    cities = sorted(r[0].value for r in store.query(cd + "SELECT ?c WHERE { ?c a cd:City }"))
    pool = random.Random(args.seed).sample(cities, min(args.pool_size, len(cities)))
    for name in ("lookup", "two-hop", "count-per-class"):
        q = bench[name]
        if q.params:
            queries.append(
                BenchQuery(name, [inline_constants(q.text, {"city": hub})], {"city": hub.value})
            )
            texts = [inline_constants(q.text, {"city": city_param.term(c)}) for c in pool]
            queries.append(
                BenchQuery(f"{name}-random", texts, {"city": f"{len(pool)} cities at random"})
            )
        else:
            queries.append(BenchQuery(name, [q.text]))
    if only:
        queries = [q for q in queries if q.name in only]
    choice: dict[str, str] = {}
    for q in queries:
        for k, v in q.params.items():
            choice.setdefault(k, v)
    choice["city"] = hub.value
    choice["random pool"] = f"{len(pool)} of {len(cities)} cities"
    return queries, choice


# ---------------------------------------------------------------------------------------------
# Measuring


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


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of the CPUs busy over a short interval (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total1, idle1 = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def other_cpu_seconds(mine: set[int]) -> dict[int, float]:
    """CPU seconds used so far by each process outside the given process groups."""
    used: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) in mine:  # fields[2] is the process group
            continue
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime+stime
    return used


def cpu_used_since(before: dict[int, float], mine: set[int]) -> float:
    """CPU seconds other processes used since `before` (a noise gauge: processes that ended in
    between are not seen)."""
    after = other_cpu_seconds(mine)
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())


def wait_until_idle(args) -> float:
    busy = cpu_busy()
    deadline = time.perf_counter() + args.wait_idle * 60
    while busy > 0.15 and time.perf_counter() < deadline:
        log(f"  other processes keep the CPUs {busy:.0%} busy; waiting for an idle machine")
        time.sleep(20)
        busy = cpu_busy()
    if busy > 0.15:
        log(f"  WARNING: the CPUs are {busy:.0%} busy with other processes; figures will be noisy")
    return busy


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
        wait_ready(
            srv.port,
            "/sparql?" + urlencode({"query": "ASK {}"}),
            srv.proc,
            srv.log_path,
            args.ready_timeout,
            "rdflib-endpoint",
        )

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
            record["server_log_tail"] = tail(server.log_path, 5)
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


# ---------------------------------------------------------------------------------------------
# Report


def _cell(s: dict | None) -> str:
    if not s:
        return "–"
    if not s.get("n"):
        err = s.get("error", "failed")
        short = (
            "timeout" if "timeout" in err or "cancelled" in err or "HTTP 503" in err else "error"
        )
        return short
    mark = "†" if s.get("truncated") else ""
    return f"{s['median_ms']:.1f} / {s['p95_ms']:.1f}{mark}"


def _ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or not a.get("n") or not b.get("n"):
        return None
    return a["median_ms"] / b["median_ms"] if b["median_ms"] else None


def _fmt_ratio(r: float | None) -> str:
    return "–" if r is None else (f"{r:.2f}×" if r < 10 else f"{r:.0f}×")


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def typical_latency(scale: Scale, records: dict[str, dict]) -> dict:
    """Each server's median over the named queries of its per-query medians.

    Only the named queries every listed server answered count (rdflib is left out of the set,
    and of the result, when it answered fewer).
    """
    named = [q.name for q in scale.queries if q.named]

    def medians(key: str) -> dict[str, float]:
        latency = records.get(key, {}).get("latency", {})
        return {n: latency[n]["median_ms"] for n in named if latency.get(n, {}).get("n")}

    ours, oxigraph, rdflib = medians("ours"), medians("oxigraph"), medians("rdflib")
    common = sorted(set(ours) & set(oxigraph))
    if not common:
        return {}
    out = {"count": len(common), "ours": statistics.median(ours[n] for n in common),
           "oxigraph": statistics.median(oxigraph[n] for n in common)}
    if set(common) <= set(rdflib):
        out["rdflib"] = statistics.median(rdflib[n] for n in common)
    return out


def report_scale(scale: Scale, records: dict[str, dict], args) -> tuple[str, dict]:
    lines = [f"### {scale.label}", ""]
    lines.append(
        f"Dataset: {scale.quads:,} quads ("
        + ", ".join(f"{g.rsplit('/', 1)[-1]} {n:,}" for g, n in scale.graphs.items())
        + ")."
    )
    lines.append(
        "Parameters: "
        + ", ".join(
            f"{k} = `{v.removeprefix('https://w3id.org/citydiplomacy/id/')}`"
            for k, v in scale.choice.items()
            if k in ("city", "agreement", "event", "school", "text", "random pool")
        )
        + "."
    )
    lines.append("")
    lines.append(
        "| server | ready after | quads | other processes' CPU use before / during "
        "(share of one CPU) | notes |"
    )
    lines.append("|---|---:|---:|---:|---|")
    for key in args.servers:
        r = records.get(key, {})
        if r.get("unavailable"):
            lines.append(
                f"| {SERVER_NAMES[key]} | – | – | – | not measured: "
                f"{r['unavailable'].splitlines()[0][:160]} |"
            )
        else:
            lines.append(
                f"| {SERVER_NAMES[key]} | {r.get('ready_seconds', 0):.1f} s | "
                f"{r.get('quads') or 0:,} | "
                f"{r.get('cpu_busy_before', 0) * (os.cpu_count() or 1):.0%} / "
                f"{r.get('other_cpu_share', 0):.0%} | "
                f"{r.get('note', '')} |"
            )
    lines.append("")
    head = "| query | rows | " + " | ".join(
        f"{SERVER_NAMES[k]} median / p95 ms" for k in args.servers
    )
    head += " | ours / Oxigraph | rdflib / ours |"
    lines.append(head)
    lines.append("|---|---:|" + "---:|" * len(args.servers) + "---:|---:|")
    ratios_ox, ratios_rd = [], []
    summary: dict = {"per_query": {}}
    for q in scale.queries:
        cells = {k: records.get(k, {}).get("latency", {}).get(q.name) for k in args.servers}
        rows = next((c.get("rows") for c in cells.values() if c and c.get("n")), None)
        r_ox = _ratio(cells.get("ours"), cells.get("oxigraph"))
        r_rd = _ratio(cells.get("rdflib"), cells.get("ours"))
        if r_ox:
            ratios_ox.append(r_ox)
        if r_rd:
            ratios_rd.append(r_rd)
        # rdflib timed out where ours answered: at least timeout / ours.
        rd, us = cells.get("rdflib"), cells.get("ours")
        rd_note = ""
        if r_rd is None and rd and not rd.get("n") and us and us.get("n"):
            rd_note = (
                f"> {args.rdflib_timeout * 1000 / us['median_ms']:.0f}× (rdflib timed out)"
                if "timeout" in rd.get("error", "")
                else ""
            )
        row_counts = {k: c.get("rows") for k, c in cells.items() if c and c.get("n")}
        # A pool query's rows are a mean over the cities each server was sent: not comparable.
        mismatch = len(q.texts) == 1 and len({str(v) for v in row_counts.values()}) > 1
        rows_text = (
            "/".join(str(v) for v in row_counts.values())
            if mismatch
            else ("–" if rows is None else str(rows))
        )
        lines.append(
            f"| {q.name} | {rows_text}{' ≠' if mismatch else ''} | "
            + " | ".join(_cell(cells[k]) for k in args.servers)
            + f" | {_fmt_ratio(r_ox)} | {rd_note or _fmt_ratio(r_rd)} |"
        )
        summary["per_query"][q.name] = {
            "ours_over_oxigraph": r_ox,
            "rdflib_over_ours": r_rd,
            "rows": row_counts,
        }
    g_ox, g_rd = geomean(ratios_ox), geomean(ratios_rd)
    lines.append(
        "| **geometric mean** | | "
        + " | ".join("" for _ in args.servers)
        + f" | **{_fmt_ratio(g_ox)}** | **{_fmt_ratio(g_rd)}** |"
    )
    summary.update(geomean_ours_over_oxigraph=g_ox, geomean_rdflib_over_ours=g_rd)
    lines.append("")
    lines.append(
        "† the answer was cut at the server's row limit (`X-Result-Truncated: true`).  "
        "≠ the servers returned different row counts (shown per server, in column order)."
    )

    named_rows = [
        (q, records.get("ours", {}).get("named_endpoint", {}).get(q.name))
        for q in scale.queries
        if q.named
    ]
    if any(s for _, s in named_rows):
        lines += [
            "",
            "Ours through its named-query endpoint (`GET /queries/{name}?param=…`, "
            "parameters bound as RDF terms):",
            "",
            "| query | rows | median / p95 ms | vs. the same query at /sparql |",
            "|---|---:|---:|---:|",
        ]
        for q, s in named_rows:
            base = records.get("ours", {}).get("latency", {}).get(q.name)
            lines.append(
                f"| {q.name} | {s.get('rows') if s else '–'} | {_cell(s)} | "
                f"{_fmt_ratio(_ratio(s, base))} |"
            )

    if any(records.get(k, {}).get("throughput") for k in args.servers):
        lines += [
            "",
            f"Throughput at {args.clients} concurrent clients "
            f"({args.throughput_seconds:g} s each; req/s, and p50 / p95 ms under load):",
            "",
            "| query | "
            + " | ".join(SERVER_NAMES[k] for k in args.servers)
            + " | ours / Oxigraph | ours / rdflib |",
            "|---|" + "---:|" * len(args.servers) + "---:|---:|",
        ]
        for q in scale.queries:
            if q.name not in THROUGHPUT_QUERIES:
                continue
            cells = {k: records.get(k, {}).get("throughput", {}).get(q.name) for k in args.servers}
            texts = []
            for k in args.servers:
                t = cells[k]
                if not t or "rps" not in t:
                    texts.append("–" if not t else "error")
                else:
                    texts.append(
                        f"{t['rps']:.0f} ({t.get('median_ms', 0):.1f} / "
                        f"{t.get('p95_ms', 0):.1f})"
                        + (f" {t['errors']} err" if t["errors"] else "")
                    )
            rps: dict[str, Any] = {k: (cells[k] or {}).get("rps") for k in args.servers}
            r1 = (
                rps.get("ours") / rps["oxigraph"]
                if rps.get("ours") and rps.get("oxigraph")
                else None
            )
            r2 = rps.get("ours") / rps["rdflib"] if rps.get("ours") and rps.get("rdflib") else None
            lines.append(
                f"| {q.name} | " + " | ".join(texts) + f" | {_fmt_ratio(r1)} | {_fmt_ratio(r2)} |"
            )
            summary.setdefault("throughput", {})[q.name] = rps

    # Targets
    lines += ["", "Targets (ours):", ""]
    ours = records.get("ours", {})
    if ours.get("unavailable") or "ours" not in records:
        lines.append("- ours: to be measured (not available, or not part of this run).")
    else:
        lines.append(
            f"- median latency within 1.5× of Oxigraph server: geometric mean "
            f"{_fmt_ratio(g_ox)} → {'met' if g_ox and g_ox <= 1.5 else 'NOT met'}"
            + (
                f"; per query {sum(1 for r in ratios_ox if r <= 1.5)}/{len(ratios_ox)} within 1.5×"
                if ratios_ox
                else ""
            )
        )
        typical = typical_latency(scale, records)
        if typical.get("ours") and typical.get("oxigraph"):
            lines.append(
                f"- median over the {typical['count']} named queries of each server's median: "
                f"ours {typical['ours']:.1f} ms, Oxigraph {typical['oxigraph']:.1f} ms → "
                f"{_fmt_ratio(typical['ours'] / typical['oxigraph'])}"
                + (f"; rdflib {typical['rdflib']:.1f} ms → "
                   f"{_fmt_ratio(typical['rdflib'] / typical['ours'])} of ours"
                   if typical.get("rdflib") else "")
            )
            summary["typical_latency_ms"] = typical
        if "rdflib" in args.servers:
            lines.append(
                f"- ≥ 10× faster than rdflib-endpoint: geometric mean {_fmt_ratio(g_rd)} "
                f"(over the queries rdflib answered) → "
                f"{'met' if g_rd and g_rd >= 10 else 'NOT met'}"
                + (
                    f"; per query {sum(1 for r in ratios_rd if r >= 10)}/{len(ratios_rd)} ≥ 10×"
                    if ratios_rd
                    else ""
                )
            )
        if scale.triples_target:
            for name in TARGET_QUERIES:
                s = ours.get("latency", {}).get(name)
                t = ours.get("throughput", {}).get(name, {})
                if not s or not s.get("n"):
                    continue
                ok_lat = s["median_ms"] <= 10 and s["p95_ms"] <= 25
                ok_rps = t.get("rps", 0) >= 500
                lines.append(
                    f"- {name}: median {s['median_ms']:.1f} ms (≤ 10), p95 {s['p95_ms']:.1f} ms "
                    f"(≤ 25) → {'met' if ok_lat else 'NOT met'}; "
                    f"{t.get('rps', 0):.0f} req/s at {args.clients} clients (≥ 500) → "
                    f"{'met' if ok_rps else 'NOT met'}"
                )
    return "\n".join(lines), summary


# ---------------------------------------------------------------------------------------------
# Main


def machine() -> dict:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        import importlib.metadata as md

        info["versions"] = {
            p: md.version(p)
            for p in ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "uvicorn", "fastapi")
            if _has(md, p)
        }
    return info


def _has(md, name: str) -> bool:
    try:
        md.version(name)
        return True
    except md.PackageNotFoundError:
        return False


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
