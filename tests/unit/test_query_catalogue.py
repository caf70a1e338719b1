"""Every named query is a valid, documented, runnable SPARQL file whose parameters bind as terms."""

import shutil

import pyoxigraph as ox
import pytest

from graph.core.settings import Settings
from graph.sparql import catalogue as module
from graph.sparql.catalogue import (
    ParamError,
    QueryError,
    catalogue,
    every_query,
    get_query,
    internal_query,
    parse_query_file,
)

QUERIES = catalogue(Settings().queries_dir)


def test_the_catalogue_holds_the_twelve_research_questions():
    for name in ("partners-of", "sister-cities-by-country", "agreement-parties",
                 "agreements-on-topic", "sister-schools-of", "officials-of", "visits-by-year",
                 "event-participants", "partner-links-beyond", "source-of",
                 "agreements-timeline", "label-search"):
        assert name in QUERIES


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_is_documented_and_its_params_are_projected(name):
    query = QUERIES[name]
    assert query.summary
    if query.form == "SELECT":
        # Every row says which value it answers for (and clients that write the value into
        # the text, as the benchmark does, rely on it).
        head = query.text.split("WHERE")[0]
        for param in query.params:
            assert f"?{param.name}" in head, f"{name}: ?{param.name} is not projected"


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_query_runs_on_the_bundled_graph_with_its_example_values(name, store):
    query = QUERIES[name]
    values = {p.name: p.example for p in query.params if p.example is not None}
    for param in query.params:
        assert not param.required or param.example, f"{name}: {param.name} needs an example"
    result = store.query(query.text, query.bindings(values))
    if query.form == "SELECT":
        assert list(result), f"{name} returns nothing for its example"


def test_an_iri_parameter_binds_as_a_term_not_as_text(store):
    query = QUERIES["label-search"]
    hostile = 'x")) } UNION { ?resource ?p ?label } #'
    rows = list(store.query(query.text, query.bindings({"text": hostile})))
    assert rows == []


def test_a_resource_path_expands_to_the_resource_namespace():
    term = QUERIES["partners-of"].bindings({"actor": "city/gdynia"})["actor"]
    assert term == ox.NamedNode("https://w3id.org/citydiplomacy/id/city/gdynia")


@pytest.mark.parametrize(
    ("name", "values", "bad"),
    [
        ("partners-of", {"actor": "not an iri"}, "actor"),
        ("agreements-on-topic", {"since": "2025-13"}, "since"),
        ("agreements-on-topic", {"since": "last year"}, "since"),
        ("label-search", {"text": "x", "lang": "zh Hant"}, "lang"),
        ("label-search", {}, "text"),
        ("partners-of", {"city": "city/gdynia"}, "city"),
    ],
)
def test_a_bad_parameter_is_refused_with_its_name(name, values, bad):
    with pytest.raises(ParamError) as caught:
        QUERIES[name].bindings(values)
    assert caught.value.name == bad


def test_dates_keep_the_precision_they_are_given():
    since = QUERIES["agreements-on-topic"].params[1]
    assert since.term("2025").datatype.value.endswith("#gYear")
    assert since.term("2025-09").datatype.value.endswith("#gYearMonth")
    assert since.term("2025-09-01").datatype.value.endswith("#date")


def test_an_unknown_query_name_lists_the_known_ones(settings):
    with pytest.raises(QueryError, match="partners-of"):
        get_query(settings.queries_dir, "no-such-query")
    with pytest.raises(QueryError):
        get_query(settings.queries_dir, "../pyproject")


EVERY = every_query(Settings().queries_dir)


def test_every_query_file_is_in_the_catalogue_once():
    files = sorted(Settings().queries_dir.rglob("*.rq"))
    assert len(EVERY) == len(files) and set(QUERIES) <= set(EVERY)
    assert {name.split("/")[0] for name in EVERY if "/" in name} >= {
        "pages", "network", "world", "meta", "rules"}


@pytest.mark.parametrize("name", sorted(EVERY))
def test_every_query_file_runs_on_the_bundled_graph(name, store):
    """The server's own queries too: documented, and answering with their example values."""
    query = EVERY[name]
    assert query.summary, f"{name}: no summary"
    for param in query.params:
        assert not param.required or param.example, f"{name}: {param.name} needs an example"
    values = {p.name: p.example for p in query.params if p.example is not None}
    result = store.query(query.text, query.bindings(values))
    if query.form != "ASK":
        list(result)  # the engine evaluates lazily: read every row or triple


def test_a_query_file_is_looked_at_on_disk_again_only_after_a_second(settings, tmp_path,
                                                                      monkeypatch):
    folder = tmp_path / "queries"
    shutil.copytree(settings.queries_dir, folder)
    first = internal_query(folder, "pages/browse")
    (folder / "pages" / "browse.rq").unlink()
    assert internal_query(folder, "pages/browse") is first  # within the second: not re-read
    monkeypatch.setattr(module, "RECHECK_SECONDS", 0.0)
    with pytest.raises(QueryError):
        internal_query(folder, "pages/browse")  # looked at again: the file is gone


def test_an_internal_query_is_parsed_once_and_named_by_folder(settings):
    first = internal_query(settings.queries_dir, "pages/browse")
    assert internal_query(settings.queries_dir, "pages/browse") is first
    with pytest.raises(QueryError):
        internal_query(settings.queries_dir, "../pages/browse")
    with pytest.raises(QueryError):
        internal_query(settings.queries_dir, "pages/no-such-query")


@pytest.mark.parametrize("params, about, fine", [
    ("#+   actor:\n#+     type: iri\n#+     required: true\n", "actor", True),
    ("#+   actor:\n#+     type: iri\n#+     default: https://example.org/a\n", "actor", True),
    ("#+   actor:\n#+     type: iri\n", "actor", False),  # may be unbound: the whole graph
    ("#+   year:\n#+     type: integer\n#+     default: 2020\n", "year", False),
    ("#+   actor:\n#+     type: iri\n#+     required: true\n", "other", False),
])
def test_about_names_an_iri_parameter_that_is_always_bound(tmp_path, params, about, fine):
    path = tmp_path / "q.rq"
    path.write_text(f"#+ summary: s\n#+ about: {about}\n#+ params:\n{params}"
                    "SELECT * WHERE { ?s ?p ?o }\n", encoding="utf-8")
    if fine:
        assert parse_query_file(path).about == about
    else:
        with pytest.raises(QueryError, match="about"):
            parse_query_file(path)
