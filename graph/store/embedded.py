"""The store abstraction: an embedded pyoxigraph store holding the dataset in named graphs."""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox
import rdflib

from graph.sparql.formats import rdf_format_of_path
from graph.sparql.text import bind_values
from graph.store.data_update import data_update
from graph.store.protocol import QuadStore

QuadFormats = {ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG}

SNAPSHOT_MARKER = "CITYDIP-SNAPSHOT"
"""Written into a checkpoint directory once it is complete (graph.store.snapshots): only such a
directory, which nobody writes, may be opened read-only by another process."""


class LiveStoreError(RuntimeError):
    """A read-only open of a directory that is not a finished snapshot (it may be written)."""


def open_read_only(path: str | Path) -> ox.Store:
    """Open a snapshot read-only; refuse any other directory.

    pyoxigraph documents a read-only open of a directory that another process writes as undefined
    behaviour; a finished snapshot is never written, the live store always may be.
    """
    if not (Path(path) / SNAPSHOT_MARKER).is_file():
        raise LiveStoreError(f"{path} is not a finished snapshot of the store: a directory that "
                             "may be written is never opened read-only")
    return ox.Store.read_only(str(path))


class Store:
    """A quad store: named graphs in, SPARQL out. The default graph of queries is the union."""

    def __init__(self, path: Path | None = None) -> None:
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        self.path = path
        """The store's folder; None in memory."""
        self._store = ox.Store(str(path)) if path is not None else ox.Store()
        self.lock = threading.RLock()
        """Held while this process writes (and by the query pool while it forks a worker, so that
        a forked worker never inherits a store caught in the middle of a write)."""
        self.writes = 0
        """Writes made through this object so far, counted as each ends (the writer's, under the
        lock): a reader that remembers something about the data (graph.store.lanes) knows by it
        that the data changed."""
        self.committing = threading.Lock()
        """Held while a write is put into the store and counted (not while the writer works out
        and validates it, under `lock`): a reader that holds it and finds the count unchanged
        reads exactly the data it remembers (graph.store.lanes' inline repeats)."""

    # --- writing ---------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Around every write to the store: held `committing`, counted in `writes` as it ends
        (also when it fails: it may have written part of the data)."""
        with self.committing:
            try:
                yield
            finally:
                self.writes += 1

    def load_file(self, path: Path, graph: str | None, on_bytes=None) -> None:
        """Load one RDF file (format from its extension) into a named graph (None: the default
        graph), atomically.

        `on_bytes(n)` is called as the parser reads the file, for progress reports.
        """
        with path.open("rb") as handle:
            # _Reporting is a binary file, which the IO[bytes] of the stub does not see
            source = cast(IO[bytes], _Reporting(handle, on_bytes)) if on_bytes else handle
            with self._writing():
                try:
                    self._store.load(source, format=_format_for(path), to_graph=_graph(graph))
                except SyntaxError as exc:
                    raise ValueError(f"{path}: {exc}") from None

    def bulk_load_file(self, path: Path, graph: str | None, on_bytes=None) -> None:
        """Load one RDF file with the engine's bulk loader: fast and lean, but not atomic, so
        only for filling an empty store (graph.store.load marks a finished fill).

        The engine is given the path, not a Python file: it then reads and parses the file in
        its own threads, a fifth faster at a million triples than through a Python reader
        (docs/benchmarks.md, "The first load"). `on_bytes(n)` is fed meanwhile from the bytes
        the process has read (`_ReadWatcher`), and made whole when the load ends.
        """
        size = path.stat().st_size
        with _ReadWatcher(on_bytes, size), self._writing():
            try:
                self._store.bulk_load(path=str(path), format=_format_for(path),
                                      to_graph=_graph(graph))
            except SyntaxError as exc:
                raise ValueError(f"{path}: {exc}") from None

    def optimize(self) -> None:
        """Compact the store's files (after a bulk fill)."""
        self._store.optimize()

    def load_data(self, data: bytes | str, format: ox.RdfFormat, graph: str) -> None:
        with self._writing():
            self._store.load(data, format=format, to_graph=ox.NamedNode(graph))

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple]) -> int:
        """Replace a named graph's content with the given triples; returns how many were written."""
        node = ox.NamedNode(graph)
        quads = [ox.Quad(t.subject, t.predicate, t.object, node) for t in triples]
        with self._writing():
            self._store.clear_graph(node)
            self._store.extend(quads)
        return len(quads)

    def clear(self) -> None:
        with self._writing():
            self._store.clear()

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update as one transaction: all of it is written, or nothing."""
        with self.lock, self._writing():
            self._store.update(sparql)

    def apply(self, removed: Collection[ox.Quad], added: Collection[ox.Quad]) -> None:
        """Remove then add these quads in one transaction (graph.store.protocol.QuadStore).

        As one SPARQL Update (graph.store.data_update): pyoxigraph's Python API has no other
        transaction that both removes and adds.
        """
        if removed or added:
            self.update(data_update(removed, added))

    def backup(self, target: Path) -> None:
        """A consistent checkpoint of an on-disk store in `target` (hard links; see snapshots)."""
        self._store.backup(str(target))

    def flush(self) -> None:
        """Make every write durable on disk (a no-op in memory)."""
        self._store.flush()

    @property
    def raw(self) -> ox.Store:
        """The pyoxigraph store itself, for the query workers that inherit it."""
        return self._store

    # --- reading ---------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
        *,
        default_graph: list[str] | None = None,
        named_graphs: list[str] | None = None,
    ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a SPARQL query; `bindings` binds variables to RDF terms (VALUES, never raw text)."""
        kwargs: dict = {}
        if default_graph is not None:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph]
        else:
            kwargs["use_default_graph_as_union"] = True
        if named_graphs is not None:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
        return self._store.query(bind_values(sparql, bindings or {}), **kwargs)

    def quads_for_pattern(self, subject=None, predicate=None, object=None, graph=None):
        """The quads matching a pattern (None is a wildcard; graph None means every graph)."""
        if isinstance(subject, ox.Literal) or isinstance(predicate, ox.Literal | ox.BlankNode):
            return iter(())  # matches nothing (and pyoxigraph refuses such a pattern)
        return self._store.quads_for_pattern(subject, predicate, object, graph)

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def count(self, graph: str | None = None) -> int:
        with self.lock:  # as for writes: no worker is forked while this thread is in the store
            if graph is None:
                return len(self._store)
            # counted by the engine: a Python loop over the quads takes 0.5 s per 300,000
            solutions = cast(ox.QuerySolutions, self._store.query(
                f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {ox.NamedNode(graph)} {{ ?s ?p ?o }} }}"))
            return int(cast(ox.Literal, next(solutions)["n"]).value)

    def dump(self, format: ox.RdfFormat, graph: str | None = None) -> bytes:
        """Serialize the whole dataset (quad formats) or the union / one graph (triple formats)."""
        if format in QuadFormats:
            return cast(bytes, self._store.dump(format=format))  # no output: returns bytes
        if graph is not None:
            return cast(bytes, self._store.dump(format=format, from_graph=ox.NamedNode(graph)))
        triples = self._store.query(
            "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", use_default_graph_as_union=True
        )
        return cast(bytes, ox.serialize(cast(ox.QueryTriples, triples), format=format))

    def to_rdflib(self) -> rdflib.Graph:
        """The union of all graphs as an in-memory rdflib graph (for pyshacl and rdflib tools)."""
        union = rdflib.Graph()
        union.parse(data=self.dump(ox.RdfFormat.N_TRIPLES), format="nt")
        return union

    def version(self) -> str:
        """A digest of the content, to key caches on the data version."""
        digest = hashlib.sha256(cast(bytes, self._store.dump(format=ox.RdfFormat.N_QUADS)))
        return digest.hexdigest()[:16]


