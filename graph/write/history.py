"""The history of committed changes: an append-only log of JSON lines, fsynced before a commit.

The first line names the log (a random id) and the data it started from; every further line is a
change: its number, time, author, message and the exact quads added and removed, as N-Quads. The
store records the last change it applied (`graph.write.writer`), so a change that was logged but not
applied when the process died is applied at the next start, and a half-written last line (the
process died while writing it, before anything was acknowledged) is cut off.

Without a file (an in-memory store) the log lives in memory and ends with the process.

Only the log: `replay` hands each change to the store's own `apply(removed, added)`
(graph.store.protocol.QuadStore); how a store applies a changeset atomically is the store's
business, not the log's.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from graph.store.protocol import QuadStore
from graph.write.changes import Changeset, from_nquads, to_nquads

FORMAT = 1


@dataclass(frozen=True)
class Entry:
    """One committed change."""

    id: int
    time: str
    author: str
    message: str
    added: str
    """The quads added, as sorted N-Quads."""
    removed: str
    reverts: int | None = None

    def changeset(self) -> Changeset:
        return Changeset(from_nquads(self.added), from_nquads(self.removed))

    def counts(self) -> dict[str, int]:
        return {"added": _lines(self.added), "removed": _lines(self.removed)}

    def summary(self) -> dict:
        return {"id": self.id, "time": self.time, "author": self.author,
                "message": self.message, **self.counts(), "reverts": self.reverts}

    def to_dict(self) -> dict:
        return {**self.summary(), "added": self.added, "removed": self.removed}

    def to_json(self) -> str:
        return json.dumps({"type": "change", "id": self.id, "time": self.time,
                           "author": self.author, "message": self.message,
                           "added": self.added, "removed": self.removed,
                           "reverts": self.reverts}, ensure_ascii=False)


def _lines(text: str) -> int:
    return text.count("\n")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def data_digest(paths: Iterable[Path]) -> str:
    """A digest of the files a store was built from (to tell whether they changed since)."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


class HistoryError(RuntimeError):
    """The log cannot be read (a damaged line that is not the last one)."""


class History:
    """The append-only change log (a file, or memory when `path` is None)."""

    def __init__(self, path: Path | None, base: Callable[[], str] | str = "") -> None:
        """Open the log at `path` (created if absent; `base` describes the data it starts from)."""
        self.path = path
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self.log_id = uuid.uuid4().hex
        self.base = ""
        self.created = now()
        if path is not None and path.exists() and path.stat().st_size:
            self._read()
        else:
            self.base = base() if callable(base) else base
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._write_line(json.dumps({"type": "log", "log": self.log_id, "format": FORMAT,
                                             "created": self.created, "base": self.base}))
                _fsync_dir(path.parent)

    def _read(self) -> None:
        assert self.path is not None
        raw = self.path.read_bytes()
        offset = 0
        for number, line in enumerate(raw.splitlines(keepends=True), start=1):
            last = offset + len(line) == len(raw)
            if not line.endswith(b"\n"):
                break  # cut off while being written: never acknowledged, never applied
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    if last:
                        break  # a torn last write
                    raise HistoryError(f"{self.path}:{number}: damaged history line") from None
                self._take(record)
            offset += len(line)
        if offset < len(raw):
            self._truncate(offset)

    def _take(self, record: dict) -> None:
        if record.get("type") == "log":
            self.log_id, self.base = record["log"], record.get("base", "")
            self.created = record.get("created", "")
        elif record.get("type") == "change":
            self._entries.append(Entry(record["id"], record["time"], record["author"],
                                       record["message"], record["added"], record["removed"],
                                       record.get("reverts")))

    def _write_line(self, line: str) -> None:
        assert self.path is not None
        with self.path.open("ab") as handle:
            handle.write(line.encode("utf-8") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())

    # --- reading ---------------------------------------------------------------------------

    def entries(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def get(self, change_id: int) -> Entry | None:
        with self._lock:
            for entry in self._entries:
                if entry.id == change_id:
                    return entry
        return None

    def last_id(self) -> int:
        with self._lock:
            return self._entries[-1].id if self._entries else 0

    def after(self, change_id: int) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.id > change_id]

    def until(self, change_id: int) -> list[Entry]:
        with self._lock:
            return [e for e in self._entries if e.id <= change_id]

    # --- writing ---------------------------------------------------------------------------

    def append(self, change: Changeset, author: str, message: str,
               reverts: int | None = None) -> Entry:
        """Record a change durably (written and fsynced) and return its entry."""
        with self._lock:
            entry = Entry(id=(self._entries[-1].id if self._entries else 0) + 1, time=now(),
                          author=author, message=message, added=to_nquads(change.added),
                          removed=to_nquads(change.removed), reverts=reverts)
            self._end = self.path.stat().st_size if self.path is not None else 0
            if self.path is not None:
                try:
                    self._write_line(entry.to_json())
                except BaseException:
                    # Not acknowledged: what reached the file (a cut-off line, or a whole one
                    # whose fsync failed) goes, or the next entry would be written after it,
                    # glued to a torn line or under the same number.
                    self._truncate(self._end)
                    raise
            self._entries.append(entry)
            return entry

    def discard_last(self, entry: Entry) -> None:
        """Take back the entry just appended (the store refused it: it was never applied)."""
        with self._lock:
            if not self._entries or self._entries[-1] is not entry:
                raise HistoryError("only the last entry can be taken back")
            self._entries.pop()
            if self.path is not None:
                self._truncate(self._end)

    def _truncate(self, size: int) -> None:
        assert self.path is not None
        with self.path.open("r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replay(store: QuadStore, entries: Iterable[Entry]) -> int:
    """Apply logged changes to a store in order (no validation: they were validated when made)."""
    count = 0
    for entry in entries:
        change = entry.changeset()
        store.apply(change.removed, change.added)
        count += 1
    return count

