#!/usr/bin/env python3
"""Generate valid city-diplomacy data at a chosen scale, as N-Triples.

The output follows the ontology (`ontology/citydiplomacy.ttl`), the controlled values of
`ontology/vocabularies.ttl` and the IRI scheme of `docs/modelling.md`; every resource slug starts
with `gen-`, so generated data can never be mistaken for (or collide with) real data. It holds
countries, provinces (prefectures, states), cities, schools, universities, ports, agencies, persons
with their roles (cd:Membership), agreements (n-ary nodes with parties, signatories who hold a role
in a party, dates as precise as "the source", status, topics), twinning relations, visits, signing
ceremonies, expos, festivals, meetings and exchanges, and the passages of generated reports that
every statement is derived from.

Partnerships and visits pick cities by preferential attachment (a city with many ties is more
likely to get the next one), so a few hub cities end up with hundreds of partners and most cities
with a handful, as in the real networks.

Only base data is written: the derived shortcuts (cd:partnerOf, cd:sisterCityOf, ...) are
materialised by the store at load time (graph/store/load.py), exactly as for hand-written data.

    .venv/bin/python benchmarks/generate.py --triples 1000000 --seed 1 --out /tmp/bench/gen-1m/
    .venv/bin/python benchmarks/generate.py --triples 5000 --out /tmp/gen-small.nt
    .venv/bin/citydip validate /tmp/gen-small.nt
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import _paths  # noqa: F401  - the project and this folder on sys.path
from generating.ntriples import (
    ALT_LABEL,
    D_DATE,
    D_DECIMAL,
    D_GYEAR,
    D_GYEARMONTH,
    DERIVED,
    GEO_LAT,
    GEO_LONG,
    LABEL,
    LANGUAGE,
    ORG_MEMBER,
    ORG_ORGANIZATION,
    ORG_ROLE,
    QUOTED_FROM,
    RDF_TYPE,
    TITLE,
    TRUE,
    Writer,
    cd,
    integer,
    lit,
    res,
    typed,
)
from generating.pools import (
    LANGUAGES,
    ROLES,
    SCHOOL_LEVELS,
    SURNAMES,
    SYLLABLES,
    TOPIC_ZH,
    TOPICS,
)

# One class, the Generator, over 600 lines: its methods share the state of the graph being built
# (counters, the pools of cities, the preferential-attachment weights, the current report) and
# the order of their random draws fixes the output of a seed; the terms and the word lists it
# uses are in generating/.


class Generator:
    def __init__(self, target: int, seed: int, writer: Writer) -> None:
        self.target = target
        self.rng = random.Random(seed)
        self.w = writer
        self.stats: dict[str, int] = {}
        # Actors
        self.countries: list[dict] = []
        self.provinces: list[dict] = []
        self.cities: list[dict] = []
        self.schools: list[dict] = []
        self.universities: list[dict] = []
        self.ports: list[dict] = []
        self.agencies: list[dict] = []
        self.officials: dict[str, list[str]] = {}  # actor IRI -> persons holding a role in it
        # Preferential attachment: each city index once, plus once per tie it takes part in.
        self.city_ends: list[int] = []
        self.school_ends: list[int] = []
        self.fitness: list[float] = []  # cumulative weights of the cities
        # Provenance
        self.report_no = 0
        self.report_iri = ""
        self.line = 0
        self.passages_in_report = 0
        self.serial = 0
        self.recent: list[str] = []  # the last passages, for statements citing two

    # ------------------------------------------------------------------ helpers

    def bump(self, kind: str) -> None:
        self.stats[kind] = self.stats.get(kind, 0) + 1

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def name(self, syllables: int) -> tuple[str, str, str]:
        """(English name, Chinese name, slug part) from random syllables."""
        parts = [self.rng.choice(SYLLABLES) for _ in range(syllables)]
        en = "".join(p[0] for p in parts)
        return en.capitalize(), "".join(p[1] for p in parts), en

    def date_literal(self, year_from: int = 1975, year_to: int = 2026) -> tuple[str, str]:
        """A date as precise as a source would give it, and its year."""
        year = self.rng.randint(year_from, year_to)
        roll = self.rng.random()
        if roll < 0.4:
            return typed(year, D_GYEAR), str(year)
        month = self.rng.randint(1, 12)
        if roll < 0.8:
            return typed(f"{year}-{month:02d}", D_GYEARMONTH), str(year)
        return typed(f"{year}-{month:02d}-{self.rng.randint(1, 28):02d}", D_DATE), str(year)

    def labels(self, s: str, en: str, zh: str, native: tuple[str, str] | None = None) -> None:
        self.w.t(s, LABEL, lit(en, "en"))
        self.w.t(s, LABEL, lit(zh, "zh-Hant"))
        if native is not None:
            self.w.t(s, LABEL, lit(*native))

    def native(self, country: dict, en: str, zh: str) -> tuple[str, str] | None:
        lang = country["lang"]
        if lang == "en" or lang.startswith("zh"):
            return None
        return (zh if lang == "ja" else en), lang

    def passage(self, quote: str, section: str) -> str:
        """A new passage of the current generated report (a new report every 800 passages)."""
        if not self.report_iri or self.passages_in_report >= 800:
            self.new_report()
        self.passages_in_report += 1
        start = self.line + 2
        end = start + self.rng.choice((0, 0, 0, 1, 2))
        self.line = end
        iri = res("passage", f"gen-report-{self.report_no}-l{start}")
        w = self.w
        w.t(iri, RDF_TYPE, cd("Passage"))
        w.t(iri, cd("quote"), lit(quote, "zh-Hant"))
        w.t(iri, cd("lineStart"), integer(start))
        w.t(iri, cd("lineEnd"), integer(end))
        w.t(iri, cd("section"), lit(section, "zh-Hant"))
        w.t(iri, QUOTED_FROM, self.report_iri)
        self.bump("passage")
        return iri

    def new_report(self) -> None:
        self.report_no += 1
        self.report_iri = res("report", f"gen-report-{self.report_no}")
        self.line = 0
        self.passages_in_report = 0
        w = self.w
        w.t(self.report_iri, RDF_TYPE, cd("Report"))
        self.labels(
            self.report_iri,
            f"Generated international affairs report no. {self.report_no}",
            f"國際事務業務報告（生成）第 {self.report_no} 號",
        )
        w.t(self.report_iri, TITLE, lit(f"國際事務業務報告第 {self.report_no} 號", "zh-Hant"))
        w.t(self.report_iri, LANGUAGE, '"zh-Hant"')
        self.bump("report")

    def derive(self, s: str, quote: str, section: str) -> None:
        """prov:wasDerivedFrom a new passage (and now and then also an earlier one)."""
        p = self.passage(quote, section)
        self.w.t(s, DERIVED, p)
        if self.recent and self.rng.random() < 0.1:
            self.w.t(s, DERIVED, self.rng.choice(self.recent))
        self.recent.append(p)
        if len(self.recent) > 16:
            del self.recent[0]

    def person(self, country: dict, role: str, org: dict, tenure: str = "current") -> str:
        first_en, first_zh, first_slug = self.name(2)
        last_en, last_zh = self.rng.choice(SURNAMES)
        n = self.next_serial()
        slug = f"gen-{first_slug}-{last_en.lower()}-{n}"
        iri = res("person", slug)
        w = self.w
        w.t(iri, RDF_TYPE, cd("Person"))
        en, zh = f"{first_en} {last_en}", f"{last_zh}{first_zh}"
        self.labels(iri, en, zh, self.native(country, en, zh))
        w.t(iri, cd("country"), country["iri"])
        self.bump("person")
        self.membership(iri, en, zh, slug, role, org, tenure)
        return iri

    def membership(
        self, person: str, en: str, zh: str, slug: str, role: str, org: dict, tenure: str
    ) -> None:
        iri = res("membership", f"{slug}-{role}-{org['slug']}")
        role_en, role_zh = ROLES[role]
        w = self.w
        w.t(iri, RDF_TYPE, cd("Membership"))
        w.t(iri, LABEL, lit(f"{en}, {role_en} of {org['en']}", "en"))
        w.t(iri, LABEL, lit(f"{org['zh']}{role_zh}{zh}", "zh-Hant"))
        w.t(iri, ORG_MEMBER, person)
        w.t(iri, ORG_ROLE, res("role", role))
        w.t(iri, ORG_ORGANIZATION, org["iri"])
        w.t(iri, cd("tenure"), res("tenure", tenure))
        prefix = "時任" if tenure == "former" else ("新任" if tenure == "newly-appointed" else "")
        self.derive(iri, f"{org['zh']}{prefix}{role_zh}{zh}率團出席", f"{org['zh']}交流")
        self.officials.setdefault(org["iri"], []).append(person)
        self.bump("membership")

    def tenure(self) -> str:
        roll = self.rng.random()
        return "current" if roll < 0.85 else ("former" if roll < 0.97 else "newly-appointed")

    def pick_city(self) -> dict:
        """Uniform (15 %), by fitness (30 %: a Zipf law over a random ranking of the cities, the
        big and famous ones) or by preferential attachment (55 %: proportional to ties so far)."""
        roll = self.rng.random()
        if roll < 0.15 or not self.city_ends:
            return self.rng.choice(self.cities)
        if roll < 0.45:
            return self.cities[bisect.bisect(self.fitness, self.rng.random() * self.fitness[-1])]
        return self.cities[self.rng.choice(self.city_ends)]

    def pick_cities(self, k: int) -> list[dict]:
        chosen: dict[str, dict] = {}
        for _ in range(k * 20):
            c = self.pick_city()
            chosen.setdefault(c["iri"], c)
            if len(chosen) == k:
                break
        return list(chosen.values())

    def attach(self, cities: list[dict]) -> None:
        for c in cities:
            self.city_ends.append(c["index"])

    # ------------------------------------------------------------------ actors

    def make_countries(self, n: int) -> None:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        codes = [a + b for a in letters for b in letters]
        self.rng.shuffle(codes)
        for i in range(n):
            code = codes[i]
            en, zh, slug = self.name(2)
            c: dict[str, Any] = {
                "iri": res("country", f"gen-{slug}-{code.lower()}"),
                "slug": f"gen-{slug}-{code.lower()}",
                "en": f"{en}land",
                "zh": f"{zh}國",
                "code": code,
                "lang": self.rng.choice(LANGUAGES),
                "lat": self.rng.uniform(-50, 65),
                "long": self.rng.uniform(-170, 170),
            }
            w = self.w
            w.t(c["iri"], RDF_TYPE, cd("Country"))
            self.labels(c["iri"], c["en"], c["zh"], self.native(c, c["en"], c["zh"]))
            w.t(c["iri"], cd("country"), c["iri"])
            w.t(c["iri"], cd("iso3166Alpha2"), f'"{code}"')
            w.t(c["iri"], cd("languageCode"), f'"{c["lang"]}"')
            self.countries.append(c)
            self.bump("country")

    def area(
        self, cls: str, kind: str, country: dict, en: str, zh: str, slug: str, part_of: dict | None
    ) -> dict:
        iri = res(kind, slug)
        a = {"iri": iri, "slug": slug, "en": en, "zh": zh, "country": country}
        w = self.w
        w.t(iri, RDF_TYPE, cd(cls))
        self.labels(iri, en, zh, self.native(country, en, zh))
        w.t(iri, cd("country"), country["iri"])
        lat = max(-89.0, min(89.0, country["lat"] + self.rng.uniform(-6, 6)))
        long = max(-179.0, min(179.0, country["long"] + self.rng.uniform(-8, 8)))
        w.t(iri, GEO_LAT, typed(f"{lat:.4f}", D_DECIMAL))
        w.t(iri, GEO_LONG, typed(f"{long:.4f}", D_DECIMAL))
        w.t(iri, cd("partOf"), (part_of or country)["iri"])
        return a

    def make_provinces(self, n: int) -> None:
        for _ in range(n):
            country = self.rng.choice(self.countries)
            en, zh, slug = self.name(2)
            if country["lang"] == "ja":
                cls, kind, en, zh = "Prefecture", "prefecture", f"{en} Prefecture", f"{zh}縣"
            else:
                cls, kind, en, zh = "State", "state", f"{en} State", f"{zh}州"
            p = self.area(cls, kind, country, en, zh, f"gen-{slug}-{self.next_serial()}", None)
            self.provinces.append(p)
            self.bump(kind)
            self.person(country, "governor", p, self.tenure())

    def make_cities(self, n: int) -> None:
        by_country: dict[str, list[dict]] = {}
        for p in self.provinces:
            by_country.setdefault(p["country"]["iri"], []).append(p)
        for i in range(n):
            country = self.rng.choice(self.countries)
            en, zh, slug = self.name(self.rng.choice((2, 3, 3)))
            provinces = by_country.get(country["iri"])
            part_of = self.rng.choice(provinces) if provinces and self.rng.random() < 0.5 else None
            c = self.area("City", "city", country, en, f"{zh}市", f"gen-{slug}-{i + 1}", part_of)
            if self.rng.random() < 0.15:
                self.w.t(c["iri"], ALT_LABEL, lit(zh, "zh-Hant"))
            c["index"] = i
            self.cities.append(c)
            self.city_ends.append(i)
            self.bump("city")
            self.person(country, "mayor", c, self.tenure())
            if self.rng.random() < 0.3:
                self.person(country, "deputy-mayor", c, self.tenure())
        # Fitness: rank r (a random permutation of the cities) has weight 1 / r^0.8.
        ranks = list(range(1, n + 1))
        self.rng.shuffle(ranks)
        total = 0.0
        self.fitness = []
        for r in ranks:
            total += r**-0.8
            self.fitness.append(total)

    def organization(self, cls: str, kind: str, city: dict, en: str, zh: str, slug: str) -> dict:
        iri = res(kind, slug)
        o = {"iri": iri, "slug": slug, "en": en, "zh": zh, "city": city, "country": city["country"]}
        w = self.w
        w.t(iri, RDF_TYPE, cd(cls))
        self.labels(iri, en, zh, self.native(city["country"], en, zh))
        w.t(iri, cd("locatedIn"), city["iri"])
        w.t(iri, cd("country"), city["country"]["iri"])
        return o

    def make_organizations(self) -> None:
        for city in self.cities:
            if self.rng.random() < 0.6:
                for _ in range(self.rng.choice((1, 1, 1, 2, 3))):
                    level, level_en, level_zh = self.rng.choice(SCHOOL_LEVELS)
                    en, zh, slug = self.name(2)
                    s = self.organization(
                        "School",
                        "school",
                        city,
                        f"{city['en']} {en} {level_en}",
                        f"{city['zh']}{zh}{level_zh}",
                        f"gen-{city['slug'][4:]}-{slug}-{level}-{self.next_serial()}",
                    )
                    self.w.t(s["iri"], cd("schoolLevel"), res("school-level", level))
                    s["index"] = len(self.schools)
                    self.schools.append(s)
                    self.school_ends.append(s["index"])
                    self.bump("school")
                    self.person(city["country"], "director", s, self.tenure())
            if self.rng.random() < 0.15:
                en, zh, slug = self.name(2)
                u = self.organization(
                    "University",
                    "university",
                    city,
                    f"University of {city['en']} {en}",
                    f"{city['zh']}{zh}大學",
                    f"gen-{slug}-{self.next_serial()}",
                )
                self.universities.append(u)
                self.bump("university")
                self.person(city["country"], "chairperson", u, self.tenure())
            if self.rng.random() < 0.08:
                p = self.organization(
                    "Port",
                    "port",
                    city,
                    f"Port of {city['en']}",
                    f"{city['zh']}港",
                    f"gen-{city['slug'][4:]}",
                )
                self.ports.append(p)
                self.bump("port")
                self.person(city["country"], "director", p, self.tenure())
            if self.rng.random() < 0.1:
                a = self.organization(
                    "GovernmentAgency",
                    "agency",
                    city,
                    f"{city['en']} Economic Development Office",
                    f"{city['zh']}經濟發展局",
                    f"gen-{city['slug'][4:]}-economic-development-office",
                )
                self.agencies.append(a)
                self.bump("agency")
                self.person(city["country"], "director", a, self.tenure())

    # ------------------------------------------------------------------ partnerships

    def agreement(
        self,
        classes: list[str],
        parties: list[dict],
        kind_en: str,
        kind_zh: str,
        slug_kind: str,
        *,
        with_officials: bool = True,
        topics: list[str] | None = None,
    ) -> str:
        rng, w = self.rng, self.w
        date, year = self.date_literal()
        in_preparation = rng.random() < 0.08
        dated = not in_preparation and rng.random() < 0.94
        names = "-".join(p["slug"][4:].split("-")[0] for p in parties[:3])
        slug = f"gen-{names}-{slug_kind}-{year if dated else 'undated'}-{self.next_serial()}"
        iri = res("agreement", slug)
        for cls in classes:
            w.t(iri, RDF_TYPE, cd(cls))
        en_parties = " – ".join(p["en"] for p in parties[:4]) + (
            " et al." if len(parties) > 4 else ""
        )
        zh_parties = "、".join(p["zh"] for p in parties)
        self.labels(
            iri,
            f"{en_parties} {kind_en}" + (f" ({year})" if dated else ""),
            f"{zh_parties}{kind_zh}" + (f"（{year}）" if dated else ""),
        )
        for p in parties:
            w.t(iri, cd("party"), p["iri"])
        if len(parties) > 2:
            w.t(iri, cd("partyCountStated"), integer(len(parties)))
        if dated:
            w.t(iri, cd("signedOn"), date)
        else:
            w.t(iri, cd("dateNotStated"), TRUE)
        w.t(iri, cd("status"), res("status", "in-preparation" if in_preparation else "signed"))
        for topic in topics or []:
            w.t(iri, cd("topic"), res("topic", topic))
        signatories = []
        if with_officials and not in_preparation and rng.random() < 0.7:
            for p in parties:
                persons = self.officials.get(p["iri"])
                if persons:
                    person = persons[0] if rng.random() < 0.7 else rng.choice(persons)
                    if person not in signatories:
                        signatories.append(person)
                        w.t(iri, cd("signatory"), person)
            deputies = self.officials.get(parties[0]["iri"], [])
            if len(deputies) > 1 and rng.random() < 0.3:
                w.t(iri, cd("witness"), deputies[1])
        verb = "籌備簽署" if in_preparation else "簽署"
        quote = (
            (f"{year} 年" if dated else "")
            + f"{zh_parties}{verb}{kind_zh}"
            + ("，合作領域包括" + "、".join(TOPIC_ZH[t] for t in topics) if topics else "")
        )
        self.derive(iri, quote, f"{parties[0]['zh']}國際交流")
        if dated and signatories and rng.random() < 0.25:
            self.signing_ceremony(iri, parties, signatories, date, year, kind_en, kind_zh)
        self.bump("agreement")
        return iri

    def signing_ceremony(
        self,
        agreement: str,
        parties: list[dict],
        signatories: list[str],
        date: str,
        year: str,
        kind_en: str,
        kind_zh: str,
    ) -> None:
        w = self.w
        host = parties[0]
        iri = res("event", f"gen-{year}-{host['slug'][4:]}-signing-ceremony-{self.next_serial()}")
        w.t(iri, RDF_TYPE, cd("SigningCeremony"))
        self.labels(
            iri,
            f"Signing ceremony of the {kind_en} in {host['en']} ({year})",
            f"{host['zh']}{kind_zh}簽署儀式（{year}）",
        )
        w.t(iri, cd("date"), date)
        for p in parties:
            w.t(iri, cd("participant"), p["iri"])
        for s in signatories:
            w.t(iri, cd("participant"), s)
        w.t(iri, cd("location"), (host.get("city") or host)["iri"])
        w.t(iri, cd("status"), res("status", "held"))
        self.derive(iri, f"於{host['zh']}舉行{kind_zh}簽署儀式", f"{host['zh']}國際交流")
        w.t(agreement, cd("signedAt"), iri)
        self.bump("event:SigningCeremony")

    def area_agreement(self) -> None:
        roll = self.rng.random()
        if roll < 0.3:
            kind = ("SisterCityAgreement", "sister-city agreement", "姊妹市協定", "sister-city")
        elif roll < 0.5:
            kind = (
                "FriendshipCityAgreement",
                "friendship-city agreement",
                "友好城市協定",
                "friendship-city",
            )
        elif roll < 0.6:
            kind = (
                "FriendshipDeclaration",
                "friendship declaration",
                "友好宣言",
                "friendship-declaration",
            )
        elif roll < 0.9:
            kind = ("MemorandumOfUnderstanding", "cooperation memorandum", "合作備忘錄", "mou")
        else:
            kind = ("LetterOfIntent", "letter of intent", "合作意向書", "letter-of-intent")
        parties = self.pick_cities(2)
        if len(parties) < 2:
            return
        if (
            kind[0] in ("SisterCityAgreement", "FriendshipCityAgreement")
            and self.provinces
            and self.rng.random() < 0.05
        ):
            parties[1] = self.rng.choice(self.provinces)  # a city twinned with a prefecture
        topics = (
            self.rng.sample(TOPICS, self.rng.choice((0, 1, 1, 2)))
            if kind[3] in ("mou", "letter-of-intent")
            else []
        )
        self.agreement([kind[0]], parties, kind[1], kind[2], kind[3], topics=topics)
        self.attach([p for p in parties if "index" in p])

    def multi_party_mou(self) -> None:
        cities = self.pick_cities(self.rng.choice((3, 3, 3, 4, 6)))
        parties: list[dict] = list(cities)
        if self.universities and self.rng.random() < 0.4:
            parties.append(self.rng.choice(self.universities))
        if self.agencies and self.rng.random() < 0.3:
            parties.append(self.rng.choice(self.agencies))
        if len(parties) < 3:
            return
        topics = self.rng.sample(TOPICS, self.rng.choice((1, 2, 3)))
        n = len(parties)
        self.agreement(
            ["MemorandumOfUnderstanding"],
            parties,
            f"{n}-party cooperation memorandum",
            f"{n}方合作備忘錄",
            "multilateral-mou",
            topics=topics,
        )
        self.attach(cities)

    def sister_school_agreement(self) -> None:
        if len(self.schools) < 2:
            return
        picks: dict[str, dict] = {}
        for _ in range(40):
            if self.rng.random() < 0.3:
                s = self.rng.choice(self.schools)
            else:
                s = self.schools[self.rng.choice(self.school_ends)]
            picks.setdefault(s["iri"], s)
            if len(picks) == 2:
                break
        parties = list(picks.values())
        if len(parties) < 2:
            return
        if self.universities and self.rng.random() < 0.15:
            parties[1] = self.rng.choice(self.universities)
        classes = ["SisterSchoolAgreement"] + (
            ["MemorandumOfUnderstanding"] if self.rng.random() < 0.3 else []
        )
        self.agreement(
            classes,
            parties,
            "sister-school agreement",
            "姊妹校協議",
            "sister-school",
            topics=["education"] if self.rng.random() < 0.5 else [],
        )
        for p in parties:
            if "index" in p:  # schools (universities carry no index)
                self.school_ends.append(p["index"])

    def port_agreement(self) -> None:
        if len(self.ports) < 2:
            return
        parties = self.rng.sample(self.ports, 2)
        if self.rng.random() < 0.3:
            parties += [parties[0]["city"], parties[1]["city"]]
        self.agreement(
            ["PortCooperationAgreement", "MemorandumOfUnderstanding"],
            parties,
            "port cooperation memorandum",
            "港口合作備忘錄",
            "port-mou",
            topics=["ports"] + (["ocean-sustainability"] if self.rng.random() < 0.3 else []),
        )
        self.attach([p["city"] for p in parties[:2]])

    def twinning_relation(self) -> None:
        parties = self.pick_cities(2)
        if len(parties) < 2:
            return
        roll = self.rng.random()
        kind, en, zh = (
            ("sister-city", "sister cities", "姊妹市關係")
            if roll < 0.35
            else ("friendship-city", "friendship cities", "友好城市關係")
            if roll < 0.6
            else ("mou-city", "MOU cities", "MOU 城市關係")
            if roll < 0.8
            else ("partner-city", "partner relation", "締盟關係")
        )
        a, b = parties
        iri = res("relation", f"gen-{a['slug'][4:]}-{b['slug'][4:]}-{kind}-{self.next_serial()}")
        w = self.w
        w.t(iri, RDF_TYPE, cd("TwinningRelation"))
        self.labels(iri, f"{a['en']} – {b['en']} {en}", f"{a['zh']}與{b['zh']}{zh}")
        w.t(iri, cd("party"), a["iri"])
        w.t(iri, cd("party"), b["iri"])
        w.t(iri, cd("relationKind"), res("relation-kind", kind))
        if self.rng.random() < 0.5:
            w.t(iri, cd("since"), typed(self.rng.randint(1960, 2024), D_GYEAR))
        self.derive(iri, f"{a['zh']}與{b['zh']}為{zh.removesuffix('關係')}", f"{a['zh']}國際交流")
        self.attach(parties)
        self.bump("relation")

    # ------------------------------------------------------------------ events

    def visit(self) -> None:
        rng, w = self.rng, self.w
        pair = self.pick_cities(2)
        if len(pair) < 2:
            return
        visitor, host = pair
        date, year = self.date_literal(2000, 2026)
        iri = res(
            "event",
            f"gen-{year}-{visitor['slug'][4:]}-delegation-{host['slug'][4:]}-{self.next_serial()}",
        )
        w.t(iri, RDF_TYPE, cd("Visit"))
        self.labels(
            iri,
            f"{visitor['en']} delegation to {host['en']} ({year})",
            f"{year} 年{visitor['zh']}訪團訪問{host['zh']}",
        )
        if rng.random() < 0.9:
            w.t(iri, cd("date"), date)
        w.t(iri, cd("visitor"), visitor["iri"])
        w.t(iri, cd("host"), host["iri"])
        w.t(iri, cd("participant"), visitor["iri"])
        w.t(iri, cd("participant"), host["iri"])
        leader = self.officials.get(visitor["iri"])
        if leader:
            person = rng.choice(leader)
            w.t(iri, cd("ledBy"), person)
            w.t(iri, cd("participant"), person)
        hosts = self.officials.get(host["iri"])
        if hosts and rng.random() < 0.6:
            w.t(iri, cd("participant"), hosts[0])
        w.t(iri, cd("location"), host["iri"])
        if rng.random() < 0.15:
            w.t(iri, cd("durationDays"), integer(rng.randint(2, 10)))
        w.t(iri, cd("status"), res("status", "held" if rng.random() < 0.92 else "in-preparation"))
        self.derive(
            iri,
            f"{visitor['zh']}代表團訪問{host['zh']}，雙方就城市交流合作交換意見",
            f"{host['zh']}國際交流",
        )
        self.attach([host])
        self.bump("event:Visit")

    def gathering(self) -> None:
        """An expo, festival, meeting or exchange with several participating actors."""
        rng, w = self.rng, self.w
        cls, en_kind, zh_kind = rng.choice(
            [
                ("Expo", "Smart City Expo", "智慧城市展"),
                ("Festival", "International Festival", "國際藝術節"),
                ("Meeting", "Mayors Forum", "市長論壇"),
                ("SportsExchange", "Youth Baseball Exchange", "青少年棒球交流"),
                ("CulturalExchange", "Culture Days", "文化交流週"),
                ("EducationExchange", "Student Exchange", "學生交流"),
                ("Exhibition", "City Photo Exhibition", "城市攝影展"),
                ("Concert", "Friendship Concert", "友誼音樂會"),
            ]
        )
        host = self.pick_city()
        date, year = self.date_literal(2000, 2026)
        edition = rng.randint(1, 12)
        iri = res(
            "event",
            f"gen-{year}-{host['slug'][4:]}-{en_kind.lower().replace(' ', '-')}"
            f"-{self.next_serial()}",
        )
        w.t(iri, RDF_TYPE, cd(cls))
        self.labels(iri, f"{year} {host['en']} {en_kind}", f"{year} {host['zh']}{zh_kind}")
        w.t(iri, cd("date"), date)
        w.t(iri, cd("organizer"), host["iri"])
        w.t(iri, cd("participant"), host["iri"])
        big = cls in ("Expo", "Festival", "Meeting")
        n = rng.randint(5, 40) if big else rng.randint(2, 6)
        guests = self.pick_cities(n)
        countries = {host["country"]["iri"]}
        for g in guests:
            if g["iri"] != host["iri"]:
                w.t(iri, cd("participant"), g["iri"])
                countries.add(g["country"]["iri"])
        if big and self.universities:
            for u in rng.sample(self.universities, min(len(self.universities), rng.randint(0, 4))):
                w.t(iri, cd("participant"), u["iri"])
        if big and self.agencies and rng.random() < 0.5:
            w.t(iri, cd("supporter"), rng.choice(self.agencies)["iri"])
        w.t(iri, cd("location"), host["iri"])
        w.t(iri, cd("edition"), integer(edition))
        if big:
            w.t(iri, cd("countryCount"), integer(len(countries)))
            if rng.random() < 0.5:
                w.t(iri, cd("minimumAttendance"), integer(rng.randint(1, 300) * 1000))
        w.t(iri, cd("status"), res("status", "held"))
        self.derive(
            iri,
            f"第 {edition} 屆{year} {host['zh']}{zh_kind}，{len(countries)} 國城市代表共同參與",
            f"{year} {host['zh']}{zh_kind}",
        )
        self.attach([host])
        self.bump(f"event:{cls}")

    # ------------------------------------------------------------------ the whole

    def run(self) -> None:
        n = self.target
        n_countries = max(8, min(400, n // 8000))
        n_cities = max(12, n // 150)
        self.make_countries(n_countries)
        self.make_provinces(max(2, n_cities // 15))
        self.make_cities(n_cities)
        self.make_organizations()
        activities = [
            (0.34, self.area_agreement),
            (0.04, self.multi_party_mou),
            (0.12, self.twinning_relation),
            (0.14, self.sister_school_agreement),
            (0.03, self.port_agreement),
            (0.25, self.visit),
            (0.08, self.gathering),
        ]
        weights = [a[0] for a in activities]
        funcs = [a[1] for a in activities]
        # Make sure every kind of record appears at least once, even at a tiny scale.
        for f in funcs:
            f()
        while self.w.written < n:
            for f in self.rng.choices(funcs, weights, k=64):
                f()
                if self.w.written >= n:
                    break
        self.w.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--triples",
        type=int,
        default=1_000_000,
        help="target number of triples (written: the first record that reaches it is completed)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (same seed, same data)")
    parser.add_argument(
        "--out", type=Path, required=True, help="an .nt file, or a folder (gets gen-<triples>.nt)"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    if out.suffix != ".nt":
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"gen-{args.triples}.nt"
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with out.open("w", encoding="utf-8", newline="\n") as handle:
        writer = Writer(handle)
        gen = Generator(args.triples, args.seed, writer)
        gen.run()
    seconds = time.perf_counter() - started
    summary = {
        "file": str(out),
        "triples": writer.count,
        "seed": args.seed,
        "seconds": round(seconds, 2),
        "resources": dict(sorted(gen.stats.items())),
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False), file=sys.stderr)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
