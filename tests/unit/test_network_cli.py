"""`citydip network …` and `citydip viz …` as a user runs them."""

from __future__ import annotations

import json
import re

import networkx as nx
from typer.testing import CliRunner

from graph.cli.main import app

runner = CliRunner()


def run(*args: str, code: int = 0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def test_stats_in_text_and_json():
    text = run("network", "stats").output
    assert "58 actors, 102 ties" in text and "components: 7 (largest 30)" in text
    doc = json.loads(run("network", "stats", "--format", "json").output)
    assert doc["nodes"] == 58 and doc["betweenness"]["method"] == "exact"


def test_top_ranks_kaohsiung_first():
    doc = json.loads(run("network", "top", "--by", "betweenness", "--limit", "2",
                         "-f", "json").output)
    assert doc["actors"][0]["id"] == "city/kaohsiung"
    assert "Kaohsiung" in run("network", "top").output
    assert "unknown measure" in run("network", "top", "--by", "fame", code=2).output


def test_path_by_label_goes_through_kaohsiung():
    text = run("network", "path", "Gdynia", "Kumamoto City").output
    assert "2 hop(s): Gdynia · 格丁尼亞市 → Kaohsiung · 高雄市 → Kumamoto City · 熊本市" in text
    assert "Kaohsiung–Gdynia sister-city agreement (2025)" in text
    assert "city/atlantis" in run("network", "path", "city/atlantis", "city/gdynia",
                                  code=2).output


def test_ego_communities_timeline_with_filters():
    assert "Within 1 hop(s) of Kaohsiung: 30 actors" in run("network", "ego",
                                                            "city/kaohsiung").output
    communities = json.loads(run("network", "communities", "-f", "json").output)
    assert communities["seed"] == 42
    as_of = json.loads(run("network", "timeline", "--until", "2020", "-f", "json").output)
    assert [row["year"] for row in as_of["years"]] == [1982, 1993, 2006, 2017]
    poland = json.loads(run("network", "stats", "--country", "poland", "--kind", "agreement",
                            "-f", "json").output)
    assert poland["partnerships"] == 9
    assert "unknown kind 'treaty'" in run("network", "stats", "--kind", "treaty", code=2).output


def test_export_graphml_gexf_csv_json(tmp_path):
    graphml, gexf = tmp_path / "web.graphml", tmp_path / "countries.gexf"
    run("network", "export", "--format", "graphml", "--out", str(graphml))
    assert nx.read_graphml(graphml).number_of_edges() == 102
    run("network", "export", "--format", "gexf", "--projection", "country", "--out", str(gexf))
    assert nx.read_gexf(gexf).number_of_nodes() == 6
    csv = run("network", "export", "--format", "csv", "--table", "nodes").output
    assert csv.startswith("Id,Label,")
    doc = json.loads(run("network", "export", "--format", "json", "--projection",
                         "bipartite").output)
    assert len(doc["edges"]) == 98


def test_viz_writes_standalone_files_that_load_nothing_from_the_web(tmp_path):
    for args in (["network"], ["ego", "city/kaohsiung"], ["path", "Gdynia", "Kumamoto City"],
                 ["countries"]):
        out = tmp_path / f"{args[0]}.html"
        result = run("viz", *args, "--out", str(out))
        assert "wrote" in result.output
        html = out.read_text(encoding="utf-8")
        assert "vis.Network" in html and "viz-data" in html
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), args
        assert "<script src" not in html and "<link" not in html
