"""Live servers for the HTTP tests: `citydip serve`, `oxigraph serve`, Virtuoso: real processes.

Every process is started on a free loopback port and stopped when its context ends: terminated,
killed if it lingers, and checked with psutil that none of its children (the query workers)
survives it (processes.py, which the benchmarks share). The fixtures share one server per
session or module to keep the suite quick.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from processes import (
    citydip_serving,
    free_port,
    log_tail,
    serving,
    spawn,
    stop,
    wait_until_up,
    workers,
)

ROOT = Path(__file__).resolve().parents[2]
OXIGRAPH = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which(
    "oxigraph")
VIRTUOSO = shutil.which("virtuoso-t")
ISQL = shutil.which("isql-vt") or shutil.which("isql")


@dataclass
class LiveServer:
    """A running process: its base URL (no trailing slash) and its process id."""

    url: str
    pid: int
    log: Path

    def __str__(self) -> str:
        return self.url

    def process(self) -> psutil.Process:
        return psutil.Process(self.pid)

    def workers(self) -> list[psutil.Process]:
        """The query worker processes (children, without multiprocessing's resource tracker)."""
        return workers(self.process())

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log, lines)


@contextmanager
def citydip_server(env: Mapping[str, str] | None = None) -> Iterator[LiveServer]:
    """`citydip serve` in a subprocess with the given CITYDIP_* settings (in memory by default)."""
    settings = {
        "CITYDIP_STORE_PATH": ":memory:",
        # Every test client comes from one address: no per-client limits unless a test sets them
        # (tests/http/test_live_service.py does).
        "CITYDIP_CLIENT_MAX_PARALLEL": "0",
        "CITYDIP_CLIENT_QUERY_SECONDS": "0",
        # No warm-up queries at start (server/derived_views.py) competing with what a test
        # measures (timeouts, worker counts, CPU settling); a test that wants them sets it.
        "CITYDIP_DERIVED_WARM": "false",
        **(env or {}),
    }
    with tempfile.TemporaryDirectory(prefix="citydip-server-") as tmp:
        log = Path(tmp) / "server.log"
        with citydip_serving(settings, log) as running:
            yield LiveServer(running.url, running.process.pid, log)


@contextmanager
def oxigraph_server(timeout_s: int | None = None) -> Iterator[LiveServer]:
    """`oxigraph serve` on a fresh store in a temporary folder, union default graph."""
    if OXIGRAPH is None:
        raise RuntimeError("the oxigraph binary is missing: pip install oxigraph")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="citydip-oxigraph-") as tmp:
        log = Path(tmp) / "oxigraph.log"
        command = [OXIGRAPH, "serve", "--location", str(Path(tmp) / "store"),
                   "--bind", f"127.0.0.1:{port}", "--union-default-graph"]
        if timeout_s is not None:
            command += ["--timeout-s", str(timeout_s)]
        url = f"http://127.0.0.1:{port}"
        with serving(command, url, "/query?query=ASK%7B%7D", log, "oxigraph serve") as running:
            yield SparqlStore(url, running.process.pid, log, "oxigraph", url + "/query",
                              url + "/update")


@dataclass
class SparqlStore(LiveServer):
    """A running SPARQL store: which engine, and its query and update endpoints."""

    engine: str = "oxigraph"
    query_url: str = ""
    update_url: str = ""


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ServerThreads = 10
CheckpointInterval = 60
DirsAllowed = {db}

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {db}
MaxClientConnections = 10
ServerThreads = 10

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {max_seconds}
MaxQueryCostEstimationTime = 0
"""
"""A Virtuoso configuration for the tests: a temporary database, loopback ports only, a result
cap above the bundled data's size, and no refusal of queries by estimated cost (so that a
runaway query runs into MaxQueryExecutionTime, as a slow one would in production)."""

VIRTUOSO_SETUP = """\
GRANT SPARQL_UPDATE TO "SPARQL";
DB.DBA.RDF_GRAPH_GROUP_CREATE ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 1);
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://www.openlinksw.com/schemas/virtrdf#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://www.w3.org/ns/ldp#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://localuriqaserver/sparql');
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);
"""
"""What a deployment does once (README, "Over Virtuoso"): the SPARQL user may update, and
Virtuoso's own graphs are private, so that the union default graph holds our data only."""