class _Reporting(io.RawIOBase):
    """A binary file that reports how many bytes were read."""

    def __init__(self, handle, on_bytes) -> None:
        self._handle, self._on_bytes = handle, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self._handle.readinto(buffer)
        if n:
            self._on_bytes(n)
        return n


class _ReadWatcher:
    """Reports a bulk load's progress from the bytes this process has read (`rchar` of
    /proc/self/io, polled twice a second), as the engine reads the file in threads of its own.

    Approximate (the store's own reads count too), so never more than the file's size, and the
    rest is reported when the load ends. Without /proc the whole size comes at the end.
    """

    IO = Path("/proc/self/io")

    def __init__(self, on_bytes, size: int, every: float = 0.5) -> None:
        self._on_bytes, self._size, self._every = on_bytes, size, every
        self._reported = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def _read_so_far(cls) -> int | None:
        try:
            for line in cls.IO.read_text().splitlines():
                if line.startswith("rchar:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None

    def _report(self, upto: int) -> None:
        upto = min(upto, self._size)
        if upto > self._reported:
            self._on_bytes(upto - self._reported)
            self._reported = upto

    def _watch(self, start: int) -> None:
        while not self._stop.wait(self._every):
            now = self._read_so_far()
            if now is not None:
                self._report(now - start)

    def __enter__(self) -> _ReadWatcher:
        start = self._read_so_far() if self._on_bytes else None
        if start is not None:
            self._thread = threading.Thread(target=self._watch, args=(start,), daemon=True,
                                            name="bulk-load-progress")
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._on_bytes and exc[0] is None:
            self._report(self._size)


_conforms: type[QuadStore] = Store
"""mypy checks here that the store is a QuadStore (graph.store.protocol)."""


def _format_for(path: Path) -> ox.RdfFormat:
    fmt = rdf_format_of_path(path)
    if fmt is None:
        raise ValueError(f"{path}: unknown RDF file extension {path.suffix!r}")
    return fmt


def _graph(graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
    return ox.DefaultGraph() if graph is None else ox.NamedNode(graph)
