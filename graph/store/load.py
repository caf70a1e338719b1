"""Filling a store: ontology, data files each in its named graph, then the derived shortcuts.

The first fill of an empty on-disk store (and `citydip load --force`, which starts from an empty
folder) uses the engine's bulk loader, then optimizes: `Store.load` holds a whole file in one
transaction (8.8 GB and 355 s for 5M triples, a 5.7 GB store), the bulk loader writes sorted
files directly. It is not atomic, so a fill is marked finished by a file written last beside
the store (`<store>.filled`); a store folder without it is an interrupted fill, and the next
start empties it and fills it again rather than serve half a graph (`prepare_store_folder`).
The derived shortcuts stream from the rules' CONSTRUCT results into the store, never as one list.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import ONTOLOGY_GRAPH, SHORTCUTS_GRAPH, WORLD_GRAPH_PREFIX, graph_for
from graph.core.settings import Settings
from graph.sparql.formats import DATA_SUFFIXES
from graph.store.embedded import Store

log = logging.getLogger(__name__)


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


WORLD_FOLDER = "world"
"""Sub-folder of the data folder that holds the imported pair lists (`citydip import world`)."""


def dataset_paths(settings: Settings, names: Iterable[str] | None = None) -> list[Path]:
    """The files of the datasets named (default: `settings.datasets`), each its own graph.

    `report` is the data folder's own files (not its sub-folders), `world` every imported pair
    list (`world/world-*.nt`), a source name one of them (`wikipedia`, `world-wikipedia`), and
    `all` both. A world dataset that has not been imported is an error that says how to.
    """
    chosen = list(names if names is not None else settings.datasets) or ["report"]
    world = settings.data_dir / WORLD_FOLDER
    imported = sorted(p for p in world.glob("world-*") if p.suffix in DATA_SUFFIXES) \
        if world.is_dir() else []
    paths: list[Path] = []
    for name in chosen:
        if name in ("report", "all"):
            paths.extend(data_files([settings.data_dir]))
        if name in ("world", "all"):
            if not imported:
                raise FileNotFoundError(f"{world}: no imported pair lists; run `citydip import "
                                        "world` (or `make world`) first")
            paths.extend(imported)
        elif name not in ("report", "all"):
            stem = name if name.startswith("world-") else f"world-{name}"
            found = [p for p in imported if p.stem == stem]
            if not found:
                known = ", ".join(p.stem.removeprefix("world-") for p in imported) or "none"
                raise FileNotFoundError(f"dataset {name!r}: no {world}/{stem}.nt (imported "
                                        f"lists: {known}); datasets are report, world, all or "
                                        "an imported list's source name")
            paths.extend(found)
    return list(dict.fromkeys(paths))


def load_ontology(store: Store, settings: Settings, bulk: bool = False) -> None:
    for path in data_files([settings.ontology_dir]):
        (store.bulk_load_file if bulk else store.load_file)(path, str(ONTOLOGY_GRAPH))


def load_data(store: Store, paths: Iterable[Path], progress=None, bulk: bool = False) -> None:
    """Load each data file into the named graph of its stem, reporting bytes done to `progress`."""
    files = data_files(paths)
    total = sum(p.stat().st_size for p in files)
    done = 0

    for path in files:
        def advance(n: int, path: Path = path) -> None:
            nonlocal done
            done += n
            progress(path, done, total)

        load = store.bulk_load_file if bulk else store.load_file
        load(path, str(graph_for(path.stem)), advance if progress else None)


def rule_files(settings: Settings) -> list[Path]:
    return sorted(settings.rules_dir.glob("*.rq"))


def derived_triples(store: Store, settings: Settings) -> Iterator[ox.Triple]:
    """The rules' results over the union, one rule after another, as they come."""
    for rule in rule_files(settings):
        # the rules are CONSTRUCT queries
        yield from cast(ox.QueryTriples, store.query(rule.read_text(encoding="utf-8")))


def materialise_shortcuts(store: Store, settings: Settings, bulk: bool = False) -> int:
    """Run every CONSTRUCT rule over the union and write the result to the shortcuts graph.

    With `bulk` (a first fill), the results stream into the store through the bulk loader;
    otherwise they replace the graph in one transaction. Returns how many were written.
    """
    if not bulk:
        return store.replace_graph(str(SHORTCUTS_GRAPH), derived_triples(store, settings))
    graph = ox.NamedNode(str(SHORTCUTS_GRAPH))
    written = 0

    def quads() -> Iterator[ox.Quad]:
        nonlocal written
        for triple in derived_triples(store, settings):
            written += 1
            yield ox.Quad(triple.subject, triple.predicate, triple.object, graph)

    store.bulk_extend(quads())
    return written


