"""Data dumps: the whole dataset as gzipped N-Quads and each named graph as Turtle.

Researchers who want everything should not have to crawl the endpoint, and the endpoint should
not serialize a million quads again for every download. So the dumps are files, written once
per content of the store into a folder named by a digest of that content
(`{dump_dir}/{digest}/`): the same data gives the same folder, across restarts and across
replicas sharing one disk, and a write gives a new one. A folder is written under a temporary
name and renamed when complete, so a reader never sees half a dump; older folders are removed,
keeping the newest `KEEP`.

The digest comes from the N-Quads serialization, which is needed anyway for the full dump, so
checking whether the data changed costs one serialization, not two; the server does that once
per data version. The Turtle files are streamed from the store graph by graph, never held as
Python objects, under the embedded store's lock so that the digest and the files agree.

The licence of each graph is the `dcterms:license` its own data states (the imported pair lists
carry theirs); a graph that states none is under the dataset's licence.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from graph.core.namespaces import GRAPH, PREFIXES

DATASET_LICENSE = "https://creativecommons.org/licenses/by/4.0/"
DATASET_LICENSE_NAME = "CC BY 4.0"
FULL_DUMP = "citydiplomacy.nq.gz"
KEEP = 2
"""Dump folders kept: the current one and the one before (a download may still be reading it)."""
DCT_LICENSE = ox.NamedNode("http://purl.org/dc/terms/license")
DCT_RIGHTS = ox.NamedNode("http://purl.org/dc/terms/rights")
MANIFEST = "manifest.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class DumpFile:
    """One file of a dump: its name under /dump/, the graph it holds (None: all), its size."""

    name: str
    graph: str | None
    media_type: str
    bytes: int
    quads: int
    license: str
    license_name: str


def graph_file(graph: str) -> str:
    """The Turtle file name of a named graph: its name under our graph namespace, made safe."""
    if graph.startswith(str(GRAPH)) and len(graph) > len(str(GRAPH)):
        stem = _UNSAFE.sub("-", graph[len(str(GRAPH)):]).strip("-.")
        if stem:
            return f"graphs/{stem}.ttl"
    return f"graphs/graph-{hashlib.sha256(graph.encode()).hexdigest()[:12]}.ttl"


def _licence(store, graph: str) -> tuple[str, str]:
    """The licence a graph's data states for itself, or the dataset's."""
    name = ox.NamedNode(graph)
    for quad in store.quads_for_pattern(None, DCT_LICENSE, None, name):
        if isinstance(quad.object, ox.NamedNode):
            words = [q.object.value for q in store.quads_for_pattern(quad.subject, DCT_RIGHTS,
                                                                     None, name)]
            return quad.object.value, (words[0] if words else quad.object.value)
    return DATASET_LICENSE, DATASET_LICENSE_NAME


def _locked(store):
    """The embedded store's lock (writes and worker forks wait while a dump reads), or none."""
    return getattr(store, "lock", None) or contextlib.nullcontext()


def current_dump(store, dump_dir: Path) -> tuple[Path, list[DumpFile]]:
    """The dump folder for the store's content now, written if it does not exist yet."""
    with _locked(store):  # one consistent reading: the digest and the files agree
        nquads = store.dump(ox.RdfFormat.N_QUADS)
        digest = hashlib.sha256(nquads).hexdigest()[:16]
        folder = dump_dir / digest
        manifest = folder / MANIFEST
        if not manifest.is_file():
            _write_folder(store, nquads, dump_dir, folder, digest)
    _prune(dump_dir, keep=folder)
    return folder, [DumpFile(**f) for f in json.loads(manifest.read_text("utf-8"))]


def _write_folder(store, nquads: bytes, dump_dir: Path, folder: Path, digest: str) -> None:
    """Write the files under a temporary name, then rename: readers never see half a dump."""
    dump_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=dump_dir))
    try:
        files = _write(store, nquads, tmp)
        (tmp / MANIFEST).write_text(json.dumps([asdict(f) for f in files], indent=1), "utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # another process wrote the same dump first: use theirs
            if not (folder / MANIFEST).is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write(store, nquads: bytes, folder: Path) -> list[DumpFile]:
    (folder / "graphs").mkdir()
    with gzip.open(folder / FULL_DUMP, "wb", compresslevel=6) as out:
        out.write(nquads)
    files = [DumpFile(FULL_DUMP, None, "application/gzip", (folder / FULL_DUMP).stat().st_size,
                      nquads.count(b"\n"), DATASET_LICENSE, DATASET_LICENSE_NAME)]
    for graph in store.graphs():
        # Streamed from the store graph by graph: the dataset is never held as Python objects.
        name, counted = graph_file(graph), [0]

        def triples(graph: str = graph, counted: list[int] = counted):
            for quad in store.quads_for_pattern(None, None, None, ox.NamedNode(graph)):
                counted[0] += 1
                yield quad.triple

        ox.serialize(triples(), str(folder / name), format=ox.RdfFormat.TURTLE,
                     prefixes=PREFIXES)
        if counted[0] == 0:
            (folder / name).unlink()
            continue
        licence, words = _licence(store, graph)
        files.append(DumpFile(name, graph, "text/turtle", (folder / name).stat().st_size,
                              counted[0], licence, words))
    return files


def _prune(dump_dir: Path, keep: Path) -> None:
    """Remove all but the newest KEEP dump folders (never `keep`) and stale temporary ones."""
    folders = sorted((p for p in dump_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [p for p in folders if p != keep][KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)
    for tmp in dump_dir.glob(".*"):
        if tmp.is_dir() and time.time() - tmp.stat().st_mtime > 3600:
            shutil.rmtree(tmp, ignore_errors=True)
