"""The catalogue of queries: `queries/<name>.rq` (the named queries researchers run) and
`queries/<folder>/<name>.rq` (the server's own: pages, network, world, meta, rules), each with a
`#+` YAML header.

Every file is parsed once and kept, keyed by its path and modification time, so a page request
never parses a header again, and a query file edited while the server runs is read anew.
Internal queries are named `folder/name` (`pages/browse`); only top-level files are in the
public catalogue (`catalogue`), which is what `/queries` and `citydip queries` list.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
import yaml

from graph.core.namespaces import ID

XSD = "http://www.w3.org/2001/XMLSchema#"
PARAM_TYPES = ("iri", "string", "date", "integer", "language")
HEADER = re.compile(r"^#\+ ?(.*)$")


class QueryError(ValueError):
    """A named query is missing or malformed."""


class ParamError(ValueError):
    """A parameter value is missing or does not fit its type; names the parameter."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"parameter {name!r}: {message}")
        self.name = name


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "iri"
    description: str = ""
    default: str | None = None
    required: bool = False
    example: str | None = None
    """A value that shows how the parameter is used (docs, tests, the web form)."""

    def term(self, raw: str) -> ox.NamedNode | ox.Literal:
        """The RDF term for a raw text value, checked against the parameter's type."""
        raw = raw.strip()
        if not raw:
            raise ParamError(self.name, "empty value")
        if self.type == "iri":
            return ox.NamedNode(_expand_iri(self.name, raw))
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d+", raw):
                raise ParamError(self.name, f"{raw!r} is not an integer")
            return ox.Literal(raw, datatype=ox.NamedNode(XSD + "integer"))
        if self.type == "date":
            return _date_literal(self.name, raw)
        if self.type == "language":
            if not re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", raw):
                raise ParamError(self.name, f"{raw!r} is not a language tag such as en or zh-Hant")
            return ox.Literal(raw)
        return ox.Literal(raw)


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = field(default_factory=tuple)
    paging: dict | None = None
    """`paging: {limit: N}` in the header: the query takes `limit` and `offset` (rows per page
    and rows skipped), and its HTML form shows N rows a page; other forms stay whole unless
    asked for a page. `kept: true` as well: a query over the whole graph whose pages are cut
    from one ordered answer kept per data version (server/kept_answers.py)."""
    about: str | None = None
    """`about: <parameter>` in the header (an IRI parameter, required or with a default): the
    answer reads only what that resource's entity page reads (its statements, partnerships,
    their parties, kinds, dates and names), so it is kept across writes that do not change
    that page, as the page is (server/page_cache.py, server/page_reach.py)."""

    def page_text(self, limit: int, offset: int) -> str:
        """The query text for one page of rows (it must end with its ORDER BY for a stable one)."""
        return f"{self.text.rstrip()}\nLIMIT {int(limit)} OFFSET {int(offset)}\n"

    @property
    def form(self) -> str:
        """SELECT, ASK, CONSTRUCT or DESCRIBE: the first keyword after the prologue."""
        body = re.sub(r"#[^\n]*", "", self.text)
        body = re.sub(r"(?is)\b(PREFIX\s+\S*\s*<[^>]*>|BASE\s*<[^>]*>)", "", body)
        match = re.search(r"(?i)\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", body)
        return match.group(1).upper() if match else "SELECT"

    def bindings(self, values: dict[str, str]) -> dict[str, ox.NamedNode | ox.Literal]:
        """Typed bindings for the given raw values and the defaults; unknown names are errors."""
        known = {p.name: p for p in self.params}
        for name in values:
            if name not in known:
                raise ParamError(name, f"unknown parameter of query {self.name!r}; "
                                 f"it takes {', '.join(known) or 'none'}")
        bound = {}
        for param in self.params:
            raw = values.get(param.name, param.default)
            if raw is None:
                if param.required:
                    raise ParamError(param.name, "is required")
                continue
            bound[param.name] = param.term(str(raw))
        return bound

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "description": self.description,
            "tags": list(self.tags),
            "form": self.form,
            "params": [p.__dict__ for p in self.params],
            **({"paging": self.paging} if self.paging else {}),
            **({"about": self.about} if self.about else {}),
        }


