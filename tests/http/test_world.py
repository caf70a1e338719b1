"""World data in the graph: CITYDIP_DATASETS with and without it, the network by source, the
`/viz/world` page."""

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from graph.cli.main import app
from graph.core.namespaces import GRAPH
from graph.core.settings import Settings, get_settings
from graph.importing.world import SourceSpec, import_list
from graph.network.data import fetch, store_select
from graph.network.projection import FilterError, Filters, select
from graph.store.embedded import Store
from graph.store.load import build_store, dataset_paths, sync_datasets

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"
WORLD_GRAPH = str(GRAPH["world-fixture"])


@pytest.fixture(scope="module")
def data_dir(settings, tmp_path_factory) -> Path:
    """A data folder like graph/data: the report's files, and one imported list in world/."""
    folder = tmp_path_factory.mktemp("data")
    for path in settings.data_dir.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    spec = SourceSpec(source="fixture", file=FIXTURES / "hekman-style.csv", language="en",
                      title="Fixture", origin="https://example.org/list",
                      license="https://opensource.org/licenses/MIT", retrieved="2026-02-08")
    import_list(spec, settings, folder / "world", context=[folder], sample=5)
    return folder


def test_the_default_datasets_are_the_reports_files_only(settings):
    assert Settings().datasets == ["report"]
    paths = dataset_paths(settings)
    assert {p.name for p in paths} == {"kaohsiung-report.ttl", "reference.ttl"}


def test_citydip_datasets_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("CITYDIP_DATASETS", "report, world")
    assert Settings().datasets == ["report", "world"]


def test_datasets_with_and_without_the_world_data(data_dir):
    def names(*datasets):
        return [p.name for p in dataset_paths(Settings(data_dir=data_dir), datasets)]

    assert names("report") == ["kaohsiung-report.ttl", "reference.ttl"]
    assert names("report", "world") == names("all") == [
        "kaohsiung-report.ttl", "reference.ttl", "world-fixture.nt"]
    assert names("fixture") == names("world-fixture") == ["world-fixture.nt"]
    with pytest.raises(FileNotFoundError, match="imported lists: fixture"):
        names("wikipedia")
    empty = Settings(data_dir=data_dir / "world")  # a folder with no world/ of its own
    with pytest.raises(FileNotFoundError, match="citydip import world"):
        dataset_paths(empty, ["world"])


def test_the_store_holds_the_world_graph_only_when_asked(data_dir):
    without = build_store(Settings(data_dir=data_dir), store=Store(None))
    assert WORLD_GRAPH not in without.graphs()
    with_world = build_store(Settings(data_dir=data_dir, datasets=["report", "world"]),
                             store=Store(None))
    assert WORLD_GRAPH in with_world.graphs()
    assert with_world.count(WORLD_GRAPH) > 50


def test_a_filled_store_follows_the_datasets_at_start(data_dir):
    store = build_store(Settings(data_dir=data_dir), store=Store(None))
    before = store.count()
    added = sync_datasets(store, Settings(data_dir=data_dir, datasets=["report", "world"]))
    assert added == ["+world-fixture"] and WORLD_GRAPH in store.graphs()
    assert store.count() > before  # the list, and the shortcuts derived from it
    assert sync_datasets(store, Settings(data_dir=data_dir, datasets=["all"])) == []
    dropped = sync_datasets(store, Settings(data_dir=data_dir))
    assert dropped == [f"-{WORLD_GRAPH}"] and store.count() == before


def test_the_network_by_source(data_dir, settings):
    store = build_store(Settings(data_dir=data_dir, datasets=["all"]), store=Store(None))
    data = fetch(store_select(store), settings.queries_dir)
    assert data.sources() == ["fixture", "report"]
    world = select(data, Filters.parse(data, source=["fixture"]))
    report = select(data, Filters.parse(data, source=["report"]))
    union = select(data, Filters.parse(data, source=["union"]))
    assert len(world) == 8 and len(report) == 41 and len(union) == 49
    assert all(p.sources == ("fixture",) for p in world)
    # Kaohsiung is one actor in both: a party to the report's partnerships and the list's.
    assert any("city/kaohsiung" in p.parties for p in world)
    with pytest.raises(FilterError, match="unknown source 'wikipedia'"):
        Filters.parse(data, source=["wikipedia"])


runner = CliRunner()


def test_network_stats_by_source_on_the_command_line(data_dir, monkeypatch):
    monkeypatch.setenv("CITYDIP_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["network", "stats", "--source", "fixture"])
        assert result.exit_code == 0, result.output
        assert "source fixture" in result.output
        assert re.search(r"degree: average [\d.]+, maximum \d+; triangles: \d+", result.output)
        doc = json.loads(runner.invoke(app, ["network", "stats", "--source", "fixture",
                                             "-f", "json"]).output)
        assert doc["partnerships"] == 8 and doc["degree"]["max"] >= 3
        assert doc["largest_component"]["diameter"] >= 2
        bad = runner.invoke(app, ["network", "stats", "--source", "wikipedia"])
        assert bad.exit_code == 2 and "wikipedia" in bad.output
    finally:
        get_settings.cache_clear()


def test_the_world_page_shows_its_figures_from_this_server(live_server):
    page = httpx.get(f"{live_server}/viz/world", timeout=30)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    sources = re.findall(r'<img src="([^"]+)"', page.text)
    assert len(sources) == 3
    for src in sources:
        assert src.startswith("/viz/world/figures/") and src.endswith(".png")
        image = httpx.get(f"{live_server}{src}", timeout=30)
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.content.startswith(b"\x89PNG")
    assert "KONECT" in page.text and "14,274" in page.text
    assert "/viz/countries" in page.text
    # The test server holds the report only, and says how to serve the lists.
    assert "CITYDIP_DATASETS" in page.text
    assert httpx.get(f"{live_server}/viz/world/figures/../../pyproject.toml",
                     timeout=30).status_code == 404


def test_the_pair_lists_query_gives_one_row_per_list(data_dir, settings):
    from graph.sparql.catalogue import internal_query

    store = build_store(Settings(data_dir=data_dir, datasets=["all"]), store=Store(None))
    text = internal_query(settings.queries_dir, "world/pair-lists").text
    rows = list(store.query(text))
    assert len(rows) == 1
    assert rows[0]["relations"].value == "8" and rows[0]["graph"].value == WORLD_GRAPH
    assert rows[0]["rows"].value == "10"  # the 8 ties' lines, the duplicate and reversed rows
    assert rows[0]["license"].value == "https://opensource.org/licenses/MIT"
