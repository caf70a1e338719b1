"""The `citydip` command line: validate, query, stats, export, serve."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graph.cli.changes import app as change_commands
from graph.cli.importing import app as import_commands
from graph.cli.network import app as network_commands
from graph.core.settings import Settings, get_settings
from graph.sparql.catalogue import ParamError, QueryError, catalogue, get_query
from graph.sparql.formats import BY_NAME
from graph.sparql.results import as_table, serialize
from graph.store.embedded import Store
from graph.store.load import build_store
from graph.store.validate import validate_files

app = typer.Typer(
    help="City-diplomacy knowledge graph: validate, query and export the data.",
    no_args_is_help=True,
    add_completion=False,
)
out = Console()
err = Console(stderr=True)
app.add_typer(network_commands)  # `citydip network …` and `citydip viz …`
app.add_typer(change_commands)  # `citydip apply FILE`
app.add_typer(import_commands, name="import")  # `citydip import pairs|world|status|figures`


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
    """The CLI reads the files into an in-memory store: fast, and never locks a server's store."""
    with err.status("Loading the graph…"):
        try:
            return build_store(get_settings(), paths, Store(None))
        except (OSError, SyntaxError, ValueError) as exc:
            _fail(f"cannot load the data: {exc}")


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Data files or folders (default: graph/data).")
    ] = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f")] = ReportFormat.text,
    changes: Annotated[
        Path | None, typer.Option("--changes", help="Check this changeset (.json, or a data file "
                                  "to sync its graph) against the data, as a write would.")
    ] = None,
) -> None:
    """Validate data against the SHACL shapes; exit 1 when there is a violation."""
    settings = get_settings()
    if changes is not None:
        from graph.cli.changes import validate_changes

        validate_changes(changes, paths, format.value)
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
    as_of: Annotated[
        int | None, typer.Option("--as-of", help="The data as it was after this change "
                                 "(the history log replayed on the data files).")
    ] = None,
) -> None:
    """Export the graph: ttl, nt, rdfxml (union or one graph); trig, nq, jsonld (with graphs)."""
    if as_of is not None:
        from graph.cli.changes import store_as_of

        store = store_as_of(as_of)
    else:
        store = _store()
    if graph is not None and graph not in store.graphs():
        _fail(f"no named graph {graph}; known: {', '.join(store.graphs())}")
    if format is ExportFormat.jsonld:
        from graph.store.export import as_jsonld

        data = as_jsonld(store, get_settings(), graph)
    else:
        rdf = BY_NAME[format.value].rdf
        assert rdf is not None  # every ExportFormat is an RDF format
        data = store.dump(rdf, graph)
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        err.print(f"wrote {len(data)} bytes to {output}")


def _load_progress():
    """A rich progress bar on stderr for loading the data files (by bytes read)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(TextColumn("loading {task.description}"), BarColumn(), DownloadColumn(),
                   TimeRemainingColumn(), console=err, transient=True)
    task = bar.add_task("data", total=None)

    def report(path: Path, done: int, total: int) -> None:
        if not bar.live.is_started:
            bar.start()
        bar.update(task, description=path.name, completed=done, total=total)

    return bar, report


@app.command()
def load(
    force: Annotated[bool, typer.Option(help="Empty the store first and load everything anew.")]
    = False,
) -> None:
    """Fill the configured store from ontology/, graph/data/ and the derived shortcuts.

    An empty on-disk store (and --force, which empties the folder) is filled with the bulk
    loader and optimized; an interrupted fill is started again.
    """
    from graph.store.load import open_store, prepare_store_folder

    settings = get_settings()
    if prepare_store_folder(settings, force=force):
        err.print(f"emptied {settings.store_path}", highlight=False)
    store = open_store(settings)
    if store.count() and not force:
        out.print(f"the store already holds {store.count()} triples; use --force to reload")
        return
    bar, report = _load_progress()
    try:
        build_store(settings, store=store, progress=report)
    except (OSError, ValueError) as exc:
        _fail(f"cannot load the data: {exc}")
    finally:
        bar.stop()
    store.flush()
    triples = store.load_triples  # counted as it went by a bulk fill, else None
    out.print(f"loaded {store.count() if triples is None else triples} triples in "
              f"{store.load_seconds:.2f} s", highlight=False)


def tune_process(settings: Settings) -> None:
    """What the serving process sets for itself before it serves: how long one of its threads
    may hold the interpreter while another waits for it (the event loop, the query lanes and a
    write's thread take turns)."""
    sys.setswitchinterval(settings.switch_interval)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Start the SPARQL endpoint and web pages over the configured store."""
    import uvicorn

    from graph.backend import open_backend
    from server.app import create_app

    settings = get_settings()
    bar, report = _load_progress()
    try:
        backend = open_backend(settings, progress=report)
    except (OSError, ValueError, RuntimeError) as exc:
        _fail(f"cannot open the store: {exc}")
    finally:
        bar.stop()
    err.print(f"citydiplomacy: {backend.store.count()} triples "
              f"({settings.store_backend} store"
              + ("" if settings.store_backend == "remote" else f" at {settings.store_path}")
              + f"); serving on http://{host}:{port}/", highlight=False)
    tune_process(settings)
    uvicorn.run(create_app(settings, backend), host=host, port=port, log_level="info",
                access_log=settings.access_log)


if __name__ == "__main__":
    app()
