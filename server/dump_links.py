"""Where the dumps are announced (front page, VoID): their URLs and licences, without writing them.

Announcing must not cost a dump: the file names come from the graph names
(graph.store.dumps.graph_file)
and the licences from one small query per data version, so the front page and VoID can list every
file while the files themselves are written on the first download. A write that states or drops
no licence or rights leaves them as they were (`follow_licences`): they are not asked again.
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import Request

from graph.sparql.catalogue import internal_query
from graph.store.dumps import DATASET_LICENSE, DATASET_LICENSE_NAME, FULL_DUMP, graph_file
from server.cache import Change, Recount, derived, per_data_version

LICENCES = "graph_licences"
LICENCE_TERMS = (ox.NamedNode("http://purl.org/dc/terms/license"),
                 ox.NamedNode("http://purl.org/dc/terms/rights"))


async def licences(app) -> dict[str, tuple[str, str]]:
    """Per named graph, the licence its data states, as counted (queries/meta/graph-licences.rq)."""
    state = app.state
    query = internal_query(state.settings.queries_dir, "meta/graph-licences")
    found: dict[str, tuple[str, str]] = {}
    for row in await state.backend.select(query.text, background=True):
        rights = row.get("rights")
        found.setdefault(row["graph"].value, (row["license"].value, rights.value
                                              if rights is not None else row["license"].value))
    return found


async def graph_licences(request: Request) -> dict[str, tuple[str, str]]:
    """Per named graph, the licence its data states: (IRI, words); others use the dataset's.
    Kept per data version."""
    return await per_data_version(request, LICENCES, lambda: licences(request.app))


def follow_licences(found: dict, change: Change) -> dict:
    """The licences after a commit: as they were, unless it states or drops a licence or
    rights (then asked again in the background)."""
    if any(q.predicate in LICENCE_TERMS for q in change.added | change.removed):
        raise Recount
    return found


def register(app) -> None:
    """Let the licences follow writes (called when the app starts)."""
    derived(app).register(LICENCES, follow_licences)


async def announced_dumps(request: Request, graphs: list[str],
                          licences: dict[str, tuple[str, str]] | None = None) -> list[dict]:
    """The dump files for these named graphs, first the whole dataset: path, graph, licence
    (`licences` as `graph_licences` gives them, if the caller has them already)."""
    root = request.scope.get("root_path", "").rstrip("/")
    if licences is None:
        licences = await graph_licences(request)
    files = [{"path": f"{root}/dump/{FULL_DUMP}", "name": FULL_DUMP, "graph": None,
              "format": "N-Quads, gzip", "license": DATASET_LICENSE,
              "license_name": DATASET_LICENSE_NAME}]
    for graph in sorted(graphs):
        licence, words = licences.get(graph, (DATASET_LICENSE, DATASET_LICENSE_NAME))
        files.append({"path": f"{root}/dump/{graph_file(graph)}", "name": graph_file(graph),
                      "graph": graph, "format": "Turtle", "license": licence,
                      "license_name": words})
    return files
