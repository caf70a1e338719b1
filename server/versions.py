"""What an answer says of the data version it describes: noted per request, sent as headers.

Why a module apart from server/cache.py: the keeper there decides which version a derived view
holds; this is the request's side of it, shared by every route whose answer is built from kept
views (pages, VoID, /health, the network, kept answers) and by the ASGI middleware that turns
the note into `X-Data-Version` and `X-Current-Data-Version`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request


def describes(request: Request, version: Any) -> None:
    """Note that the answer to `request` describes `version` (the oldest noted wins)."""
    noted = getattr(request.state, "described_version", None)
    if noted is None or (isinstance(version, int) and isinstance(noted, int) and version < noted):
        request.state.described_version = version


def described(request: Request) -> tuple[Any, Any]:
    """(the version the answer describes, the current version)."""
    current = getattr(request.app.state, "data_version", 0)
    return getattr(request.state, "described_version", current), current


class VersionHeaders:
    """ASGI middleware: every answer built from derived views says which data version it
    describes (`X-Data-Version`) and, when that is behind, the current one
    (`X-Current-Data-Version`)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                state = scope.get("state") or {}
                version = state.get("described_version")
                if version is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"x-data-version", str(version).encode()))
                    current = getattr(scope["app"].state, "data_version", 0)
                    if current != version:
                        headers.append((b"x-current-data-version", str(current).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
