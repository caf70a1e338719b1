"""Filling a store: ontology, data files each in its named graph, then the derived shortcuts.

The first fill of an empty on-disk store (and `citydip load --force`, which starts from an empty
folder) uses the engine's bulk loader, then optimizes (before the shortcuts, `build_store` says
why): `Store.load` holds a whole file in one transaction (8.8 GB and 355 s for 5M triples, a
5.7 GB store), the bulk loader writes sorted files directly. It is not atomic, so a fill is
marked finished by a file written last beside the store (`<store>.filled`); a store folder
without it is an interrupted fill, and the next start empties it and fills it again rather than
serve half a graph (`prepare_store_folder`).

A data file of the data folder's own as large as CITYDIP_DEFAULT_GRAPH_BYTES goes to the default
graph (`graph_of`): the engine keeps a named graph's quads in six orders and the default graph's
triples in three, so such a file loads in about half the time and disk (docs/benchmarks.md, "The
first load"). What a named graph gave it, the graph's name, is said instead by the fill marker
(`default_graph`), and its statements count as the report's data; the write API does not edit
them (graph.write.policy). Imported pair lists stay in their graphs: the start replaces them by
graph (`sync_datasets`).

The derived shortcuts of a first fill are derived by processes of their own, side by side, on a
snapshot (graph.store.rules_worker), and bulk-loaded from the files they write; never held as
one list in memory. Other fills write them in one transaction. The marker records the time of
each phase and the triples of the store (counted on the snapshot while the rules run).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import ONTOLOGY_GRAPH, SHORTCUTS_GRAPH, WORLD_GRAPH_PREFIX, graph_for
from graph.core.settings import Settings
from graph.sparql.formats import DATA_SUFFIXES
from graph.store.embedded import Store
from graph.store.rules_worker import part_path

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


def graph_of(path: Path, settings: Settings) -> str | None:
    """The graph a data file is loaded into: the named graph of its stem, or None (the default
    graph) for a file of the data folder's own of CITYDIP_DEFAULT_GRAPH_BYTES or more in the
    embedded store."""
    big = (settings.default_graph_bytes > 0 and settings.store_backend == "embedded"
           and path.parent.name != WORLD_FOLDER
           and path.stat().st_size >= settings.default_graph_bytes)
    return None if big else str(graph_for(path.stem))


def load_data(store: Store, paths: Iterable[Path], progress=None, bulk: bool = False,
              settings: Settings | None = None) -> list[Path]:
    """Load each data file into its graph (`graph_of`), reporting bytes done to `progress`.
    Returns the files loaded into the default graph."""
    settings = settings or Settings()
    files = data_files(paths)
    total = sum(p.stat().st_size for p in files)
    done = 0
    shared: list[Path] = []

    for path in files:
        def advance(n: int, path: Path = path) -> None:
            nonlocal done
            done += n
            progress(path, done, total)

        graph = graph_of(path, settings)
        if graph is None:
            shared.append(path)
        load = store.bulk_load_file if bulk else store.load_file
        load(path, graph, advance if progress else None)
    return shared


def rule_files(settings: Settings) -> list[Path]:
    return sorted(settings.rules_dir.glob("*.rq"))


def derived_triples(store: Store, settings: Settings) -> Iterator[ox.Triple]:
    """The rules' results over the union, one rule after another, as they come."""
    for rule in rule_files(settings):
        # the rules are CONSTRUCT queries
        yield from cast(ox.QueryTriples, store.query(rule.read_text(encoding="utf-8")))


def materialise_shortcuts(store: Store, settings: Settings) -> int:
    """Run every CONSTRUCT rule over the union and replace the shortcuts graph with the result,
    in one transaction. Returns how many were written. (A first fill of an on-disk store
    derives them in processes of its own instead: `derive_in_processes`.)"""
    return store.replace_graph(str(SHORTCUTS_GRAPH), derived_triples(store, settings))


