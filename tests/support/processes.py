"""Starting, waiting for and stopping a server process: the one way, for tests and benchmarks.

The HTTP tests (live.py) and the scripts of benchmarks/ all start real servers (`citydip serve`,
`oxigraph serve`, Virtuoso, rdflib-endpoint) on a free loopback port, wait until a URL answers
200, and stop them without leaving a query worker behind. That logic lives here once. It is a
plain module beside live.py rather than part of it because live.py also holds the tests' data and
settings (hostile labels, write tokens), which the benchmarks have no use for; benchmarks/_paths.py
puts this folder on sys.path so that a benchmark imports it as `import processes`.

A process started with `own_group` gets a session of its own: Ctrl-C at the terminal then reaches
the benchmark, which stops the server itself, and a benchmark can tell the server's CPU time from
its own by process group. Stopping terminates the process (its whole group when it has one), kills
it if it lingers, then kills any child (the query workers) that outlived it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 90


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log file ('' if it cannot be read)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def cmdline(process: psutil.Process) -> list[str]:
    """A process's command line, [] if it is gone or not ours to read."""
    try:
        return process.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return []


def spawn(command: list[str], log: Path, env: Mapping[str, str] | None = None,
          cwd: Path = ROOT, own_group: bool = False, append: bool = False) -> subprocess.Popen:
    """Start `command` with its output in `log` (appended to with `append`), no stdin.

    `env` is the whole environment (None: this process's).
    """
    with log.open("ab" if append else "wb") as out:
        return subprocess.Popen(command, cwd=str(cwd), env=None if env is None else dict(env),
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=own_group)


def wait_until_up(url: str, process: subprocess.Popen, log: Path, what: str,
                  limit: float = STARTUP_SECONDS,
                  progress: Callable[[float], None] | None = None) -> float:
    """Poll until GET `url` answers 200; return the seconds waited.

    Raises RuntimeError, with the end of the log, if the process exits first or `limit` seconds
    pass. `progress`, if given, is called with the seconds waited every 30 s.
    """
    started = last = time.perf_counter()
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it was ready:\n"
                               + log_tail(log))
        try:
            if httpx.get(url, timeout=30).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        now = time.perf_counter()
        if now - started > limit:
            raise RuntimeError(f"{what} did not answer {url} within {limit:.0f} s:\n"
                               + log_tail(log))
        if progress is not None and now - last > 30:
            progress(now - started)
            last = now
        time.sleep(0.1)


def stop(process: subprocess.Popen, what: str, strict: bool = True) -> None:
    """Terminate a process, kill it if it lingers, and make sure no child of it survives.

    With `strict`, a child that had to be killed after its parent is stopped is an error (the
    tests check that the server stops its workers); a benchmark only wants them gone.
    """
    try:
        children = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        children = []
    own_group = _leads_group(process)
    if process.poll() is None or own_group:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            _signal(process, sig, own_group)
            try:
                process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
    _, alive = psutil.wait_procs(children, timeout=10)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()
    psutil.wait_procs(alive, timeout=5)
    if own_group:  # whatever else is left in the group: grandchildren that were reparented
        _signal(process, signal.SIGKILL, True)
    if alive and strict:
        raise AssertionError(f"{what}: {len(alive)} child process(es) outlived the server: "
                             + ", ".join(f"{c.pid} {' '.join(cmdline(c))[:80]}" for c in alive))


def _leads_group(process: subprocess.Popen) -> bool:
    try:
        return os.getpgid(process.pid) == process.pid
    except (ProcessLookupError, PermissionError):
        return False


