"""What every part of the endpoint benchmark refers to: paths, the servers, the log line."""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]  # benchmarks/
ROOT = HERE.parent
VENV_BIN = Path(sys.executable).parent
SERVERS = ("ours", "oxigraph", "rdflib")
SERVER_NAMES = {
    "ours": "ours (citydip serve)",
    "oxigraph": "Oxigraph server",
    "rdflib": "rdflib-endpoint",
}
THROUGHPUT_QUERIES = ("lookup", "two-hop", "lookup-random", "two-hop-random")
TARGET_QUERIES = THROUGHPUT_QUERIES
STARTED = time.perf_counter()


def log(message: str) -> None:
    """One progress line on stderr, with the seconds since the run started."""
    elapsed = time.perf_counter() - STARTED
    print(f"[{elapsed:7.1f}s] {message}", file=sys.stderr, flush=True)
