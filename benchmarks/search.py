#!/usr/bin/env python3
"""Label search: SQLite FTS5 (trigram tokenizer) against a scan, and against SPARQL CONTAINS.

One store (the datasets named, or a generated folder), one label index built from it, and for
each needle three ways to find the labels that contain it, timed side by side in one run:

- `fts5`: the index's own search (graph.store.labels.LabelIndex.search): trigram match, ranked;
- `scan`: the same ranking over `labels.folded LIKE '%needle%'` (every folded label read);
- `sparql`: the query the search page ran before (queries/label-search.rq, CONTAINS over LCASE).

    .venv/bin/python benchmarks/search.py --datasets all
    .venv/bin/python benchmarks/search.py --data-dir /tmp/citydip-bench/data-1000000-s1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import cast

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from graph.core.settings import Settings  # noqa: E402
from graph.sparql.catalogue import get_query  # noqa: E402
from graph.store.labels import LabelIndex, fold  # noqa: E402
from graph.store.load import build_store  # noqa: E402

NEEDLES = ["Gdynia", "gdansk", "orka", "kaohsiung", "san", "高雄", "格丁尼亞", "서울", "łódź",
           "new york"]


def timed(fn, repeat: int) -> tuple[float, int]:
    samples, n = [], 0
    for _ in range(repeat):
        began = time.perf_counter()
        n = fn()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default="all")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    extra = {"data_dir": args.data_dir} if args.data_dir else {}
    settings = Settings(store_path=":memory:", datasets=args.datasets.split(","), **extra)
    began = time.perf_counter()
    store = build_store(settings)
    print(f"store: {store.count()} quads in {time.perf_counter() - began:.1f} s", flush=True)
    index = LabelIndex(None, settings.resource_base)
    began = time.perf_counter()
    resources = index.build(store)
    labels = index.db.execute("SELECT count(*) FROM labels").fetchone()[0]
    print(f"index: {resources} resources, {labels} labels in {time.perf_counter() - began:.1f} s",
          flush=True)
    query = get_query(settings.queries_dir, "label-search")

    def scan(needle: str) -> int:
        pattern = "%" + fold(needle).replace("%", "\\%").replace("_", "\\_") + "%"
        return len(index.db.execute(
            "SELECT r.iri, r.degree, l.folded FROM labels l JOIN resources r "
            "ON r.id = l.resource WHERE l.folded LIKE ? ESCAPE '\\' "
            "ORDER BY l.folded <> ?, r.degree DESC LIMIT 50", (pattern, fold(needle))).fetchall())

    print("\n| needle | FTS5 ms | scan ms | SPARQL ms | scan / FTS5 | SPARQL / FTS5 | hits |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for needle in NEEDLES:
        fts, hits = timed(lambda n=needle: len(index.search(n, 50)), args.repeat)
        like, _ = timed(lambda n=needle: scan(n), args.repeat)
        sparql, _ = timed(lambda n=needle: len(list(cast(ox.QuerySolutions, store.query(
            query.text, query.bindings({"text": n}))))), max(3, args.repeat // 3))  # a SELECT
        ratios.append(like / fts)
        print(f"| {needle} | {fts:.2f} | {like:.2f} | {sparql:.1f} | {like / fts:.1f}x | "
              f"{sparql / fts:.0f}x | {hits} |", flush=True)
    print(f"\ngeometric mean scan / FTS5: {statistics.geometric_mean(ratios):.1f}x")


if __name__ == "__main__":
    main()
