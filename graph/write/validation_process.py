"""SHACL validation of a change in a long-lived process of its own.

Why it is built this way: validation is pure Python (pyshacl over rdflib), about 30 ms of CPU
for a small change on this machine (60 to 100 ms before the shapes were kept parsed and chosen
per change, graph.store.kept_shapes), and all of it holds the GIL of the process that runs it.
In the server process that is the GIL the HTTP layer, page rendering and the cheap query lane
need: two editors at 6 writes/s took most of it, and readers kept 37 % of their read-only
throughput (docs/benchmarks.md, issue 10). Here the small graph that incremental validation cuts
out of the staged store (graph.write.incremental: the focus nodes' triples and what the shapes
read about them, a hundred triples or so) is sent to a child process that keeps the parsed
shapes (pyshacl's ShapesGraph, built once) and the class hierarchy, and answers with the
findings about the focus nodes it is sent with. The graph crosses the pipe as plain strings and
tuples (`wire_triples`), made from pyoxigraph terms without rdflib: making and pickling rdflib
terms was a tenth of the writer's CPU per write (5.0 to 4.5 ms in process). The writer's thread
waits on a pipe, which releases the GIL; the work that needs the store (staging, focus nodes,
extraction) stays in the writer, so the child needs no store and no snapshot.

The child is a fresh interpreter (`python -m graph.write.validation_process`, started by
graph.core.child as the network's measures are: no fork of a threaded server, which could copy a
held lock, and named in `ps`), started when the server opens
its store, and its start-up (imports, parsing the shapes) runs beside the
server's own; the command line's one-off writers validate in their own process instead. If the
child dies, the change at hand is validated in the writer's process, so a write never fails for
want of the child, and a new child is started for the next one. A change whose validation takes
longer than `CITYDIP_VALIDATION_SECONDS` is refused (nothing is written) and the child replaced:
in a process of its own validation can be stopped, which it cannot in the server's.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from graph.core.child import Duplex, connect, finish, messages, spawn, stop
from graph.store.validate import Report

log = logging.getLogger(__name__)

STARTUP_SECONDS = 60.0
"""How long a new child may take to import its modules and parse the shapes."""


class ValidationTimeout(Exception):
    """The child did not answer in time (it has been stopped)."""


def _child(conn: Duplex) -> None:
    """Validate graphs sent by the parent until it closes the pipe (or sends None).

    The first message is the shapes folder and the class hierarchy (rdflib triples); then each
    is a graph (`wire_triples`) and the focus nodes whose findings are wanted (IRIs)."""
    from rdflib import URIRef

    from graph.store.kept_shapes import KeptShapes
    from graph.store.validate import parse_dir
    from graph.write.incremental import PreparedQueryGraph

    shapes_dir, hierarchy = conn.recv()
    shapes = KeptShapes(parse_dir(Path(shapes_dir)))
    terms = _Terms()
    conn.send("ready")
    for message in messages(conn):
        triples, focus = message
        graph = PreparedQueryGraph(bind_namespaces="core")
        term = terms.rdflib
        for s, p, o in triples:
            graph.add((term(s), term(p), term(o)))
        for triple in hierarchy:
            graph.add(triple)
        try:
            findings = shapes.validate(graph, [URIRef(name) for name in focus]).findings
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which validates itself
            conn.send(exc if _picklable(exc) else RuntimeError(repr(exc)))
            continue
        conn.send(findings)


# --- the graph on the pipe ---------------------------------------------------------------------
# Plain strings and tuples pickle several times faster than rdflib terms (whose pickling goes
# through __reduce__), and the parent makes them from pyoxigraph terms without rdflib.

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def wire_triples(triples: Iterable[tuple]) -> list[tuple]:
    """pyoxigraph triples as the child receives them: an IRI as its text, a blank node as
    (id,), a literal as (value, language, datatype)."""
    return [(_wire(s), _wire(p), _wire(o)) for s, p, o in triples]


def _wire(term: Any) -> Any:
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return (term.value,)
    return (term.value, term.language, term.datatype.value)


class _Terms:
    """rdflib terms from `wire_triples`'s form, as graph.core.terms.rdflib_term makes them
    from pyoxigraph terms; IRIs are kept (a write's graph names the same classes and
    properties every time)."""

    def __init__(self) -> None:
        from rdflib import BNode, Literal, URIRef

        self.iris: dict[str, Any] = {}
        self.uri, self.bnode, self.literal = URIRef, BNode, Literal

    def rdflib(self, wired: Any) -> Any:
        if isinstance(wired, str):
            iri = self.iris.get(wired)
            if iri is None:
                if len(self.iris) > 100_000:
                    self.iris.clear()
                iri = self.iris[wired] = self.uri(wired)
            return iri
        if len(wired) == 1:
            return self.bnode(wired[0])
        value, language, datatype = wired
        if language:
            return self.literal(value, lang=language)
        if datatype == XSD_STRING:
            return self.literal(value)
        return self.literal(value, datatype=self.rdflib(datatype))


def _picklable(exc: BaseException) -> bool:
    import pickle

    try:
        pickle.dumps(exc)
    except Exception:  # noqa: BLE001 - anything pickle refuses
        return False
    return True


class ValidationProcess:
    """A child process that validates extracted graphs (rdflib triples) against the shapes."""

    def __init__(self, shapes_dir: Path, hierarchy: Iterable[tuple], timeout: float) -> None:
        self.shapes_dir = str(shapes_dir)
        self.hierarchy = list(hierarchy)
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._conn: Duplex | None = None
        self._ready = False
        self.restarts = 0
        """Children started after the first (one died or was stopped)."""
        self.fallbacks = 0
        """Changes validated in the writer's process because the child could not answer."""

    def start(self) -> None:
        """Start the child now (it is started at the first validation otherwise)."""
        with self._lock:
            if self._process is None:
                self._start()

    def _start(self) -> None:
        process, conn = spawn("graph.write.validation_process")
        conn.send((self.shapes_dir, self.hierarchy))
        self._process, self._conn, self._ready = process, conn, False

    def _stop(self, end=stop) -> None:
        """Let go of the child: `stop` it at once, or `finish` (ask it to end first)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        end(process, conn)

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def validate(self, triples: list[tuple], focus: list[str]) -> Report | None:
        """The report for this graph (`wire_triples`) about the `focus` nodes (IRIs), or None if
        the child could not answer (it is replaced; the caller validates in its own process).
        Raises ValidationTimeout past the time limit."""
        with self._lock:
            if self._process is not None and self._process.poll() is not None:
                self._stop()
                self.restarts += 1
            if self._process is None:
                self._start()
            conn = self._conn
            assert conn is not None
            try:
                if not self._ready:
                    if not conn.poll(STARTUP_SECONDS) or conn.recv() != "ready":
                        raise EOFError("the validation process did not start")
                    self._ready = True
                conn.send((triples, focus))
                started = time.monotonic()
                if not conn.poll(self.timeout):
                    log.warning("validation took over %s s; its process is stopped", self.timeout)
                    self._stop()
                    raise ValidationTimeout(time.monotonic() - started)
                answer = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as exc:
                log.warning("the validation process failed (%s); validating in process", exc)
                self._stop()
                self.fallbacks += 1
                return None
            if isinstance(answer, BaseException):
                log.warning("validation failed in its process (%r); validating in process",
                            answer)
                self.fallbacks += 1
                return None
            return Report(findings=list(answer))

    def close(self) -> None:
        with self._lock:
            self._stop(finish)


if __name__ == "__main__":  # the child: python -m graph.write.validation_process IN OUT
    _child(connect())
