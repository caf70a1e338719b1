"""What an entity page's lists cost the server, read in one step or in two (server/page_lists.py).

For one resource of a loaded store (opened read-only, so a store another server holds can be
measured), each list's query is run as the page runs it (`graph.store.execution.run_job`: the
answer serialized as SPARQL JSON, as a worker sends it) and parsed back (as `Backend.select`
does); the CPU time of both is what the page pays for that list, whatever else the machine is
doing (the least of `--repeat` runs, warm). One step: the whole list with its details. Two
steps: the keys of the whole list, then the details of one page of it with VALUES; for the
statements in, their counts per property, then the subjects of the first page's properties;
for the statements out, their counts, then `entity-out` for the first page's properties; the
passages behind the resource and the first page of its partnerships (the page reads each step's
lists as one query: server/page_lists.py).

    .venv/bin/python benchmarks/page_lists.py STORE [--resource city/gen-orka-747] [--repeat 5]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import _paths  # noqa: F401  - the project, this folder and tests/support on sys.path
import pyoxigraph as ox

from graph.core.settings import Settings
from graph.sparql.catalogue import NamedQuery, get_query, internal_query
from graph.sparql.text import bind_rows
from graph.store.execution import QueryJob, run_job
from server.page_lists import properties_on_page
from server.page_queries import unordered


def measure(store: ox.Store, text: str, bindings: dict, repeat: int) -> tuple[list[dict], dict]:
    """The rows of a query, and the least CPU of running and of parsing it, in ms."""
    best = {"run": float("inf"), "parse": float("inf")}
    rows: list[dict] = []
    for _ in range(repeat):
        start = time.process_time()
        outcome = run_job(store, QueryJob(text, bindings, format="json", max_rows=10**6))
        ran = time.process_time()
        solutions = ox.parse_query_results(outcome.body, format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]  # type: ignore[union-attr]
        rows = [{n: s[n] for n in names} for s in solutions]  # type: ignore[union-attr]
        best = {"run": min(best["run"], ran - start),
                "parse": min(best["parse"], time.process_time() - ran)}
        best["KB"] = len(outcome.body) / 1024
    return rows, {k: v * 1000 if k != "KB" else v for k, v in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--resource", default="city/gen-orka-747")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--page", type=int, default=50, help="rows of a page (CITYDIP_PAGE_SIZE)")
    parser.add_argument("--passages", type=int, default=20, help="CITYDIP_PAGE_PASSAGES")
    args = parser.parse_args()
    settings = Settings(store_path=":memory:")
    store = ox.Store.read_only(str(args.store))
    resource = settings.resource_base + args.resource

    def page(name: str) -> NamedQuery:
        return internal_query(settings.queries_dir, f"pages/{name}")

    def whole(query: NamedQuery) -> tuple[list[dict], dict]:
        return measure(store, unordered(query)[0], query.bindings({"resource": resource}),
                       args.repeat)

    print("| list | query | rows | KB | run ms | parse ms |\n|---|---|---|---|---|---|")

    def line(label: str, name: str, rows: list, cost: dict) -> None:
        print(f"| {label} | `{name}` | {len(rows)} | {cost['KB']:.0f} | {cost['run']:.1f} | "
              f"{cost['parse']:.1f} |")

    line("in, one step", "entity-in", *whole(page("entity-in")))
    counts, cost = measure(store, page("entity-in-counts").text,
                           page("entity-in-counts").bindings({"resource": resource}), args.repeat)
    line("in, two steps", "entity-in-counts", counts, cost)
    wanted, _ = properties_on_page(counts, 0, args.page)
    subjects = page("entity-in-subjects")
    line("", f"entity-in-subjects × {len(wanted)}",
         *measure(store, bind_rows(subjects.text, ["p"], [[p] for p, _, _ in wanted]),
                  subjects.bindings({"resource": resource}), args.repeat))
    # The dearest page: all of it in the property with the most subjects.
    largest = max(wanted_all := properties_on_page(counts, 0, 10**9)[0], key=lambda w: w[1],
                  default=None)
    if largest is not None:
        line(f"a page in {largest[0].value.rsplit('#', 1)[-1]} ({largest[1]})",
             "entity-in-subjects × 1",
             *measure(store, bind_rows(subjects.text, ["p"], [[largest[0]]]),
                      subjects.bindings({"resource": resource}), args.repeat))
    line("every property", f"entity-in-subjects × {len(wanted_all)}",
         *measure(store, bind_rows(subjects.text, ["p"], [[p] for p, _, _ in wanted_all]),
                  subjects.bindings({"resource": resource}), args.repeat))
    out = page("entity-out")
    line("out, one step", "entity-out", *whole(out))
    counts, cost = measure(store, page("entity-out-counts").text,
                           page("entity-out-counts").bindings({"resource": resource}), args.repeat)
    line("out, two steps", "entity-out-counts", counts, cost)
    wanted, _ = properties_on_page(counts, 0, args.page)
    line("", f"entity-out × {len(wanted)} properties",
         *measure(store, bind_rows(unordered(out)[0], ["p"], [[p] for p, _, _ in wanted]),
                  out.bindings({"resource": resource}), args.repeat))
    full = page("entity-partnerships")
    line("partnerships, one step", full.name, *whole(full))
    keys, cost = whole(page("entity-partnerships-keys"))
    line("partnerships, two steps", "entity-partnerships-keys", keys, cost)
    text = bind_rows(unordered(full)[0], ["partnership"],
                     [[row["partnership"]] for row in keys[:args.page]])
    line("", f"entity-partnerships × {args.page}",
         *measure(store, text, full.bindings({"resource": resource}), args.repeat))
    line("passages, one step", "source-of",
         *whole(get_query(Path(settings.queries_dir), "source-of")))
    source = get_query(Path(settings.queries_dir), "source-of")
    statements = [ox.NamedNode(resource), *(row["partnership"] for row in keys[:args.page])]
    line("passages, of a page", f"source-of × {len(statements)} statements",
         *measure(store, bind_rows(unordered(source)[0], ["statement", "resource"],
                                   [[s, ox.NamedNode(resource)] for s in statements]),
                  {}, args.repeat))

if __name__ == "__main__":
    main()
