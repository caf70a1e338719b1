"""The import report: what the cleaning, the country resolution, the reconciliation and the
validation did, as JSON (every item) and Markdown (the first of each), and a few lines for the
command line."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

from graph.core.namespaces import ID
from graph.importing.countries import CountryResolver
from graph.importing.pairs import PairList
from graph.importing.reconcile import ListArea, Reconciliation, Target
from graph.importing.spec import PROFILE_DIR, WORLD_PREFIX, SourceSpec, _relpath, sha256
from graph.store.validate import Report

# --- the summary ----------------------------------------------------------------------------------

def summary(spec: SourceSpec, pairs: PairList, entries: dict[str, ListArea],
             result: Reconciliation, targets: dict[str, Target], resolver: CountryResolver,
             country_from: dict[str, str], iris: dict[str, str], new_countries: dict[str, str],
             triples: int, report: Report, validated: int, rdf_path: Path) -> dict:
    problems = Counter(p.kind for p in pairs.problems)
    unresolved: dict[str, dict] = {}
    lines_by_node: dict[str, list[int]] = defaultdict(list)
    for pair in pairs.pairs.values():
        for key in (pair.a, pair.b):
            lines_by_node[key].extend(pair.lines)
    for key, node in pairs.nodes.items():
        if entries[key].country:
            continue
        name = node.country or "(no country given)"
        item = unresolved.setdefault(name, {"name": name, "areas": 0, "rows": 0, "lines": []})
        item["areas"] += 1
        item["rows"] += len(lines_by_node[key])
        item["lines"] = sorted(item["lines"] + lines_by_node[key])[:10]
    if all(not n.country for n in pairs.nodes.values()):
        unresolved = {}  # the list gives no countries at all: nothing to resolve
    resolved_how = Counter(v for k, v in country_from.items() if entries[k].country)
    statuses = Counter(d.status for d in result.decisions.values())
    how = Counter(d.how for d in result.decisions.values() if d.status == "matched")
    report_matches = []
    for key, d in sorted(result.decisions.items(), key=lambda kv: kv[1].iri):
        if d.status == "matched" and any(not o.startswith(WORLD_PREFIX)
                                         for o in targets[d.iri].origins):
            c = next((c for c in d.candidates if c.target.iri == d.iri), None)
            report_matches.append({"name": entries[key].name, "iri": d.iri, "how": d.how,
                                   "support": c.support if c else [],
                                   "km": None if c is None or c.km is None else round(c.km, 1),
                                   "shared_partners": c.shared if c else 0})
    matched_lists: Counter[str] = Counter()
    for d in result.decisions.values():
        if d.status == "matched":
            for origin in targets[d.iri].origins:
                matched_lists[origin] += 1
    conflicts = [d.to_dict() for d in result.decisions.values()
                 if d.status == "new" and d.rejected and any(
                     "km apart" in why or "Wikidata" in why for _, why in d.rejected)]
    areas = len(set(iris.values()))
    return {
        "source": spec.source,
        "graph": spec.graph,
        "title": spec.title,
        "file": _relpath(spec.file),
        "names_file": _relpath(spec.names) if spec.names else None,
        "sha256": sha256(spec.file),
        "columns": pairs.columns,
        "output": _relpath(rdf_path),
        "rows": pairs.rows,
        "pairs": len(pairs.pairs),
        "areas": len(pairs.nodes),
        "area_iris": areas,
        "triples": triples,
        "cleaning": {kind: problems.get(kind, 0) for kind in (
            "bad-row", "bad-coordinates", "self-loop", "duplicate", "reversed",
            "coordinate-conflict", "no-name", "country-variant", "same-name-far",
            "same-place")},
        "problems": [p.to_dict() for p in pairs.problems],
        "countries": {
            "resolved_areas": sum(1 for e in entries.values() if e.country),
            "resolved_by": dict(sorted(resolved_how.items())),
            "unresolved_areas": sum(v["areas"] for v in unresolved.values()),
            "unresolved_rows": sum(v["rows"] for v in unresolved.values()),
            "unresolved": sorted(unresolved.values(), key=lambda v: -v["rows"]),
            "minted": new_countries,
            "distinct": len({e.country for e in entries.values() if e.country}),
        },
        "reconciliation": {
            "matched": statuses.get("matched", 0),
            "matched_by": dict(sorted(how.items())),
            "matched_in_graph": dict(sorted(matched_lists.items())),
            "ambiguous": statuses.get("ambiguous", 0),
            "unconfirmed": statuses.get("unconfirmed", 0),
            "new": statuses.get("new", 0),
            "report_actors": report_matches,
            "ambiguous_areas": [d.to_dict() for d in result.by_status("ambiguous")],
            "unconfirmed_areas": [d.to_dict() for d in result.by_status("unconfirmed")],
            "conflicts": conflicts,
            "suggestions": result.suggestions,
        },
        "validation": {
            "profile": _relpath(PROFILE_DIR),
            "relations_checked": validated,
            "conforms": report.conforms,
            "violations": len(report.violations),
            "warnings": len(report.warnings),
            "findings": [f.__dict__ for f in report.findings[:200]],
        },
    }


def summary_lines(s: dict) -> list[str]:
    """The import in a few lines, for the command line."""
    c, r, k = s["cleaning"], s["reconciliation"], s["countries"]
    lines = [
        f"{s['source']}: {s['rows']} rows → {s['pairs']} relations among {s['areas']} areas "
        f"({s['triples']} triples in {s['output']})",
        "cleaning: " + ", ".join(f"{v} {kind}" for kind, v in c.items() if v) if any(
            c.values()) else "cleaning: nothing to clean",
        f"countries: {k['resolved_areas']} areas resolved to {k['distinct']} ISO 3166-1 codes"
        + (f"; {k['unresolved_areas']} areas ({k['unresolved_rows']} rows) unresolved: "
           + ", ".join(f"{u['name']} ({u['rows']})" for u in k["unresolved"][:8])
           + (" …" if len(k["unresolved"]) > 8 else "") if k["unresolved"] else ""),
        f"reconciliation: {r['matched']} matched ("
        + ", ".join(f"{v} by {h}" for h, v in r["matched_by"].items()) + f"), "
        f"{r['ambiguous']} ambiguous and {r['unconfirmed']} unconfirmed (reported, not merged), "
        f"{r['new']} new; "
        f"{len(r['report_actors'])} of the report's areas: "
        + ", ".join(m["name"] for m in r["report_actors"][:12])
        + (" …" if len(r["report_actors"]) > 12 else ""),
        f"conflicts: {len(r['conflicts'])}; suggestions for review: {len(r['suggestions'])}",
        f"validation ({s['validation']['relations_checked']} relations, pair-list profile): "
        + ("conforms" if s["validation"]["conforms"] else
           f"{s['validation']['violations']} violations"),
    ]
    gz = s.get("gazetteer") or {}
    if gz.get("used"):
        lines.insert(-2, gazetteer_line(gz))
    return lines


def gazetteer_line(gz: dict) -> str:
    return (f"gazetteer ({gz['package']}, GeoNames cities of {gz['min_population']}+): "
            f"{gz['located']} areas located, {gz['ambiguous']} ambiguous (reported, no ID), "
            f"{gz['not_found']} not found, {gz['no_evidence']} without country or coordinates; "
            f"{gz['merged_in_list']} areas of the list merged as one place, "
            f"{gz['matched_by_geonames_id']} matched to the graph by GeoNames ID, "
            f"{gz['graph_areas_located']} areas of the graph located")


def gazetteer_section(gz: dict, limit: int) -> list[str]:
    """The gazetteer's part of the Markdown report."""
    if not gz.get("used"):
        return ["", "## Gazetteer", "", "Not used (CITYDIP_GAZETTEER_MIN_POPULATION=0)."]
    out = ["", "## Gazetteer", "",
           f"{gz['source']}; licence <{gz['license']}>.", "",
           f"- located (owl:sameAs a GeoNames place): **{gz['located']}** ("
           + ", ".join(f"{v} by {h}" for h, v in gz["located_by"].items()) + ")",
           f"- ambiguous (several places, population does not decide; reported, no ID): "
           f"**{gz['ambiguous']}**",
           f"- no place of this name: {gz['not_found']}",
           f"- neither country nor coordinates (located only through the area they match): "
           f"{gz['no_evidence']}",
           f"- areas of the list merged because they are one place: {gz['merged_in_list']}",
           f"- areas matched to the graph by GeoNames ID: {gz['matched_by_geonames_id']}",
           f"- areas of the graph (the report's cities among them) located: "
           f"{gz['graph_areas_located']}", "",
           f"### Ambiguous in the gazetteer ({gz['ambiguous']}; first "
           f"{min(limit, gz['ambiguous'])})", ""]
    for d in gz["ambiguous_areas"][:limit]:
        cands = "; ".join(f"{c['name']} ({c['country']}, {c['population']} people, "
                          f"GeoNames {c['geonames']})" for c in d["candidates"][:4])
        out.append(f"- {d['name']} ({d['country'] or '?'}): {d['how']}: {cands}")
    return out


