"""Shared fixtures: the settings, the bundled graph in an embedded store, the ontology."""

from pathlib import Path

import pytest
import rdflib

from graph.load import build_store
from graph.settings import Settings
from graph.store import Store
from graph.validate import parse_dir

ROOT = Path(__file__).resolve().parent.parent


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
