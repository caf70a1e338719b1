"""The data of the partnership map (/viz/map): placed actors, ties between them, the unplaced.

The map is drawn in the browser (d3-geo over Natural Earth outlines) from this one answer, so
the server does no geometry: it picks the partnerships (one actor's, or every one a filter
keeps), pairs their parties, and splits the actors into those with coordinates (`geo:lat`,
`geo:long`) and those without, which the page lists beside the map rather than dropping them
silently. A tie is one pair of one partnership, so two partnerships between the same cities are
two arcs that the year filter can tell apart. Large selections are cut at `budget` ties, and say
so.
"""

from __future__ import annotations

from itertools import combinations

import pyoxigraph as ox

from graph.core.namespaces import GEO
from graph.network.cache import View
from graph.network.viz import KIND_STYLES, OTHER_KIND_STYLE

MAP_TIE_BUDGET = 5_000
LAT, LONG = ox.NamedNode(str(GEO.lat)), ox.NamedNode(str(GEO.long))


def coordinates(store) -> dict[str, tuple[float, float]]:
    """(lat, lon) of every resource that states both, by IRI; unusable values are skipped."""
    found: dict[str, dict[str, float]] = {}
    for key, predicate in (("lat", LAT), ("lon", LONG)):
        for quad in store.quads_for_pattern(None, predicate, None, None):
            if not isinstance(quad.subject, ox.NamedNode) or not isinstance(quad.object,
                                                                            ox.Literal):
                continue
            try:
                found.setdefault(quad.subject.value, {})[key] = float(quad.object.value)
            except ValueError:
                continue
    return {iri: (c["lat"], c["lon"]) for iri, c in found.items()
            if "lat" in c and "lon" in c and -90 <= c["lat"] <= 90 and -180 <= c["lon"] <= 180}


def map_data(view: View, coords: dict[str, tuple[float, float]], centre: str | None = None,
             links: str = "/id/", budget: int = MAP_TIE_BUDGET) -> dict:
    """Points, ties (with kind, colour, year) and unplaced actors for one actor or a filter."""
    actor = view.actor(centre) if centre else None
    partnerships = [p for p in view.partnerships if actor is None or actor.id in p.parties]
    actors = view.data.actors
    involved: set[str] = set()
    ties: list[dict] = []
    cut = False
    for p in sorted(partnerships, key=lambda p: (p.year or 0, p.id)):
        if actor is not None:
            pairs = [(actor.id, other) for other in p.parties if other != actor.id]
        else:
            pairs = list(combinations(p.parties, 2))
        for a, b in pairs:
            if a not in actors or b not in actors:
                continue
            involved.update((a, b))
            if actors[a].iri in coords and actors[b].iri in coords:
                if len(ties) >= budget:
                    cut = True
                    continue
                kind = p.kinds[0] if p.kinds else ""
                ties.append({"source": a, "target": b, "kind": kind, "year": p.year,
                             "date": p.date, "label": p.label_en or p.label_zh or p.id,
                             "href": _href(p.iri, links)})
    if actor is not None:
        involved.add(actor.id)

    def node(n: str) -> dict:
        a = actors[n]
        out: dict[str, object] = {"id": n, "label": a.label, "label_zh": a.label_zh, "cls": a.cls,
               "href": _href(a.iri, links)}
        if a.iri in coords:
            out["lat"], out["lon"] = coords[a.iri]
        return out

    placed = sorted((node(n) for n in involved if actors[n].iri in coords),
                    key=lambda d: d["label"])
    unplaced = sorted((node(n) for n in involved if actors[n].iri not in coords),
                      key=lambda d: d["label"])
    kinds = sorted({t["kind"] for t in ties})
    legend = [{"id": k, "label": _kind_label(view, k), "colour": _style(k)[0], "dash": _style(k)[1]}
              for k in kinds]
    years = sorted({t["year"] for t in ties if t["year"] is not None})
    title = (f"Partners of {actor.label} on the map" if actor is not None
             else "Partnerships on the map")
    notes = []
    if cut:
        notes.append(f"Only the first {budget:,} ties (oldest first) are drawn; narrow the "
                     "filters to see the others.")
    return {"title": title, "centre": actor.id if actor else None,
            "selection": view.filters.describe(), "points": placed, "ties": ties,
            "unplaced": unplaced, "kinds": legend, "years": years, "notes": notes,
            "partnerships": len(partnerships)}


def _style(kind: str) -> tuple[str, str | None]:
    """Colour and SVG dash pattern of a kind, as the network pictures draw it."""
    colour, dashes = KIND_STYLES.get(kind, OTHER_KIND_STYLE)
    return colour, " ".join(str(d) for d in dashes) if isinstance(dashes, list) else None


def _kind_label(view: View, kind: str) -> str:
    term = view.data.kinds.get(kind)
    return term.label_en if term and term.label_en else (kind or "partnership")


def _href(iri: str, links: str) -> str | None:
    from graph.core.namespaces import ID

    return links + iri[len(str(ID)):] if iri.startswith(str(ID)) else None