def fill_marker(settings: Settings) -> Path | None:
    """The file that says an on-disk store was filled completely; None for other stores."""
    if settings.store_backend != "embedded" or settings.in_memory:
        return None
    store = Path(settings.store_path)
    return store.with_name(store.name + ".filled")


def prepare_store_folder(settings: Settings, force: bool = False) -> bool:
    """Empty the store folder when its fill did not finish (no marker), or when `force`d.

    Call before the store is opened. Returns True when a folder was emptied. A folder that is
    empty or absent is left as it is (the fill that follows writes the marker).
    """
    marker = fill_marker(settings)
    if marker is None:
        return False
    folder = Path(settings.store_path)
    if not folder.is_dir() or not any(folder.iterdir()):
        marker.unlink(missing_ok=True)
        return False
    if marker.exists() and not force:
        return False
    if not force:
        log.warning("the store at %s was not filled completely (no %s): filling it again",
                    folder, marker.name)
    marker.unlink(missing_ok=True)
    shutil.rmtree(folder)
    return True


def open_store(settings: Settings):
    """The store the settings name: embedded (on disk or in memory) or remote."""
    if settings.store_backend == "remote":
        from graph.store.remote import RemoteStore

        return RemoteStore.from_settings(settings)
    return Store(None if settings.in_memory else Path(settings.store_path))


def build_store(
    settings: Settings,
    paths: Iterable[Path] | None = None,
    store: Store | None = None,
    progress=None,
) -> Store:
    """A store with the ontology, the given data (default: the datasets the settings name) and
    the shortcuts.

    An empty on-disk store is filled with the bulk loader and optimized, and the fill marked
    finished last; any other store is emptied and loaded file by file, each in a transaction.
    """
    started = time.perf_counter()
    store = store if store is not None else open_store(settings)
    folder = getattr(store, "path", None) if isinstance(store, Store) else None
    marker = folder.with_name(folder.name + ".filled") if folder is not None else None
    bulk = marker is not None and store.count() == 0
    if marker is not None:
        marker.unlink(missing_ok=True)
    if not bulk:
        store.clear()
    load_ontology(store, settings, bulk)
    load_data(store, paths if paths is not None else dataset_paths(settings), progress, bulk)
    if progress:
        progress(Path("(deriving the shortcuts)"), 0, 0)
    derived = materialise_shortcuts(store, settings, bulk)
    if bulk:
        if progress:
            progress(Path("(optimizing the store)"), 0, 0)
        store.optimize()
    store.flush()
    seconds = time.perf_counter() - started
    if marker is not None:
        marker.write_text(json.dumps({"datasets": list(settings.datasets), "bulk": bulk,
                                      "derived": derived, "seconds": round(seconds, 2),
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                time.gmtime())}) + "\n",
                          encoding="utf-8")
    # a figure for the caller, set on the object though Store does not declare it
    store.load_seconds = seconds  # type: ignore[union-attr]
    return store


def sync_datasets(store: Store, settings: Settings, progress=None) -> list[str]:
    """Bring a store that is already filled in line with `settings.datasets`, for the server's
    start: load the imported pair lists it lacks, drop those it holds but was not asked for,
    load again those imported anew since, and derive the shortcuts again if anything changed.
    The report's graphs and anything written to the store since are left alone. Returns the
    graphs added and dropped."""
    wanted = {graph_for(p.stem): p for p in dataset_paths(settings)
              if p.parent.name == WORLD_FOLDER}
    present = {g for g in store.graphs() if g.startswith(WORLD_GRAPH_PREFIX)}
    missing = [p for g, p in wanted.items() if str(g) not in present]
    # A list imported again since (its N-Triples file, one triple a line, no longer has as many
    # triples as its graph) is loaded again.
    stale = [p for g, p in wanted.items() if str(g) in present and p.suffix == ".nt"
             and store.count(str(g)) != _lines(p)]
    extra = sorted(present - {str(g) for g in wanted})
    for graph in extra + [str(graph_for(p.stem)) for p in stale]:
        store.replace_graph(graph, [])
    missing += stale
    if missing:
        load_data(store, missing, progress)
    if missing or extra:
        materialise_shortcuts(store, settings)
    return [f"+{p.stem}" for p in missing] + [f"-{g}" for g in extra]


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
