"""What a benchmark script imports from the rest of the repository, put on sys.path in one place.

A benchmark runs as `python benchmarks/<name>.py`, not as a package: it needs the project root
(for `graph`), this folder (for its sibling modules, such as `endpoint` and `generate`) and
tests/support (for `processes`, the one way to start and stop a server process, shared with the
tests, and `live`, the tests' servers). `import _paths` first, before those imports.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SUPPORT = ROOT / "tests" / "support"

for _folder in (SUPPORT, HERE, ROOT):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
