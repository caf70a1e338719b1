"""`citydip import …`: pair lists of twinned cities into the graph, and the world figures.

    citydip import pairs FILE --source NAME [--format csv|tsv] [--columns …] [--names FILE]
    citydip import world            # the bundled lists of graph/data/sources/world/sources.yaml
    citydip import status           # what has been imported
    citydip import figures          # docs/figures/*.png from the imported lists
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from graph.core.settings import ROOT, get_settings
from graph.importing.pairs import PairListError
from graph.importing.reconcile import MAX_KM
from graph.importing.world import (
    MANIFEST,
    SAMPLE,
    ImportError_,
    ImportResult,
    SourceSpec,
    import_list,
    manifest,
    world_files,
)

app = typer.Typer(help="Import pair lists of twinned cities (CSV/TSV) into the graph, "
                  "reconciled with what it holds; draw the world figures.",
                  no_args_is_help=True, add_completion=False)
out = Console(soft_wrap=True)
err = Console(stderr=True)

Out = Annotated[Path | None, typer.Option(
    "--out", help="Folder for the generated RDF and reports (default: graph/data/world).")]
Sample = Annotated[int, typer.Option(
    help="Relations validated with pyshacl besides those of the report's areas.")]
Full = Annotated[bool, typer.Option(
    "--full", help="Validate every relation (in chunks; minutes for a large list).")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def _run(spec: SourceSpec, out_dir: Path | None, sample: int, full: bool,
         context: list[Path] | None = None) -> ImportResult:
    settings = get_settings()
    with err.status(f"importing {spec.source}…") as status:
        def say(message: str) -> None:
            status.update(f"{spec.source}: {message}")
        try:
            result = import_list(spec, settings, out_dir, context=context,
                                 sample=None if full else sample, say=say)
        except (PairListError, ImportError_, FileNotFoundError) as exc:
            _fail(str(exc))
    for line in result.lines:
        out.print(line, highlight=False, markup=False)
    if result.validation is not None and not result.validation.conforms:
        for finding in result.validation.violations[:5]:
            err.print(f"  {finding.focus} {finding.path or ''}: {finding.message}",
                      highlight=False, markup=False)
    out.print(f"report: {result.report_path} (every item: {result.json_path.name})",
              highlight=False, markup=False)
    return result


@app.command()
def pairs(
    file: Annotated[Path, typer.Argument(help="The pair list: CSV or TSV, UTF-8.")],
    source: Annotated[str, typer.Option(
        help="A short name for the list (lower case, digits, hyphens): the graph is "
             "…/graph/world-{source}.")],
    format: Annotated[str | None, typer.Option(
        "--format", help="csv or tsv (default: from the file's extension).")] = None,
    columns: Annotated[str | None, typer.Option(
        help="Which column is what: name1=city_a,country1=3,… or, for a file without header, "
             "the fields in order (id1,id2; - skips a column). Fields: name1 country1 lat1 lon1 "
             "id1 name2 country2 lat2 lon2 id2. Default: guessed from the header.")] = None,
    names: Annotated[Path | None, typer.Option(
        help="Names of the ids: a file of id<TAB or comma>label lines.")] = None,
    header: Annotated[bool | None, typer.Option(
        "--header/--no-header", help="Whether the first row names the columns (default: "
        "guessed).")] = None,
    language: Annotated[str, typer.Option(
        help="Language tag of the names (en, de…); empty when the list does not say.")] = "",
    title: Annotated[str, typer.Option(help="Title of the list.")] = "",
    description: Annotated[str, typer.Option(help="How the list was made.")] = "",
    origin: Annotated[str, typer.Option(help="Where the list was published (an IRI).")] = "",
    license: Annotated[str, typer.Option(help="IRI of the list's licence.")] = "",
    license_name: Annotated[str, typer.Option(help="The licence and attribution, in words.")]
    = "",
    creator: Annotated[str, typer.Option(help="Who made the list.")] = "",
    retrieved: Annotated[str, typer.Option(help="When it was retrieved (YYYY-MM-DD).")] = "",
    max_km: Annotated[float, typer.Option(
        help="Areas of the same name farther apart than this are different areas.")] = MAX_KM,
    out_dir: Out = None,
    sample: Sample = SAMPLE,
    full: Full = False,
) -> None:
    """Import one pair list: areas, relations of unstated kind, provenance; reconciled with
    the graph; report of matches, ambiguities and conflicts; validated (pair-list profile)."""
    try:
        spec = SourceSpec(source=source, file=file, format=format, columns=columns,
                          names=names, language=language, title=title,
                          description=description, origin=origin, license=license,
                          license_name=license_name, creator=creator, retrieved=retrieved,
                          max_km=max_km, header=header)
    except ImportError_ as exc:
        _fail(str(exc))
    result = _run(spec, out_dir, sample, full)
    if not result.summary["validation"]["conforms"]:
        raise typer.Exit(1)


@app.command()
def world(
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Import only this source (repeatable).")] = None,
    out_dir: Out = None,
    sample: Sample = SAMPLE,
    full: Full = False,
) -> None:
    """Import the bundled pair lists (graph/data/sources/world/sources.yaml), in order."""
    specs = manifest(MANIFEST)
    known = [s.source for s in specs]
    for name in only or ():
        if name not in known:
            _fail(f"--only: no bundled list {name!r}; the lists are {', '.join(known)}")
    # Each list is reconciled with the report and the lists before it in the manifest (never
    # with its own or a later list's earlier output), so that a new run gives the same IRIs.
    folder = out_dir or get_settings().data_dir / "world"
    context = [get_settings().data_dir]
    failed = False
    for spec in specs:
        if not only or spec.source in only:
            result = _run(spec, out_dir, sample, full, context=list(context))
            failed |= not result.summary["validation"]["conforms"]
            out.print("")
        previous = folder / f"{spec.stem}.nt"
        if previous.exists():
            context.append(previous)
    if failed:
        raise typer.Exit(1)


@app.command()
def status(out_dir: Out = None) -> None:
    """The imported pair lists: relations, areas, matches and validation of each."""
    folder = out_dir or get_settings().data_dir / "world"
    files = world_files(folder)
    if not files:
        out.print(f"no pair list imported in {folder}; run `citydip import world`",
                  highlight=False, markup=False)
        raise typer.Exit(1)
    from graph.importing.world import summary_lines

    for path in files:
        report = path.with_suffix(".report.json")
        if not report.exists():
            out.print(f"{path.name}: no report beside it", highlight=False, markup=False)
            continue
        for line in summary_lines(json.loads(report.read_text(encoding="utf-8"))):
            out.print(line, highlight=False, markup=False)
        out.print("")


@app.command()
def figures(
    out_dir: Annotated[Path, typer.Option(
        "--out", help="Folder for the PNGs and world-stats.json.")] = ROOT / "docs" / "figures",
    exact: Annotated[bool, typer.Option(
        help="Exact mean distance too (all-pairs BFS: minutes on the union).")] = True,
) -> None:
    """The degree distribution, the world map and the country network of the imported lists
    (PNG), and the network figures of each source beside KONECT's (world-stats.json)."""
    from graph.importing.figures import make_figures

    settings = get_settings()
    with err.status("drawing…") as status:
        try:
            made = make_figures(settings, out_dir, exact=exact,
                                say=lambda m: status.update(m))
        except FileNotFoundError as exc:
            _fail(str(exc))
    for path in made:
        out.print(f"wrote {path}", highlight=False, markup=False)
