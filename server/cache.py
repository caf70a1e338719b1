"""Values kept on the app until the data changes (`app.state.data_version`, bumped by writes)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request


async def per_data_version(request: Request, key: str, compute: Callable[[], Awaitable[Any]],
                           max_age: float | None = None) -> Any:
    """The value kept under `key` for the current data version, computed when there is none.

    `max_age` (seconds) also renews it when it is older, for data that may change elsewhere
    (a remote store shared by several servers).
    """
    state = request.app.state
    version = getattr(state, "data_version", 0)
    kept = getattr(state, key, None)
    now = time.monotonic()
    if kept is not None and kept[0] == version and (max_age is None or now - kept[1] < max_age):
        return kept[2]
    value = await compute()
    setattr(state, key, (version, now, value))
    return value
