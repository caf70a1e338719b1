"""A long-lived helper process: a fresh interpreter on two pipes, started, asked and stopped.

Why it exists: pure-Python work holds the GIL of the process that runs it, and in the server
that is the GIL the HTTP layer, the pages and the cheap query lane need. Two kinds of work are
sent to a process of their own, each with a module that runs as the child
(`python -m MODULE IN OUT`): SHACL validation of a write (graph.write.validation_process) and the
network's measures after a write (graph.network.process). This module is what they share, so
that there is one way to start, talk to and stop such a child.

The child is a fresh interpreter, not a fork of the threaded server (a fork could copy a lock
some other thread holds, and inherits every open descriptor): `close_fds` leaves it the two
pipe ends it is given and nothing else, and it is named in `ps`. Messages are pickled
(multiprocessing's `Connection` over the pipes).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The project folder, put on the child's path so that it runs this checkout's code."""


class Duplex:
    """Two one-way pipes seen as one connection (what multiprocessing.Pipe gives a child)."""

    def __init__(self, incoming: Connection, outgoing: Connection) -> None:
        self.incoming, self.outgoing = incoming, outgoing

    def send(self, obj: object) -> None:
        self.outgoing.send(obj)

    def send_bytes(self, body: bytes) -> None:
        self.outgoing.send_bytes(body)

    def recv(self) -> Any:
        return self.incoming.recv()

    def poll(self, timeout: float) -> bool:
        return self.incoming.poll(timeout)

    def close(self) -> None:
        self.incoming.close()
        self.outgoing.close()


def spawn(module: str) -> tuple[subprocess.Popen, Duplex]:
    """Start `python -m module IN OUT` with this checkout on its path; the parent's end."""
    down_r, down_w = os.pipe()  # parent → child
    up_r, up_w = os.pipe()  # child → parent
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", module, str(down_r), str(up_w)],
            pass_fds=(down_r, up_w), env={**os.environ, "PYTHONPATH": path}, close_fds=True)
    except BaseException:
        for fd in (down_r, down_w, up_r, up_w):
            os.close(fd)
        raise
    os.close(down_r)
    os.close(up_w)
    return process, Duplex(Connection(up_r, writable=False), Connection(down_w, readable=False))


def stop(process: subprocess.Popen | None, conn: Duplex | None) -> None:
    """Close the pipes and kill the child if it still runs; wait for it (no zombie left)."""
    if conn is not None:
        conn.close()
    if process is not None and process.poll() is None:
        process.kill()
    if process is not None:
        process.wait(5)


def finish(process: subprocess.Popen | None, conn: Duplex | None) -> None:
    """Ask the child to end (it reads None and returns), give it 2 s, then `stop` it."""
    if conn is not None:
        try:
            conn.send(None)
        except OSError:  # BrokenPipeError included: the child is gone already
            pass
    if process is not None:
        try:
            process.wait(2)
        except subprocess.TimeoutExpired:
            pass
    stop(process, conn)


def connect() -> Duplex:
    """In the child: its end of the pipes, from the command line `spawn` gave it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the child stops
    return Duplex(Connection(int(sys.argv[1]), writable=False),
                  Connection(int(sys.argv[2]), readable=False))


def messages(conn: Duplex) -> Iterator[Any]:
    """In the child: the parent's messages, until it closes the pipe or sends None."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        yield message
