"""What every write route shares: who is writing, one write at a time, and the answer.

Writes are serialized by a thread lock and run in a write thread (validation is CPU work); after a
commit the data version is bumped (caches keyed on it refresh; the kept pages drop those the
change reaches and the derived views follow its changeset, both worked out in the same thread
under the lock, as each return to a busy event loop costs the write tens of ms while the lock
keeps the next writer waiting) and the backend told: the query
workers move to a snapshot holding the change before their next query, so a client that got its
200 sees its change in the very next query.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from itertools import chain
from typing import Annotated

import mimeparse
from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from graph.sparql.patterns import Touched
from graph.store.remote import RemoteError
from graph.write.auth import ENABLE_HINT, WriteTokens, bearer_token
from graph.write.changes import ChangeError
from graph.write.writer import Result, Writer
from server.cache import follow_commit, views_moved
from server.page_cache import pages_follow
from server.page_reach import reached
from server.responses import Refusal, error

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 32 * 2**20
WRITE_THREADS = 4
"""Threads that run writes: one holds the write lock, the others wait for it there (more
concurrent writers wait in the pool's queue, in order)."""


async def writer_name(request: Request) -> str:
    """Who is writing, from the bearer token; refused with 403 or 401 otherwise."""
    tokens: WriteTokens = request.app.state.write_tokens
    if not tokens.configured:
        raise Refusal(403, ENABLE_HINT)
    if request.app.state.backend.writer is None:
        raise Refusal(403, "this store cannot be written: the remote backend needs "
                           "CITYDIP_REMOTE_UPDATE_URL")
    presented = bearer_token(request.headers.get("authorization"))
    name = tokens.identify(presented)
    if name is None:
        raise Refusal(401, "send a write token: Authorization: Bearer <token>"
                      if presented is None else "this token is not allowed to write",
                      {"WWW-Authenticate": 'Bearer realm="citydiplomacy"' if presented is None
                       else 'Bearer realm="citydiplomacy", error="invalid_token"'})
    return name


async def write_body(request: Request) -> bytes:
    """The body of a write, read up to the size limit (refused with 413 past it, unread)."""
    limit = getattr(request.app.state.settings, "max_body_bytes", MAX_BODY_BYTES)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Refusal(413, _too_large(limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refusal(413, _too_large(limit))
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # read once: later readers of the body get the same bytes
    return body


def _too_large(limit: int) -> str:
    return (f"the request body is larger than {limit} bytes, the limit "
            "(CITYDIP_MAX_BODY_BYTES): send the data in several requests")


WriterName = Annotated[str, Depends(writer_name)]
"""The writer's name; a route that declares it first refuses anonymous writes before reading."""
WriteBody = Annotated[bytes, Depends(write_body)]


async def commit(request: Request, work: Callable[[Writer], Result],
                 created: Callable[[Writer], bool] | None = None) -> Response:
    """Run a write (blocking) under the write lock; answer with its outcome.

    The write runs in a write thread of its own, and what follows a commit (new data version,
    query workers renewed) on the event loop, both whatever becomes of the request: a client
    that disconnects meanwhile cannot leave a commit half-announced. The lock is a thread lock,
    taken in the write's thread and let go on the event loop once the new data version is
    announced: requests see a version and its kept pages change together, the next write is
    computed against the announced state, and the next writer's thread goes on at once, without
    waiting for a turn of a busy event loop (an asyncio lock cost one such turn, 13–20 ms beside
    16 readers, per write with the lock held; a write's thread that waited for the announcement
    cost another, to get the GIL back).
    """
    state = request.app.state
    backend = state.backend
    loop = asyncio.get_running_loop()
    answered: asyncio.Future[tuple[Result, bool]] = loop.create_future()
    answered.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved if abandoned

    def run() -> tuple[Result, bool, tuple[set[str] | None, Touched | None], dict | None]:
        """The write and what follows from it."""
        new = created(backend.writer) if created is not None else False
        result = work(backend.writer)
        if not result.committed:
            return result, new, (None, None), None
        # What follows from the change is worked out here, in the write's thread, on the store
        # just after it: each hand-back to a busy event loop costs the write tens of ms.
        version = backend.data_version + 1  # what backend.changed() makes current
        followed = time.perf_counter()
        reach = pages_reached(backend, result), answers_touched(backend, result)
        moved = follow_commit(request.app, result, version)
        result.timings["follow"] = time.perf_counter() - followed
        return result, new, reach, moved

    def announce(result: Result, new: bool, reach: tuple[set[str] | None, Touched | None],
                 moved: dict | None, queued: float, handed: float) -> None:
        """On the event loop, with the write lock held: the new data version, a snapshot for the
        workers, the on_commit hooks (the app's copy of the version is the backend's, never a
        count of its own); the kept pages and the derived views follow in the same step, before
        any request can see the new version. Then the next write may go."""
        began = time.perf_counter()
        try:
            previous = state.data_version
            state.data_version = backend.changed()
            pages_follow(request.app, previous, state.data_version, *reach)
            views_moved(request.app, state.data_version,
                        moved if state.data_version == previous + 1 else None)
        except BaseException as exc:  # noqa: BLE001 - answered as the write's failure
            let_go(exc)
            return
        done = time.perf_counter()
        result.timings["handoff"] = began - handed
        result.timings["announce"] = done - began
        result.timings["total"] = done - queued
        let_go((result, new))

    def let_go(value: tuple[Result, bool] | BaseException, thread: bool = False) -> None:
        """The write lock let go, then the answer settled: on the loop, or handed to it from
        the write's `thread` (`call_soon_threadsafe` raises if the loop is closed: stopped)."""
        state.write_lock.release()
        if thread:
            loop.call_soon_threadsafe(settle, value)
        else:
            settle(value)

    def settle(value: tuple[Result, bool] | BaseException) -> None:
        """The request's answer, unless its client has gone (the write stands all the same)."""
        if answered.done():
            return
        if isinstance(value, BaseException):
            answered.set_exception(value)
        else:
            answered.set_result(value)

    def write(queued: float) -> None:
        """In a write thread: the write under the lock, kept held for `announce` if it
        committed."""
        state.write_lock.acquire()
        try:
            locked = time.perf_counter()
            result, new, reach, moved = run()
            result.timings["lock"] = locked - queued
            if result.committed:  # `announce` lets the lock go
                loop.call_soon_threadsafe(announce, result, new, reach, moved, queued,
                                          time.perf_counter())
                return
        except BaseException as exc:  # noqa: BLE001 - answered as the write's failure
            let_go(exc, thread=True)
            return
        result.timings["total"] = time.perf_counter() - queued
        let_go((result, new), thread=True)

    thread = loop.run_in_executor(state.write_threads, write, time.perf_counter())
    thread.add_done_callback(lambda f: f.cancelled() or f.exception())  # retrieved if abandoned
    try:
        # Not shielded: a request cancelled (its client gone) cancels only `answered`; the write
        # and its announcement go on in the thread and on the loop. One turn of the loop fewer.
        result, new_graph = await answered
    except ChangeError as exc:
        return error(exc.status, str(exc))
    except RemoteError as exc:
        return error(502, f"the remote store refused the write: {exc}")
    return outcome_response(request, result, 201 if new_graph and result.committed else 200)


def pages_reached(backend, result: Result) -> set[str] | None:
    """The resources whose kept pages a committed write can change (server/page_reach.py), run
    under the write lock on the store just after it; None (every page) where the server cannot
    know every change: a remote store may also be written from elsewhere."""
    if not backend.changes_known:
        return None
    try:
        return reached(backend.writer.store, result.change.added | result.derived.added,
                       result.change.removed | result.derived.removed)
    except Exception:  # noqa: BLE001 - the write stands; its pages are dropped instead
        log.exception("could not work out the pages a write reaches; dropping every page")
        return None


TOUCHED_QUADS = 10_000
"""A larger change drops every kept answer (its sets of IRIs would be large)."""


def answers_touched(backend, result: Result) -> Touched | None:
    """The IRIs a committed write touched, for the kept answers of the endpoint
    (server/page_cache.py); None (every answer) where the server cannot know every change."""
    if not backend.changes_known:
        return None
    quads = (result.change.added, result.change.removed, result.derived.added,
             result.derived.removed)
    if sum(len(q) for q in quads) > TOUCHED_QUADS:
        return None
    return Touched.of(chain(*quads))


def outcome_response(request: Request, result: Result, status: int = 200) -> Response:
    report = result.verdict.report
    findings = [asdict(f) for f in report.findings]
    if not result.verdict.conforms:
        if _wants_text(request):
            return PlainTextResponse(report.to_text() + "\n", status_code=422)
        return JSONResponse({"conforms": False, "violations": len(report.violations),
                             "warnings": len(report.warnings), "results": findings,
                             "text": report.to_text(), "committed": False}, status_code=422)
    body = {
        "conforms": True,
        "committed": result.committed,
        "change": result.entry.id if result.entry else None,
        **result.change.counts(),
        "derived": result.derived.counts(),
        "warnings": findings,
        "focus_nodes": len(result.verdict.focus),
        "validated_triples": result.verdict.checked_triples,
        "validation": result.verdict.mode,
    }
    headers = {}
    if result.entry is not None:
        location = str(request.url_for("show_change", change_id=result.entry.id))
        body["location"] = location
        headers = {"Location": location, "X-Change-Id": str(result.entry.id)}
    else:
        body["message"] = "nothing to change: the store already holds exactly this"
    headers["Server-Timing"] = server_timing(result.timings)
    return Response(json.dumps(body, ensure_ascii=False, indent=2), status_code=status,
                    media_type="application/json", headers=headers)


TIMING_ORDER = ("lock", "build", "stage", "validate", "focus", "shacl", "log", "apply", "index",
                "follow", "handoff", "announce", "total")


def server_timing(timings: dict[str, float]) -> str:
    """A write's steps as a Server-Timing header (milliseconds): waiting for the write lock,
    computing the change, staging and validating it (of which: its focus nodes and the graph
    cut out around them; SHACL on that graph), the log's fsync, the store's commit, the label
    index following it, the pages and derived views it reaches, the wait for the event loop to
    take the announcement, announcing the new data version, and the whole."""
    return ", ".join(f"{name};dur={timings[name] * 1000:.1f}"
                     for name in TIMING_ORDER if name in timings)


def _wants_text(request: Request) -> bool:
    accept = request.headers.get("accept") or ""
    try:
        best = mimeparse.best_match(["text/plain", "application/json"], accept) if accept else ""
    except ValueError:
        return False
    return best == "text/plain"
