"""Filling an on-disk store: bulk loader, the marker of a finished fill, an interrupted fill.

Real pyoxigraph stores in temporary folders, and the `citydip load` command as a process.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.backend import EmbeddedBackend
from graph.core.namespaces import SHORTCUTS_GRAPH
from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.load import build_store, load_data, prepare_store_folder

ROOT = Path(__file__).resolve().parents[2]
SENTINEL = ox.Quad(ox.NamedNode("https://example.org/half"), ox.NamedNode("https://example.org/p"),
                   ox.Literal("a fill that never finished"),
                   ox.NamedNode("https://example.org/g"))


def per_graph(store: Store) -> Counter:
    return Counter(q.graph_name.value for q in store.quads_for_pattern(None, None, None, None))


def shortcuts(store: Store) -> set:
    return set(store.quads_for_pattern(None, None, None, ox.NamedNode(str(SHORTCUTS_GRAPH))))


def test_a_bulk_fill_holds_what_a_transactional_one_does(tmp_path: Path) -> None:
    settings = Settings(store_path=str(tmp_path / "store"))
    on_disk = build_store(settings, store=Store(tmp_path / "store"))
    in_memory = build_store(Settings(store_path=":memory:"))
    assert per_graph(on_disk) == per_graph(in_memory)
    assert shortcuts(on_disk) == shortcuts(in_memory) and shortcuts(on_disk)
    marker = json.loads((tmp_path / "store.filled").read_text())
    assert marker["bulk"] is True and marker["derived"] >= len(shortcuts(on_disk))


def test_an_interrupted_fill_is_filled_again(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    settings = Settings(store_path=str(folder), query_workers=1)
    store = build_store(settings, store=Store(folder))
    expected = per_graph(store)
    store.raw.add(SENTINEL)
    store.flush()
    (tmp_path / "store.filled").unlink()  # as if the process died before the fill finished
    del store
    gc.collect()
    backend = EmbeddedBackend(settings)
    try:
        assert SENTINEL not in set(backend.store.quads_for_pattern(SENTINEL.subject))
        assert per_graph(backend.store) == expected
        assert (tmp_path / "store.filled").exists()
    finally:
        backend.close()
        del backend
        gc.collect()
    # A finished fill is kept as it is.
    assert not prepare_store_folder(settings) and any(folder.iterdir())


def test_the_load_command_fills_once_and_again_with_force(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDIP_")}
    env["CITYDIP_STORE_PATH"] = str(tmp_path / "store")

    def load(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "graph.cli.main", "load", *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)

    first = load()
    assert first.returncode == 0, first.stderr
    assert "loaded" in first.stdout and (tmp_path / "store.filled").exists()
    again = load()
    assert "already holds" in again.stdout
    forced = load("--force")
    assert forced.returncode == 0 and "emptied" in forced.stderr
    assert first.stdout.split(" in ")[0] == forced.stdout.split(" in ")[0]  # as many triples


def test_a_bulk_fill_reports_its_progress_up_to_every_byte(tmp_path: Path) -> None:
    files = [tmp_path / "one.nt", tmp_path / "two.nt"]
    for n, path in enumerate(files):
        path.write_text("".join(f"<https://example.org/s{n}-{i}> <https://example.org/p> "
                                f"\"{i}\" .\n" for i in range(20000)), encoding="utf-8")
    seen: list[tuple[str, int, int]] = []
    store = Store(tmp_path / "store")
    load_data(store, files, lambda path, done, total: seen.append((path.name, done, total)),
              bulk=True)
    total = sum(p.stat().st_size for p in files)
    assert seen and all(t == total for _, _, t in seen)
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert seen[-1] == ("two.nt", total, total)
    assert ("one.nt", files[0].stat().st_size, total) in seen  # the first file whole, then on
    assert store.count() == 40000


def test_a_bulk_fill_of_a_broken_file_says_which_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nt"
    broken.write_text("<https://example.org/s> <https://example.org/p> .\n", encoding="utf-8")
    with pytest.raises(ValueError, match="broken.nt"):
        load_data(Store(tmp_path / "store"), [broken], lambda *_: None, bulk=True)
