"""The change log keeps exactly the acknowledged changes, whatever a failed write left behind.

An append is acknowledged once its line is written and fsynced (graph/write/history.py). One
that fails on the way (a full disk cuts the line, or the fsync fails after a whole line) is not
acknowledged: the log must not keep its bytes, or the next change would be written after them,
glued to a torn line (a damaged log that no longer opens) or under the same number.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from graph.write import history as history_module
from graph.write.changes import Changeset
from graph.write.history import History


def change(n: int) -> Changeset:
    quad = ox.Quad(ox.NamedNode(f"https://example.org/s{n}"), ox.NamedNode("https://example.org/p"),
                   ox.Literal(str(n)), ox.NamedNode("https://example.org/g"))
    return Changeset(frozenset({quad}), frozenset())


def test_an_append_whose_fsync_fails_leaves_nothing(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.jsonl"
    log = History(path)
    first = log.append(change(1), "alice", "kept")
    size = path.stat().st_size

    def failing(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(history_module.os, "fsync", failing)
    with pytest.raises(OSError):
        log.append(change(2), "alice", "failed")
    monkeypatch.undo()
    assert path.stat().st_size == size  # the whole line that was written is gone
    third = log.append(change(3), "alice", "next")
    assert third.id == first.id + 1
    again = History(path)
    assert [(e.id, e.message) for e in again.entries()] == [(1, "kept"), (2, "next")]


def test_an_append_cut_off_on_the_way_leaves_nothing(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "history.jsonl"
    log = History(path)
    log.append(change(1), "alice", "kept")
    size = path.stat().st_size
    real_open = Path.open

    class Cut:
        """A file that takes half of what is written, then fails (a full disk)."""

        def __init__(self, handle) -> None:
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

        def write(self, data: bytes) -> int:
            self.handle.write(data[:len(data) // 2])
            self.handle.flush()
            raise OSError(28, "No space left on device")

    def opening(self, mode="r", *args, **kwargs):
        handle = real_open(self, mode, *args, **kwargs)
        return Cut(handle) if mode == "ab" else handle

    monkeypatch.setattr(Path, "open", opening)
    with pytest.raises(OSError):
        log.append(change(2), "alice", "failed")
    monkeypatch.undo()
    assert path.stat().st_size == size
    log.append(change(3), "alice", "next")
    again = History(path)  # opens: no damaged line in the middle
    assert [(e.id, e.message) for e in again.entries()] == [(1, "kept"), (2, "next")]
