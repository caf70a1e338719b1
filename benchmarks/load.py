#!/usr/bin/env python3
"""Load-and-fault benchmark of a live server (not a test): readers while editors write.

For each scale (`report`: the bundled data; `world`: the report and the world lists, as
`make serve`; `1m`: one million generated triples, benchmarks/generate.py seed 1) it starts
`citydip serve` (store on disk, a free port, write tokens, the per-client limits raised for its
own readers, which all come from one address, until phase 5) and runs, in one run:

1. read-only: `--readers` threads, each on a kept-alive connection (as fast as answered, or at
   most `--read-rate` a second), sending in turn the named
   query `partners-of`, an entity page (HTML) and a small `/sparql` lookup, about random cities
   (`--material`: by default `--cities` 500 drawn from every city and area with a country; at
   world scale `report-cities` is the report's 24 cities, which every write then touches two of);
   `--writes other` has the writes join as many other cities, so that no write reaches a page or
   answer the readers read (what the writes' own steps cost the readers, apart from the reads
   they make go);
2. reads + writes: the same readers while `--writers` editors post small changesets (a ~30-triple
   sister-city agreement with its passage, signatory and role, validated) to `/changes`, each
   `--write-rate` per second on average, at random moments (`--arrivals random`: the gaps drawn
   from an exponential distribution, as independent editors post; `even`: every writer at the
   same moments, each write then finding the other's under way);
3. the same, with a query worker SIGKILLed every `--kill-every` seconds; with `--rounds` N,
   then N-1 more pairs of read-only and reads + writes in turn (each read-only phase once the
   server is idle again), with each pair's share and the medians: one read-only phase can be
   15 % off the next on a shared machine, and the share is a ratio of two of them;
4. a burst of `--runaways` concurrent runaway queries (a cartesian product), with `ASK {}`
   (computed anew: `Cache-Control: no-cache`) and an entity page timed while it lasts, and
   the time the server's processes take to be idle after.
   Before the read-only phase every read the readers can send (the three reads of each of the
   material's cities) is sent once, so that the read-only figure is the steady state of a warm
   server and not the first making of each page (at 1M the first phase's pages were made for
   the first time: p50 146 ms, against 2.5–12 ms in the phases after, docs/benchmarks.md).
   The read-only phase starts once the server is idle after its start (the derived views'
   first computation), and the burst once it is idle again (the derived views catch up with
   the writes first: at world scale the network's measures of the last version take about
   15 s), each wait at most `--settle-limit` seconds (300) and reported ("settled before").

5. throttling, on the server restarted with the per-client limits at their defaults
   (`CITYDIP_CLIENT_MAX_PARALLEL`, `CITYDIP_CLIENT_QUERY_SECONDS`, `CITYDIP_QUEUE_MAX`): a
   polite client (`--polite` readers of the same mix, named by a token) alone, then beside a
   greedy one from the address (`--greedy` threads, each sending a heavy count again and again
   and waiting what a refusal's Retry-After says) for `--throttle-seconds`: the polite
   client's latencies and failures, and the greedy one's answers, its queries stopped at their
   time limit (503, nothing to wait for), and its refusals by limit (parallel queries,
   query-time budget, queue), each checked for its Retry-After.

It prints read throughput, p50/p99 latencies and error counts per phase, the write latencies
and the medians of a write's steps (its answer's Server-Timing), the reads of each kind the
server made anew rather than answered from a kept page (a write drops the pages it reaches, and
their next reads make them again: the price of a write beyond its own) and the kept ones it
sent from a note of what it sent before (`/health`'s `kept_pages.replayed`), the CPU each kind
of process used (the server, its query workers, the validation and network processes, and this
benchmark's own readers and writers; 100 = one core), and afterwards checks that every
acknowledged write is in the store (an ASK per agreement).
The throttling rules themselves (429 or 503 with Retry-After at each limit) are tested at small
scale in tests/http/test_live_service.py.

    .venv/bin/python benchmarks/load.py --scales report,world --seconds 20
    .venv/bin/python benchmarks/load.py --scales 1m --markdown docs/load-1m.md
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import _paths  # the project, this folder and tests/support on sys.path
import changesets
import psutil
import pyoxigraph as ox
from changesets import CD, ID
from live import RUNAWAY
from processes import Running, cpu_percent, role, start_citydip

HERE, ROOT = _paths.HERE, _paths.ROOT
TOKEN = "load-benchmark-token-5c1e"
JSON = "application/sparql-results+json"
GREEDY = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?class ; ?p ?o }"
"""The heavy query of phase 5's greedy client: about a second on a query worker at world scale
(every typed subject's statements counted), never in the cheap lane."""


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Http:
    """One kept-alive connection; reconnects after an error."""

    def __init__(self, port: int, timeout: float = 120) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, bytes, dict]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                response = self.conn.getresponse()
                data = response.read()
                return response.status, data, dict(response.getheaders())
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def sparql(self, query: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
        return self.request("GET", "/sparql?" + urlencode({"query": query}),
                            headers={"Accept": JSON, **(headers or {})})


def rows(client: Http, query: str) -> list:
    status, body, _ = client.sparql(query)
    assert status == 200, body[:300]
    # the queries asked here are SELECT queries
    return list(cast(ox.QuerySolutions,
                     ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)))


# --- the server --------------------------------------------------------------------------------


