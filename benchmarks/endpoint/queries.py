"""The data and the queries of one scale of the endpoint benchmark.

A scale is the bundled data or a generated graph of a given size (benchmarks/generate.py). Its
dataset is built once with the project's own loader and written as N-Quads, so that the three
servers hold the same quads. The named queries of queries/ get their parameters written into the
text (as constants, or as a VALUES block), with representative values of the generated data at a
generated scale; the benchmark queries of benchmarks/queries/ run on the hub city and on a pool
of cities taken at random.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from endpoint.common import HERE, ROOT, log


@dataclass
class BenchQuery:
    name: str
    texts: list[str]  # one text, or one per city of the pool (the -random variants)
    params: dict[str, str] = field(default_factory=dict)
    named: bool = False  # a named query of queries/ (also run on ours via /queries/{name})


@dataclass
class Scale:
    label: str
    triples_target: int | None
    data_dir: Path
    work: Path
    nquads: Path = Path()
    quads: int = 0
    graphs: dict[str, int] = field(default_factory=dict)
    queries: list[BenchQuery] = field(default_factory=list)
    choice: dict[str, str] = field(default_factory=dict)


def parse_scale(text: str) -> int | None:
    text = text.strip().lower()
    if text == "seed":
        return None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", text)
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a scale is 'seed' or a number like 1000000, 200k, 1m"
        )
    return int(float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2)])


def prepare_scale(target: int | None, args) -> Scale:
    """Data folder, N-Quads of the whole dataset, and the query texts for one scale."""
    import pyoxigraph as ox

    from graph.core.settings import Settings
    from graph.store.embedded import Store
    from graph.store.load import build_store

    if target is None:
        label, data_dir = "seed", ROOT / "graph" / "data"
        work = args.work_dir / "seed"
    else:
        label = f"{target:,} triples"
        data_dir = args.work_dir / f"data-{target}-s{args.seed}"
        work = args.work_dir / f"gen-{target}-s{args.seed}"
        nt = data_dir / f"gen-{target}.nt"
        if not nt.is_file():
            import generate

            log(f"generating {target:,} triples (seed {args.seed}) into {data_dir}")
            with contextlib.redirect_stdout(sys.stderr):
                generate.main(
                    ["--triples", str(target), "--seed", str(args.seed), "--out", str(data_dir)]
                )
        else:
            log(f"reusing generated data {nt}")
    work.mkdir(parents=True, exist_ok=True)
    scale = Scale(label, target, data_dir, work)

    log(f"[{label}] building the reference dataset with graph.store.load "
        "(ontology, data, shortcuts)")
    started = time.perf_counter()
    settings = Settings(data_dir=data_dir, store_path=":memory:")
    store = build_store(settings, [data_dir], Store(None))
    scale.quads = store.count()
    scale.graphs = {g: store.count(g) for g in store.graphs()}
    scale.nquads = work / "all.nq"
    scale.nquads.write_bytes(store.dump(ox.RdfFormat.N_QUADS))
    log(
        f"[{label}] {scale.quads:,} quads in {len(scale.graphs)} graphs "
        f"({time.perf_counter() - started:.1f} s); N-Quads at {scale.nquads}"
    )

    scale.queries, scale.choice = build_queries(store, target is None, args)
    qdir = work / "queries"
    qdir.mkdir(exist_ok=True)
    for q in scale.queries:
        (qdir / f"{q.name}.rq").write_text(q.texts[0], encoding="utf-8")
    log(
        f"[{label}] {len(scale.queries)} queries (texts in {qdir}); parameters: "
        + json.dumps(scale.choice, ensure_ascii=False)
    )
    del store
    return scale


def _one(store, sparql: str) -> str | None:
    for row in store.query(sparql):
        return row[0].value
    return None


def representative_values(store, defaults: dict[str, str]) -> dict[str, str]:
    """Values of the parameters that exercise the generated data: its hub, its biggest records."""
    cd = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
    hub = _one(
        store,
        cd + "SELECT ?c WHERE { ?c a cd:City ; cd:partnerOf ?p } "
        "GROUP BY ?c ORDER BY DESC(COUNT(DISTINCT ?p)) ?c LIMIT 1",
    )
    values = dict(defaults)
    if hub is None:
        return values
    for key in ("actor", "hub", "city", "host"):
        values[key] = hub
    agreement = _one(
        store,
        cd + f"SELECT ?a WHERE {{ ?a cd:party <{hub}> ; cd:signatory ?s }} "
        "GROUP BY ?a ORDER BY DESC(COUNT(DISTINCT ?s)) ?a LIMIT 1",
    ) or _one(store, cd + f"SELECT ?a WHERE {{ ?a cd:party <{hub}> ; a ?k }} ORDER BY ?a LIMIT 1")
    if agreement:
        values["agreement"] = agreement
        values["resource"] = agreement
    event = _one(
        store,
        cd + "SELECT ?e WHERE { ?e cd:participant ?x } "
        "GROUP BY ?e ORDER BY DESC(COUNT(?x)) ?e LIMIT 1",
    )
    if event:
        values["event"] = event
    school = _one(
        store,
        cd + "SELECT ?s WHERE { ?s a cd:School ; cd:sisterSchoolOf ?o } "
        "GROUP BY ?s ORDER BY DESC(COUNT(?o)) ?s LIMIT 1",
    )
    if school:
        values["school"] = school
    label = _one(
        store,
        cd + "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        f"SELECT ?l WHERE {{ <{hub}> rdfs:label ?l "
        'FILTER (LANGMATCHES(LANG(?l), "zh-Hant")) }',
    )
    if label:
        values["text"] = label.removesuffix("市")
    return values


def inline_values(text: str, bindings: dict) -> str:
    """The named query with its parameters bound by a VALUES block at the start of WHERE."""
    if not bindings:
        return text
    match = re.search(r"\bWHERE\s*\{", text, re.IGNORECASE)
    if not match:
        raise ValueError("no WHERE { in the query")
    block = "".join(f"\n  VALUES ?{name} {{ {term} }}" for name, term in bindings.items())
    return text[: match.end()] + block + text[match.end() :]


def inline_constants(text: str, bindings: dict) -> str:
    """The query with its parameters written in as constants, as a client would write it by hand.

    A projected parameter becomes `(<term> AS ?name)` in the SELECT clause, is dropped from
    GROUP BY (grouping by a constant changes nothing), and is replaced by the term everywhere
    else. Comment lines are left alone.
    """
    if not bindings:
        return text
    lines = text.split("\n")
    code = [i for i, line in enumerate(lines) if not line.lstrip().startswith("#")]
    body = "\n".join(lines[i] for i in code)
    where = re.search(r"\bWHERE\s*\{", body, re.IGNORECASE)
    head, rest = (body[: where.start()], body[where.start() :]) if where else ("", body)
    for name, term in bindings.items():
        var = re.escape(name)
        head = re.sub(rf"(?<!AS )\?{var}\b", f"({term} AS ?{name})", head)
        group = re.search(
            r"\bGROUP\s+BY\b(.*?)(?=\bHAVING\b|\bORDER\s+BY\b|\bLIMIT\b|"
            r"\bOFFSET\b|\}|\Z)",  # a subquery's GROUP BY ends at its closing brace
            rest,
            re.IGNORECASE | re.DOTALL,
        )
        if group:
            keys = re.sub(rf"\?{var}\b\s*", "", group.group(1))
            rest = rest[: group.start(1)] + keys + rest[group.end(1) :]
        rest = re.sub(rf"\?{var}\b", str(term), rest)
    new_lines = (head + rest).split("\n")
    assert len(new_lines) == len(code), "the rewrite must keep the lines"
    for i, line in zip(code, new_lines, strict=True):
        lines[i] = line
    return "\n".join(lines)


def build_queries(store, seed_scale: bool, args) -> tuple[list[BenchQuery], dict[str, str]]:
    """The query texts of one scale, with the parameter values they were given."""
    from graph.sparql.catalogue import NamedQuery, catalogue

    named = catalogue(ROOT / "queries")
    bench = catalogue(HERE / "queries")
    # At the bundled scale each query gets its own example (or default) value; at a generated
    # scale the parameters get representative values of the generated data, by name.
    representative = {} if seed_scale else representative_values(store, {})

    def value(param) -> str | None:
        if not (param.required or param.default is not None or param.example is not None):
            return None
        if param.name in representative:
            return representative[param.name]
        return param.example if param.example is not None else param.default

    only = set(args.queries.split(",")) if args.queries else None
    queries: list[BenchQuery] = []
    q: NamedQuery | BenchQuery  # a catalogue query, then a benchmark query
    for q in named.values():
        # Optional parameters without a default (since, lang) stay unbound, as in the product.
        raw = {p.name: value(p) for p in q.params if p.required or p.default is not None}
        bindings = q.bindings({k: v for k, v in raw.items() if v is not None})
        shown = {
            k: str(v).strip("<>") if str(v).startswith("<") else v.value
            for k, v in bindings.items()
        }
        inline = inline_values if args.inline == "values" else inline_constants
        queries.append(BenchQuery(q.name, [inline(q.text, bindings)], shown, named=True))

    # The benchmark queries: on the hub, and on a pool of cities taken at random (-random).
    city_param = bench["lookup"].params[0]
    hub = city_param.term(cast(str, value(city_param)))  # the city is required, with an example
    cd = "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
    cities = sorted(r[0].value for r in store.query(cd + "SELECT ?c WHERE { ?c a cd:City }"))
    pool = random.Random(args.seed).sample(cities, min(args.pool_size, len(cities)))
    for name in ("lookup", "two-hop", "count-per-class"):
        q = bench[name]
        if q.params:
            queries.append(
                BenchQuery(name, [inline_constants(q.text, {"city": hub})], {"city": hub.value})
            )
            texts = [inline_constants(q.text, {"city": city_param.term(c)}) for c in pool]
            queries.append(
                BenchQuery(f"{name}-random", texts, {"city": f"{len(pool)} cities at random"})
            )
        else:
            queries.append(BenchQuery(name, [q.text]))
    if only:
        queries = [q for q in queries if q.name in only]
    choice: dict[str, str] = {}
    for q in queries:
        for k, v in q.params.items():
            choice.setdefault(k, v)
    choice["city"] = hub.value
    choice["random pool"] = f"{len(pool)} of {len(cities)} cities"
    return queries, choice
