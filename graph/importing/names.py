"""How names and places compare: folding names to one form, qualifiers, distances.

Why a module of its own: reconciliation (graph/importing/reconcile.py), the gazetteer
(graph/importing/gazetteer.py) and the import's own steps all compare names in the same folded
form and places by the same distance; kept here, the gazetteer's index and the reconciler cannot
drift apart, and neither has to import the other for it.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata

_ADMIN_WORDS = r"(prefecture|state|county|province|region|district|municipality|city|" \
               r"metropolitan city|special municipality|shi|ken|gun)"
_STRIP = {cp: None for cp in range(sys.maxunicode + 1) if unicodedata.combining(chr(cp))}
_STRIP.update({ord(c): None for c in "’'`ʻʼ‘"})
_PUNCT = re.compile(r"[\s.\-_/,;:()\[\]\"]+")
_SAINT = re.compile(r"\b(saint|sankt|st|ste|sainte)\b")


def fold(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single-spaced: the form names compare in.
    Written for speed: the gazetteer folds about a million names per import."""
    if text.isascii():
        text = text.casefold().translate(_STRIP)
    else:
        text = unicodedata.normalize("NFKD", text).translate(_STRIP)
        text = text.casefold().replace("ß", "ss").replace("ł", "l").replace("ø", "o")
    text = _PUNCT.sub(" ", text)
    if "s" in text:
        text = _SAINT.sub("st", text)
    return " ".join(text.split())


def name_keys(name: str) -> set[str]:
    """The keys a name matches by: its folded form, and without a City/市 suffix."""
    name = name.strip()
    keys = {fold(name)}
    for pattern in (r"\s+city$", r"^city of\s+", r"市$"):
        stripped = re.sub(pattern, "", name, flags=re.IGNORECASE).strip()
        if stripped and stripped != name:
            keys.add(fold(stripped))
    keys.discard("")
    return keys


def qualifier(name: str) -> tuple[str, str]:
    """A name without its qualifier, and the qualifier: "Niles (Illinois)" → ("Niles",
    "Illinois"), "Córdoba, Bolívar" → ("Córdoba", "Bolívar"); ("", "") when there is none."""
    found = re.fullmatch(r"\s*(.+?)\s*\((.+)\)\s*", name)
    if found:
        return found.group(1), found.group(2)
    if "," in name:
        base, _, rest = name.partition(",")
        return base.strip(), rest.strip()
    return "", ""


def base_keys(name: str) -> set[str]:
    base, _ = qualifier(name)
    return name_keys(base) if base else set()


def admin_key(name: str) -> str:
    """The folded name without words like Prefecture, State, County (for suggestions only)."""
    text = fold(name)
    text = re.sub(rf"\b{_ADMIN_WORDS}\b", " ", text)
    text = re.sub(r"\bof\b", " ", text)
    return " ".join(text.split())


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