def render_report(s: dict, limit: int = 60) -> str:
    """The import report as Markdown (the JSON beside it has every item)."""
    c, r, k = s["cleaning"], s["reconciliation"], s["countries"]
    out = [f"# Import report: {s['source']}", "",
           f"{s['title']}", "",
           f"- file: `{s['file']}`" + (f" (names: `{s['names_file']}`)" if s["names_file"]
                                       else "") + f", sha256 `{s['sha256'][:16]}…`",
           "- columns: " + ", ".join(f"{k_}=`{v}`" for k_, v in s["columns"].items()),
           f"- graph: `{s['graph']}` ({s['triples']} triples, `{s['output']}`)",
           f"- {s['rows']} rows → **{s['pairs']} relations** among **{s['areas']} areas**", "",
           "## Cleaning", "", "| what | rows |", "|---|---|"]
    out += [f"| {kind} | {v} |" for kind, v in c.items()]
    if s["problems"]:
        out += ["", f"First {min(limit, len(s['problems']))} of {len(s['problems'])} "
                "(all in the JSON report):", ""]
        out += [f"- line {p['line']}: {p['kind']}: {p['message']}" for p in s["problems"][:limit]]
    out += ["", "## Countries", "",
            f"{k['resolved_areas']} areas resolved to {k['distinct']} ISO 3166-1 codes "
            "(by: " + ", ".join(f"{h or 'exact'} {v}" for h, v in k["resolved_by"].items())
            + ")."]
    if k["unresolved"]:
        out += ["", f"**Unresolved: {k['unresolved_areas']} areas in {k['unresolved_rows']} "
                "rows** (imported without a country):", "",
                "| name as written | areas | rows | first lines |", "|---|---|---|---|"]
        out += [f"| {u['name']} | {u['areas']} | {u['rows']} | "
                f"{', '.join(map(str, u['lines'][:5]))} |" for u in k["unresolved"]]
    out += ["", "## Reconciliation", "",
            f"- matched: **{r['matched']}** ("
            + ", ".join(f"{v} by {h}" for h, v in r["matched_by"].items()) + ")",
            "- matched areas by the graph that describes them: "
            + ", ".join(f"{g} {v}" for g, v in r["matched_in_graph"].items()),
            f"- ambiguous (several candidates; reported, not merged): **{r['ambiguous']}**",
            f"- unconfirmed (one candidate that nothing confirms; reported, not merged): "
            f"**{r['unconfirmed']}**",
            f"- new areas: {r['new']}",
            f"- conflicts (same name, ruled out by distance or Wikidata ID): {len(r['conflicts'])}",
            f"- suggestions for review: {len(r['suggestions'])}", "",
            "### The report's areas", "",
            "| name in the list | actor | how | support | km | partners in common |",
            "|---|---|---|---|---|---|"]
    out += [f"| {m['name']} | `{m['iri'].removeprefix(str(ID))}` | {m['how']} | "
            f"{', '.join(m['support'])} | {'' if m['km'] is None else m['km']} | "
            f"{m['shared_partners']} |" for m in r["report_actors"]]
    out += ["", f"### Ambiguous ({r['ambiguous']}; first {min(limit, r['ambiguous'])})", ""]
    for d in r["ambiguous_areas"][:limit]:
        cands = "; ".join(f"`{c['iri'].removeprefix(str(ID))}` {c['label']} ({c['country']}"
                          + (f", {c['km']} km" if c["km"] is not None else "")
                          + f", {c['shared_partners']} shared)" for c in d["candidates"][:4])
        out.append(f"- {d['name']} ({d['country'] or d['qid'] or '?'}): {d['how']}: {cands}")
    out += ["", f"### Unconfirmed ({r['unconfirmed']}; first {min(limit, r['unconfirmed'])})",
            ""]
    for d in r["unconfirmed_areas"][:limit]:
        cands = "; ".join(f"`{c['iri'].removeprefix(str(ID))}` {c['label']} ({c['country']})"
                          for c in d["candidates"][:2])
        out.append(f"- {d['name']} ({d['country'] or d['qid'] or '?'}): {d['how']}: {cands}")
    out += ["", f"### Conflicts ({len(r['conflicts'])}; first {min(limit, len(r['conflicts']))})",
            ""]
    for d in r["conflicts"][:limit]:
        why = "; ".join(f"`{x['iri'].removeprefix(str(ID))}` {x['reason']}"
                        for x in d["rejected"][:3])
        out.append(f"- {d['name']} ({d['country'] or d['qid'] or '?'}): {why}")
    out += ["", f"### Suggestions ({len(r['suggestions'])})", ""]
    out += [f"- {x['name']} → `{x['iri'].removeprefix(str(ID))}` {x['label']} ({x['km']} km): "
            f"{x['reason']}" for x in r["suggestions"][:limit]]
    out += gazetteer_section(s.get("gazetteer") or {}, limit)
    v = s["validation"]
    out += ["", "## Validation", "",
            f"pyshacl against `{v['profile']}` on {v['relations_checked']} relations (every "
            "relation of an area of the report, and a seeded sample of the others) with their "
            f"parties, countries and the list's node: "
            f"**{'conforms' if v['conforms'] else 'does not conform'}** "
            f"({v['violations']} violations, {v['warnings']} warnings)."]
    for f in v["findings"][:limit]:
        out.append(f"- [{f['severity']}] {f['focus']} {f['path'] or ''}: {f['message']}")
    return "\n".join(out) + "\n"
