"""Reading a pair list: any CSV or TSV file of "A is twinned with B" rows.

Column names differ from list to list (`city1,country1,lat1,lng1,…`, `source,target`, two
columns of Wikidata IDs with a separate names file…), so the columns are mapped onto logical
fields, either from the header (`guess_columns`) or as the user says (`--columns`):

| field | meaning |
|---|---|
| `name1`, `name2` | the names of the two areas (required unless the ids are given) |
| `country1`, `country2` | their countries, as written (resolved to ISO codes later) |
| `lat1`, `lon1`, `lat2`, `lon2` | WGS 84 coordinates in decimal degrees |
| `id1`, `id2` | identifiers (QIDs become owl:sameAs Wikidata); names from the row or a names file |

Cleaning, every step counted and listed by line (nothing is dropped silently):

- a row without a name (or id) on either side is a **bad row** and is skipped;
- coordinates that are not numbers or out of range are **ignored** (the pair is kept);
- a pair of an area with itself is a **self-loop** and is skipped;
- the same pair again, in either order, is a **duplicate** (or **reversed**) and merged: the
  relation gets every line that states it.

An area is identified within a list by its id, or else by its name and country exactly as
written (trimmed): the list's own notion of a node.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

FIELDS = ("name1", "country1", "lat1", "lon1", "id1", "name2", "country2", "lat2", "lon2", "id2")
_BASES = {
    "name": ("city", "name", "town", "place", "municipality", "label", "area", "cityname"),
    "country": ("country", "nation", "countryname", "state"),
    "lat": ("lat", "latitude"),
    "lon": ("lon", "lng", "long", "longitude"),
    "id": ("id", "qid", "wikidata", "wikidataid", "item", "wd"),
}
_SIDE_WORDS = {"1": ("source", "from", "origin", "a"), "2": ("target", "to", "partner", "twin",
                                                             "b")}
QID = re.compile(r"Q[1-9][0-9]*")


class PairListError(ValueError):
    """The file cannot be read as a pair list; the message names the file and line."""


@dataclass(frozen=True)
class Problem:
    """One thing the cleaning did to a row, for the import report."""

    line: int
    kind: str
    """`bad-row`, `bad-coordinates`, `self-loop`, `duplicate`, `reversed`,
    `coordinate-conflict`, `no-name`."""
    message: str

    def to_dict(self) -> dict:
        return {"line": self.line, "kind": self.kind, "message": self.message}


@dataclass
class ListNode:
    """An area as the list has it."""

    key: str
    name: str
    country: str = ""
    lat: float | None = None
    lon: float | None = None
    ident: str = ""
    line: int = 0
    """The first line that names it."""


@dataclass
class ListPair:
    a: str
    b: str
    lines: list[int] = field(default_factory=list)


@dataclass
class PairList:
    """The cleaned content of a pair list."""

    path: Path
    columns: dict[str, str]
    nodes: dict[str, ListNode] = field(default_factory=dict)
    pairs: dict[tuple[str, str], ListPair] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0

    def count(self, kind: str) -> int:
        return sum(1 for p in self.problems if p.kind == kind)

    def neighbours(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {k: set() for k in self.nodes}
        for a, b in self.pairs:
            found[a].add(b)
            found[b].add(a)
        return found


# --- columns -----------------------------------------------------------------------------------

def _header_field(header: str) -> str | None:
    """The logical field a header names: `city1` → name1, `Target country` → country2."""
    text = re.sub(r"[^a-z0-9]", "", header.casefold())
    for side, words in _SIDE_WORDS.items():
        for word in words:
            for rest in (text.removeprefix(word) if text.startswith(word) else None,
                         text.removesuffix(word) if text.endswith(word) and len(word) > 1
                         else None):
                if rest is None:
                    continue
                base = _base(rest)
                if base:
                    return f"{base}{side}"
        if text.endswith(side) and len(text) > 1:
            base = _base(text[:-1].rstrip("_"))
            if base:
                return f"{base}{side}"
    for side, letter in (("1", "a"), ("2", "b")):
        if text.endswith(letter) and len(text) > 1 and _base(text[:-1]):
            return f"{_base(text[:-1])}{side}"
    return None


def _base(text: str) -> str | None:
    if text == "":
        return "name"
    for base, names in _BASES.items():
        if text in names:
            return base
    return None


def guess_columns(header: list[str]) -> dict[str, str]:
    """Fields found in a header row (field → header name); fields seen twice are refused."""
    found: dict[str, str] = {}
    for name in header:
        fld = _header_field(name)
        if fld is None:
            continue
        if fld in found:
            raise PairListError(f"columns {found[fld]!r} and {name!r} both look like {fld}; "
                                "say which with --columns")
        found[fld] = name
    return found


def parse_columns(spec: str | None) -> tuple[dict[str, str], list[str]]:
    """`--columns`: `name1=city_a,country1=3` (field = header name or 1-based column number)
    and/or positional fields for a file without header: `id1,id2` or `name1,-,name2` (`-`
    skips a column). Returns (explicit mapping, positional fields)."""
    explicit: dict[str, str] = {}
    positional: list[str] = []
    for item in (part.strip() for part in (spec or "").split(",")):
        if not item:
            continue
        fld, sep, column = item.partition("=")
        fld = fld.strip()
        if fld != "-" and fld not in FIELDS:
            raise PairListError(f"--columns: unknown field {fld!r}; fields are "
                                f"{', '.join(FIELDS)} (and - to skip a column)")
        if sep:
            explicit[fld] = column.strip()
        else:
            positional.append(fld)
    if explicit and positional:
        raise PairListError("--columns: give either field=column pairs or a list of fields, "
                            "not both")
    return explicit, positional


def _check_fields(columns: dict[str, int], path: Path) -> None:
    for side in "12":
        if f"name{side}" not in columns and f"id{side}" not in columns:
            raise PairListError(f"{path}: no column for the name (or id) of area {side}; map "
                                f"one with --columns name{side}=COLUMN")


# --- reading -----------------------------------------------------------------------------------

def read_text(path: Path) -> str:
    """The file as text: UTF-8 (a BOM is allowed); anything else is an error naming the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise PairListError(
            f"{path}, line {line}, column {column}: not UTF-8 (byte 0x{data[exc.start]:02x}); "
            "convert the file to UTF-8 first, e.g. `iconv -f latin1 -t utf-8`") from None


