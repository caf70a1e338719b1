"""The machine a run measures on, and how busy other processes keep it.

The machine is shared: a run records the load before and during each server's turn, and can
wait for the CPUs to be idle first (--wait-idle), so that noisy figures are told as such.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from pathlib import Path
from typing import Any

from endpoint.common import log


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of the CPUs busy over a short interval (from /proc/stat), 0..1."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    try:
        total1, idle1 = sample()
        time.sleep(seconds)
        total2, idle2 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def other_cpu_seconds(mine: set[int]) -> dict[int, float]:
    """CPU seconds used so far by each process outside the given process groups."""
    used: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[2]) in mine:  # fields[2] is the process group
            continue
        used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime+stime
    return used


def cpu_used_since(before: dict[int, float], mine: set[int]) -> float:
    """CPU seconds other processes used since `before` (a noise gauge: processes that ended in
    between are not seen)."""
    after = other_cpu_seconds(mine)
    return sum(max(0.0, t - before.get(pid, 0.0)) for pid, t in after.items())


def wait_until_idle(args) -> float:
    busy = cpu_busy()
    deadline = time.perf_counter() + args.wait_idle * 60
    while busy > 0.15 and time.perf_counter() < deadline:
        log(f"  other processes keep the CPUs {busy:.0%} busy; waiting for an idle machine")
        time.sleep(20)
        busy = cpu_busy()
    if busy > 0.15:
        log(f"  WARNING: the CPUs are {busy:.0%} busy with other processes; figures will be noisy")
    return busy


def machine() -> dict:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "loadavg_at_start": os.getloadavg(),
    }
    with contextlib.suppress(Exception):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(Exception):
        import importlib.metadata as md

        info["versions"] = {
            p: md.version(p)
            for p in ("pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "uvicorn", "fastapi")
            if _has(md, p)
        }
    return info


def _has(md, name: str) -> bool:
    try:
        md.version(name)
        return True
    except md.PackageNotFoundError:
        return False
