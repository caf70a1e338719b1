"""The one write path: every write is a changeset, validated, logged, then applied atomically.

    changeset (effective, computed against the store under the write lock)
      → refuse protected graphs, vocabulary and shapes
      → stage it; derive the shortcut changes it implies (graph.write.derived)
      → validate incrementally (graph.write.incremental); a violation stops here, nothing is written
      → append to the history log and fsync (graph.write.history)
      → apply to the store as ONE changeset, `store.apply(removed, added)`: data, derived
        shortcuts and the marker "last applied change" in the meta graph, all in the same
        transaction

Atomicity: the store applies a changeset as one transaction (graph.store.protocol.QuadStore: the
embedded store and a remote one each run it as one SPARQL Update request, which pyoxigraph and an
Oxigraph, Fuseki or Virtuoso server apply whole), so a change is in the store entirely or not at
all, shortcuts and marker included. Durability: the change is fsynced to the log before the store is
touched, and acknowledged only after both. If the process dies between the two, the marker is
behind the log, and `recover()` (run whenever a store is opened for writing) applies the logged
changes after the marker, in order. A line torn while being written was never acknowledged and is
cut off. So an acknowledged change is never lost and a half-applied one never exists.

Blocking and thread-safe by a lock (the store's): callers run it off their event loop; the server
also serializes writes with its own asyncio lock, so that changes are computed against the state
they will be applied to.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from graph.core.namespaces import META
from graph.core.settings import Settings
from graph.core.terms import RDFS_SUBCLASS_OF
from graph.sparql.limits import Bounds
from graph.store.protocol import QuadStore
from graph.store.validate import parse_dir
from graph.write.changes import (
    META_GRAPH,
    ChangeError,
    Changeset,
    effective,
    graph_quads,
    replace_graph,
)
from graph.write.derived import load_rules, refresh_shortcuts
from graph.write.document import Document
from graph.write.history import Entry, History, data_digest
from graph.write.incremental import IncrementalValidator, Verdict
from graph.write.policy import Policy
from graph.write.sparql_update import update_changeset
from graph.write.staging import Staged
from graph.write.validation_process import ValidationProcess

log = logging.getLogger(__name__)

MARKER = ox.NamedNode(str(META["lastAppliedChange"]))
"""`<graph/meta> meta:lastAppliedChange "<log id>#<change number>"` in the meta graph."""


@dataclass
class Result:
    """What became of one write."""

    change: Changeset
    verdict: Verdict
    derived: Changeset = field(default_factory=Changeset)
    entry: Entry | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def committed(self) -> bool:
        return self.entry is not None


def open_history(settings: Settings) -> History:
    """The change log the settings name, created (with a digest of the data) if absent."""
    def base() -> str:
        from graph.store.load import data_files, dataset_paths

        return data_digest(data_files([settings.ontology_dir]) + dataset_paths(settings))

    return History(settings.history_file, base)


class Writer:
    """Validated, logged, atomic writes to one store (embedded or remote)."""

    def __init__(self, store: QuadStore, settings: Settings,
                 history: History | None = None) -> None:
        self.store = store
        self.settings = settings
        self.history = history if history is not None else open_history(settings)
        self.lock = store.lock
        self.policy = Policy(Bounds.of(settings))
        """What this writer refuses (graph.write.policy); every kind of write asks it."""
        self.rules = load_rules(settings.rules_dir)
        self.hierarchy = [ox.Triple(q.subject, q.predicate, q.object) for q in
                          store.quads_for_pattern(None, RDFS_SUBCLASS_OF, None, None)]
        self.validator = IncrementalValidator(parse_dir(settings.shapes_dir), self.hierarchy)
        if settings.validation_process:  # the child gets the hierarchy the validator converted
            self.validator.process = ValidationProcess(
                settings.shapes_dir, self.validator.hierarchy, settings.validation_seconds)
        self.on_commit: list[Callable[[Changeset, Changeset], object]] = []
        """Called with each committed change and the shortcut changes derived from it, after
        they are applied; indexes kept beside the store (graph.store.labels) follow writes this
        way."""

    def start(self) -> None:
        """Start what the first write would otherwise wait for (the validation process)."""
        if self.validator.process is not None:
            self.validator.process.start()

    def close(self) -> None:
        """Stop the validation process (the writer validates in its own process afterwards)."""
        self.validator.close()
        self.validator.process = None

    # --- the write path ------------------------------------------------------------------

    def stage(self, change: Changeset) -> Result:
        """Validate a change against the current store without writing it."""
        started = time.perf_counter()
        self.policy.refuse_change(change)
        view = Staged(self.store, change.added, change.removed)
        derived = refresh_shortcuts(view, change, self.rules, self.hierarchy)
        staged = Staged(self.store, change.added | derived.added, change.removed | derived.removed)
        staged_at = time.perf_counter()
        verdict = self.validator.check(staged, change, derived)
        done = time.perf_counter()
        return Result(change, verdict, derived, timings={"stage": staged_at - started,
                                                         "validate": done - staged_at,
                                                         **verdict.seconds})

    def write(self, build: Callable[[], Changeset], author: str, message: str,
              reverts: int | None = None) -> Result:
        """Compute a change against the store (under the lock), validate, commit if it conforms."""
        try:
            message.encode("utf-8")  # the log is UTF-8; JSON's \ud800 escapes are not characters
        except UnicodeEncodeError as exc:
            raise ChangeError(f"the message holds a lone surrogate ({message[exc.start]!r} at "
                              f"character {exc.start}), which is not a character") from None
        with self.lock:
            started = time.perf_counter()
            change = build()
            built = time.perf_counter()
            result = self.stage(change)
            result.timings["build"] = built - started
            if not change or not result.verdict.conforms:
                return result
            logged = time.perf_counter()
            entry = self.history.append(change, author, message, reverts)
            applied = time.perf_counter()
            try:
                self._apply(change, result.derived, entry)
            except Exception:
                if not self._applied_after_all(entry):
                    raise
            result.entry = entry
            indexed = time.perf_counter()
            self._notify(change, result.derived)
            result.timings["log"] = applied - logged
            result.timings["apply"] = indexed - applied
            result.timings["index"] = time.perf_counter() - indexed
            result.timings["total"] = time.perf_counter() - started
            return result

    def _apply(self, change: Changeset, derived: Changeset, entry: Entry) -> None:
        old = self.marker()
        removed = set(change.removed | derived.removed)
        if old is not None:
            removed.add(_marker_quad(old))
        added = set(change.added | derived.added)
        added.add(_marker_quad(f"{self.history.log_id}#{entry.id}"))
        self.store.apply(removed, added)

    def _notify(self, change: Changeset, derived: Changeset) -> None:
        for hook in self.on_commit:
            try:
                hook(change, derived)
            except Exception:  # noqa: BLE001 - the change is committed; an index may lag
                log.exception("a commit hook failed")

    def _applied_after_all(self, entry: Entry) -> bool:
        """The store failed to apply a logged change: keep the log and the store alike.

        A remote store may have applied it and lost only its answer: the marker decides. If it
        was not applied, the log entry is taken back; if even the marker cannot be read, the
        entry stays and `recover()` settles it at the next start (the change then lands although
        the request failed).
        """
        try:
            applied = self.marker() == f"{self.history.log_id}#{entry.id}"
        except Exception:  # noqa: BLE001 - the store is unreachable: leave it to recover()
            log.error("change %s is logged but may not be applied; the next start settles it",
                      entry.id)
            return False
        if not applied:
            self.history.discard_last(entry)
        return applied

    def marker(self) -> str | None:
        found = [q.object.value for q in self.store.quads_for_pattern(META_GRAPH, MARKER, None,
                                                                     META_GRAPH)
                 if isinstance(q.object, ox.Literal)]  # always one: _marker_quad writes it
        return found[0] if found else None

    def recover(self) -> list[Entry]:
        """Apply the logged changes the store lacks (after a crash between log and store)."""
        with self.lock:
            marker = self.marker()
            if marker is None:
                pending = self.history.entries()
            else:
                log_id, _, number = marker.rpartition("#")
                if log_id != self.history.log_id:
                    if self.history.entries():
                        log.warning("the store's last change %s is from another history log "
                                    "than %s; nothing is replayed", marker, self.history.path)
                    return []
                pending = self.history.after(int(number))
                if int(number) > self.history.last_id():
                    log.warning("the store has applied change %s but the history log ends at "
                                "%s", number, self.history.last_id())
            for entry in pending:
                logged = entry.changeset()
                view = Staged(self.store, logged.added, logged.removed)
                change = view.changeset()
                derived = refresh_shortcuts(view, change, self.rules, self.hierarchy)
                self._apply(logged, derived, entry)
            if pending:
                log.info("replayed %d logged change(s) the store lacked", len(pending))
            return pending

    # --- the kinds of write --------------------------------------------------------------

    def apply_document(self, doc: Document, author: str) -> Result:
        self.policy.refuse_request(doc.add, doc.remove)
        return self.write(lambda: effective(self.store, doc.add, doc.remove), author, doc.message)

    def check_document(self, doc: Document) -> Result:
        self.policy.refuse_request(doc.add, doc.remove)
        with self.lock:
            return self.stage(effective(self.store, doc.add, doc.remove))

    def apply_update(self, text: str, author: str, message: str, using=None, using_named=None,
                     base: str | None = None) -> Result:
        def build() -> Changeset:
            return update_changeset(self.store, text, self.store.graphs,
                                    self.settings.write_graph, self.policy, using,
                                    using_named, base, Bounds.of(self.settings))
        return self.write(build, author, message)

    def put_graph(self, graph: str, quads: list[ox.Quad], author: str, message: str) -> Result:
        node = _graph_node(graph)
        self.policy.refuse_graph(graph)
        self.policy.refuse_request(quads)
        return self.write(lambda: replace_graph(self.store, node, quads), author, message)

    def post_graph(self, graph: str, quads: list[ox.Quad], author: str, message: str) -> Result:
        self.policy.refuse_graph(graph)
        self.policy.refuse_request(quads)
        return self.write(lambda: effective(self.store, quads, []), author, message)

    def delete_graph(self, graph: str, author: str, message: str) -> Result:
        node = _graph_node(graph)
        self.policy.refuse_graph(graph)

        def build() -> Changeset:
            quads = graph_quads(self.store, node)
            if not quads:
                raise ChangeError(f"there is no graph <{graph}>", 404)
            return Changeset(removed=frozenset(quads))
        return self.write(build, author, message)

    def revert(self, change_id: int, author: str, message: str | None = None) -> Result:
        entry = self.history.get(change_id)
        if entry is None:
            raise ChangeError(f"there is no change {change_id}", 404)
        inverse = entry.changeset().inverse()

        def build() -> Changeset:
            change = effective(self.store, inverse.added, inverse.removed)
            if not change:
                raise ChangeError(f"change {change_id} has nothing left to revert: its triples "
                                  "were changed back since", 409)
            return change
        return self.write(build, author, message or f"Revert change {change_id}: {entry.message}",
                          reverts=change_id)

    def has_graph(self, graph: str) -> bool:
        return any(True for _ in self.store.quads_for_pattern(None, None, None,
                                                              _graph_node(graph)))


def _graph_node(graph: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(graph)
    except ValueError as exc:
        raise ChangeError(f"not a graph IRI: {graph!r} ({exc})") from None


def _marker_quad(value: str) -> ox.Quad:
    return ox.Quad(META_GRAPH, MARKER, ox.Literal(value), META_GRAPH)