def start_server(scale: str, work: Path, args, limited: bool = False) -> Running:
    """`citydip serve` on the scale's store in `work` (filled at its first start); `limited`:
    with the per-client limits at their defaults (phase 5), not raised for the readers."""
    env = {
        "CITYDIP_STORE_PATH": str(work / "store"),
        "CITYDIP_HISTORY_PATH": str(work / "history.jsonl"),
        "CITYDIP_WRITE_TOKENS": f"bench:{TOKEN}",
        "CITYDIP_QUERY_TIMEOUT": str(args.timeout),
        "CITYDIP_ACCESS_LOG": "false",
    }
    if not limited:  # the readers all come from one address: no per-client limit for them
        env.update(CITYDIP_CLIENT_MAX_PARALLEL="0", CITYDIP_CLIENT_QUERY_SECONDS="0")
    if scale == "report":
        env["CITYDIP_DATASETS"] = "report"
    elif scale == "world":
        env["CITYDIP_DATASETS"] = "report,world"
    else:
        data = work.parent / "data-1m"
        if not (data / "gen-1000000.nt").is_file():
            log("generating 1,000,000 triples (seed 1)")
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--triples", "1000000",
                            "--seed", "1", "--out", str(data)], check=True,
                           stdout=subprocess.DEVNULL)
        env["CITYDIP_DATA_DIR"] = str(data)
        env["CITYDIP_DATASETS"] = "report"
    for item in args.env:
        key, _, value = item.partition("=")
        env[key] = value
    return start_citydip(env, work / "server.log", cwd=args.source, own_group=True,
                         limit=args.ready_timeout)


# --- what readers and writers send -------------------------------------------------------------


class Material:
    """Cities (for reads and writes), a report, topics: read from the server once.

    `areas` (the default): `cities` areas drawn with the seed from every city and
    administrative area that has a country, the report's and the world lists' alike (at world
    scale 17,000, of which the report's cities are 24; the world lists type their areas
    cd:AdministrativeArea, since they do not say which are cities). `report-cities`: the first
    2,000 of the cd:City resources with a country, as before 2026-12-05: at world scale the
    report's 24 cities only, so that the readers read 24 pages over and over while each write
    changes two of them (the worst case for pages kept across writes)."""

    def __init__(self, client: Http, seed: int, kind: str = "areas", cities: int = 500,
                 writes: str = "same") -> None:
        self.random = random.Random(seed)
        if kind == "report-cities":
            found = rows(client, f"PREFIX cd: <{CD}> SELECT ?city ?country WHERE {{ ?city a "
                                 "cd:City ; cd:country ?country } ORDER BY ?city LIMIT 2000")
        else:
            found = rows(client, f"PREFIX cd: <{CD}> SELECT DISTINCT ?city ?country WHERE {{ "
                                 "VALUES ?class { cd:City cd:AdministrativeArea } "
                                 "?city a ?class ; cd:country ?country } ORDER BY ?city")
        pairs = list(dict((r["city"].value, r["country"].value) for r in found).items())
        every = pairs
        if kind != "report-cities" and len(pairs) > cities:
            pairs = sorted(self.random.sample(pairs, cities))
        self.cities = pairs
        self.written = pairs
        """The cities the writers' agreements join: the readers' (`same`), or as many others
        (`other`: no write reaches a page or answer the readers read)."""
        if writes == "other":
            others = sorted(set(every) - set(pairs))
            if len(others) < 2:
                raise SystemExit("--writes other: no cities beside the readers' to write about")
            self.written = sorted(self.random.sample(others, min(len(others), len(pairs))))
        self.report = rows(client, f"PREFIX cd: <{CD}> SELECT ?r WHERE {{ ?r a cd:Report }} "
                                   "LIMIT 1")[0]["r"].value
        self.topics = [r["t"].value for r in rows(
            client, "SELECT ?t WHERE { ?t <http://www.w3.org/2004/02/skos/core#inScheme> "
                    f"<{ID}scheme/topics> }} ORDER BY ?t")]
        self._lock = threading.Lock()
        self._n = 0

    def city(self, rng: random.Random) -> str:
        return rng.choice(self.cities)[0]

    def agreement(self) -> tuple[str, str]:
        """A changeset (Turtle) and the IRI of the agreement it adds."""
        with self._lock:
            self._n += 1
            n = self._n
            (a, country_a), (b, _) = self.random.sample(self.written, 2)
            topics = self.random.sample(self.topics, 2)
        slug = f"load-{n}-{os.getpid()}"
        turtle = changesets.agreement(n, slug, (a, b), country_a, topics, self.report,
                                      ("Load benchmark agreement", "負載測試協定"))
        return turtle, f"{ID}agreement/{slug}"


