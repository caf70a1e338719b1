"""Importing a pair list into the graph: read, resolve countries, reconcile, write RDF, report.

`import_list(spec, settings)` turns one list (a `SourceSpec`) into

- `{out}/world-{source}.nt`: its own named graph `…/graph/world-{source}` (N-Triples, generated,
  not committed): one `cd:TwinningRelation` per distinct pair (`cd:relationKind rel:partner-city`,
  kind not stated, no date) with `cd:sourceLine` for every line that states it and
  `prov:wasDerivedFrom` the list's `cd:PairList` node (origin, licence, retrieval date, file and
  its SHA-256); the areas it introduces (`cd:AdministrativeArea` with label, country,
  coordinates, `owl:sameAs` Wikidata); the countries it introduces (ISO 3166-1 code);
- `{out}/world-{source}.report.md` and `.json`: the cleaning (including one area for the
  spellings of one area's country, `merge_variants`), the countries, the reconciliation
  (matches with their evidence, ambiguous names with their candidates, conflicts, suggestions)
  and the validation against the pair-list profile.

An area the graph already has (a city of the report, an area of a list imported before) keeps
its IRI; this list adds only what cannot contradict what is there: the list's spelling as
`skos:altLabel` when it is new, the Wikidata IRI when there is none, the country and
coordinates only when the area has none (so the report's cities keep passing the strict shapes).

This module makes the import, step by step; what it reads of the graph is in
graph/importing/targets.py, how it places areas with the gazetteer in graph/importing/locating.py.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.settings import Settings
from graph.importing.countries import CountryResolver
from graph.importing.gazetteer import ATTRIBUTION, Gazetteer, Located
from graph.importing.locating import gazetteer_summary, locate_nodes, locate_targets, open_gazetteer
from graph.importing.names import distance_km, qualifier
from graph.importing.pairs import QID, ListPair, PairList, Problem, read_pairs
from graph.importing.rdf import triples_of, validate_import
from graph.importing.reconcile import ListArea, Reconciler
from graph.importing.report import render_report, summary, summary_lines
from graph.importing.spec import (  # noqa: F401  (re-exported for the command line and tests)
    MANIFEST,
    SAMPLE,
    WIKIDATA,
    WORLD_PREFIX,
    ImportError_,
    SourceSpec,
    manifest,
)
from graph.importing.targets import load_targets, report_ties
from graph.sparql.formats import DATA_SUFFIXES
from graph.store.embedded import Store
from graph.store.load import build_store
from graph.store.validate import Report

Say = Callable[[str], None]


# --- the import -----------------------------------------------------------------------------------

@dataclass
class ImportResult:
    spec: SourceSpec
    rdf_path: Path
    report_path: Path
    json_path: Path
    summary: dict
    validation: Report | None = None
    triples: int = 0
    lines: list[str] = field(default_factory=list)


def world_files(directory: Path, exclude: str | None = None) -> list[Path]:
    """The imported pair lists of a folder (`world-*.nt`), sorted."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir()
                  if p.name.startswith(WORLD_PREFIX) and p.suffix in DATA_SUFFIXES
                  and p.stem != exclude)