def parse_query_file(path: Path) -> NamedQuery:
    """Read one `.rq` file: the `#+` lines at its top are a YAML mapping."""
    text = path.read_text(encoding="utf-8")
    header_lines = []
    for line in text.splitlines():
        match = HEADER.match(line)
        if match:
            header_lines.append(match.group(1))
        elif line.strip() and not line.startswith("#"):
            break
    try:
        meta = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as exc:
        raise QueryError(f"{path}: the #+ header is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict) or "summary" not in meta:
        raise QueryError(f"{path}: the #+ header needs at least 'summary:'")
    params = []
    for name, spec in (meta.get("params") or {}).items():
        spec = spec or {}
        ptype = spec.get("type", "iri")
        if ptype not in PARAM_TYPES:
            raise QueryError(f"{path}: parameter {name!r} has unknown type {ptype!r}")
        default = spec.get("default")
        example = spec.get("example", default)
        params.append(
            Param(
                name=name,
                type=ptype,
                description=str(spec.get("description", "")).strip(),
                default=None if default is None else str(default),
                required=bool(spec.get("required", False)),
                example=None if example is None else str(example),
            )
        )
    paging = meta.get("paging")
    if paging is not None:
        if not isinstance(paging, dict) or not isinstance(paging.get("limit"), int) \
                or paging["limit"] < 1:
            raise QueryError(f"{path}: 'paging' needs a whole number 'limit' of rows per page")
        if not isinstance(paging.get("kept", False), bool):
            raise QueryError(f"{path}: 'paging: kept' is true or false")
        if any(p.name in ("limit", "offset") for p in params):
            raise QueryError(f"{path}: a paged query cannot have parameters limit or offset")
    about = meta.get("about")
    if about is not None:
        param = next((p for p in params if p.name == about), None)
        if param is None or param.type != "iri" or (param.default is None and not param.required):
            raise QueryError(f"{path}: 'about' names an IRI parameter that is always bound")
    return NamedQuery(
        about=about,
        paging=paging,
        name=path.stem,
        path=path,
        text=text,
        summary=str(meta["summary"]).strip(),
        description=str(meta.get("description", "")).strip(),
        tags=tuple(meta.get("tags") or ()),
        params=tuple(params),
    )


@lru_cache(maxsize=512)
def _parsed(path: Path, mtime_ns: int) -> NamedQuery:
    return parse_query_file(path)


def load_query(path: Path) -> NamedQuery:
    """One query file, parsed once per version of the file."""
    return _parsed(path, path.stat().st_mtime_ns)


def catalogue(queries_dir: Path) -> dict[str, NamedQuery]:
    """The named queries of a folder by name (the sub-folders' internal queries are not part)."""
    return {q.name: q for q in map(load_query, sorted(Path(queries_dir).glob("*.rq")))}


def every_query(queries_dir: Path) -> dict[str, NamedQuery]:
    """Every query file: named queries by name, internal ones as `folder/name`."""
    root = Path(queries_dir)
    return {path.relative_to(root).with_suffix("").as_posix(): load_query(path)
            for path in sorted(root.rglob("*.rq"))}


MAX_NAME = 100
"""The longest query name looked up (file systems refuse names past 255 bytes)."""


def get_query(queries_dir: Path, name: str) -> NamedQuery:
    # A name longer than any file system allows would make is_file() raise (ENAMETOOLONG).
    found = (None if len(name) > MAX_NAME or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name)
             else _find(queries_dir, name))
    if found is None:
        known = ", ".join(catalogue(queries_dir))
        raise QueryError(f"no named query {name[:MAX_NAME]!r}; known: {known}")
    return found


def internal_query(queries_dir: Path, name: str) -> NamedQuery:
    """A query of the server's own, `folder/name` (e.g. `pages/browse`, `world/areas`)."""
    if len(name) > MAX_NAME or not re.fullmatch(r"[a-z]+/[a-z0-9][a-z0-9-]*", name):
        raise QueryError(f"{name[:MAX_NAME]!r} is not an internal query name (folder/name)")
    found = _find(queries_dir, name)
    if found is None:
        raise QueryError(f"no internal query {name!r} in {queries_dir}")
    return found


RECHECK_SECONDS = 1.0
"""A query found on disk less than this long ago is not looked at on disk again: an entity page
reads ten of them per request, and each of their two file checks lets go of the GIL, which the
busy event loop then waits to take back (7 % of its samples while editors wrote, at world
scale). A changed file is still read within this long."""
_FOUND: dict[tuple[str, str], tuple[NamedQuery, float]] = {}


def _find(queries_dir: Path, name: str) -> NamedQuery | None:
    """The query file `name` (a checked name) of the folder, parsed; None if there is none."""
    key = (str(queries_dir), name)
    found = _FOUND.get(key)
    if found is not None and time.monotonic() - found[1] < RECHECK_SECONDS:
        return found[0]
    path = Path(queries_dir) / f"{name}.rq"
    if not path.is_file():
        return None
    if len(_FOUND) >= 1024:  # only checked names of existing files come here: a few dozen
        _FOUND.clear()
    query = load_query(path)
    _FOUND[key] = (query, time.monotonic())
    return query


def _expand_iri(name: str, raw: str) -> str:
    """Accept a full IRI, `<IRI>`, or a resource path such as `city/gdynia`."""
    raw = raw.removeprefix("<").removesuffix(">")
    if re.match(r"^[a-z][a-z0-9+.-]*:", raw, re.I):
        iri = raw
    elif re.fullmatch(r"[a-z0-9-]+/[A-Za-z0-9._~-]+", raw):
        iri = str(ID) + raw
    else:
        raise ParamError(name, f"{raw!r} is neither an IRI nor a resource path like city/gdynia")
    if re.search(r"[\s<>\"{}|\\^`]", iri):
        raise ParamError(name, f"{raw!r} contains characters not allowed in an IRI")
    return iri


def _date_literal(name: str, raw: str) -> ox.Literal:
    """A date as precise as given: YYYY (gYear), YYYY-MM (gYearMonth) or YYYY-MM-DD (date)."""
    if re.fullmatch(r"\d{4}", raw):
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + "gYear"))
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", raw):
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + "gYearMonth"))
    try:
        date.fromisoformat(raw)
    except ValueError:
        raise ParamError(name, f"{raw!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        raise ParamError(name, f"{raw!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return ox.Literal(raw, datatype=ox.NamedNode(XSD + "date"))