def _signal(process: subprocess.Popen, sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if group:
            os.killpg(process.pid, sig)
        else:
            process.send_signal(sig)


ROLES = (("graph.write.validation_process", "validation"), ("graph.network.process", "network"),
         ("resource_tracker", "other"))
"""The children of a server process that are not query workers, by what their command line
holds: the validation process (graph/write/validation_process.py), the network process
(graph/network/process.py) and multiprocessing's resource tracker."""


def role(process: psutil.Process, server: int | None = None) -> str:
    """What a process of a server's tree does: "server" (pid `server`), one of ROLES, or
    "workers" (a query worker, the derived views' one among them)."""
    if process.pid == server:
        return "server"
    line = " ".join(cmdline(process))
    return next((name for marker, name in ROLES if marker in line), "workers")


def workers(process: psutil.Process) -> list[psutil.Process]:
    """The children of a server process that are its query workers (see ROLES)."""
    return [c for c in process.children(recursive=True) if role(c) == "workers"]


def cpu_percent(processes: list[psutil.Process], seconds: float = 1.0) -> float:
    """Total CPU use of the processes over `seconds` (100 = one core busy)."""
    alive = []
    for process in processes:
        try:
            process.cpu_percent(None)
            alive.append(process)
        except psutil.Error:
            pass
    time.sleep(seconds)
    total = 0.0
    for process in alive:
        try:
            total += process.cpu_percent(None)
        except psutil.Error:
            pass
    return total


@dataclass
class Running:
    """A started server process: its base URL, the process, its log, the seconds it took to
    answer."""

    url: str
    process: subprocess.Popen
    log: Path
    startup: float = 0.0

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def workers(self) -> list[psutil.Process]:
        """The query workers ([] once the server is gone)."""
        try:
            return workers(psutil.Process(self.process.pid))
        except psutil.NoSuchProcess:
            return []

    def tree(self) -> list[psutil.Process]:
        """The process and its workers ([] once it is gone)."""
        try:
            return [psutil.Process(self.process.pid), *self.workers()]
        except psutil.NoSuchProcess:
            return []

    def stop(self, what: str = "server", strict: bool = True) -> None:
        stop(self.process, what, strict)


def start(command: list[str], url: str, ready_path: str, log: Path, what: str,
          env: Mapping[str, str] | None = None, cwd: Path = ROOT, own_group: bool = False,
          limit: float = STARTUP_SECONDS, append: bool = False) -> Running:
    """`command` started (see spawn) and up: `url` + `ready_path` answers 200. Stopped again
    if it does not come up."""
    started = time.perf_counter()
    process = spawn(command, log, env, cwd, own_group, append)
    try:
        wait_until_up(url + ready_path, process, log, what, limit)
    except BaseException:
        stop(process, what, strict=False)
        raise
    return Running(url, process, log, time.perf_counter() - started)


@contextmanager
def serving(command: list[str], url: str, ready_path: str, log: Path, what: str,
            env: Mapping[str, str] | None = None, cwd: Path = ROOT, own_group: bool = False,
            limit: float = STARTUP_SECONDS, strict: bool = True) -> Iterator[Running]:
    """`command` started and up (see start) while the context lasts, then stopped (see stop)."""
    running = start(command, url, ready_path, log, what, env, cwd, own_group, limit)
    try:
        yield running
    finally:
        running.stop(what, strict)


def citydip_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its CITYDIP_* settings, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYDIP_")}
    env.update(settings)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def start_citydip(settings: Mapping[str, str], log: Path, cwd: Path = ROOT,
                  own_group: bool = False, limit: float = STARTUP_SECONDS,
                  append: bool = False) -> Running:
    """`citydip serve` on a free loopback port with exactly the given CITYDIP_* settings."""
    port = free_port()
    return start([sys.executable, "-m", "graph.cli.main", "serve", "--host", "127.0.0.1",
                  "--port", str(port)], f"http://127.0.0.1:{port}", "/health", log,
                 "citydip serve", citydip_env(settings), cwd, own_group, limit, append)


@contextmanager
def citydip_serving(settings: Mapping[str, str], log: Path, cwd: Path = ROOT,
                    own_group: bool = False, limit: float = STARTUP_SECONDS,
                    strict: bool = True, append: bool = False) -> Iterator[Running]:
    """`citydip serve` (see start_citydip) while the context lasts, then stopped."""
    running = start_citydip(settings, log, cwd, own_group, limit, append)
    try:
        yield running
    finally:
        running.stop("citydip serve", strict)