def import_list(spec: SourceSpec, settings: Settings, out_dir: Path | None = None,
                context: list[Path] | None = None, sample: int | None = SAMPLE,
                say: Say = lambda _: None) -> ImportResult:
    """Import one pair list (see the module's docstring). `context` is what to reconcile
    against: by default the report's data and the lists already imported into `out_dir`.
    `sample=None` validates every relation (in chunks)."""
    out_dir = out_dir or settings.data_dir / "world"
    say(f"reading {spec.file}")
    pairs = read_pairs(spec.file, spec.format, spec.columns, spec.names, spec.header)
    say(f"{pairs.rows} rows: {len(pairs.pairs)} distinct pairs of {len(pairs.nodes)} areas")

    say("loading the graph to reconcile against")
    paths = context if context is not None else [settings.data_dir,
                                                 *world_files(out_dir, exclude=spec.stem)]
    store = build_store(settings, paths, Store(None))
    targets, countries = load_targets(store, settings)
    say(f"{len(targets)} areas and {len(countries)} countries in the graph")

    resolver = CountryResolver()
    codes = _countries(pairs, resolver)
    gaz = open_gazetteer(settings, say)
    located_targets = locate_targets(gaz, targets, spec.max_km)
    found = locate_nodes(gaz, pairs, codes, spec.max_km)
    say(f"gazetteer: {sum(1 for f in found.values() if f.status == 'located')} of "
        f"{len(found)} areas located")
    merged = merge_variants(pairs, codes, spec.max_km,
                            {k: f.place.gid for k, f in found.items() if f.place})
    if merged:
        say(f"{merged} areas were spellings of another area: merged")
    country_from = {k: how for k, (_, how) in codes.items() if k in pairs.nodes}
    entries = _entries(pairs, resolver, codes, found, gaz)
    say("reconciling")
    result = Reconciler(targets.values(), spec.max_km).reconcile(entries)
    ties = report_ties(store, settings)

    triples, iris, new_countries = triples_of(spec, pairs, entries, result, targets, countries,
                                              located_targets, ties,
                                              ATTRIBUTION if gaz else "")
    out_dir.mkdir(parents=True, exist_ok=True)
    rdf_path = out_dir / f"{spec.stem}.nt"
    triples = list(dict.fromkeys(triples))  # one line per triple (see load.sync_datasets)
    rdf_path.write_bytes(cast(bytes, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)))
    say(f"wrote {len(triples)} triples to {rdf_path}")

    store.load_file(rdf_path, spec.graph)
    say("validating against the pair-list profile"
        + (" (every relation)" if sample is None else f" (a sample of {sample} relations)"))
    report, validated = validate_import(store, settings, spec, targets, sample)

    result_summary = summary(spec, pairs, entries, result, targets, resolver, country_from, iris,
                       new_countries, len(triples), report, validated, rdf_path)
    result_summary["gazetteer"] = gazetteer_summary(gaz, pairs, found, entries, result, targets,
                                                    located_targets)
    json_path = out_dir / f"{spec.stem}.report.json"
    json_path.write_text(json.dumps(result_summary, ensure_ascii=False, indent=1) + "\n",
                         encoding="utf-8")
    report_path = out_dir / f"{spec.stem}.report.md"
    report_path.write_text(render_report(result_summary), encoding="utf-8")
    return ImportResult(spec, rdf_path, report_path, json_path, result_summary, report,
                        len(triples), summary_lines(result_summary))


def import_world(settings: Settings, out_dir: Path | None = None, only: list[str] | None = None,
                 sample: int | None = SAMPLE, say: Say = lambda _: None,
                 specs: list[SourceSpec] | None = None) -> list[ImportResult]:
    """Import the bundled lists (`sources.yaml`) in order. Each is reconciled with the report
    and the lists before it, never with its own or a later list's earlier output, so that a new
    run gives the same IRIs."""
    out_dir = out_dir or settings.data_dir / "world"
    context = [settings.data_dir]
    results = []
    for spec in specs if specs is not None else manifest():
        if not only or spec.source in only:
            results.append(import_list(spec, settings, out_dir, context=list(context),
                                       sample=sample, say=say))
        previous = out_dir / f"{spec.stem}.nt"
        if previous.exists():
            context.append(previous)
    return results


def _countries(pairs: PairList, resolver: CountryResolver) -> dict[str, tuple[str, str]]:
    """The ISO code of each area's country and how it was found ("" when unresolved)."""
    found: dict[str, tuple[str, str]] = {}
    for key, node in pairs.nodes.items():
        res = resolver.resolve(node.country) if node.country else None
        how = res.how if res else ""
        qual = qualifier(node.name)[1]
        if res is None and not node.country and qual:
            res = resolver.resolve(qual)  # "Varna, Bulgaria" with no country column value
            how = "from the name" if res else ""
        found[key] = (res.code if res else "", how)
    return found


