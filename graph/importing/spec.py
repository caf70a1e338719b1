"""What a pair-list import is about: the list (`SourceSpec`, read from `sources.yaml` or the
command line), the names of its graph and IRIs, and the vocabulary the import writes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import yaml

from graph.core.namespaces import GRAPH, ID
from graph.core.settings import ROOT
from graph.importing.reconcile import MAX_KM

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
OWL_SAME_AS = ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs")
PROV_DERIVED = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")
DCT = "http://purl.org/dc/terms/"
PAV = "http://purl.org/pav/"
XSD = "http://www.w3.org/2001/XMLSchema#"
WIKIDATA = "http://www.wikidata.org/entity/"
PARTNER_CITY = ox.NamedNode(f"{ID}relation-kind/partner-city")
WORLD_PREFIX = "world-"
"""World graphs and files are named `world-{source}`: no list takes the name of a report graph."""
MANIFEST = ROOT / "graph" / "data" / "sources" / "world" / "sources.yaml"
PROFILE_DIR = ROOT / "shapes" / "profiles" / "pair-list"
SAMPLE = 400
"""Relations validated with pyshacl at import time (with every relation of the report's areas)."""
CHUNK = 2_000
"""Relations per pyshacl run when the whole import is validated (`--full`)."""



class ImportError_(ValueError):
    """The list cannot be imported as asked (bad source name, missing metadata…)."""


def _nn(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _p(ns: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(f"{ns}{local}")


@dataclass
class SourceSpec:
    """One pair list and what the graph should say about it (see `sources.yaml`)."""

    source: str
    file: Path
    format: str | None = None
    columns: str | None = None
    names: Path | None = None
    language: str = ""
    """Language tag of the names ("en"); empty when the list does not say."""
    title: str = ""
    description: str = ""
    origin: str = ""
    license: str = ""
    license_name: str = ""
    creator: str = ""
    retrieved: str = ""
    max_km: float = MAX_KM
    header: bool | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", self.source):
            raise ImportError_(f"--source: {self.source!r} must be lower-case letters, digits "
                               "and hyphens (it names the graph world-{source})")
        if self.retrieved and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", self.retrieved):
            raise ImportError_(f"--retrieved: {self.retrieved!r} is not a date (YYYY-MM-DD)")

    @property
    def stem(self) -> str:
        return f"{WORLD_PREFIX}{self.source}"

    @property
    def graph(self) -> str:
        return str(GRAPH[self.stem])

    @property
    def node(self) -> str:
        return f"{ID}source/pair-list-{self.source}"


def manifest(path: Path = MANIFEST) -> list[SourceSpec]:
    """The bundled pair lists, in the order `citydip import world` imports them."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    specs = []
    for entry in entries:
        entry = dict(entry)
        entry["file"] = path.parent / entry["file"]
        if entry.get("names"):
            entry["names"] = path.parent / entry["names"]
        entry["retrieved"] = str(entry.get("retrieved") or "")
        specs.append(SourceSpec(**entry))
    return specs


# --- names and literals ---------------------------------------------------------------------------

def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60].strip("-")


def _decimal(value: float) -> ox.Literal:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return ox.Literal("0" if text in ("", "-0") else text, datatype=_p(XSD, "decimal"))


def _line(n: int) -> ox.Literal:
    return ox.Literal(str(n), datatype=_p(XSD, "positiveInteger"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _relpath(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
