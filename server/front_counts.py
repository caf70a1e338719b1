"""The figures of the front page and the browse index: counted once per data version, and until
then what the label index knows, at once.

Why: those figures are counts over the whole graph (queries/pages/overview.rq and
class-breakdown.rq, triples per named graph from queries/meta/void-graphs.rq, the graphs'
licences). They are kept per data version and on disk (server/cache.py), so after a restart
they are read back in milliseconds; but at the first start of a large store nothing is kept
yet, and the first `/` waited for the counting itself: 15.2 s at 5M triples, VoID's
distinct entities included, which the page does not show (it no longer waits for them). Like a
kept answer
(server/kept_answers.py), a visitor now waits for the first count at most
CITYDIP_FRONT_PAGE_WAIT seconds. Past that the page answers 200 at once with what the label
index (graph.store.labels) knows: the resources of each group and of each class. The index is
built at load and kept current by every write, so those figures are exact for resources named
by an IRI (the index leaves blank nodes out; the data types none with these classes). What it
does not hold, the triples per named
graph and the rows of the pair lists, the page says is being counted, and it reloads itself.
The counting goes on meanwhile, for every reader (server/cache.py), and the warm-up starts it
before anything else (`count_first`), so the provisional page is seen only in the first
seconds of a first start. Never a 503 for waiting.

After a write the counts follow its changeset (`follow_front_page`), as VoID's do: the resources
whose types it changed are looked up, each group's and class's count moved by them, and nothing
is recounted. At world scale the recount took 2 s of a worker's CPU after writes. A change the
counts cannot follow cheaply (the class tree, the classes' labels, the pair lists' rows, or a
whole graph replaced) is recounted in the background as before.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pyoxigraph as ox
from fastapi import Request

from graph.core.namespaces import CD
from graph.core.terms import RDF_TYPE, RDFS_LABEL, RDFS_SUBCLASS_OF
from graph.sparql.catalogue import internal_query
from server import describe, following
from server.cache import Change, Recount, derived, per_data_version
from server.dump_links import LICENCES, licences
from server.terms import compact, value

log = logging.getLogger(__name__)

FRONT_PAGE = "front_page"
COUNTS = "statistics:counts"
HOME = (FRONT_PAGE, COUNTS, LICENCES)
"""The kept views `/` is made of: group and class counts, triples per graph, licences."""
BROWSE = (FRONT_PAGE,)
"""Those of `/browse` without a class: the class counts."""
REFRESH = 5
"""Seconds after which a page with figures still being counted reloads itself."""

GROUP_ROOT = re.compile(r'\("(\w+)"\s+cd:(\w+)\)')
"""A group and its root class in the VALUES of queries/pages/overview.rq."""


async def front_page_counts(app) -> dict:
    """The counts of the front page and of the browse index (queries/pages/overview.rq and
    class-breakdown.rq), as plain values: kept per data version (server/cache.py), warmed at
    start and recounted in the background after writes."""
    async def rows(name: str) -> list[dict]:
        query = internal_query(app.state.settings.queries_dir, f"pages/{name}")
        return await app.state.backend.select(query.text, query.bindings({}), background=True)

    totals = {r["group"].value: int(r["count"].value) for r in await rows("overview")}
    classes = [{"group": row["group"].value, "iri": row["class"].value,
                "label": value(row, "classLabel") or compact(row["class"].value),
                "count": int(row["count"].value)} for row in await rows("class-breakdown")]
    return {"totals": totals, "classes": classes}


ROW_STATEMENTS = (following.SOURCE_LINE,
                  ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom"))
ROW_CLASSES = (ox.NamedNode(following.PAIR_LIST_ROW), ox.NamedNode(f"{CD}PairList"))


def follow_front_page(counts: dict, change: Change, roots: list[tuple[str, str]]) -> dict:
    """The front page's counts after a commit, from its changeset (as overview.rq and
    class-breakdown.rq would count them again); `Recount` when the commit changes what they
    cannot follow cheaply: the class tree, a shown class's label, the pair lists' rows."""
    if len(change.added) + len(change.removed) > describe.FOLLOW_LIMIT:
        raise Recount
    shown = {row["iri"] for row in counts["classes"]}
    for q in change.added | change.removed:
        if isinstance(q.graph_name, ox.DefaultGraph) or isinstance(q.subject, ox.Triple):
            continue
        if q.predicate == RDFS_SUBCLASS_OF or (
                q.predicate == RDF_TYPE and q.object in ROW_CLASSES):
            raise Recount
        if q.predicate == RDFS_LABEL and q.subject.value in shown:
            raise Recount
        if q.predicate in ROW_STATEMENTS and _typed(change, q.subject, ROW_CLASSES[0]):
            raise Recount
    typed = following.typed_subjects(change)
    if not typed:
        return counts
    below = following.classes_below(change, dict(roots))
    totals = dict(counts["totals"])
    rows = {(row["group"], row["iri"]): dict(row) for row in counts["classes"]}
    for subject in typed:
        now, before = following.types_now_and_before(change, subject)
        for group, classes in below.items():
            # overview.rq: areas that are not countries
            excluded = following.COUNTRY if group == "areas" else None
            joined = (following.member(now, classes, excluded)
                      - following.member(before, classes, excluded))
            if joined:
                totals[group] = totals.get(group, 0) + joined
            for cls in (now ^ before) & classes - {excluded}:
                row = rows.get((group, cls)) or rows.setdefault((group, cls), {
                    "group": group, "iri": cls, "label": _label(change.store, cls), "count": 0})
                row["count"] += 1 if cls in now else -1
    kept = [row for row in rows.values() if row["count"] > 0]
    return {"totals": {k: n for k, n in totals.items() if n is None or n > 0},
            "classes": sorted(kept, key=lambda r: (r["group"], -r["count"], r["label"]))}


def _typed(change: Change, subject, cls: ox.NamedNode) -> bool:
    """`subject` typed `cls` before or after the commit."""
    return change.count(subject, RDF_TYPE, cls) > 0 or any(
        q.subject == subject and q.predicate == RDF_TYPE and q.object == cls
        for q in change.removed)


def _label(store, cls: str) -> str:
    """A class's English label as class-breakdown.rq samples it, else its compact name."""
    for q in store.quads_for_pattern(ox.NamedNode(cls), RDFS_LABEL, None, None):
        obj = q.object
        if isinstance(obj, ox.Literal) and (obj.language or "").lower().split("-")[0] == "en":
            return obj.value
    return compact(cls)


