"""`/viz/world`: the world web of twinned cities — the pair lists the store holds, the network
figures of each source beside KONECT's, and the pictures `citydip import figures` drew
(degree distribution, world map, country network), served from `docs/figures/`."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, HTMLResponse

from graph.core.settings import ROOT
from graph.importing.figures import FIGURES, KONECT, SOURCES
from graph.sparql.catalogue import internal_query
from graph.store.execution import QueryTimeout
from server.rendering import CONTENT_SECURITY_POLICY, render

FIGURES_DIR = ROOT / "docs" / "figures"
"""Where `citydip import figures` writes (committed with the repository)."""
ROWS = (("nodes", "nodes", "{:,}"), ("edges", "edges", "{:,}"),
        ("average_degree", "average degree", "{:.2f}"), ("max_degree", "maximum degree", "{}"),
        ("largest_component", "largest component", "{:,}"), ("diameter", "diameter", "{}"),
        ("mean_distance", "mean distance", "{:.2f}"),
        ("clustering", "clustering (global)", "{:.3f}"), ("triangles", "triangles", "{:,}"),
        ("assortativity", "degree assortativity", "{:+.3f}"))

router = APIRouter(prefix="/viz/world", tags=["pictures"])


def _stats(folder: Path) -> dict | None:
    try:
        return json.loads((folder / "world-stats.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _table(stats: dict | None) -> dict | None:
    """The figures of each source and KONECT's, formatted, one row per measure."""
    if not stats:
        return None
    columns = [(key, SOURCES.get(key, (key, ""))[0]) for key in stats["sources"]]
    columns.append(("konect", KONECT["label"]))
    rows = []
    for key, label, fmt in ROWS:
        cells = []
        for source, _ in columns:
            found = (KONECT if source == "konect" else stats["sources"][source]).get(key)
            cells.append("—" if found is None else fmt.format(found))
        rows.append({"label": label, "cells": cells})
    return {"columns": [label for _, label in columns], "rows": rows}


@router.get("", response_class=HTMLResponse, summary="The world web of twinned cities")
async def world_page(request: Request) -> Response:
    settings = request.app.state.settings
    query = internal_query(settings.queries_dir, "world/pair-lists")
    try:
        lists = await request.app.state.backend.select(query.text)
        problem = None
    except (QueryTimeout, RuntimeError) as exc:
        lists, problem = [], str(exc)
    pair_lists = [{"label": r["label"].value, "graph": r["graph"].value,
                   "origin": r["origin"].value if r.get("origin") else None,
                   "license": r["license"].value if r.get("license") else None,
                   "retrieved": r["retrieved"].value if r.get("retrieved") else None,
                   "relations": int(r["relations"].value),
                   "rows": int(r["rows"].value) if r.get("rows") else 0} for r in lists]
    figures = [name for name in FIGURES if (FIGURES_DIR / name).is_file()]
    return render(request, "world.html", title="The world web of twinned cities",
                  pair_lists=pair_lists, problem=problem, table=_table(_stats(FIGURES_DIR)),
                  figures=figures)


@router.get("/figures/{name}", include_in_schema=False)
async def figure(name: str) -> Response:
    path = FIGURES_DIR / name
    if name not in FIGURES or not path.is_file():
        return Response("no such figure\n", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type="image/png", headers={
        "Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "max-age=3600"})
