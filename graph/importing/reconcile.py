"""Reconciliation: which area of a pair list is an actor the graph already has.

The targets are the areas already in the graph (the report's cities, counties, prefectures,
states and territories, and the areas of pair lists imported before), each with every name it
has (labels in all languages and skos:altLabel), its country's ISO code, its coordinates, its
Wikidata ID (owl:sameAs) and its partners. An area of the list becomes a target when:

1. **Same Wikidata ID** (owl:sameAs), the strongest evidence, or **same GeoNames ID** (the
   gazetteer's place, `graph/importing/gazetteer.py`, found for both from name, country and
   coordinates); or
2. **Same name** (casefolded, without diacritics, "St."/"Saint"/"Sankt" and the "City"/"市"
   suffixes unified; any of the target's labels and alternative labels, and the gazetteer's
   names of its place: "Posen" finds the report's Poznań) and nothing against it: a different
   country, coordinates more than `max_km` apart, a different Wikidata or GeoNames ID, or a
   qualifier naming another country ("Niles (Illinois)") each rule a candidate out. What is left
   must also be supported: the same country or nearby coordinates, or at least one partner in
   common, or a name that is unique in the list and among the targets alike (unless both have
   partners, the target at least `MIN_PARTNERS`, and none in common).
3. **Same name without its qualifier** ("Stari Grad (Sarajevo)" → "Stari Grad", "Córdoba,
   Bolívar" → "Córdoba"), only when (2) found no candidate at all, and only with the same
   country or nearby coordinates.

Several candidates that survive are decided by partners in common (names, then the areas already
matched) only when one has strictly more than every other; otherwise the area is **ambiguous**:
reported with its candidates and imported as an area of its own, never merged by a guess. A
single candidate that nothing supports is **unconfirmed**, reported and kept apart likewise. Each
target takes at most one area of a list: when several claim it, the best supported wins, and a
tie is ambiguous. Names that differ but whose areas are near and share a country once suffixes
such as "Prefecture" or "State" are dropped ("Koror" / "Koror State") are reported as
suggestions only.

Names and places compare as graph/importing/names.py says (folding, qualifiers, distances), the
same way the gazetteer indexes them.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from graph.importing.names import admin_key, base_keys, distance_km, name_keys

MAX_KM = 40.0
"""Two areas whose coordinates are farther apart than this are not the same area."""
SIMILAR = 0.8
"""Partner names at least this similar (difflib's ratio, same first letter) count as spellings
of one name when a unique name needs confirming."""
MIN_PARTNERS = 3
"""A target with this many partners, none in common with an area of the same name that has
partners too, is not matched on a unique name alone."""


# --- the two sides -------------------------------------------------------------------------------

@dataclass
class Target:
    """An area already in the graph."""

    iri: str
    names: set[str] = field(default_factory=set)
    country: str = ""
    lat: float | None = None
    lon: float | None = None
    qid: str = ""
    origins: set[str] = field(default_factory=set)
    """Named graphs that describe it (`kaohsiung-report`, `world-wikipedia`…)."""
    partners: set[str] = field(default_factory=set)
    """IRIs of its partners."""
    gid: str = ""
    """GeoNames ID (owl:sameAs https://sws.geonames.org/ID/), when known."""
    extra_keys: frozenset[str] = frozenset()
    """Names it matches by besides its own: the gazetteer's names of its place (folded)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Its rdfs:label in each language ("" for a label without a language tag)."""

    @property
    def label(self) -> str:
        return min(self.names, key=lambda n: (not n.isascii(), len(n), n)) if self.names \
            else self.iri.rsplit("/", 1)[-1]


@dataclass
class ListArea:
    """An area of the pair list being imported, as reconciliation sees it (a `Target` is an
    area the graph already has)."""

    key: str
    name: str
    country: str = ""
    """ISO code, empty when unknown or unresolved."""
    lat: float | None = None
    lon: float | None = None
    qid: str = ""
    hint: str = ""
    """ISO code named by the name's qualifier ("Niles (Illinois)" → US), if any."""
    partners: set[str] = field(default_factory=set)
    """Keys of its partners in the list."""
    gid: str = ""
    """GeoNames ID the gazetteer found for it, when sure."""
    extra_keys: frozenset[str] = frozenset()
    """The gazetteer's names of its place (folded)."""


@dataclass
class Candidate:
    target: Target
    shared: int = 0
    km: float | None = None
    support: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"iri": self.target.iri, "label": self.target.label,
                "country": self.target.country, "shared_partners": self.shared,
                "km": None if self.km is None else round(self.km, 1),
                "support": self.support}


@dataclass
class Decision:
    """What became of one area of the list."""

    entry: ListArea
    status: str
    """`matched`; `ambiguous` (several candidates, none better supported); `unconfirmed` (one
    candidate, but the evidence does not confirm it); `new` (no candidate)."""
    iri: str = ""
    """The target it is, when matched."""
    how: str = ""
    """For a match: `wikidata-id`, `name`, `name without qualifier`; for others, why."""
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[tuple[Target, str]] = field(default_factory=list)
    """Targets of the same name ruled out, and why (conflicts worth a look)."""

    def to_dict(self) -> dict:
        e = self.entry
        return {"name": e.name, "key": e.key.replace("\x1f", " | "), "country": e.country,
                "qid": e.qid, "status": self.status, "iri": self.iri, "how": self.how,
                "candidates": [c.to_dict() for c in self.candidates],
                "rejected": [{"iri": t.iri, "label": t.label, "country": t.country,
                              "reason": why} for t, why in self.rejected]}


@dataclass
class Reconciliation:
    decisions: dict[str, Decision]
    suggestions: list[dict]

    def matched(self) -> dict[str, str]:
        return {k: d.iri for k, d in self.decisions.items() if d.status == "matched"}

    def by_status(self, status: str) -> list[Decision]:
        return [d for d in self.decisions.values() if d.status == status]


# --- matching ----------------------------------------------------------------------------------

class Reconciler:
    """Matches the entries of one list against the targets (see the module's docstring)."""

    def __init__(self, targets: Iterable[Target], max_km: float = MAX_KM) -> None:
        self.targets = {t.iri: t for t in targets}
        self.max_km = max_km
        self.by_key: dict[str, list[Target]] = defaultdict(list)
        self.by_base: dict[str, list[Target]] = defaultdict(list)
        self.by_qid: dict[str, Target] = {}
        self.by_gid: dict[str, Target] = {}
        self.keys_of: dict[str, set[str]] = {}
        for t in self.targets.values():
            keys = set().union(*(name_keys(n) for n in t.names)) if t.names else set()
            keys |= t.extra_keys
            self.keys_of[t.iri] = keys
            for k in keys:
                self.by_key[k].append(t)
            for k in set().union(*(base_keys(n) for n in t.names)) if t.names else set():
                if k not in keys:
                    self.by_base[k].append(t)
            if t.qid:
                self.by_qid[t.qid] = t
            if t.gid:
                self.by_gid.setdefault(t.gid, t)
        self.partner_keys = {iri: set().union(*(self.keys_of.get(p, set()) for p in t.partners))
                             if t.partners else set() for iri, t in self.targets.items()}

    def reconcile(self, entries: dict[str, ListArea]) -> Reconciliation:
        entry_keys = {k: name_keys(e.name) | e.extra_keys for k, e in entries.items()}
        list_index: dict[str, set[str]] = defaultdict(set)
        for k, keys in entry_keys.items():
            for key in keys:
                list_index[key].add(k)
        partner_names = {k: set().union(*(entry_keys[p] for p in e.partners if p in entry_keys))
                         if e.partners else set() for k, e in entries.items()}

        decisions = {k: self._decide(e, entry_keys[k], list_index, partner_names[k], {})
                     for k, e in entries.items()}
        # A second pass for the undecided: partners already matched count by identity too.
        matched = {k: d.iri for k, d in decisions.items() if d.status == "matched"}
        for k, d in decisions.items():
            if d.status != "matched" and d.candidates:
                decisions[k] = self._decide(entries[k], entry_keys[k], list_index,
                                            partner_names[k], matched)
        self._one_to_one(decisions)
        return Reconciliation(decisions, self._suggestions(entries, decisions))

    def _shared(self, e: ListArea, t: Target, partner_names: set[str],
                matched: dict[str, str]) -> int:
        by_name = len(partner_names & self.partner_keys[t.iri])
        by_iri = len({matched[p] for p in e.partners if p in matched} & t.partners)
        return max(by_name, by_iri)

    def _decide(self, e: ListArea, keys: set[str], list_index: dict[str, set[str]],
                partner_names: set[str], matched: dict[str, str]) -> Decision:
        if e.qid and e.qid in self.by_qid:
            t = self.by_qid[e.qid]
            return Decision(e, "matched", t.iri, "wikidata-id", [Candidate(t, support=["qid"])])
        if e.gid and e.gid in self.by_gid and not (e.qid and self.by_gid[e.gid].qid
                                                   and e.qid != self.by_gid[e.gid].qid):
            t = self.by_gid[e.gid]
            return Decision(e, "matched", t.iri, "geonames-id",
                            [Candidate(t, support=["geonames"])])
        for tier in ("name", "name without qualifier"):
            pool: dict[str, Target] = {}
            if tier == "name":
                for k in keys:
                    pool.update((t.iri, t) for t in self.by_key.get(k, ()))
            else:
                for k in base_keys(e.name) | keys:
                    pool.update((t.iri, t) for t in self.by_base.get(k, ()))
                for k in base_keys(e.name):
                    pool.update((t.iri, t) for t in self.by_key.get(k, ()))
            if not pool:
                continue
            rejected: list[tuple[Target, str]] = []
            alive: list[Candidate] = []
            for t in sorted(pool.values(), key=lambda t: t.iri):
                why = self._rule_out(e, t)
                if why:
                    rejected.append((t, why))
                    continue
                c = Candidate(t, self._shared(e, t, partner_names, matched))
                if e.lat is not None and t.lat is not None:
                    c.km = distance_km(e.lat, e.lon, t.lat, t.lon)  # type: ignore[arg-type]
                    c.support.append("near")
                if e.country and e.country == t.country:
                    c.support.append("country")
                if e.hint and e.hint == t.country:
                    c.support.append("qualifier")
                if c.shared:
                    c.support.append("partners")
                alive.append(c)
            if tier != "name":
                alive = [c for c in alive if {"near", "country", "qualifier"} & set(c.support)]
            if not alive:
                return Decision(e, "new", how="same name, but ruled out", rejected=rejected)
            unique = (len(alive) == 1 and all(len(list_index.get(k, ())) <= 1 for k in keys)
                      and len(pool) == 1)
            if len(alive) == 1:
                c = alive[0]
                if c.support:
                    return Decision(e, "matched", c.target.iri, tier, alive, rejected)
                # A name unique on both sides, with nothing for or against it, is the same area
                # unless both have partners enough to share one and share none: the 2016
                # crawl's "Naples" (Florida) is not Wikipedia's Naples with its eight partners.
                if unique and (len(c.target.partners) < MIN_PARTNERS or not e.partners):
                    c.support.append("unique name")
                    return Decision(e, "matched", c.target.iri, tier, alive, rejected)
                if unique and self._similar_partners(partner_names, c.target):
                    c.support.append("unique name, partners of similar names")
                    return Decision(e, "matched", c.target.iri, tier, alive, rejected)
                return Decision(e, "unconfirmed", how="same name, but nothing confirms it"
                                + (" and no partner in common" if unique else ""),
                                candidates=alive, rejected=rejected)
            ranked = sorted(alive, key=lambda c: (-c.shared, c.km if c.km is not None else 1e9))
            if ranked[0].shared > ranked[1].shared:
                return Decision(e, "matched", ranked[0].target.iri, f"{tier} + partners",
                                ranked, rejected)
            return Decision(e, "ambiguous", how=f"{len(alive)} areas of this name",
                            candidates=ranked, rejected=rejected)
        return Decision(e, "new", how="no area of this name")

    def _similar_partners(self, partner_names: set[str], t: Target) -> bool:
        """Whether a partner of the entry and one of the target have names that differ only in
        spelling ("Taipeh" in the German-first Wikidata labels, "Taipei" in Wikipedia)."""
        theirs = self.partner_keys[t.iri]
        return any(difflib.SequenceMatcher(None, a, b).ratio() >= SIMILAR
                   for a in partner_names for b in theirs if a[:1] == b[:1])

    def _rule_out(self, e: ListArea, t: Target) -> str:
        if e.qid and t.qid and e.qid != t.qid:
            return f"different Wikidata ID ({t.qid})"
        if e.gid and t.gid and e.gid != t.gid:
            return f"different GeoNames ID ({t.gid})"
        if e.country and t.country and e.country != t.country:
            return f"different country ({t.country})"
        if e.hint and t.country and e.hint != t.country:
            return f"the qualifier points to {e.hint}, not {t.country}"
        if e.lat is not None and t.lat is not None:
            km = distance_km(e.lat, e.lon, t.lat, t.lon)  # type: ignore[arg-type]
            if km > self.max_km:
                return f"{km:.0f} km apart"
        return ""

    @staticmethod
    def _strength(d: Decision) -> tuple:
        c = next(c for c in d.candidates if c.target.iri == d.iri)
        return (d.how == "wikidata-id", d.how == "geonames-id",
                len(set(c.support) - {"unique name"}), c.shared, -(c.km or 0.0))

    def _one_to_one(self, decisions: dict[str, Decision]) -> None:
        claims: dict[str, list[str]] = defaultdict(list)
        for k, d in decisions.items():
            if d.status == "matched":
                claims[d.iri].append(k)
        for iri, keys in claims.items():
            if len(keys) == 1:
                continue
            ranked = sorted(keys, key=lambda k: self._strength(decisions[k]), reverse=True)
            best = self._strength(decisions[ranked[0]])
            losers = ranked[1:] if best > self._strength(decisions[ranked[1]]) else ranked
            for k in losers:
                d = decisions[k]
                d.status, d.how = "ambiguous", (
                    f"{len(keys)} areas of the list match {self.targets[iri].label}")
                d.iri = ""

    def _suggestions(self, entries: dict[str, ListArea], decisions: dict[str, Decision]
                     ) -> list[dict]:
        """Areas left new that are near a target of the same country whose name differs only by
        a word such as Prefecture or State: for a person to decide."""
        taken = {d.iri for d in decisions.values() if d.status == "matched"}
        by_admin: dict[str, list[Target]] = defaultdict(list)
        for t in self.targets.values():
            if t.iri not in taken and t.lat is not None:
                for n in t.names:
                    by_admin[admin_key(n)].append(t)
        found = []
        for k, d in decisions.items():
            e = entries[k]
            if d.status != "new" or e.lat is None:
                continue
            for t in {t.iri: t for t in by_admin.get(admin_key(e.name), ())}.values():
                km = distance_km(e.lat, e.lon, t.lat, t.lon)  # type: ignore[arg-type]
                if km <= self.max_km and (not e.country or e.country == t.country):
                    found.append({"name": e.name, "key": k.replace("\x1f", " | "),
                                  "iri": t.iri, "label": t.label, "km": round(km, 1),
                                  "reason": "names differ only by an administrative word"})
        return found