def register(app) -> None:
    """Let the front page's counts follow writes (called when the app starts)."""
    roots = group_roots(app.state.settings.queries_dir)
    derived(app).register(FRONT_PAGE, lambda counts, change: follow_front_page(
        counts, change, roots))


def views(app) -> dict[str, Callable[[], Awaitable[Any]]]:
    """How each kept view the front page needs is computed."""
    return {FRONT_PAGE: lambda: front_page_counts(app), COUNTS: lambda: describe.counts(app),
            LICENCES: lambda: licences(app)}


async def counted(request: Request, keys: Iterable[str]) -> dict[str, Any] | None:
    """The kept views `keys` (their version noted on the answer); None when a first count is
    not done within CITYDIP_FRONT_PAGE_WAIT seconds of its start (it goes on in the
    background): the first visitor waits at most that long, and one who comes while the count
    has run longer already does not wait again."""
    keys, made, keeper = tuple(keys), views(request.app), derived(request.app)

    async def every() -> dict[str, Any]:
        # one after the other, as the warm-up counts them (`count_first`)
        return {key: await per_data_version(request, key, made[key]) for key in keys}

    missing = [key for key in keys if keeper.peek(key) is None]
    if not missing:
        return await every()  # at once: served from what is kept, recounted behind if stale
    if getattr(request.app.state.backend, "labels", None) is None:
        return await every()  # nothing to show meanwhile: wait for the count
    wait = request.app.state.settings.front_page_wait
    begun = [keeper.started[key] for key in missing if key in keeper.tasks]
    if begun:
        wait = max(0.0, min(begun) + wait - time.monotonic())
    waiting = asyncio.ensure_future(every())
    try:
        # shielded: a visitor who stops waiting does not stop the counting
        return await asyncio.wait_for(asyncio.shield(waiting), wait)
    except TimeoutError:
        waiting.add_done_callback(_quiet)
        return None


