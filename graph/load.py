"""Filling a store: ontology, data files each in its named graph, then the derived shortcuts."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from graph.namespaces import ONTOLOGY_GRAPH, SHORTCUTS_GRAPH, graph_for
from graph.settings import Settings
from graph.store import Store

DATA_SUFFIXES = {".ttl", ".nt", ".trig", ".nq", ".jsonld", ".rdf"}


def data_files(paths: Iterable[Path]) -> list[Path]:
    """Expand files and folders into the RDF files they hold, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in DATA_SUFFIXES))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def load_ontology(store: Store, settings: Settings) -> None:
    for path in data_files([settings.ontology_dir]):
        store.load_file(path, str(ONTOLOGY_GRAPH))


def load_data(store: Store, paths: Iterable[Path], progress=None) -> None:
    """Load each data file into the named graph of its stem, reporting bytes done to `progress`."""
    files = data_files(paths)
    total = sum(p.stat().st_size for p in files)
    done = 0

    for path in files:
        def advance(n: int, path: Path = path) -> None:
            nonlocal done
            done += n
            progress(path, done, total)

        store.load_file(path, str(graph_for(path.stem)), advance if progress else None)


def rule_files(settings: Settings) -> list[Path]:
    return sorted(settings.rules_dir.glob("*.rq"))


def materialise_shortcuts(store: Store, settings: Settings) -> int:
    """Run every CONSTRUCT rule over the union and write the result to the shortcuts graph."""
    triples = []
    for rule in rule_files(settings):
        triples.extend(store.query(rule.read_text(encoding="utf-8")))
    return store.replace_graph(str(SHORTCUTS_GRAPH), triples)


def open_store(settings: Settings):
    """The store the settings name: embedded (on disk or in memory) or remote."""
    if settings.store_backend == "remote":
        from graph.remote import RemoteStore

        if not settings.remote_query_url:
            raise ValueError("the remote backend needs CITYDIP_REMOTE_QUERY_URL")
        return RemoteStore(settings.remote_query_url, settings.remote_update_url)
    return Store(None if settings.in_memory else Path(settings.store_path))


def build_store(
    settings: Settings,
    paths: Iterable[Path] | None = None,
    store: Store | None = None,
    progress=None,
) -> Store:
    """A store with the ontology, the given data (default: all of graph/data) and shortcuts."""
    started = time.perf_counter()
    store = store if store is not None else open_store(settings)
    store.clear()
    load_ontology(store, settings)
    load_data(store, paths if paths is not None else [settings.data_dir], progress)
    materialise_shortcuts(store, settings)
    store.load_seconds = time.perf_counter() - started  # type: ignore[attr-defined]
    return store
