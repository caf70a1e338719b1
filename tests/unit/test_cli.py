"""The `citydip` command line as a user runs it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
from typer.testing import CliRunner

from graph.cli.main import app, tune_process
from graph.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
INVALID = ROOT / "tests" / "shapes" / "invalid"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_the_bundled_data_validates():
    result = run("validate", str(ROOT / "graph" / "data"))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Conforms: yes")


def test_validate_exits_1_and_explains_a_violation():
    broken = sorted(INVALID.glob("*.ttl"))[0]
    result = run("validate", str(broken), "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["conforms"] is False
    assert report["violations"] >= 1
    assert all(r["message"] for r in report["results"])


def test_validate_reports_a_syntax_error_without_a_traceback(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix cd: <https://w3id.org/citydiplomacy/ns#> .\ncd:x cd:y .\n")
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert "bad.ttl" in result.output or "line" in result.output
    assert "Traceback" not in result.output


def test_validate_names_a_missing_file(tmp_path):
    result = run("validate", str(tmp_path / "nowhere.ttl"))
    assert result.exit_code == 2
    assert "nowhere.ttl" in result.output


def test_query_prints_a_table_csv_and_json():
    table = run("query", "partners-of", "--param", "actor=city/kaohsiung")
    assert table.exit_code == 0, table.output
    assert "Gdynia" in table.output
    csv = run("query", "partners-of", "-p", "actor=city/kaohsiung", "--format", "csv")
    assert csv.output.splitlines()[0].startswith("actor,partner,")
    doc = json.loads(run("query", "partners-of", "--format", "json").output)
    assert doc["head"]["vars"][0] == "actor"
    assert doc["results"]["bindings"]


def test_query_refuses_a_bad_parameter_by_name():
    result = run("query", "agreements-on-topic", "--param", "since=yesterday")
    assert result.exit_code == 2
    assert "since" in result.output


def test_query_refuses_an_unknown_query():
    result = run("query", "no-such-query")
    assert result.exit_code == 2
    assert "partners-of" in result.output


def test_stats_counts_classes_and_relations():
    result = run("stats", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    classes = {b["class"]["value"].rsplit("#", 1)[-1]: int(b["count"]["value"])
               for b in doc["class-counts"]["results"]["bindings"]}
    relations = {b["relation"]["value"].rsplit("#", 1)[-1]: int(b["count"]["value"])
                 for b in doc["relation-counts"]["results"]["bindings"]}
    assert classes["SisterCityAgreement"] >= 4
    assert relations["party"] > 0 and relations["sisterCityOf"] % 2 == 0


@pytest.mark.parametrize(("fmt", "parser"), [("ttl", "turtle"), ("nt", "nt"), ("trig", "trig"),
                                             ("jsonld", "json-ld"), ("nq", "nquads")])
def test_export_round_trips_every_triple(fmt, parser, store, tmp_path):
    target = tmp_path / f"export.{fmt}"
    result = run("export", "--format", fmt, "--out", str(target))
    assert result.exit_code == 0, result.output
    if parser in ("trig", "json-ld", "nquads"):
        data = rdflib.Dataset()
        data.parse(target, format=parser)
        assert len(data) == store.count()
        assert {str(g.identifier) for g in data.graphs()} >= set(store.graphs())
    else:
        data = rdflib.Graph().parse(target, format=parser)
        assert len(data) == len(store.to_rdflib())


def test_export_of_one_graph_holds_only_that_graph(store):
    graph = "https://w3id.org/citydiplomacy/graph/kaohsiung-report"
    result = run("export", "--format", "nt", "--graph", graph)
    assert len(rdflib.Graph().parse(data=result.output, format="nt")) == store.count(graph)


def test_the_installed_command_runs():
    exe = Path(sys.executable).parent / "citydip"
    done = subprocess.run([str(exe), "queries"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0
    assert "partners-of" in done.stdout


def test_the_serving_process_hands_its_interpreter_over_as_often_as_configured():
    before = sys.getswitchinterval()
    try:
        tune_process(Settings(switch_interval=0.0004))
        assert sys.getswitchinterval() == pytest.approx(0.0004)
        tune_process(Settings())
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(before)
    for refused in ("0", "-1", "1"):
        with pytest.raises(ValueError, match="switch_interval"):
            Settings(switch_interval=refused)

