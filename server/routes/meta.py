"""Health, and the VoID description at /.well-known/void."""

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from server.deps import BackendDep, SettingsDep
from server.describe import void_description

router = APIRouter(tags=["service"])


@router.get("/health", summary="Is the store reachable, and how many triples does it hold")
async def health(backend: BackendDep, settings: SettingsDep) -> JSONResponse:
    try:
        triples = await run_in_threadpool(backend.store.count)
    except Exception as exc:  # noqa: BLE001 - any failure of the store means unhealthy
        return JSONResponse({"status": "unavailable", "error": str(exc)[:300]}, status_code=503)
    return JSONResponse({"status": "ok", "backend": settings.store_backend, "triples": triples})


@router.get("/.well-known/void", summary="VoID description of the dataset")
async def void(request: Request, backend: BackendDep, settings: SettingsDep) -> Response:
    return await void_description(request, backend, settings)
