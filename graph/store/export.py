"""JSON-LD export, compacted with the project's context file."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib

from graph.core.settings import Settings
from graph.store.embedded import Store


def as_jsonld(store: Store, settings: Settings, graph: str | None = None) -> bytes:
    """The dataset (or one named graph) as JSON-LD using ontology/context.jsonld."""
    context = json.loads((settings.ontology_dir / "context.jsonld").read_text("utf-8"))["@context"]
    if graph is None:
        dataset = rdflib.Dataset()
        dataset.parse(data=store.dump(ox.RdfFormat.N_QUADS), format="nquads")
        text = dataset.serialize(format="json-ld", context=context, indent=2)
    else:
        g = rdflib.Graph()
        g.parse(data=store.dump(ox.RdfFormat.N_TRIPLES, graph), format="nt")
        text = g.serialize(format="json-ld", context=context, indent=2)
    return text.encode("utf-8")
