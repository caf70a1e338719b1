"""docs/notebooks/partner-web.ipynb, executed (nbclient) against a live server, so it never rots.

The server holds the report and one imported pair list (the test fixture list), as `make serve`
holds the report and the bundled world lists.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from live import citydip_server
from nbclient import NotebookClient

from graph.core.settings import Settings
from graph.importing.world import SourceSpec, import_list

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "docs" / "notebooks" / "partner-web.ipynb"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings()
    folder = tmp_path_factory.mktemp("data")
    for path in settings.data_dir.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    spec = SourceSpec(source="fixture", file=FIXTURES / "hekman-style.csv", language="en",
                      title="Fixture", origin="https://example.org/list",
                      license="https://opensource.org/licenses/MIT", retrieved="2026-02-08")
    import_list(spec, settings, folder / "world", context=[folder], sample=5)
    with citydip_server({"CITYDIP_DATA_DIR": str(folder),
                         "CITYDIP_DATASETS": "report,world"}) as server:
        yield server.url


def test_the_notebook_runs_against_a_live_server(server_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYDIP_NOTEBOOK_SERVER", server_url)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code"), \
        "commit the notebook without outputs"
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "Kaohsiung has" in text
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 2  # growth by year, degree distributions
    tables = [o["data"]["text/plain"] for o in outputs if "text/plain" in o.get("data", {})]
    assert any("world-fixture" in t for t in tables) and any("kaohsiung-report" in t
                                                             for t in tables)
