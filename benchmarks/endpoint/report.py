"""The report of one scale: the tables of the endpoint benchmark in Markdown, and their summary.

Cells are median / p95 in ms; ratios are ours / Oxigraph server and rdflib-endpoint / ours, with
their geometric means, and the targets of docs/benchmarks.md are checked on the queries they name.
"""

from __future__ import annotations

import math
import os
import statistics
from typing import Any

from endpoint.common import SERVER_NAMES, TARGET_QUERIES, THROUGHPUT_QUERIES
from endpoint.queries import Scale


def _cell(s: dict | None) -> str:
    if not s:
        return "–"
    if not s.get("n"):
        err = s.get("error", "failed")
        short = (
            "timeout" if "timeout" in err or "cancelled" in err or "HTTP 503" in err else "error"
        )
        return short
    mark = "†" if s.get("truncated") else ""
    return f"{s['median_ms']:.1f} / {s['p95_ms']:.1f}{mark}"


def _ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or not a.get("n") or not b.get("n"):
        return None
    return a["median_ms"] / b["median_ms"] if b["median_ms"] else None


def _fmt_ratio(r: float | None) -> str:
    return "–" if r is None else (f"{r:.2f}×" if r < 10 else f"{r:.0f}×")


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v and v > 0]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else None


def typical_latency(scale: Scale, records: dict[str, dict]) -> dict:
    """Each server's median over the named queries of its per-query medians.

    Only the named queries every listed server answered count (rdflib is left out of the set,
    and of the result, when it answered fewer).
    """
    named = [q.name for q in scale.queries if q.named]

    def medians(key: str) -> dict[str, float]:
        latency = records.get(key, {}).get("latency", {})
        return {n: latency[n]["median_ms"] for n in named if latency.get(n, {}).get("n")}

    ours, oxigraph, rdflib = medians("ours"), medians("oxigraph"), medians("rdflib")
    common = sorted(set(ours) & set(oxigraph))
    if not common:
        return {}
    out = {"count": len(common), "ours": statistics.median(ours[n] for n in common),
           "oxigraph": statistics.median(oxigraph[n] for n in common)}
    if set(common) <= set(rdflib):
        out["rdflib"] = statistics.median(rdflib[n] for n in common)
    return out