def _quiet(task: asyncio.Future) -> None:
    if not task.cancelled():
        task.exception()  # a failure is logged by the keeper, and the next visitor counts again


async def count_first(app) -> None:
    """At start, before the network and the kept answers: count what `/` shows, one query at
    a time, and log how long it took.

    One at a time: the counts hold one of the query workers and leave the other to visitors.
    Run side by side they held both, and at a million triples a visitor's first SPARQL lookup
    waited 0.9–1.6 s behind them (20–30 ms when one worker was left free); `/` does not need
    them sooner, it shows the label index's figures meanwhile.
    """
    began, keeper, made = time.monotonic(), derived(app), views(app)
    for key in HOME:
        counting = asyncio.ensure_future(keeper.get(key, made[key]))
        if key == FRONT_PAGE:
            await _meanwhile(app, counting)
        try:
            await counting
        except Exception as exc:  # noqa: BLE001 - a visitor's `/` counts it again
            log.error("counting %s at start failed: %s", key, exc)
    log.info("the front page's counts were ready %.1f s after the warm-up began",
             time.monotonic() - began)


async def _meanwhile(app, counting: asyncio.Future) -> None:
    """Once the front page is being counted (it was not on disk), make the label index's
    figures before a visitor asks for them: their first reading of the index took 134 ms at a
    million triples (13 ms after)."""
    keeper = derived(app)
    while not counting.done() and FRONT_PAGE not in keeper.tasks:
        await asyncio.sleep(0.01)  # reading back from disk, or starting to count
    index = getattr(app.state.backend, "labels", None)
    if FRONT_PAGE in keeper.tasks and index is not None:
        try:
            await at_once(app, index)
        except Exception:  # noqa: BLE001 - made for the first visitor instead
            log.exception("the label index's figures could not be made ahead")


# --- what is known at once -----------------------------------------------------------------------


def group_roots(queries_dir: Any) -> list[tuple[str, str]]:
    """(group, root class) of the front page's groups, as queries/pages/overview.rq names them."""
    text = internal_query(queries_dir, "pages/overview").text
    return [(key, f"{CD}{name}") for key, name in GROUP_ROOT.findall(text)]


def from_label_index(index, roots: list[tuple[str, str]]) -> dict:
    """The front page's counts as the label index gives them, in the shape of
    `front_page_counts`: each group's resources (a class or any subclass of its root; areas
    that are not countries, as overview.rq counts them) and each class's resources typed with
    it directly (as class-breakdown.rq). The rows of the pair lists are not in the index: their
    total is None (being counted) when the data has any, and their lists are left out."""
    totals: dict[str, int | None] = {}
    classes: list[dict] = []
    for key, root in roots:
        totals[key] = index.member_count(root)
        below = index.subclasses(root)
        if key == "areas":  # overview.rq: an area that is also a country is counted as one
            totals[key] -= index.members_typed(root, following.COUNTRY)
            below = [c for c in below if c != following.COUNTRY]
        used = {c: n for c in below if (n := index.typed_count(c))}
        names = index.class_labels(used)
        rows = [{"group": key, "iri": c, "label": names.get(c) or compact(c), "count": n}
                for c, n in used.items()]
        classes.extend(sorted(rows, key=lambda r: (-r["count"], r["label"])))
    totals["rows"] = None if index.member_count(following.PAIR_LIST_ROW) else 0
    return {"totals": totals, "classes": classes}


async def at_once(app, index) -> dict:
    """`from_label_index` for the current data version (made once per version)."""
    state, version = app.state, getattr(app.state, "data_version", 0)
    kept = getattr(state, "front_counts_provisional", None)
    if kept is None or kept[0] != version:
        roots = group_roots(state.settings.queries_dir)
        kept = (version, await asyncio.to_thread(from_label_index, index, roots))
        state.front_counts_provisional = kept
    return kept[1]