def read_request(material: Material, rng: random.Random, n: int,
                 city: str | None = None) -> tuple[str, str, dict]:
    city = city or material.city(rng)
    kind = n % 3
    if kind == 0:
        return "partners-of", "/queries/partners-of?" + urlencode({"actor": city}), \
            {"Accept": JSON}
    if kind == 1:
        return "page", "/id/" + city.removeprefix(ID), {"Accept": "text/html"}
    lookup = f"SELECT ?p ?o WHERE {{ <{city}> ?p ?o }}"
    return "lookup", "/sparql?" + urlencode({"query": lookup}), {"Accept": JSON}


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    """Connection errors (no HTTP status)."""
    kept: int = 0
    """Answers the server sent from its kept pages and answers (`X-Page-Cache: hit`)."""

    def add(self, status: int | None, seconds: float, kept: bool = False) -> None:
        if status is None:
            self.errors += 1
            return
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if status == 200:
            self.latencies.append(seconds)
            self.kept += kept

    @property
    def failed(self) -> int:
        return self.errors + sum(n for s, n in self.statuses.items() if s != 200)

    def summary(self, seconds: float) -> dict:
        total = len(self.latencies) + self.failed
        return {"ok": len(self.latencies), "per_s": len(self.latencies) / seconds,
                "p50_ms": percentile(self.latencies, 0.5) * 1000,
                "p99_ms": percentile(self.latencies, 0.99) * 1000,
                "failed": self.failed, "failed_pct": 100 * self.failed / max(1, total),
                "5xx": sum(n for s, n in self.statuses.items() if s >= 500) + self.errors,
                "statuses": dict(sorted(self.statuses.items()))}


CLIENT_NICE = 0
"""The readers' and writers' threads' niceness (`--client-nice`)."""


def client_priority() -> None:
    """Lower this thread's priority by CLIENT_NICE: on a machine the benchmark shares with the
    server, the server's processes (the event loop, the validation process) then come first, as
    they do when the clients are other machines."""
    if CLIENT_NICE:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CLIENT_NICE)


def reader(port: int, material: Material, seed: int, stop: threading.Event, tally: Tally,
           lock: threading.Lock, kinds: dict[str, Tally], rate: float = 0.0,
           extra: dict | None = None) -> None:
    """Reads one after another (closed loop), or, with a `rate`, at most that many a second
    on a fixed schedule from a random offset (an offered load that does not grow with the
    server's speed); `extra`: headers sent with each read (phase 5's token)."""
    client_priority()
    rng = random.Random(seed)
    client = Http(port)
    n = seed
    period = 1.0 / rate if rate > 0 else 0.0
    next_at = time.perf_counter() + rng.random() * period
    time.sleep(max(0.0, next_at - time.perf_counter()))
    while not stop.is_set():
        kind, path, headers = read_request(material, rng, n)
        n += 1
        started = time.perf_counter()
        kept = False
        try:
            status, _, answered = client.request("GET", path,
                                                 headers={**headers, **(extra or {})})
            kept = any(k.lower() == "x-page-cache" and v == "hit" for k, v in answered.items())
        except OSError:
            status = None
        seconds = time.perf_counter() - started
        with lock:
            tally.add(status, seconds, kept)
            kinds.setdefault(kind, Tally()).add(status, seconds, kept)
        if period:  # as the writers' `even` arrivals
            next_at += period
            time.sleep(max(0.0, next_at - time.perf_counter()))