def _rows(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    quoting: Literal[0, 3] = csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as exc:
        raise PairListError(f"line {reader.line_num}: {exc}") from None


def delimiter_for(path: Path, fmt: str | None) -> str:
    fmt = (fmt or ("tsv" if path.suffix.lower() in (".tsv", ".tab") else "csv")).lower()
    if fmt not in ("csv", "tsv"):
        raise PairListError(f"--format: {fmt!r} is not csv or tsv")
    return "\t" if fmt == "tsv" else ","


def read_names(path: Path, fmt: str | None = None) -> dict[str, tuple[str, int]]:
    """A names file: `id<sep>label` per line (a header line `id,label` is skipped).
    Returns id → (label, line)."""
    names: dict[str, tuple[str, int]] = {}
    for line, row in _rows(read_text(path), delimiter_for(path, fmt)):
        if not row or not row[0].strip():
            continue
        ident = row[0].strip()
        if line == 1 and ident.casefold() in ("id", "qid", "item", "wikidata"):
            continue
        label = row[1].strip() if len(row) > 1 else ""
        if ident not in names:
            names[ident] = (label, line)
    return names


def _coordinate(text: str, low: float, high: float) -> float | None:
    value = float(text)
    if not (low <= value <= high) or value != value:
        raise ValueError(text)
    return value


def read_pairs(path: Path, fmt: str | None = None, columns: str | None = None,
               names_path: Path | None = None, header: bool | None = None) -> PairList:
    """Read and clean a pair list (see the module's docstring for the fields and the cleaning)."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise PairListError(f"{path}: {exc.strerror or exc}") from None
    delimiter = delimiter_for(path, fmt)
    explicit, positional = parse_columns(columns)
    try:
        rows = list(_rows(text, delimiter))
    except PairListError as exc:
        raise PairListError(f"{path}, {exc}") from None
    rows = [(n, r) for n, r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise PairListError(f"{path}: the file holds no rows")

    first = rows[0][1]
    guessed = guess_columns(first) if header is not False else {}
    has_header = header if header is not None else (len(guessed) >= 2 or bool(
        explicit and any(not c.isdigit() for c in explicit.values())))
    if has_header:
        head, rows = first, rows[1:]
        mapping = explicit or guessed
        index: dict[str, int] = {}
        for fld, column in mapping.items():
            if column.isdigit():
                index[fld] = int(column) - 1
            elif column in head:
                index[fld] = head.index(column)
            else:
                raise PairListError(f"{path}: no column {column!r} for {fld}; the header has "
                                    f"{', '.join(head)}")
    else:
        if positional:
            index = {fld: i for i, fld in enumerate(positional) if fld != "-"}
        elif explicit:
            if not all(c.isdigit() for c in explicit.values()):
                raise PairListError(f"{path}: the file has no header, so --columns must give "
                                    "column numbers (name1=1) or a list of fields")
            index = {fld: int(c) - 1 for fld, c in explicit.items()}
        elif len(first) == 2:
            both_ids = all(QID.fullmatch(cell.strip()) for cell in first)
            index = {"id1": 0, "id2": 1} if both_ids or names_path else {"name1": 0, "name2": 1}
        else:
            raise PairListError(f"{path}: no header row names the columns; say which column "
                                "holds what with --columns (e.g. name1,country1,name2,country2)")
    _check_fields(index, path)

    names = read_names(names_path) if names_path else {}
    result = PairList(path=path, columns={fld: (head[i] if has_header and i < len(head)
                                                else f"column {i + 1}")
                                          for fld, i in index.items()})
    width = max(index.values()) + 1
    reported_nameless: set[str] = set()
    for line, row in rows:
        result.rows += 1
        if len(row) < width:
            result.problems.append(Problem(line, "bad-row", f"{len(row)} columns, expected at "
                                                            f"least {width}"))
            continue
        cell = {fld: row[i].strip() for fld, i in index.items()}
        ends = []
        for side in "12":
            node = _node(cell, side, names, line, result, reported_nameless)
            if node is None:
                break
            ends.append(node)
        if len(ends) < 2:
            continue
        a, b = ends
        if a.key == b.key:
            result.problems.append(Problem(line, "self-loop", f"{a.name!r} is paired with "
                                                              "itself; skipped"))
            continue
        pair_key = (a.key, b.key) if a.key < b.key else (b.key, a.key)
        existing = result.pairs.get(pair_key)
        if existing is None:
            result.pairs[pair_key] = ListPair(a.key, b.key, [line])
        else:
            same_way = (existing.a, existing.b) == (a.key, b.key)
            result.problems.append(Problem(
                line, "duplicate" if same_way else "reversed",
                f"{a.name!r} – {b.name!r} again (first on line {existing.lines[0]}); merged"))
            existing.lines.append(line)
    return result


def _node(cell: dict[str, str], side: str, names: dict[str, tuple[str, int]], line: int,
          result: PairList, reported_nameless: set[str]) -> ListNode | None:
    """The area on one side of a row (registered in `result.nodes`), or None for a bad row."""
    ident = cell.get(f"id{side}", "")
    name = cell.get(f"name{side}", "")
    country = cell.get(f"country{side}", "")
    if ident and not name:
        name = names.get(ident, ("", 0))[0]
        if not name and ident not in reported_nameless:
            reported_nameless.add(ident)
            result.problems.append(Problem(line, "no-name", f"{ident} has no name in the names "
                                                            "file; its id is used as its name"))
        name = name or ident
    if not name:
        result.problems.append(Problem(line, "bad-row", f"area {side} has no name"
                                       + (" or id" if f"id{side}" in cell else "")))
        return None
    key = ident or f"{name}\x1f{country}"
    lat = lon = None
    raw_lat, raw_lon = cell.get(f"lat{side}", ""), cell.get(f"lon{side}", "")
    if raw_lat or raw_lon:
        try:
            lat = _coordinate(raw_lat, -90, 90)
            lon = _coordinate(raw_lon, -180, 180)
        except ValueError:
            lat = lon = None
            result.problems.append(Problem(line, "bad-coordinates",
                                           f"{name!r}: coordinates {raw_lat!r}, {raw_lon!r} are "
                                           "not a latitude and longitude; ignored"))
    node = result.nodes.get(key)
    if node is None:
        node = result.nodes[key] = ListNode(key, name, country, lat, lon, ident, line)
    elif lat is not None:
        if node.lat is None:
            node.lat, node.lon = lat, lon
        elif abs(node.lat - lat) > 1e-6 or abs((node.lon or 0) - (lon or 0)) > 1e-6:
            result.problems.append(Problem(
                line, "coordinate-conflict", f"{name!r}: {lat}, {lon} differs from {node.lat}, "
                f"{node.lon} (line {node.line}); the first is kept"))
    return node
