"""Data dumps at /dump: the whole dataset as gzipped N-Quads, each named graph as Turtle.

The files are written by graph.store.dumps, once per content of the store; this router only finds
the current folder (once per data version of this server, and again after REMOTE_SECONDS for a
remote store that other replicas may write) and serves the files the folder's manifest lists, so
no request names a path of its own.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse

from graph.store.dumps import DumpFile, current_dump
from server.cache import per_data_version
from server.rendering import render, wants_html
from server.responses import error

router = APIRouter(tags=["dumps"])
REMOTE_SECONDS = 300.0
"""How long a remote store's dump is trusted: other replicas may write to it, and checking costs a
full N-Quads read of the store (8 s at a million quads, see docs/benchmarks.md)."""


async def dump_files(request: Request) -> tuple[Path, list[DumpFile]]:
    """The current dump folder and its files, written first if the data changed."""
    state = request.app.state
    settings = state.settings
    if not hasattr(state, "dump_lock"):
        state.dump_lock = asyncio.Lock()

    async def compute() -> tuple[Path, list[DumpFile]]:
        return await run_in_threadpool(current_dump, state.backend.store, Path(settings.dump_dir))

    async with state.dump_lock:  # one writer of a dump at a time; the others wait and reuse it
        return await per_data_version(
            request, "dump", compute,
            max_age=REMOTE_SECONDS if settings.store_backend == "remote" else None, fresh=True)


@router.get("/dump", summary="The data dumps: whole dataset (N-Quads, gzip), graphs (Turtle)")
async def dump_index(request: Request) -> Response:
    _, files = await dump_files(request)
    root = request.scope.get("root_path", "").rstrip("/")
    listed = [{**asdict(f), "url": f"{root}/dump/{f.name}"} for f in files]
    if wants_html(request):
        return render(request, "dump.html", files=listed, title="Data dumps")
    return JSONResponse({"files": listed}, headers={"Vary": "Accept"})


@router.api_route("/dump/{name:path}", methods=["GET", "HEAD"],
                  summary="One file of the current dump")
async def dump_file(request: Request, name: str) -> Response:
    folder, files = await dump_files(request)
    found = next((f for f in files if f.name == name), None)
    if found is None:
        return error(404, f"no dump file {name!r}; GET /dump lists them")
    return FileResponse(folder / found.name, media_type=found.media_type,
                        filename=found.name.rsplit("/", 1)[-1],
                        headers={"Cache-Control": "no-cache"})
