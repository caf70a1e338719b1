"""Health, and the VoID description at /.well-known/void."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from graph.store.execution import QueryJob
from server.cache import Change, derived, per_data_version
from server.deps import BackendDep, SettingsDep
from server.describe import void_description
from server.network_views import warming
from server.versions import described

router = APIRouter(tags=["service"])


@router.get("/health", summary="Is the store reachable, and how many triples does it hold")
async def health(request: Request, backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    try:
        if settings.store_backend == "remote":  # reachable now, whatever the cached count says
            probe = await backend.execute(QueryJob("ASK {}", format="json"))
            if probe.status != 200:
                raise RuntimeError(probe.message or f"the store answered {probe.status}")
        triples = await _triple_count(request, backend, settings)
    except Exception as exc:  # noqa: BLE001 - any failure of the store means unhealthy
        return JSONResponse({"status": "unavailable", "error": str(exc)[:300]}, status_code=503)
    version, current = described(request)
    return JSONResponse({"status": "ok", "backend": settings.store_backend, "triples": triples,
                         "data_version": version, "current_data_version": current,
                         "catching_up": catching_up(request.app),
                         "kept_pages": kept_pages(request.app)})


def kept_pages(app) -> dict[str, int]:
    """How many pages and answers are kept (server/page_cache.py), how many reads were answered
    from them, how many made, and how many of those kept were sent from a note of what was sent
    (server/replay.py)."""
    cache, replay = getattr(app.state, "page_cache", None), getattr(app.state, "replay", None)
    return {"kept": len(cache) if cache is not None else 0,
            "hits": cache.hits if cache is not None else 0,
            "misses": cache.misses if cache is not None else 0,
            "replayed": replay.replayed if replay is not None else 0}


def catching_up(app) -> list[str]:
    """What the server is still computing in the background after its start or the last
    writes (derived views by name, the network's expensive measures, the start's warm-up):
    empty when every derived answer it will give describes the current data, or is computed
    only when asked. For operators and benchmarks that wait for a quiet server."""
    pending = derived(app).pending()
    if getattr(app.state, "network_completing", None):
        pending.append("network measures")
    if warming(app):
        pending.append("warm-up")
    return pending


REMOTE_COUNT_SECONDS = 10.0
"""How long a remote store's triple count is reused: other replicas may write to it."""


async def _triple_count(request: Request, backend, settings) -> int:
    """The store's triple count, counted again only when the data changed.

    Counting reads every quad (0.1 s at a million triples), too much for a health check that a
    load balancer polls. This server's own writes bump `data_version`; a remote store's count is
    also renewed after REMOTE_COUNT_SECONDS.
    """
    return await per_data_version(
        request, "triple_count", lambda: run_in_threadpool(backend.store.count),
        max_age=REMOTE_COUNT_SECONDS if settings.store_backend == "remote" else None)


@router.get("/.well-known/void", summary="VoID description of the dataset")
async def void(request: Request, backend: BackendDep, settings: SettingsDep) -> Response:
    return await void_description(request, backend, settings)


def follow_triple_count(count: int, change: Change) -> int:
    """The store's triple count after a commit, from its changeset (no recount)."""
    return count + len(change.added) - len(change.removed)


def register(app) -> None:
    """Let /health's count follow writes (called when the app starts)."""
    derived(app).register("triple_count", follow_triple_count)
