"""Country names as pair lists write them, resolved to ISO 3166-1 alpha-2 codes with pycountry.

The order of attempts (the first that succeeds wins, and the answer says which):

1. `OVERRIDES`: a short, documented table for names pycountry does not know or gets wrong
   (Wikipedia's conventional names such as "Ivory Coast", the UK's constituent countries,
   Kosovo's user-assigned code XK, typos seen in the bundled lists).
2. pycountry's exact lookup (name, official name, common name, codes), on the name as written
   and without diacritics; German names too (pycountry's translations), because Wikidata labels
   in the 2016 crawl are German first ("Niles (Illinois)", "Adama (Äthiopien)").
3. "Region, Country": the most specific part that is itself an ISO 3166-1 entry ("Réunion,
   France" is RE, "England, United Kingdom" is GB, "Brandenburg, Germany" is DE).
4. pycountry's fuzzy search, accepted only when it finds exactly one country ("Russia"); never
   for names pycountry matches through a subdivision of another country (that is how "Kosovo"
   would become Serbia, which is why Kosovo is in the overrides).

A name none of these resolve is unresolved: the caller counts and lists it, never drops it.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import pycountry

OVERRIDES: dict[str, str] = {
    # Conventional English names (Wikipedia's) that pycountry spells otherwise.
    "turkey": "TR",  # pycountry: "Türkiye"
    "republic of ireland": "IE",
    "georgia (country)": "GE",
    "cape verde": "CV",  # pycountry: "Cabo Verde"
    "ivory coast": "CI",  # pycountry: "Côte d'Ivoire"
    "democratic republic of the congo": "CD",
    "republic of the congo": "CG",
    "east timor": "TL",
    "micronesia": "FM",
    "palestine": "PS",
    "west bank": "PS",
    "gaza strip": "PS",
    "vatican city": "VA",
    "north korea": "KP",
    "south korea": "KR",
    "laos": "LA",
    "burma": "MM",
    "swaziland": "SZ",
    "macedonia": "MK",
    "the gambia": "GM",
    "the bahamas": "BS",
    "the netherlands": "NL",
    # Constituent countries of the United Kingdom (ISO 3166-2 subdivisions of GB).
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",  # pycountry's fuzzy search also offers Australia (New South Wales)
    "northern ireland": "GB",
    # Not in ISO 3166-1; XK is the user-assigned code the EU and Wikidata use.
    "kosovo": "XK",
    # Historical or misspelt names seen in the bundled lists.
    "moldavia": "MD",
    "bosnia and hercegovina": "BA",
    "madagaskar": "MG",
    "grece": "GR",
    "kazakhstah": "KZ",
    "surinam": "SR",
    "macau": "MO",
}
"""Lower-case name → alpha-2, only for names pycountry does not resolve (or resolves wrongly)."""

EXTRA_NAMES: dict[str, str] = {"XK": "Kosovo"}
"""Names of codes that pycountry does not have."""

NOT_COUNTRIES = frozenset({"northern cyprus", "somaliland", "transnistria", "abkhazia",
                           "south ossetia", "artsakh", "island"})
"""Names that are deliberately left unresolved: entities without an ISO 3166-1 code, and
words that are ambiguous in the lists ("Island" is German for Iceland but also a common noun)."""


@dataclass(frozen=True)
class Resolution:
    """A country name resolved: its code, pycountry's English name, and how it was found."""

    code: str
    name: str
    how: str
    """`override`, `exact`, `exact (de)`, `part`, `fuzzy`."""


def fold(text: str) -> str:
    """Casefolded, without diacritics, single-spaced."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def country_name(code: str) -> str:
    """A short English name for an alpha-2 code ("Taiwan", not "Taiwan, Province of China")."""
    if code in EXTRA_NAMES:
        return EXTRA_NAMES[code]
    found = pycountry.countries.get(alpha_2=code)
    if found is None:
        return code
    return getattr(found, "common_name", None) or found.name


@lru_cache(maxsize=1)
def _german_names() -> dict[str, str]:
    """Folded German country name → alpha-2, from pycountry's own translations."""
    try:
        german = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"])
    except OSError:
        return {}
    names = {}
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names[fold(german.gettext(value))] = country.alpha_2
    return names


def _exact(name: str) -> Resolution | None:
    for candidate in dict.fromkeys((name, fold(name))):
        try:
            found = pycountry.countries.lookup(candidate)
        except LookupError:
            continue
        return Resolution(found.alpha_2, country_name(found.alpha_2), "exact")
    code = _german_names().get(fold(name))
    if code:
        return Resolution(code, country_name(code), "exact (de)")
    return None


def _fuzzy(name: str) -> Resolution | None:
    if len(name) < 4:
        return None
    try:
        found = pycountry.countries.search_fuzzy(name)
    except LookupError:
        return None
    if len(found) != 1:
        return None
    country = found[0]
    own = [fold(getattr(country, a, None) or "") for a in ("name", "official_name", "common_name")]
    if not any(fold(name) in text for text in own):
        return None  # matched through a subdivision's name ("Illinois"), not the country's
    return Resolution(country.alpha_2, country_name(country.alpha_2), "fuzzy")


class CountryResolver:
    """Resolves country names, remembering every answer (the lists repeat names thousands of
    times) and every name it could not resolve."""

    def __init__(self, overrides: dict[str, str] | None = None) -> None:
        self.overrides = {fold(k): v for k, v in {**OVERRIDES, **(overrides or {})}.items()}
        self._seen: dict[str, Resolution | None] = {}

    def resolve(self, raw: str | None) -> Resolution | None:
        """The country a name stands for, or None when it cannot be resolved."""
        name = " ".join((raw or "").split())
        if name not in self._seen:
            self._seen[name] = self._resolve(name)
        return self._seen[name]

    def _resolve(self, name: str) -> Resolution | None:
        if not name:
            return None
        folded = fold(name)
        if folded in self.overrides:
            code = self.overrides[folded]
            return Resolution(code, country_name(code), "override")
        if folded in NOT_COUNTRIES:
            return None
        if re.fullmatch(r"[A-Za-z]{2}", name):  # already a code
            found: pycountry.db.Country | Resolution | None = pycountry.countries.get(
                alpha_2=name.upper())
            code = name.upper()
            if found is not None or code in EXTRA_NAMES:
                return Resolution(code, country_name(code), "exact")
        found = _exact(name)
        if found:
            return found
        stripped = re.sub(r"^(in|the)\s+", "", name, flags=re.IGNORECASE).strip()
        if stripped != name:
            return self._resolve(stripped)
        if "," in name:  # "Réunion, France": the most specific part that is a country
            for part in (p.strip() for p in name.split(",")):
                found = self._resolve_part(part)
                if found:
                    return Resolution(found.code, found.name, "part")
        return _fuzzy(name)

    def _resolve_part(self, part: str) -> Resolution | None:
        folded = fold(part)
        if folded in self.overrides:
            code = self.overrides[folded]
            return Resolution(code, country_name(code), "override")
        return _exact(part)

    def hint(self, qualifier: str) -> Resolution | None:
        """The country a label's qualifier points to: "Illinois" (a subdivision) is US,
        "Äthiopien" is ET. Used for disambiguators such as "Niles (Illinois)"."""
        found = self.resolve(qualifier)
        if found:
            return found
        try:
            sub = pycountry.subdivisions.lookup(qualifier)
        except LookupError:
            return None
        return Resolution(sub.country_code, country_name(sub.country_code), "subdivision")

    def unresolved(self) -> list[str]:
        return sorted(name for name, found in self._seen.items() if found is None)