def derive_in_processes(store: Store, settings: Settings) -> int | None:
    """The rules run by processes of their own (graph.store.rules_worker) on a snapshot of the
    store, at most CITYDIP_LOAD_PROCESSES (one per core) at once, each rule's triples written to
    files and each file bulk-loaded into the shortcuts graph as soon as it is whole, while the
    rules still run. Returns how many triples the store held before (counted on the snapshot
    meanwhile: after a fill, reading the whole store again only to count it would take as long
    as the shortest rule), or None if that count failed."""
    rules = rule_files(settings)
    folder = cast(Path, store.path)
    most = max(1, settings.load_processes or os.cpu_count() or 1)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix=folder.name + ".derive-", dir=folder.parent) as tmp:
        snapshot = Path(tmp) / "snapshot"
        store.backup(snapshot)
        before: list[int] = []
        counting = threading.Thread(target=lambda: before.append(
            len(ox.Store.read_only(str(snapshot)))), name="count", daemon=True)
        counting.start()
        waiting = [(rule, Path(tmp) / rule.stem) for rule in rules]
        running: dict[Path, tuple[Path, subprocess.Popen]] = {}  # output -> rule, process
        parts: Counter[Path] = Counter()  # output -> parts loaded

        def load_parts(output: Path) -> int:
            """Bulk-load the parts of `output` that are whole and not loaded yet."""
            loaded = 0
            while (part := Path(part_path(str(output), parts[output]))).exists():
                store.bulk_load_file(part, str(SHORTCUTS_GRAPH))
                part.unlink()
                parts[output] += 1
                loaded += 1
            return loaded

        try:
            while waiting or running:
                while waiting and len(running) < most:
                    rule, output = waiting.pop(0)
                    with output.with_suffix(".errors").open("wb") as errors:
                        running[output] = (rule, subprocess.Popen(
                            [sys.executable, "-m", "graph.store.rules_worker", str(snapshot),
                             str(rule), str(output)], cwd=Path(__file__).resolve().parents[2],
                            stdout=subprocess.DEVNULL, stderr=errors))
                progressed = 0
                for output, (rule, process) in list(running.items()):
                    ended = process.poll() is not None  # before looking: no part comes after
                    progressed += load_parts(output)
                    if not ended:
                        continue
                    del running[output]
                    progressed += 1
                    if process.returncode != 0:
                        why = output.with_suffix(".errors").read_text(encoding="utf-8",
                                                                      errors="replace")
                        raise RuntimeError(f"deriving the shortcuts of {rule.name} failed "
                                           f"({process.returncode}): {why[-2000:]}")
                if not progressed:
                    time.sleep(0.02)
        finally:
            for _, process in running.values():
                process.kill()
                process.wait()
            counting.join()
    log.info("shortcuts: %d rules by %d processes in %.1f s", len(rules), most,
             time.perf_counter() - started)
    return before[0] if before else None


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

    An empty on-disk store is filled with the bulk loader and optimized, its shortcuts derived
    in processes (`derive_in_processes`), and the fill marked finished last; any other store is
    emptied and loaded file by file, each in a transaction.
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
    phases: dict[str, float] = {}
    mark = started

    def phase(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        phases[name] = round(now - mark, 2)
        mark = now

    load_ontology(store, settings, bulk)
    shared = load_data(store, paths if paths is not None else dataset_paths(settings), progress,
                       bulk, settings)
    phase("load")
    if bulk:
        # Before the shortcuts: the engine compacts what it just loaded anyway, in the background
        # if not asked, and the rules beside that compaction (or beside this optimize) take as
        # long in all or longer at 5M (docs/benchmarks.md, stops 36 and 37).
        if progress:
            progress(Path("(optimizing the store)"), 0, 0)
        store.optimize()
        phase("optimize")
    if progress:
        progress(Path("(deriving the shortcuts)"), 0, 0)
    triples = None
    if bulk:
        before = derive_in_processes(store, settings)
        derived = store.count(str(SHORTCUTS_GRAPH))  # the graph was empty before
        triples = before + derived if before is not None else store.count()
    else:
        derived = materialise_shortcuts(store, settings)
    store.flush()
    phase("shortcuts")
    seconds = time.perf_counter() - started
    if marker is not None:
        marker.write_text(json.dumps({"datasets": list(settings.datasets), "bulk": bulk,
                                      "default_graph": [str(p) for p in shared],
                                      "derived": derived, "triples": triples,
                                      "seconds": round(seconds, 2),
                                      "phases": phases,
                                      "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                time.gmtime())}) + "\n",
                          encoding="utf-8")
    # figures for the caller, set on the object though Store does not declare them
    store.load_seconds = seconds  # type: ignore[union-attr]
    store.load_triples = triples  # type: ignore[union-attr]
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
        load_data(store, missing, progress, settings=settings)
    if missing or extra:
        materialise_shortcuts(store, settings)
    return [f"+{p.stem}" for p in missing] + [f"-{g}" for g in extra]


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
