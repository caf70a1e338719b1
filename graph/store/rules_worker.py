"""One process of a first fill's shortcut derivation: rules run on a snapshot, results to files.

Why a process of its own: the engine holds the interpreter while it evaluates a query and hands
out its results, so the rules (CONSTRUCT queries over the union, 4.3 s at 5M triples, 2.8 s
of it one rule) run one after another in any number of threads. Processes run them side by side,
one per core. Each reads a snapshot of the store (`Store.backup`: hard links, consistent), never
the folder the loader writes, and writes N-Triples that the loader's bulk loader then reads in
its own threads (graph.store.load.derive_in_processes). A rule's triples come in parts of
`PART` triples, each file renamed into place when whole (`OUT.0.nt`, `OUT.1.nt`, …), so the
loader writes the first parts of a long rule while the rest is still being derived. It imports
nothing but the engine, so it starts in tens of milliseconds.

    python -m graph.store.rules_worker SNAPSHOT RULE.rq OUT [RULE.rq OUT ...]
"""

from __future__ import annotations

import os
import sys
from itertools import islice

import pyoxigraph as ox

PART = 100_000
"""Triples per file: at 5M triples the longest rule gives 290,000 in 2.8 s."""


def part_path(out: str, number: int) -> str:
    return f"{out}.{number}.nt"


def main(argv: list[str]) -> int:
    snapshot, pairs = argv[0], argv[1:]
    if not pairs or len(pairs) % 2:
        print("usage: python -m graph.store.rules_worker SNAPSHOT RULE.rq OUT ...",
              file=sys.stderr)
        return 2
    store = ox.Store.read_only(snapshot)
    for rule, out in zip(pairs[::2], pairs[1::2], strict=True):
        with open(rule, encoding="utf-8") as handle:
            sparql = handle.read()
        triples = store.query(sparql, use_default_graph_as_union=True)
        if not isinstance(triples, ox.QueryTriples):
            print(f"{rule}: not a CONSTRUCT query", file=sys.stderr)
            return 2
        number = 0
        while part := list(islice(triples, PART)):
            partial = f"{out}.partial"
            with open(partial, "wb") as output:
                ox.serialize(part, output, ox.RdfFormat.N_TRIPLES)
            os.replace(partial, part_path(out, number))
            number += 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
