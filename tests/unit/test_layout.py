"""The layout: graph/ is a library whose sub-packages import downwards only, and never the server.

    core  <-  sparql  <-  store  <-  write, network  <-  importing  <-  backend  <-  cli
                                                                                     server/

Each sub-package may import the ones listed for it below and nothing else of ours; `server/` may
import anything of `graph/`; the one way up is the `serve` command, which starts the app. Route
modules are siblings: what two of them share lives in a module beside them, not in one of them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "core": set(),
    "sparql": {"core"},
    "store": {"core", "sparql"},
    "write": {"core", "sparql", "store"},
    "network": {"core", "sparql", "store"},
    "importing": {"core", "sparql", "store", "network"},
    "backend": {"core", "sparql", "store", "write", "network"},
    "cli": {"core", "sparql", "store", "write", "network", "importing", "backend"},
}
SERVE = ROOT / "graph" / "cli" / "main.py"


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module, line, at top level) for every import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, id(node) in top) for alias in node.names)
    return found


def package_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "graph").parts
    return parts[0] if len(parts) > 1 else path.stem


GRAPH_FILES = sorted((ROOT / "graph").rglob("*.py"))


def test_graph_is_sorted_into_the_sub_packages():
    flat = [p.name for p in (ROOT / "graph").glob("*.py") if p.stem not in ("__init__", "backend")]
    assert flat == []
    assert {package_of(p) for p in GRAPH_FILES} - {"__init__"} == set(ALLOWED)


@pytest.mark.parametrize("path", GRAPH_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_graph_imports_only_downwards(path):
    own = package_of(path)
    for module, line, _ in imports(path):
        if module.startswith("graph."):
            target = module.split(".")[1]
            assert target == own or target in ALLOWED.get(own, set()), (
                f"{path.relative_to(ROOT)}:{line} imports {module}: {own} may import "
                f"{sorted(ALLOWED.get(own, set()))}")


@pytest.mark.parametrize("path", GRAPH_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_graph_never_imports_the_server(path):
    for module, line, top_level in imports(path):
        if module == "server" or module.startswith("server."):
            # `citydip serve` is the single documented way up, imported when the command runs.
            where = f"{path.relative_to(ROOT)}:{line}"
            assert path == SERVE and not top_level, f"{where} imports {module}"


def test_the_layout_check_sees_an_import_upwards(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom server.app import create_app\n\n"
                   "def f():\n    import graph.cli\n")
    assert [(m, top) for m, _, top in imports(bad)] == [
        ("os", True), ("server.app", True), ("graph.cli", False)]


ROUTE_FILES = sorted((ROOT / "server" / "routes").glob("*.py"))


def sibling_imports(path: Path) -> list[tuple[str, int]]:
    """(module, line) for every import of `server.routes` or of a module in it, in any spelling:
    `import server.routes.x`, `from server.routes.x import y`, `from server.routes import x`,
    and relative imports (`from . import x`, `from .x import y`), which inside routes/ can only
    mean a sibling."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 0:
                found.append(("." * node.level + module, node.lineno))
            elif module == "server.routes" or module.startswith("server.routes."):
                found.append((module, node.lineno))
            elif module == "server" and any(a.name == "routes" for a in node.names):
                found.append(("server.routes", node.lineno))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names
                         if alias.name == "server.routes"
                         or alias.name.startswith("server.routes."))
    return found


def test_there_are_route_modules_to_check():
    assert len(ROUTE_FILES) > 10
    assert {"pages.py", "entities.py", "network.py", "viz.py"} <= {p.name for p in ROUTE_FILES}


@pytest.mark.parametrize("path", ROUTE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_route_modules_never_import_each_other(path):
    found = [f"{path.relative_to(ROOT)}:{line} imports {module}"
             for module, line in sibling_imports(path)]
    assert found == [], ("route modules are siblings: move what they share into a module "
                         f"beside them in server/ ({'; '.join(found)})")


def test_the_route_check_sees_a_sibling_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom server.rendering import render\n"
                   "from server.routes.pages import node\nfrom server.routes import viz\n"
                   "import server.routes.network\n"
                   "from server import routes\nfrom . import world\n\n"
                   "def f():\n    from .viz_map import map_page\n")
    assert sibling_imports(bad) == [
        ("server.routes.pages", 3), ("server.routes", 4), ("server.routes.network", 5),
        ("server.routes", 6), (".", 7), (".viz_map", 10)]