def report_scale(scale: Scale, records: dict[str, dict], args) -> tuple[str, dict]:
    lines = [f"### {scale.label}", ""]
    lines.append(
        f"Dataset: {scale.quads:,} quads ("
        + ", ".join(f"{g.rsplit('/', 1)[-1]} {n:,}" for g, n in scale.graphs.items())
        + ")."
    )
    lines.append(
        "Parameters: "
        + ", ".join(
            f"{k} = `{v.removeprefix('https://w3id.org/citydiplomacy/id/')}`"
            for k, v in scale.choice.items()
            if k in ("city", "agreement", "event", "school", "text", "random pool")
        )
        + "."
    )
    lines.append("")
    lines.append(
        "| server | ready after | quads | other processes' CPU use before / during "
        "(share of one CPU) | notes |"
    )
    lines.append("|---|---:|---:|---:|---|")
    for key in args.servers:
        r = records.get(key, {})
        if r.get("unavailable"):
            lines.append(
                f"| {SERVER_NAMES[key]} | – | – | – | not measured: "
                f"{r['unavailable'].splitlines()[0][:160]} |"
            )
        else:
            lines.append(
                f"| {SERVER_NAMES[key]} | {r.get('ready_seconds', 0):.1f} s | "
                f"{r.get('quads') or 0:,} | "
                f"{r.get('cpu_busy_before', 0) * (os.cpu_count() or 1):.0%} / "
                f"{r.get('other_cpu_share', 0):.0%} | "
                f"{r.get('note', '')} |"
            )
    lines.append("")
    head = "| query | rows | " + " | ".join(
        f"{SERVER_NAMES[k]} median / p95 ms" for k in args.servers
    )
    head += " | ours / Oxigraph | rdflib / ours |"
    lines.append(head)
    lines.append("|---|---:|" + "---:|" * len(args.servers) + "---:|---:|")
    ratios_ox, ratios_rd = [], []
    summary: dict = {"per_query": {}}
    for q in scale.queries:
        cells = {k: records.get(k, {}).get("latency", {}).get(q.name) for k in args.servers}
        rows = next((c.get("rows") for c in cells.values() if c and c.get("n")), None)
        r_ox = _ratio(cells.get("ours"), cells.get("oxigraph"))
        r_rd = _ratio(cells.get("rdflib"), cells.get("ours"))
        if r_ox:
            ratios_ox.append(r_ox)
        if r_rd:
            ratios_rd.append(r_rd)
        # rdflib timed out where ours answered: at least timeout / ours.
        rd, us = cells.get("rdflib"), cells.get("ours")
        rd_note = ""
        if r_rd is None and rd and not rd.get("n") and us and us.get("n"):
            rd_note = (
                f"> {args.rdflib_timeout * 1000 / us['median_ms']:.0f}× (rdflib timed out)"
                if "timeout" in rd.get("error", "")
                else ""
            )
        row_counts = {k: c.get("rows") for k, c in cells.items() if c and c.get("n")}
        # A pool query's rows are a mean over the cities each server was sent: not comparable.
        mismatch = len(q.texts) == 1 and len({str(v) for v in row_counts.values()}) > 1
        rows_text = (
            "/".join(str(v) for v in row_counts.values())
            if mismatch
            else ("–" if rows is None else str(rows))
        )
        lines.append(
            f"| {q.name} | {rows_text}{' ≠' if mismatch else ''} | "
            + " | ".join(_cell(cells[k]) for k in args.servers)
            + f" | {_fmt_ratio(r_ox)} | {rd_note or _fmt_ratio(r_rd)} |"
        )
        summary["per_query"][q.name] = {
            "ours_over_oxigraph": r_ox,
            "rdflib_over_ours": r_rd,
            "rows": row_counts,
        }
    g_ox, g_rd = geomean(ratios_ox), geomean(ratios_rd)
    lines.append(
        "| **geometric mean** | | "
        + " | ".join("" for _ in args.servers)
        + f" | **{_fmt_ratio(g_ox)}** | **{_fmt_ratio(g_rd)}** |"
    )
    summary.update(geomean_ours_over_oxigraph=g_ox, geomean_rdflib_over_ours=g_rd)
    lines.append("")
    lines.append(
        "† the answer was cut at the server's row limit (`X-Result-Truncated: true`).  "
        "≠ the servers returned different row counts (shown per server, in column order)."
    )

    named_rows = [
        (q, records.get("ours", {}).get("named_endpoint", {}).get(q.name))
        for q in scale.queries
        if q.named
    ]
    if any(s for _, s in named_rows):
        lines += [
            "",
            "Ours through its named-query endpoint (`GET /queries/{name}?param=…`, "
            "parameters bound as RDF terms):",
            "",
            "| query | rows | median / p95 ms | vs. the same query at /sparql |",
            "|---|---:|---:|---:|",
        ]
        for q, s in named_rows:
            base = records.get("ours", {}).get("latency", {}).get(q.name)
            lines.append(
                f"| {q.name} | {s.get('rows') if s else '–'} | {_cell(s)} | "
                f"{_fmt_ratio(_ratio(s, base))} |"
            )

    if any(records.get(k, {}).get("throughput") for k in args.servers):
        lines += [
            "",
            f"Throughput at {args.clients} concurrent clients "
            f"({args.throughput_seconds:g} s each; req/s, and p50 / p95 ms under load):",
            "",
            "| query | "
            + " | ".join(SERVER_NAMES[k] for k in args.servers)
            + " | ours / Oxigraph | ours / rdflib |",
            "|---|" + "---:|" * len(args.servers) + "---:|---:|",
        ]
        for q in scale.queries:
            if q.name not in THROUGHPUT_QUERIES:
                continue
            cells = {k: records.get(k, {}).get("throughput", {}).get(q.name) for k in args.servers}
            texts = []
            for k in args.servers:
                t = cells[k]
                if not t or "rps" not in t:
                    texts.append("–" if not t else "error")
                else:
                    texts.append(
                        f"{t['rps']:.0f} ({t.get('median_ms', 0):.1f} / "
                        f"{t.get('p95_ms', 0):.1f})"
                        + (f" {t['errors']} err" if t["errors"] else "")
                    )
            rps: dict[str, Any] = {k: (cells[k] or {}).get("rps") for k in args.servers}
            r1 = (
                rps.get("ours") / rps["oxigraph"]
                if rps.get("ours") and rps.get("oxigraph")
                else None
            )
            r2 = rps.get("ours") / rps["rdflib"] if rps.get("ours") and rps.get("rdflib") else None
            lines.append(
                f"| {q.name} | " + " | ".join(texts) + f" | {_fmt_ratio(r1)} | {_fmt_ratio(r2)} |"
            )
            summary.setdefault("throughput", {})[q.name] = rps

    # Targets
    lines += ["", "Targets (ours):", ""]
    ours = records.get("ours", {})
    if ours.get("unavailable") or "ours" not in records:
        lines.append("- ours: to be measured (not available, or not part of this run).")
    else:
        lines.append(
            f"- median latency within 1.5× of Oxigraph server: geometric mean "
            f"{_fmt_ratio(g_ox)} → {'met' if g_ox and g_ox <= 1.5 else 'NOT met'}"
            + (
                f"; per query {sum(1 for r in ratios_ox if r <= 1.5)}/{len(ratios_ox)} within 1.5×"
                if ratios_ox
                else ""
            )
        )
        typical = typical_latency(scale, records)
        if typical.get("ours") and typical.get("oxigraph"):
            lines.append(
                f"- median over the {typical['count']} named queries of each server's median: "
                f"ours {typical['ours']:.1f} ms, Oxigraph {typical['oxigraph']:.1f} ms → "
                f"{_fmt_ratio(typical['ours'] / typical['oxigraph'])}"
                + (f"; rdflib {typical['rdflib']:.1f} ms → "
                   f"{_fmt_ratio(typical['rdflib'] / typical['ours'])} of ours"
                   if typical.get("rdflib") else "")
            )
            summary["typical_latency_ms"] = typical
        if "rdflib" in args.servers:
            lines.append(
                f"- ≥ 10× faster than rdflib-endpoint: geometric mean {_fmt_ratio(g_rd)} "
                f"(over the queries rdflib answered) → "
                f"{'met' if g_rd and g_rd >= 10 else 'NOT met'}"
                + (
                    f"; per query {sum(1 for r in ratios_rd if r >= 10)}/{len(ratios_rd)} ≥ 10×"
                    if ratios_rd
                    else ""
                )
            )
        if scale.triples_target:
            for name in TARGET_QUERIES:
                s = ours.get("latency", {}).get(name)
                t = ours.get("throughput", {}).get(name, {})
                if not s or not s.get("n"):
                    continue
                ok_lat = s["median_ms"] <= 10 and s["p95_ms"] <= 25
                ok_rps = t.get("rps", 0) >= 500
                lines.append(
                    f"- {name}: median {s['median_ms']:.1f} ms (≤ 10), p95 {s['p95_ms']:.1f} ms "
                    f"(≤ 25) → {'met' if ok_lat else 'NOT met'}; "
                    f"{t.get('rps', 0):.0f} req/s at {args.clients} clients (≥ 500) → "
                    f"{'met' if ok_rps else 'NOT met'}"
                )
    return "\n".join(lines), summary
