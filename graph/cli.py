"""The `citydip` command line: validate, query, stats, export, serve."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graph.load import build_store
from graph.queries import ParamError, QueryError, catalogue, get_query
from graph.results import as_table, serialize
from graph.settings import get_settings
from graph.store import RDF_FORMATS
from graph.validate import validate_files

app = typer.Typer(
    help="City-diplomacy knowledge graph: validate, query and export the data.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)


class ReportFormat(StrEnum):
    text = "text"
    json = "json"


class QueryFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    xml = "xml"
    ttl = "ttl"
    nt = "nt"
    jsonld = "jsonld"


class ExportFormat(StrEnum):
    ttl = "ttl"
    nt = "nt"
    nq = "nq"
    trig = "trig"
    jsonld = "jsonld"
    rdfxml = "rdfxml"


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def _store(paths: list[Path] | None = None):
    with err.status("Loading the graph…"):
        try:
            return build_store(get_settings(), paths)
        except (OSError, SyntaxError, ValueError) as exc:
            _fail(f"cannot load the data: {exc}")


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Data files or folders (default: graph/data).")
    ] = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
) -> None:
    """Validate data against the SHACL shapes; exit 1 when there is a violation."""
    settings = get_settings()
    try:
        with err.status("Validating against the shapes…"):
            report = validate_files(paths or [settings.data_dir], settings)
    except (OSError, SyntaxError, ValueError) as exc:
        _fail(f"cannot validate: {exc}")
    out.print(report.to_json() if format is ReportFormat.json else report.to_text(),
              highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(0 if report.conforms else 1)


@app.command("queries")
def list_queries(
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
) -> None:
    """List the named queries with their parameters."""
    queries = catalogue(get_settings().queries_dir)
    if format is ReportFormat.json:
        out.print_json(json.dumps([q.to_dict() for q in queries.values()], ensure_ascii=False))
        return
    for q in queries.values():
        params = ", ".join(f"{p.name}:{p.type}" + ("" if p.default is None else f"={p.default}")
                           for p in q.params)
        out.print(f"[bold]{q.name}[/]  {q.summary}" + (f"  [dim]({params})[/]" if params else ""),
                  highlight=False)


@app.command()
def query(
    name: Annotated[
        str, typer.Argument(help="Name of a query in queries/ (see `citydip queries`).")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="A parameter as name=value.")
    ] = None,
    format: Annotated[QueryFormat, typer.Option("--format", "-f")] = QueryFormat.table,
) -> None:
    """Run a named query with typed parameters."""
    settings = get_settings()
    try:
        named = get_query(settings.queries_dir, name)
        values = {}
        for item in param or []:
            key, sep, value = item.partition("=")
            if not sep:
                raise ParamError(key, "write parameters as name=value")
            values[key.strip()] = value
        bindings = named.bindings(values)
    except (QueryError, ParamError) as exc:
        _fail(str(exc))
    store = _store()
    result = store.query(named.text, bindings)
    if format is QueryFormat.table and named.form == "SELECT":
        out.print(as_table(result, title=named.summary))
    elif format is QueryFormat.table and named.form == "ASK":
        out.print("yes" if bool(result) else "no")
    else:
        fmt = "ttl" if format is QueryFormat.table else format.value
        try:
            sys.stdout.buffer.write(serialize(result, fmt))
        except ValueError as exc:
            _fail(str(exc))


@app.command()
def stats(
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
) -> None:
    """Counts per class and per relation over the whole graph."""
    settings = get_settings()
    store = _store()
    tables = {}
    for name in ("class-counts", "relation-counts"):
        named = get_query(settings.queries_dir, name)
        tables[name] = store.query(named.text)
    if format is ReportFormat.json:
        doc = {}
        for name, result in tables.items():
            doc[name] = json.loads(serialize(result, "json"))
        doc["triples"] = store.count()
        doc["graphs"] = {g: store.count(g) for g in store.graphs()}
        out.print_json(json.dumps(doc, ensure_ascii=False))
        return
    out.print(f"{store.count()} triples in {len(store.graphs())} named graphs", highlight=False)
    for g in store.graphs():
        out.print(f"  {g}  {store.count(g)}", highlight=False)
    for name, result in tables.items():
        out.print(as_table(result, title=name))


@app.command()
def export(
    format: Annotated[ExportFormat, typer.Option("--format", "-f")] = ExportFormat.ttl,
    graph: Annotated[
        str | None, typer.Option(help="Only this named graph (triple formats).")
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", "-o", help="File to write.")] = None,
) -> None:
    """Export the graph: ttl, nt, rdfxml (union or one graph); trig, nq, jsonld (with graphs)."""
    store = _store()
    if graph is not None and graph not in store.graphs():
        _fail(f"no named graph {graph}; known: {', '.join(store.graphs())}")
    if format is ExportFormat.jsonld:
        from graph.export import as_jsonld

        data = as_jsonld(store, get_settings(), graph)
    else:
        data = store.dump(RDF_FORMATS[format.value], graph)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        err.print(f"wrote {len(data)} bytes to {output}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Load the bundled data and report its summary and validation result."""
    settings = get_settings()
    store = _store()
    out.print(f"citydiplomacy: {store.count()} triples in {len(store.graphs())} graphs "
              f"(loaded in {store.load_seconds:.2f} s)", highlight=False)
    with err.status("Validating against the shapes…"):
        report = validate_files([settings.data_dir], settings)
    out.print(report.to_text().splitlines()[0], highlight=False, markup=False)
    err.print(f"(the HTTP server for {host}:{port} is not part of this version)")


if __name__ == "__main__":
    app()