VIRTUOSO_WRITER = ("citydip", "citydip-writer-secret")
VIRTUOSO_SETUP_AUTHENTICATED = """\
DB.DBA.USER_CREATE ('{user}', '{password}');
GRANT SPARQL_UPDATE TO "{user}";
DB.DBA.RDF_GRAPH_GROUP_CREATE ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs', 1);
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://www.openlinksw.com/schemas/virtrdf#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://www.w3.org/ns/ldp#');
DB.DBA.RDF_GRAPH_GROUP_INS ('http://www.openlinksw.com/schemas/virtrdf#PrivateGraphs',
    'http://localuriqaserver/sparql');
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 0, 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{user}', 0, 1);
DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('{user}', 3);
""".format(user=VIRTUOSO_WRITER[0], password=VIRTUOSO_WRITER[1])
"""The stricter set-up: anonymous SPARQL reads only; a user of our own writes through the
authenticated endpoint /sparql-auth (HTTP digest)."""


@contextmanager
def virtuoso_server(max_seconds: int = 5, max_rows: int = 100_000, setup: bool | str = True,
                    directory: Path | None = None) -> Iterator[SparqlStore]:
    """`virtuoso-t` in the foreground on a fresh database, set up as a deployment would be.

    `max_seconds` is MaxQueryExecutionTime: Virtuoso answers a query that runs out of it with
    the results so far and an X-SQL-State header. Below our server's own timeout, as README asks,
    so that a runaway query stops in Virtuoso too, not only in our server. `max_rows` is
    ResultSetMaxRows; `setup` False leaves the database as Virtuoso creates it, a text is run
    instead of VIRTUOSO_SETUP. With `directory`,
    the database lives there and outlives the process (set up on its creation only).
    """
    if VIRTUOSO is None or ISQL is None:
        raise RuntimeError("Virtuoso is missing: apt-get install virtuoso-opensource-7-bin")
    sql_port, http_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="citydip-virtuoso-") as scratch:
        tmp = str(directory or scratch)
        Path(tmp).mkdir(parents=True, exist_ok=True)
        if (Path(tmp) / "virtuoso.db").exists():
            setup = False
        ini = Path(tmp) / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(db=tmp, sql_port=sql_port, http_port=http_port,
                                           max_seconds=max_seconds, max_rows=max_rows))
        log = Path(tmp) / "virtuoso.out"
        process = spawn([VIRTUOSO, "-f", "-c", str(ini)], log, cwd=Path(tmp))
        url = f"http://127.0.0.1:{http_port}"
        server = SparqlStore(url, process.pid, log, "virtuoso", url + "/sparql", url + "/sparql")
        try:
            wait_until_up(url + "/sparql?query=ASK%7B%7D", process, log, "virtuoso-t")
            script = Path(tmp) / "setup.sql"
            script.write_text(setup if isinstance(setup, str) else
                              VIRTUOSO_SETUP if setup else "SELECT 1;\n")
            for _attempt in range(50):  # the SQL port opens just after the HTTP one
                done = subprocess.run([ISQL, f"127.0.0.1:{sql_port}", "dba", "dba", str(script)],
                                      capture_output=True, text=True, timeout=60,
                                      stdin=subprocess.DEVNULL)
                if done.returncode == 0:
                    break
                time.sleep(0.2)
            if done.returncode != 0 or "Error" in done.stdout + done.stderr:
                raise RuntimeError(f"Virtuoso set-up failed:\n{done.stdout}\n{done.stderr}")
            yield server
        finally:
            stop(process, "virtuoso-t")


def remote_env(store: LiveServer, **extra: str) -> dict[str, str]:
    """Settings for a citydip server in front of a SPARQL store process (oxigraph, Virtuoso)."""
    return {
        "CITYDIP_STORE_BACKEND": "remote",
        "CITYDIP_REMOTE_QUERY_URL": getattr(store, "query_url", "") or store.url + "/query",
        "CITYDIP_REMOTE_UPDATE_URL": getattr(store, "update_url", "") or store.url + "/update",
        **extra,
    }