def first_pass(port: int, material: Material, threads: int = 4) -> dict:
    """Send every read the readers can send once (each city's three), from `threads`
    connections: the seconds it took and the statuses."""
    todo = [(city, kind) for city, _ in material.cities for kind in range(3)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    started = time.perf_counter()

    def send(part: list[tuple[str, int]]) -> None:
        client, rng = Http(port), random.Random(0)  # unused: every read names its city
        for city, kind in part:
            _, path, headers = read_request(material, rng, kind, city)
            try:
                status, _, _ = client.request("GET", path, headers=headers)
            except OSError:
                status = 0
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    workers = [threading.Thread(target=send, args=(todo[i::threads],), daemon=True)
               for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"reads": len(todo), "seconds": round(time.perf_counter() - started, 1),
            "statuses": dict(sorted(statuses.items()))}


def server_timing(headers: dict) -> dict[str, float]:
    """A write's steps as its answer's Server-Timing header gives them (ms, by name)."""
    value = next((v for k, v in headers.items() if k.lower() == "server-timing"), "")
    steps = {}
    for part in value.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name and duration:
            steps[name] = float(duration)
    return steps


def writer(port: int, material: Material, rate: float, stop: threading.Event, tally: Tally,
           acknowledged: list[str], lock: threading.Lock,
           steps: list[dict[str, float]], arrivals: str, seed: int) -> None:
    """An editor posting about `rate` changesets a second: at random moments (`random`: the
    gaps drawn from an exponential distribution of that mean, as independent editors post), or
    one every 1/rate seconds from the phase's start (`even`: every writer at the same moments,
    so that each write finds the others' under way)."""
    client_priority()
    client = Http(port)
    rng = random.Random(seed)
    period = 1.0 / rate if rate > 0 else 0.0
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    next_at = time.perf_counter()
    while not stop.is_set():
        turtle, agreement = material.agreement()
        body = json.dumps({"message": "load benchmark", "add": turtle}).encode()
        started = time.perf_counter()
        try:
            status, text, answered = client.request("POST", "/changes", body=body,
                                                    headers=headers)
        except OSError:
            status, text, answered = None, b"", {}
        seconds = time.perf_counter() - started
        with lock:
            tally.add(status, seconds)
            if status == 200 and json.loads(text).get("committed"):
                acknowledged.append(agreement)
                steps.append(server_timing(answered))
            elif status is not None and status != 200:
                log(f"write answered {status}: {text[:200]!r}")
        next_at += rng.expovariate(rate) if arrivals == "random" and rate > 0 else period
        time.sleep(max(0.0, next_at - time.perf_counter()))


def killer(server: Running, every: float, stop: threading.Event, killed: list[int]) -> None:
    rng = random.Random(7)
    while not stop.wait(every):
        workers = server.workers()
        if workers:
            victim = rng.choice(workers)
            try:
                victim.send_signal(signal.SIGKILL)
                killed.append(victim.pid)
            except psutil.NoSuchProcess:
                pass


def cpu_by_role(server: Running, stop: threading.Event, shares: dict[str, float]) -> None:
    """Sample the CPU seconds of the server's processes each second until `stop`; leave in
    `shares` the mean use by role over the phase (100 = one core busy)."""
    try:
        root = psutil.Process(server.process.pid)
    except psutil.NoSuchProcess:
        return
    seen: dict[int, float] = {}
    used: dict[str, float] = {}
    started = time.perf_counter()
    clients = psutil.Process()  # this benchmark's own readers and writers, for comparison
    clients_before = sum(clients.cpu_times()[:2])
    while True:
        for process in [root, *root.children(recursive=True)]:
            try:
                times = process.cpu_times()
                name = role(process, root.pid)
            except psutil.Error:
                continue
            total = times.user + times.system
            if process.pid in seen:  # a process started during the phase counts from then on
                used[name] = used.get(name, 0.0) + total - seen[process.pid]
            seen[process.pid] = total
        if stop.wait(1.0):
            break
    elapsed = time.perf_counter() - started
    used["benchmark"] = sum(clients.cpu_times()[:2]) - clients_before
    shares.update({name: round(100 * seconds / elapsed) for name, seconds in sorted(used.items())})


def replayed(port: int) -> int | None:
    """Reads the server has sent from a note of what it sent before (`/health`)."""
    try:
        status, body, _ = Http(port).request("GET", "/health")
        return json.loads(body)["kept_pages"]["replayed"] if status == 200 else None
    except (OSError, ValueError, KeyError):
        return None


def phase(server: Running, material: Material, args, writes: bool, kill: bool,
          acknowledged: list[str]) -> dict:
    stop, lock = threading.Event(), threading.Lock()
    killed: list[int]
    kinds: dict[str, Tally]
    reads, written, killed, kinds = Tally(), Tally(), [], {}
    steps: list[dict[str, float]] = []
    threads = [threading.Thread(target=reader, args=(server.port, material, 1000 * i + 1, stop,
                                                     reads, lock, kinds, args.read_rate),
                                daemon=True)
               for i in range(args.readers)]
    if writes:
        threads += [threading.Thread(target=writer, args=(server.port, material,
                                                          args.write_rate, stop, written,
                                                          acknowledged, lock, steps,
                                                          args.arrivals, 7 + i),
                                 daemon=True)
                    for i in range(args.writers)]
    if kill:
        threads.append(threading.Thread(target=killer, args=(server, args.kill_every, stop,
                                                             killed), daemon=True))
    cpu: dict[str, float] = {}
    sampler = threading.Thread(target=cpu_by_role, args=(server, stop, cpu), daemon=True)
    notes_before = replayed(server.port)
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    sampler.start()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join(args.timeout + 30)
    sampler.join(30)
    elapsed = time.perf_counter() - started
    result: dict[str, Any] = {"reads": reads.summary(elapsed),
              "by_kind": {k: {"p50_ms": round(percentile(t.latencies, 0.5) * 1000, 1),
                              "p99_ms": round(percentile(t.latencies, 0.99) * 1000, 1),
                              "failed": t.failed,
                              "made_per_s": round((len(t.latencies) - t.kept) / elapsed, 1)}
                          for k, t in sorted(kinds.items())}}
    if writes:
        result["writes"] = written.summary(elapsed)
        names = list(dict.fromkeys(name for step in steps for name in step))
        result["write_steps_p50_ms"] = {
            name: round(statistics.median(step.get(name, 0.0) for step in steps), 1)
            for name in names}
    if kill:
        result["killed"] = len(killed)
    notes_after = replayed(server.port)
    if notes_before is not None and notes_after is not None:
        result["replayed_per_s"] = round((notes_after - notes_before) / elapsed)
    result["cpu_percent"] = cpu
    return result


def burst(server: Running, material: Material, args) -> dict:
    """Runaway queries all at once; cheap requests timed while they last; then CPU to idle."""
    results: list[tuple[int | None, float]] = []
    lock = threading.Lock()

    def runaway() -> None:
        client = Http(server.port, timeout=args.timeout * args.runaways + 120)
        started = time.perf_counter()
        try:
            status = client.request("POST", "/sparql", body=urlencode({"query": RUNAWAY}).encode(),
                                    headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "Accept": JSON})[0]
        except OSError:
            status = None
        with lock:
            results.append((status, time.perf_counter() - started))

    page = "/id/" + material.city(random.Random(3)).removeprefix(ID)
    probe = Http(server.port)
    for _ in range(3):  # the page's query shapes get their history first
        probe.request("GET", page, headers={"Accept": "text/html"})
    threads = [threading.Thread(target=runaway, daemon=True) for _ in range(args.runaways)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    ask, pages = Tally(), Tally()
    status: int | None  # a probe's status, then each runaway's
    while any(t.is_alive() for t in threads) and len(ask.latencies) < 200:
        started = time.perf_counter()
        status = probe.sparql("ASK {}", {"Cache-Control": "no-cache"})[0]  # not a kept answer
        ask.add(status, time.perf_counter() - started)
        started = time.perf_counter()
        status = probe.request("GET", page, headers={"Accept": "text/html"})[0]
        pages.add(status, time.perf_counter() - started)
        time.sleep(0.1)
    for thread in threads:
        thread.join(args.timeout * args.runaways + 60)
    ended = time.perf_counter()
    idle_after = None
    while time.perf_counter() - ended < 30:
        if cpu_percent(server.tree(), 0.5) < 20:
            idle_after = time.perf_counter() - ended
            break
    statuses: dict[int, int] = {}
    for status, _ in results:
        statuses[status or 0] = statuses.get(status or 0, 0) + 1
    return {"runaways": len(results), "runaway_statuses": statuses,
            "runaway_max_s": max((s for _, s in results), default=float("nan")),
            "ask_max_ms": max(ask.latencies, default=float("nan")) * 1000,
            "ask_p50_ms": percentile(ask.latencies, 0.5) * 1000, "ask_failed": ask.failed,
            "page_max_ms": max(pages.latencies, default=float("nan")) * 1000,
            "page_p50_ms": percentile(pages.latencies, 0.5) * 1000, "page_failed": pages.failed,
            "idle_after_s": idle_after}


def greedy(port: int, stop: threading.Event, found: dict, lock: threading.Lock) -> None:
    """A well-behaved heavy user (a notebook firing queries from many threads): GREEDY again
    and again, each time computed anew (`Cache-Control: no-cache`); refused, it waits what
    Retry-After says. Leaves in `found` the statuses, the refusals by limit and whether each
    said when to come back."""
    client = Http(port)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, body, answered = client.request(
                "POST", "/sparql", body=urlencode({"query": GREEDY}).encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON,
                         "Cache-Control": "no-cache"})
        except OSError:
            status, body, answered = 0, b"", {}
        seconds = time.perf_counter() - started
        retry = next((v for k, v in answered.items() if k.lower() == "retry-after"), None)
        text = body.decode("utf-8", "replace")
        reason = ("parallel" if "running already" in text else "budget" if "budget" in text
                  else "stopped" if "longer than" in text else "queue" if status == 503 else "")
        with lock:
            found["statuses"][status] = found["statuses"].get(status, 0) + 1
            if status == 200:
                found["answered_s"].append(seconds)
            elif reason == "stopped":  # ran to its time limit: not a refusal, nothing to wait
                found["stopped"] += 1
            elif status in (429, 503):
                found["refused"][reason] = found["refused"].get(reason, 0) + 1
                found["refused_ms"].append(seconds * 1000)
                found["without_retry_after"] += retry is None
        if status in (429, 503):
            stop.wait(float(retry) if retry and retry.isdigit() else 1.0)


