"""`make test`'s first step (scripts/system-deps.sh): what the browser tests need, or one line."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps.sh"


def run_unprivileged(env: dict[str, str]) -> subprocess.CompletedProcess:
    """The script as a user who cannot install anything (nobody, when the tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="citydip-deps-"))
    try:
        folder.chmod(0o755)
        copy = folder / "system-deps.sh"
        shutil.copy(SCRIPT, copy)
        copy.chmod(0o755)
        command = ["bash", str(copy)]
        if os.geteuid() == 0:
            command = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *command]
        return subprocess.run(command, env={"PATH": os.environ["PATH"], **env},
                              capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_with_everything_installed_it_passes_silently() -> None:
    done = run_unprivileged({})
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""


def test_without_chromium_it_stops_at_once_with_one_line() -> None:
    done = run_unprivileged({"CHROMIUM": "/nonexistent/chromium"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "apt-get install chromium" in lines[0]


def test_make_test_runs_it_before_anything_else() -> None:
    root = SCRIPT.parent.parent
    # Under `make test` itself the inner make would announce its directory: ask it not to.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    planned = subprocess.run(["make", "--no-print-directory", "-n", "test"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[0] == "scripts/system-deps.sh"