@contextmanager
def live_server(env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`citydip serve` with the given settings; yields its base URL (see citydip_server).

    Not the `live_server` fixture of conftest.py (a session-wide server), which tests request
    by name; this starts a server of its own wherever it is called.
    """
    with citydip_server(env) as server:
        yield server.url


# --- a query that runs away --------------------------------------------------------------------

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
"""A cartesian product of the whole store with itself, three times: runs until a timeout stops it
(tests/http/test_timeouts.py, benchmarks/load.py)."""


# --- data with hostile labels, for the pages' escaping tests -------------------------------------

HOSTILE_LABEL = "<img src=x onerror=alert(1)>"
HOSTILE_TURTLE = """\
@prefix cd:   <https://w3id.org/citydiplomacy/ns#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix report: <https://w3id.org/citydiplomacy/id/report/> .

<https://w3id.org/citydiplomacy/id/city/hostile> a cd:City ;
    rdfs:label "<img src=x onerror=alert(1)>"@en , "<script>alert(2)</script>"@zh-Hant ;
    skos:altLabel "<svg onload=alert(5)>"@en ;
    cd:country <https://w3id.org/citydiplomacy/id/country/poland> ;
    rdfs:seeAlso <javascript:alert(3)> ;
    prov:wasDerivedFrom <https://w3id.org/citydiplomacy/id/passage/hostile-l1> .

<https://w3id.org/citydiplomacy/id/agreement/hostile-gdynia-sister-city> a cd:SisterCityAgreement ;
    rdfs:label "<img src=x onerror=alert(1)> and Gdynia"@en , "<script>alert(2)</script>"@zh-Hant ;
    cd:party <https://w3id.org/citydiplomacy/id/city/hostile> ,
        <https://w3id.org/citydiplomacy/id/city/gdynia> ;
    cd:dateNotStated true ;
    cd:status <https://w3id.org/citydiplomacy/id/status/signed> ;
    rdfs:comment "<svg onload=alert(6)>"@en ;
    prov:wasDerivedFrom <https://w3id.org/citydiplomacy/id/passage/hostile-l1> .

<https://w3id.org/citydiplomacy/id/passage/hostile-l1> a cd:Passage ;
    cd:quote "</blockquote><script>alert(4)</script>"@zh-Hant ;
    cd:lineStart 1 ;
    cd:lineEnd 1 ;
    cd:section "<img src=x onerror=alert(1)>"@zh-Hant ;
    prov:wasQuotedFrom report:kaohsiung-administration-international-affairs-2026 .
"""
"""Resources whose labels, quotes and links are HTML and script: pages must show them as text."""


def data_dir_with(folder: Path, name: str, text: str) -> Path:
    """A data folder holding the bundled data files plus one more file `name` with `text`."""
    from graph.core.settings import Settings
    from graph.sparql.formats import DATA_SUFFIXES

    folder.mkdir(parents=True, exist_ok=True)
    for path in Settings().data_dir.iterdir():
        if path.is_file() and path.suffix in DATA_SUFFIXES:
            shutil.copy(path, folder / path.name)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


# --- writes: tokens, and a crash ---------------------------------------------------------------

WRITE_TOKENS = {"alice": "alice-token-4f1d9c", "bob": "bob-token-77a2e0"}
"""The test writers: alice's token is configured in clear, bob's as its SHA-256 digest."""


def write_env(history: Path, **extra: str) -> dict[str, str]:
    """Settings for a server that accepts writes from alice and bob, logging to `history`."""
    import hashlib

    bob = hashlib.sha256(WRITE_TOKENS["bob"].encode()).hexdigest()
    return {"CITYDIP_WRITE_TOKENS": f"alice:{WRITE_TOKENS['alice']},bob:sha256:{bob}",
            "CITYDIP_HISTORY_PATH": str(history), "CITYDIP_QUERY_WORKERS": "1", **extra}


def bearer(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {WRITE_TOKENS[name]}"}


def kill_hard(server: LiveServer) -> None:
    """SIGKILL the server — no shutdown, no flush — then the children it can no longer stop.

    The server process is left a zombie for its context (citydip_server) to reap.
    """
    import signal

    process = server.process()
    children = process.children(recursive=True)
    os.kill(server.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                break
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    for child in children:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(children, timeout=10)


def restore(target: SparqlStore, source) -> None:
    """Put a shared store back to the data of `source` (a graph.store.embedded.Store): after a test
    wrote."""
    import pyoxigraph as ox

    from graph.store.remote import RemoteStore

    remote = RemoteStore(target.query_url, target.update_url)
    remote.clear()
    for graph in source.graphs():
        remote.insert(graph, [ox.Triple(q.subject, q.predicate, q.object)
                              for q in source.quads_for_pattern(graph=ox.NamedNode(graph))])


def until(check: Callable[[], object], seconds: float = 60, every: float = 0.1) -> object:
    """`check()` once it is truthy, polled every `every` s; its last value after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(every)
