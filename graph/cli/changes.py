"""The command line of the write path: `citydip apply`, `validate --changes`, `export --as-of`.

A changeset file is either a JSON changeset document (as POSTed to /changes) or an RDF data file
named like a graph (`graph/data/reference.ttl` → graph `…/graph/reference`): then the change is
what makes that graph hold exactly the file's triples. That is how an edit of `graph/data/`
reviewed in git reaches a running store: `citydip validate --changes FILE` checks it against the
data, `citydip apply FILE` commits it to the configured store through the same path as the server.
"""

from __future__ import annotations

import gc
import getpass
import json
from pathlib import Path
from typing import Annotated

import pyoxigraph as ox
import typer
from rich.console import Console

from graph.core.namespaces import graph_for
from graph.core.settings import Settings, get_settings
from graph.sparql.formats import DATA_SUFFIXES, rdf_format_of_path
from graph.sparql.limits import Bounds
from graph.store.embedded import Store
from graph.store.load import build_store, materialise_shortcuts, open_store
from graph.write.changes import ChangeError, replace_graph
from graph.write.document import Document, read_document_file
from graph.write.payload import parse_rdf

app = typer.Typer()
out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def changeset_source(path: Path, settings: Settings):
    """What the file asks for: a Document, or (graph, quads) to make a graph hold exactly."""
    if not path.exists():
        fail(f"{path}: no such file")
    if path.suffix == ".json":
        return read_document_file(path, settings.write_graph, Bounds.of(settings))
    if path.suffix in DATA_SUFFIXES:
        graph = ox.NamedNode(str(graph_for(path.stem)))
        fmt = rdf_format_of_path(path)
        assert fmt is not None  # every DATA_SUFFIXES extension names a format
        return graph, parse_rdf(path.read_bytes(), fmt, graph,  # as `citydip load` reads it
                                bounds=Bounds.of(settings))
    fail(f"{path}: a changeset file is .json (a changeset document) or an RDF data file")


def _build(writer, source):
    if isinstance(source, Document):
        from graph.write.changes import effective

        writer.policy.refuse_request(source.add, source.remove)
        return lambda: effective(writer.store, source.add, source.remove)
    graph, quads = source
    return lambda: replace_graph(writer.store, graph, quads)


def _print(result, format: str) -> None:
    report = result.verdict.report
    if format == "json":
        doc = json.loads(report.to_json())
        doc.update(result.change.counts())
        doc["change"] = result.entry.id if result.entry else None
        out.print_json(json.dumps(doc, ensure_ascii=False))
        return
    counts = result.change.counts()
    out.print(f"change: +{counts['added']} −{counts['removed']} triples, "
              f"{len(result.verdict.focus)} focus nodes checked "
              f"({result.verdict.checked_triples} triples, {result.verdict.mode})",
              highlight=False)
    out.print(report.to_text(), highlight=False, markup=False, soft_wrap=True)


def validate_changes(file: Path, paths: list[Path] | None, format: str) -> None:
    """`citydip validate --changes FILE`: the write path's check, against the data files."""
    from graph.write.history import History
    from graph.write.writer import Writer

    settings = get_settings()
    try:
        with err.status("Loading the graph…"):
            store = build_store(settings, paths, Store(None))
        writer = Writer(store, settings.model_copy(update={"validation_process": False}),
                        History(None))
        source = changeset_source(file, settings)
        with err.status("Validating the change…"):
            with writer.lock:
                result = writer.stage(_build(writer, source)())
    except ChangeError as exc:
        fail(str(exc), 1)
    except (OSError, SyntaxError, ValueError) as exc:
        fail(f"cannot validate: {exc}")
    _print(result, format)
    raise typer.Exit(0 if result.verdict.conforms else 1)


@app.command("apply")
def apply(
    file: Annotated[Path, typer.Argument(help="A changeset (.json) or a data file to sync.")],
    message: Annotated[str | None, typer.Option("--message", "-m",
                                                help="Why (default: the document's).")] = None,
    author: Annotated[str | None, typer.Option(help="Recorded author (default: $USER).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="text or json")] = "text",
) -> None:
    """Apply a changeset to the configured store: validated, logged, atomic (as POST /changes)."""
    settings = get_settings()
    if settings.store_backend == "embedded" and settings.in_memory and (
            settings.history_file is None):
        fail("the configured store is in memory: nothing would be kept. Set CITYDIP_STORE_PATH "
             "to the server's store (or CITYDIP_HISTORY_PATH to its log), or POST the change to "
             "the running server's /changes")
    try:
        try:
            result = _apply_file(file, settings, message, author or _user())
        finally:
            # An on-disk store is closed (and unlocked) when its object is freed; reference
            # cycles among the validation's rdflib objects can keep it until a collection.
            gc.collect()
    except ChangeError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"cannot open the store ({exc}); if a server is running on it, POST the change to "
             "its /changes instead")
    except (SyntaxError, ValueError) as exc:
        fail(f"cannot apply: {exc}")
    _print(result, format)
    if result.entry is not None:
        err.print(f"committed as change {result.entry.id}", highlight=False)
    elif result.verdict.conforms:
        err.print("nothing to change: the store already holds exactly this", highlight=False)
    raise typer.Exit(0 if result.verdict.conforms else 1)


def _apply_file(file: Path, settings: Settings, message: str | None, author: str):
    """Open the configured store, bring it up to its history, apply the file; close the store
    on return (an on-disk store is locked while it is open)."""
    from graph.write.writer import Writer

    source = changeset_source(file, settings)
    store = open_store(settings)
    if store.count() == 0:
        with err.status("Loading the graph…"):
            build_store(settings, store=store)
    # one write: validating it here costs less than starting a validation process
    writer = Writer(store, settings.model_copy(update={"validation_process": False}))
    writer.recover()
    note = message or (source.message if isinstance(source, Document) else f"Apply {file.name}")
    result = writer.write(_build(writer, source), author, note)
    store.flush()
    return result


def store_as_of(change: int) -> Store:
    """The data files with the logged changes up to `change` replayed on them, in memory."""
    from graph.store.load import data_files, dataset_paths
    from graph.write.history import History, data_digest, replay

    settings = get_settings()
    log = settings.history_file
    if log is None or not log.exists():
        fail("no history log: set CITYDIP_HISTORY_PATH (or CITYDIP_STORE_PATH, whose log is "
             "beside it) to the server's")
    history = History(log)
    if history.get(change) is None:
        fail(f"{log} has no change {change} (it holds 1 to {history.last_id()})")
    base = data_digest(data_files([settings.ontology_dir]) + dataset_paths(settings))
    if history.base and history.base != base:
        err.print("[yellow]warning:[/] the data files changed since the history began; "
                  "the changes are replayed on the current files", highlight=False)
    store = build_store(settings, store=Store(None))
    replay(store, history.until(change))
    materialise_shortcuts(store, settings)
    return store


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"
