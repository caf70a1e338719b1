"""Shared fixtures: the settings, the bundled graph in an embedded store, the ontology.

The suite is sorted by what a test needs: `unit/` runs in process, `http/` starts real servers
(`support/live.py`), `browser/` drives headless Chromium. Each folder is also a marker
(`pytest -m unit`), set here from the folder, so that a run can pick a kind.
"""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))

from live import (  # noqa: E402
    LiveServer,
    SparqlStore,
    citydip_server,
    oxigraph_server,
    remote_env,
    virtuoso_server,
    write_env,
)

from graph.core.settings import Settings
from graph.store.embedded import Store
from graph.store.load import build_store
from graph.store.validate import parse_dir

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("unit", "http", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = item.path.parent.name
        if kind in KINDS:
            item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings()


@pytest.fixture(scope="session")
def store(settings: Settings) -> Store:
    """The bundled data (ontology, graph/data, shortcuts) in an in-memory store."""
    return build_store(settings, store=Store(None))


@pytest.fixture(scope="session")
def ontology(settings: Settings) -> rdflib.Graph:
    return parse_dir(settings.ontology_dir)


@pytest.fixture(scope="session")
def shapes(settings: Settings) -> rdflib.Graph:
    return parse_dir(settings.shapes_dir)


# --- live servers (tests/support/live.py starts and stops the processes) -------------------


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """Our server (`citydip serve`) over the embedded store, in memory."""
    with citydip_server() as server:
        yield server


@pytest.fixture(scope="session")
def oxigraph() -> Iterator[LiveServer]:
    """A fresh `oxigraph serve` process: the remote store."""
    with oxigraph_server() as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[SparqlStore]:
    """One Virtuoso process for the session (fresh database, set up as README says)."""
    with virtuoso_server() as server:
        yield server


ENGINES = ["oxigraph", "virtuoso"]
"""The real SPARQL stores the remote backend is tested against."""


@pytest.fixture(scope="session")
def oxigraph_remote(oxigraph: SparqlStore) -> Iterator[LiveServer]:
    """Our server over oxigraph; on its first start it loads the data into it."""
    with citydip_server(remote_env(oxigraph)) as server:
        server.store = oxigraph  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="session")
def virtuoso_remote(virtuoso: SparqlStore) -> Iterator[LiveServer]:
    """Our server over Virtuoso; on its first start it loads the data into it."""
    with citydip_server(remote_env(virtuoso)) as server:
        server.store = virtuoso  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="session", params=ENGINES)
def remote_server(request: pytest.FixtureRequest) -> LiveServer:
    """Our server over the remote backend, over each engine in turn (its store: `.store`)."""
    return request.getfixturevalue(f"{request.param}_remote")


@pytest.fixture(scope="session", params=["embedded", *ENGINES])
def server(request: pytest.FixtureRequest) -> LiveServer:
    """Each server in turn (embedded, remote over each engine): what all must do alike."""
    if request.param == "embedded":
        return request.getfixturevalue("live_server")
    return request.getfixturevalue(f"{request.param}_remote")


@pytest.fixture(scope="module")
def editor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Our server with writes enabled for alice and bob (in memory, history in a temp file)."""
    history = tmp_path_factory.mktemp("editor") / "history.jsonl"
    with citydip_server(write_env(history)) as server:
        server.history = history  # type: ignore[attr-defined]
        yield server


@pytest.fixture(scope="session")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The server the fuzz suites (tests/test_fuzz_*.py) hammer: writes enabled, in memory."""
    from fuzzing import fuzz_env

    history = tmp_path_factory.mktemp("fuzz") / "history.jsonl"
    with citydip_server(fuzz_env(history)) as server:
        yield server