def merge_variants(pairs: PairList, codes: dict[str, tuple[str, str]], max_km: float,
                   gids: dict[str, str] | None = None) -> int:
    """One area for the spellings of one area's country: a list that writes "Whitby" in
    "England" on one row and in "England, United Kingdom" on another names one town. Areas of
    the same name whose country names resolve to the same ISO code are merged unless their
    coordinates are more than `max_km` apart (then they stay two, and the report says so).
    Areas the gazetteer places at one GeoNames city ("Kiev" and "Kyiv" in Ukraine) are merged
    likewise (`gids`: key → GeoNames ID). Pairs that become duplicates or self-loops are merged
    or skipped like any other. Returns how many areas were merged into another."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    key: str | tuple[str, str]  # a node's key, then a pair's
    for key, node in pairs.nodes.items():
        if node.country and codes[key][0] and not node.ident:
            groups[(node.name, codes[key][0])].append(key)
    alias: dict[str, str] = {}
    for (name, code), keys in groups.items():
        if len(keys) < 2:
            continue
        keys.sort(key=lambda k: pairs.nodes[k].line)
        first = pairs.nodes[keys[0]]
        for k in keys[1:]:
            other = pairs.nodes[k]
            if first.lat is not None and other.lat is not None:
                km = distance_km(first.lat, first.lon, other.lat, other.lon)  # type: ignore
                if km > max_km:
                    pairs.problems.append(Problem(other.line, "same-name-far", (
                        f"{name!r} in {other.country!r} and in {first.country!r} (line "
                        f"{first.line}) are both {code} but {km:.0f} km apart; kept apart")))
                    continue
            alias[k] = keys[0]
            pairs.problems.append(Problem(other.line, "country-variant", (
                f"{name!r} in {other.country!r} is {name!r} in {first.country!r} (line "
                f"{first.line}), both {code}; merged")))
    by_place: dict[str, list[str]] = defaultdict(list)
    for key, gid in sorted((gids or {}).items()):
        if key in pairs.nodes and not pairs.nodes[key].ident:
            by_place[gid].append(alias.get(key, key))
    for gid, keys in by_place.items():
        keys = sorted(set(keys), key=lambda k: pairs.nodes[k].line)
        first = pairs.nodes[keys[0]]
        for k in keys[1:]:
            alias[k] = keys[0]
            for other_key, target in alias.items():
                if target == k:
                    alias[other_key] = keys[0]
            other = pairs.nodes[k]
            pairs.problems.append(Problem(other.line, "same-place", (
                f"{other.name!r} in {other.country!r} is {first.name!r} in {first.country!r} "
                f"(line {first.line}): one GeoNames place, {gid}; merged")))
    if not alias:
        return 0
    merged: dict[tuple[str, str], ListPair] = {}
    for pair in sorted(pairs.pairs.values(), key=lambda p: p.lines[0]):
        a, b = alias.get(pair.a, pair.a), alias.get(pair.b, pair.b)
        if a == b:
            pairs.problems.append(Problem(pair.lines[0], "self-loop", (
                f"{pairs.nodes[a].name!r} is paired with itself once its country's spellings "
                "are merged; skipped")))
            continue
        key = (a, b) if a < b else (b, a)
        if key in merged:
            pairs.problems.append(Problem(pair.lines[0], "duplicate", (
                f"{pairs.nodes[a].name!r} – {pairs.nodes[b].name!r} again once the countries' "
                f"spellings are merged (first on line {merged[key].lines[0]}); merged")))
            merged[key].lines.extend(pair.lines)
        else:
            merged[key] = ListPair(a, b, list(pair.lines))
    pairs.pairs = merged
    for k in alias:
        del pairs.nodes[k]
    pairs.problems.sort(key=lambda p: p.line)
    return len(alias)


def _entries(pairs: PairList, resolver: CountryResolver, codes: dict[str, tuple[str, str]],
             found: dict[str, Located] | None = None, gaz: Gazetteer | None = None
             ) -> dict[str, ListArea]:
    """The list's areas for reconciliation: countries resolved, qualifiers read."""
    neighbours = pairs.neighbours()
    entries: dict[str, ListArea] = {}
    for key, node in pairs.nodes.items():
        code = codes[key][0]
        qual = qualifier(node.name)[1]
        hint = ""
        if not code and qual:
            h = resolver.hint(qual)
            hint = h.code if h else ""
        place = found[key].place if found and key in found else None
        entries[key] = ListArea(key, node.name, code, node.lat, node.lon,
                             node.ident if QID.fullmatch(node.ident or "") else "", hint,
                             neighbours[key], gid=place.gid if place else "",
                             extra_keys=gaz.keys(place.gid) if gaz and place else frozenset())
    return entries
