"""The network's measures after a write, computed in a long-lived process of its own.

Why it is built this way: at world scale (20,186 actors, 32,968 ties) making a data version's
network is about 15 s of pure-Python CPU, measured per step with `time.thread_time`: parsing the
network queries' answers into rows 3.2 s, joining them into a `NetworkData` 1.2 s, the default
projection 0.5 s, the cheap summary 1.1 s, communities 2.4 s, distances 7.0 s. In a thread of
the server all of it holds the GIL the HTTP layer, the pages and the cheap query lane need: an
`ASK {}` during a burst waited 2.2 s behind it (docs/benchmarks.md, issue 10). Here the server
only runs the engine queries (pyoxigraph releases the GIL) and sends their answers, as the
engine serialized them, to this child, which builds the data, projects the default view and
computes its summary. It answers with the data pickled (the server needs it for paths,
neighbourhoods and pictures: 0.4 s to unpickle at world scale, against 4.4 s to build) and the
summary as plain dicts. The child keeps the last data it built, so the summary of another
filtered view (`stats`) is computed here too, without sending the data back and forth.

The child is started like the validation process (graph.core.child: a fresh interpreter, not a
fork). If it dies or is killed, the computation at hand fails (`NetworkProcessError`): the server
keeps serving the previous version's results, and the next computation starts a new child.
`CITYDIP_NETWORK_PROCESS=false` computes in the server process, as before.
"""

from __future__ import annotations

import logging
import pickle
import subprocess
import threading
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from graph.core.child import Duplex, connect, finish, messages, spawn, stop

log = logging.getLogger(__name__)

MODULE = "graph.network.process"


class NetworkProcessError(RuntimeError):
    """The child could not answer (it died, was killed, failed or took too long)."""


@dataclass
class Prepared:
    """A data version as the child made it."""

    data: bytes
    """The `NetworkData`, pickled."""
    analysis_stats: dict | None
    """The default view's `Analysis.stats()` (seeds the server's own view of it); None when
    the summary was not asked for."""
    stats: dict | None
    """The default view's `View.stats()`: the answer of /network/stats."""


def prepare(bodies: Mapping[str, bytes], summary: bool = True
            ) -> tuple[Any, dict | None, dict | None]:
    """The data, and with `summary` its default view's analysis summary and full summary,
    from the network queries' answers: what the child computes, the same steps as in process."""
    from graph.network.cache import View
    from graph.network.data import from_bodies
    from graph.network.projection import Filters

    data = from_bodies(bodies)
    if not summary:
        return data, None, None
    view = View(data, Filters.parse(data))
    stats = view.stats()
    return data, view.analysis.stats(), stats


def _child(conn: Duplex) -> None:
    """Answer the parent's requests until it closes the pipe (or sends None):
    ("version", key, bodies, summary) -> Prepared; ("adopt", key, pickled data) -> True, the
    data kept as `key`'s; ("stats", key, projection, filters) -> the analysis summary of that
    view of the data kept last, or None if that is not `key`'s."""
    from graph.network.cache import View

    kept: tuple[Hashable, Any] | None = None
    for message in messages(conn):
        try:
            if message[0] == "version":
                _, key, bodies, summary = message
                kept = None
                data, analysis_stats, stats = prepare(bodies, summary)
                kept = (key, data)
                answer: Any = Prepared(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL),
                                       analysis_stats, stats)
            elif message[0] == "adopt":  # data made before (read back from disk): keep it
                _, key, pickled = message
                kept = None
                kept = (key, pickle.loads(pickled))  # noqa: S301 - the server's own file
                answer = True
            elif message[0] == "stats":
                _, key, projection, filters = message
                if kept is None or kept[0] != key:
                    answer = None
                else:
                    answer = View(kept[1], filters, projection).analysis.stats()
            else:
                answer = ValueError(f"unknown request {message[0]!r}")
        except Exception as exc:  # noqa: BLE001 - reported to the parent
            answer = NetworkProcessError(f"{type(exc).__name__}: {exc}")
        conn.send(answer)


class NetworkProcess:
    """A child process that makes the network of a data version and its measures."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._conn: Duplex | None = None
        self.restarts = 0
        """Children started after the first (one died or was stopped)."""

    def start(self) -> None:
        """Start the child now (it is started at the first request otherwise)."""
        with self._lock:
            if self._process is None:
                self._process, self._conn = spawn(MODULE)

    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _ask(self, message: tuple) -> Any:
        with self._lock:
            conn = self._connection()
            try:
                try:
                    conn.send(message)
                except OSError:  # died before it was asked (killed, not yet reaped): again
                    self._stop()
                    self.restarts += 1
                    conn = self._connection()
                    conn.send(message)
                if not conn.poll(self.timeout):
                    self._stop()
                    raise NetworkProcessError(f"no answer within {self.timeout} s; the network "
                                              "process is stopped")
                answer = conn.recv()
            except (EOFError, OSError) as exc:
                self._stop()
                raise NetworkProcessError(f"the network process failed ({exc!r})") from exc
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def _connection(self) -> Duplex:
        """The running child's pipe, a new child's if there is none or it has ended."""
        if self._process is not None and self._process.poll() is not None:
            self._stop()
            self.restarts += 1
        if self._process is None:
            self._process, self._conn = spawn(MODULE)
        assert self._conn is not None
        return self._conn

    def version(self, key: Hashable, bodies: Mapping[str, bytes], summary: bool = True
                ) -> Prepared:
        """The data of version `key` made from the network queries' answers, with the default
        view's summary if `summary`; the child keeps the data for `stats`."""
        return self._ask(("version", key, dict(bodies), summary))

    def adopt(self, key: Hashable, pickled: bytes) -> None:
        """Let the child hold version `key`'s data, made before and pickled (after a restart
        the data is read back from disk, not made by the child), so that `stats` can use it."""
        self._ask(("adopt", key, pickled))

    def stats(self, key: Hashable, projection: str, filters: Any) -> dict | None:
        """`Analysis.stats()` of a view (`graph.network.projection.Filters`) of version `key`'s
        data, or None when the child does not hold that version (the caller computes it)."""
        return self._ask(("stats", key, projection, filters))

    def _stop(self, end=stop) -> None:
        """Let go of the child: `stop` it at once, or `finish` (ask it to end first)."""
        process, conn = self._process, self._conn
        self._process = self._conn = None
        end(process, conn)

    def close(self) -> None:
        with self._lock:
            self._stop(finish)


if __name__ == "__main__":  # the child: python -m graph.network.process IN OUT
    # by its module's name, so that what it sends unpickles in the parent (not as __main__.*)
    from graph.network.process import _child as child

    child(connect())