def throttling(server: Running, material: Material, args) -> dict:
    """Phase 5, on the server restarted with the per-client limits at their defaults: a polite
    client (a token's name, `--polite` readers of the readers' mix) alone, then beside a greedy
    one (`--greedy` threads of GREEDY from the address) for `--throttle-seconds`."""
    lock = threading.Lock()
    extra = {"Authorization": f"Bearer {TOKEN}"}  # a client of its own: the token's name

    def polite(seconds: float, stop: threading.Event) -> dict:
        tally, kinds = Tally(), dict[str, Tally]()
        threads = [threading.Thread(target=reader, args=(server.port, material, 500 + i, stop,
                                                         tally, lock, kinds, 0.0, extra),
                                    daemon=True) for i in range(args.polite)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        stop.wait(seconds)
        stop.set()
        for thread in threads:
            thread.join(args.timeout + 30)
        return tally.summary(time.perf_counter() - started)

    result: dict[str, Any] = {"alone": polite(args.throttle_seconds / 3, threading.Event())}
    found: dict[str, Any] = {"statuses": {}, "refused": {}, "refused_ms": [], "answered_s": [],
                             "without_retry_after": 0, "stopped": 0}
    stop = threading.Event()
    heavy = [threading.Thread(target=greedy, args=(server.port, stop, found, lock), daemon=True)
             for _ in range(args.greedy)]
    for thread in heavy:
        thread.start()
    result["beside_greedy"] = polite(args.throttle_seconds, stop)
    for thread in heavy:
        thread.join(args.timeout + 60)
    answered = found.pop("answered_s")
    refused_ms = found.pop("refused_ms")
    found.update(answered=len(answered), answered_p50_s=percentile(answered, 0.5),
                 refused_p50_ms=percentile(refused_ms, 0.5))
    found["statuses"] = dict(sorted(found["statuses"].items()))
    result["greedy"] = found
    return result


def settle(server: Running, limit: float) -> float | None:
    """Wait until the server has caught up with the writes and its processes are idle, so that
    the burst's "idle after" times what the runaways leave behind; seconds waited, None: not
    idle within `limit`.

    Idle CPU alone is not enough: a derived view recomputed after the writes (the network's
    measures, a kept named query's answer) waits out its interval first, and the recomputation
    then started during the burst and queued behind the runaways. /health's `catching_up`
    lists what is computing or due."""
    started = time.perf_counter()
    client = Http(server.port)
    while time.perf_counter() - started < limit:
        if cpu_percent(server.tree(), 1.0) < 20 and not json.loads(
                client.request("GET", "/health")[1]).get("catching_up"):
            return time.perf_counter() - started
    return None


def verify(server: Running, acknowledged: list[str]) -> dict:
    client = Http(server.port)
    missing = []
    for agreement in acknowledged:
        status, body, _ = client.sparql(f"ASK {{ <{agreement}> a <{CD}SisterCityAgreement> }}")
        if status != 200 or not json.loads(body)["boolean"]:
            missing.append(agreement)
    return {"acknowledged": len(acknowledged), "missing": len(missing)}


def run_scale(scale: str, args) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"citydip-load-{scale}-", dir=args.work_dir))
    log(f"[{scale}] starting the server (store in {work})")
    started = time.perf_counter()
    server = start_server(scale, work, args)
    try:
        log(f"[{scale}] up in {time.perf_counter() - started:.0f} s")
        client = Http(server.port)
        triples = json.loads(client.request("GET", "/health")[1])["triples"]
        material = Material(client, 1, args.material, args.cities, args.writes)
        result_material = {"kind": args.material, "cities": len(material.cities),
                           "writes": args.writes}
        acknowledged: list[str] = []
        result = {"scale": scale, "triples": triples, "material": result_material}
        log(f"[{scale}] material: {json.dumps(result_material)}")
        log(f"[{scale}] warm-up")
        phase(server, material, argparse.Namespace(**{**vars(args), "seconds": 3}), False,
              False, [])
        result["first_pass"] = first_pass(server.port, material)
        log(f"[{scale}] every read once: {json.dumps(result['first_pass'])}")
        # The start's own work (the derived views' first computation: at 1M the network's
        # measures) would otherwise fall in the read-only phase and lower its figure.
        result["settled_at_start_s"] = settle(server, args.settle_limit)
        log(f"[{scale}] idle {result['settled_at_start_s'] or args.settle_limit:.1f} s after "
            "the warm-up")
        for name, writes, kill in (("read-only", False, False), ("reads+writes", True, False),
                                   ("reads+writes+kill", True, True)):
            log(f"[{scale}] {name} for {args.seconds} s")
            result[name] = phase(server, material, args, writes, kill, acknowledged)
            log(f"[{scale}] {name}: {json.dumps(result[name])}")
        if args.rounds > 1:
            result["rounds"] = rounds(server, material, args, result, acknowledged, scale)
        settled = settle(server, args.settle_limit)
        log(f"[{scale}] idle {settled:.1f} s after the writes"
            if settled is not None else f"[{scale}] still busy {args.settle_limit:g} s after "
            "the writes; the burst starts anyway")
        log(f"[{scale}] burst of {args.runaways} runaway queries")
        result["burst"] = burst(server, material, args)
        result["burst"]["settled_before_s"] = settled
        log(f"[{scale}] burst: {json.dumps(result['burst'])}")
        result["durability"] = verify(server, acknowledged)
        log(f"[{scale}] writes: {json.dumps(result['durability'])}")
        if args.throttle_seconds > 0:
            server.stop(strict=False)
            log(f"[{scale}] restarting with the default per-client limits")
            server = start_server(scale, work, args, limited=True)
            for _ in range(2):  # pages made again, lookups kept from their second sight
                first_pass(server.port, material)
            settle(server, args.settle_limit)
            log(f"[{scale}] throttling: {args.polite} polite readers, {args.greedy} greedy "
                f"threads, {args.throttle_seconds:g} s")
            result["throttling"] = throttling(server, material, args)
            log(f"[{scale}] throttling: {json.dumps(result['throttling'])}")
        return result
    finally:
        server.stop(strict=False)
        if args.keep:
            log(f"[{scale}] kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


PHASES = ("read-only", "reads+writes", "reads+writes+kill")


def round_figures(read_only: dict, with_writes: dict) -> dict:
    ro, rw, w = read_only["reads"], with_writes["reads"], with_writes["writes"]
    return {"read_only_per_s": ro["per_s"], "read_only_p99_ms": ro["p99_ms"],
            "with_writes_per_s": rw["per_s"], "with_writes_p99_ms": rw["p99_ms"],
            "share": rw["per_s"] / ro["per_s"], "p99_ratio": rw["p99_ms"] / ro["p99_ms"],
            "writes_per_s": w["per_s"], "write_p50_ms": w["p50_ms"],
            "failed": ro["failed"] + rw["failed"], "5xx": ro["5xx"] + rw["5xx"],
            "write_steps_p50_ms": with_writes.get("write_steps_p50_ms", {}),
            "cpu_percent": {"read-only": read_only.get("cpu_percent", {}),
                            "reads+writes": with_writes.get("cpu_percent", {})}}


def rounds(server: Running, material: Material, args, result: dict, acknowledged: list[str],
           scale: str) -> dict:
    """`--rounds` N: the read-only and reads-plus-writes phases N times in turn (the first pair
    is the run's own), each read-only phase once the server is idle again; each round's figures
    and their medians. On a shared machine one read-only phase can be 15 % off the next, and
    the share is a ratio of two such phases: the median of several pairs side by side is the
    figure to quote."""
    each = [round_figures(result["read-only"], result["reads+writes"])]
    for n in range(2, args.rounds + 1):
        settle(server, args.settle_limit)
        log(f"[{scale}] round {n}: read-only, then reads+writes, {args.seconds} s each")
        read_only = phase(server, material, args, False, False, acknowledged)
        with_writes = phase(server, material, args, True, False, acknowledged)
        each.append(round_figures(read_only, with_writes))
        log(f"[{scale}] round {n}: {json.dumps(each[-1])}")
    keys = [k for k in each[0] if k not in ("failed", "5xx", "write_steps_p50_ms", "cpu_percent")]
    medians = {k: statistics.median(r[k] for r in each) for k in keys}
    medians["share_of_medians"] = medians["with_writes_per_s"] / medians["read_only_per_s"]
    return {"each": each, "median": medians}


def markdown(results: list[dict], args) -> str:
    lines = [f"Readers {args.readers}, writers {args.writers} (each {args.write_rate}/s, "
             f"{args.arrivals} arrivals), "
             f"{args.seconds:g} s per phase, a worker SIGKILLed every {args.kill_every:g} s, "
             f"query timeout {args.timeout:g} s, {os.cpu_count()} cores (shared), "
             f"readers and writers at nice {args.client_nice}"
             + (f", each reader at most {args.read_rate:g} reads/s" if args.read_rate else "")
             + "; "
             + ", ".join(f"{r['scale']}: {r['material']['cities']} cities ({r['material']['kind']}"
                         + (", writes about others" if r["material"].get("writes") == "other"
                            else "") + ")"
                         for r in results) + ".", "",
             "| scale | phase | reads/s | read p50 ms | read p99 ms | failed reads | 5xx | "
             "writes/s | write p50 ms | write p99 ms |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        for name in PHASES:
            p = r[name]
            reads, w = p["reads"], p.get("writes")
            cells = [f"{r['scale']} ({r['triples']:,})", name, f"{reads['per_s']:.1f}",
                     f"{reads['p50_ms']:.0f}", f"{reads['p99_ms']:.0f}",
                     f"{reads['failed']} ({reads['failed_pct']:.2f} %)", str(reads["5xx"]),
                     f"{w['per_s']:.1f}" if w else "", f"{w['p50_ms']:.0f}" if w else "",
                     f"{w['p99_ms']:.0f}" if w else ""]
            lines.append("| " + " | ".join(cells) + " |")
    steps = [(r["scale"], name, r[name]["write_steps_p50_ms"]) for r in results
             for name in ("reads+writes", "reads+writes+kill")
             if r[name].get("write_steps_p50_ms")]
    if steps:
        names = list(dict.fromkeys(n for _, _, found in steps for n in found))
        lines += ["", "A write's steps, p50 ms (its answer's Server-Timing):", "",
                  "| scale | phase | " + " | ".join(names) + " |",
                  "|---|---|" + "---:|" * len(names)]
        for scale, name, found in steps:
            lines.append(f"| {scale} | {name} | "
                         + " | ".join(f"{found.get(n, 0):.1f}" for n in names) + " |")
    kinds = list(dict.fromkeys(k for r in results for name in PHASES
                               for k in r[name].get("by_kind", {})))
    if kinds:
        lines += ["", "Reads answered by making the page or answer anew (not kept from an "
                  "earlier read), per second, and the kept ones the server sent from a note of "
                  "what it sent before (server/replay.py):", "",
                  "| scale | phase | " + " | ".join(kinds) + " | sent from a note |",
                  "|---|---|" + "---:|" * (len(kinds) + 1)]
        for r in results:
            for name in PHASES:
                found = r[name].get("by_kind", {})
                lines.append(f"| {r['scale']} | {name} | " + " | ".join(
                    str(found.get(k, {}).get("made_per_s", "")) for k in kinds)
                    + f" | {r[name].get('replayed_per_s', '')} |")
    roles = list(dict.fromkeys(n for r in results for name in PHASES
                               for n in r[name].get("cpu_percent", {})))
    if roles:
        lines += ["", "CPU by process, % of one core (mean over the phase):", "",
                  "| scale | phase | " + " | ".join(roles) + " |",
                  "|---|---|" + "---:|" * len(roles)]
        for r in results:
            for name in PHASES:
                found = r[name].get("cpu_percent", {})
                lines.append(f"| {r['scale']} | {name} | "
                             + " | ".join(str(found.get(n, 0)) for n in roles) + " |")
    lines += ["", "| scale | settled before s | runaways: statuses | ASK {} max ms | "
              "page max ms | idle after s | acknowledged writes | missing |",
              "|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        b, d = r["burst"], r["durability"]
        idle = "-" if b["idle_after_s"] is None else f"{b['idle_after_s']:.1f}"
        settled = "-" if b.get("settled_before_s") is None else f"{b['settled_before_s']:.1f}"
        lines.append(f"| {r['scale']} | {settled} | {b['runaway_statuses']} | "
                     f"{b['ask_max_ms']:.0f} | {b['page_max_ms']:.0f} | {idle} | "
                     f"{d['acknowledged']} | {d['missing']} |")
    repeated = [r for r in results if "rounds" in r]
    if repeated:
        lines += ["", "Read-only and reads+writes in turn (`--rounds`), each pair side by side:",
                  "", "| scale | round | read-only reads/s | p99 ms | with writes reads/s | "
                  "p99 ms | share | p99 × | writes/s | write p50 ms |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in repeated:
            rows = [(str(i), f) for i, f in enumerate(r["rounds"]["each"], 1)]
            for label, f in rows + [("median", r["rounds"]["median"])]:
                lines.append(
                    f"| {r['scale']} | {label} | {f['read_only_per_s']:.0f} | "
                    f"{f['read_only_p99_ms']:.1f} | {f['with_writes_per_s']:.0f} | "
                    f"{f['with_writes_p99_ms']:.1f} | {100 * f['share']:.0f} % | "
                    f"{f['p99_ratio']:.1f}× | {f['writes_per_s']:.1f} | "
                    f"{f['write_p50_ms']:.0f} |")
            m = r["rounds"]["median"]
            lines.append(f"| {r['scale']} | share of the medians | | | | | "
                         f"{100 * m['share_of_medians']:.0f} % | | | |")
    throttled = [r for r in results if "throttling" in r]
    if throttled:
        lines += ["", f"Per-client limits at their defaults (the server restarted): "
                  f"{args.polite} polite readers (a token's name) alone for "
                  f"{args.throttle_seconds / 3:g} s, then beside {args.greedy} greedy threads "
                  f"(one address) for {args.throttle_seconds:g} s:", "",
                  "| scale | polite alone reads/s | p50 ms | p99 ms | polite beside greedy "
                  "reads/s | p50 ms | p99 ms | failed | greedy answered | p50 s | stopped at "
                  "the time limit | 429 parallel | 429 budget | 503 queue | refused p50 ms | "
                  "refusals without Retry-After |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                  "---:|"]
        for r in throttled:
            alone, beside, g = (r["throttling"]["alone"], r["throttling"]["beside_greedy"],
                                r["throttling"]["greedy"])
            lines.append(
                f"| {r['scale']} | {alone['per_s']:.0f} | {alone['p50_ms']:.1f} | "
                f"{alone['p99_ms']:.1f} | {beside['per_s']:.0f} | {beside['p50_ms']:.1f} | "
                f"{beside['p99_ms']:.1f} | {beside['failed']} | {g['answered']} | "
                f"{g['answered_p50_s']:.2f} | {g['stopped']} | "
                f"{g['refused'].get('parallel', 0)} | "
                f"{g['refused'].get('budget', 0)} | {g['refused'].get('queue', 0)} | "
                f"{g['refused_p50_ms']:.1f} | {g['without_retry_after']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="report,world",
                        help="comma-separated: report, world (report+world lists), 1m")
    parser.add_argument("--seconds", type=float, default=20, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=1,
                        help="read-only and reads+writes this many times in turn, with each "
                             "round's figures and their medians")
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--write-rate", type=float, default=3.0,
                        help="writes per second per writer (on average, or at most when a "
                             "write takes longer than the gap)")
    parser.add_argument("--arrivals", choices=("random", "even"), default="random",
                        help="when each writer posts: at random moments of that mean rate "
                             "(independent editors), or evenly from the same start")
    parser.add_argument("--material", choices=("areas", "report-cities"), default="areas",
                        help="the cities read and written: drawn from every area with a "
                             "country, or the cd:City resources only (at world scale the "
                             "report's 24)")
    parser.add_argument("--cities", type=int, default=500,
                        help="how many areas the readers and writers choose from (areas)")
    parser.add_argument("--writes", choices=("same", "other"), default="same",
                        help="the cities the writes join: the readers' (same), or others, so "
                             "that no write reaches what the readers read (other)")
    parser.add_argument("--read-rate", type=float, default=0.0,
                        help="reads per second per reader, at most (0: as fast as answered)")
    parser.add_argument("--client-nice", type=int, default=0,
                        help="niceness of the readers' and writers' threads (0: as the server's; "
                             "10: the server's processes first, as with clients elsewhere)")
    parser.add_argument("--kill-every", type=float, default=4.0)
    parser.add_argument("--throttle-seconds", type=float, default=30,
                        help="phase 5: the greedy client's seconds (0: no phase 5)")
    parser.add_argument("--greedy", type=int, default=16,
                        help="phase 5: the greedy client's threads")
    parser.add_argument("--polite", type=int, default=4,
                        help="phase 5: the polite client's readers")
    parser.add_argument("--runaways", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=5.0, help="CITYDIP_QUERY_TIMEOUT")
    parser.add_argument("--settle-limit", type=float, default=300,
                        help="seconds to wait for the server to be idle before the burst")
    parser.add_argument("--ready-timeout", type=float, default=900)
    parser.add_argument("--env", action="append", default=[],
                        help="extra CITYDIP_*=value for the server (repeatable)")
    parser.add_argument("--work-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--keep", action="store_true",
                        help="keep each scale's store, history and server log afterwards")
    parser.add_argument("--source", type=Path, default=ROOT,
                        help="the checkout whose server runs (another one: to compare versions)")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    args = parser.parse_args(argv)
    global CLIENT_NICE
    CLIENT_NICE = args.client_nice
    # SIGTERM (as Ctrl-C) unwinds, so that the server started is stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    results = [run_scale(scale.strip(), args) for scale in args.scales.split(",")
               if scale.strip()]
    table = markdown(results, args)
    print(table)
    if args.markdown:
        args.markdown.write_text(table, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    lost = sum(r["durability"]["missing"] for r in results)
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
