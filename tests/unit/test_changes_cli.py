"""`citydip validate --changes`, `apply` and `export --as-of`, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cli.main import app
from graph.core.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
CD = "https://w3id.org/citydiplomacy/ns#"
ID = "https://w3id.org/citydiplomacy/id/"
REPORT = f"{ID}report/kaohsiung-administration-international-affairs-2026"
runner = CliRunner()


def passage(slug: str) -> str:
    return (f"@prefix cd: <{CD}> . @prefix prov: <http://www.w3.org/ns/prov#> .\n"
            f'<{ID}passage/{slug}> a cd:Passage ; cd:quote "測試"@zh-Hant ; cd:lineStart 1 ; '
            f"cd:lineEnd 1 ; prov:wasQuotedFrom <{REPORT}> .")


def changeset(folder: Path, name: str, doc: dict) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture
def configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings read anew from the environment (the CLI caches them), and restored after."""
    def configure(**env: str) -> None:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()

    yield configure
    monkeypatch.undo()
    get_settings.cache_clear()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_validate_changes_checks_a_changeset_against_the_data(tmp_path: Path) -> None:
    good = changeset(tmp_path, "good", {"message": "A passage", "add": passage("cli-good")})
    result = run("validate", "--changes", str(good))
    assert result.exit_code == 0, result.output
    assert "+5 −0" in result.output and "Conforms: yes" in result.output

    bad = changeset(tmp_path, "bad", {"message": "A party removed", "remove": (
        f"<{ID}agreement/kaohsiung-gdynia-sister-city-2025> <{CD}party> <{ID}city/gdynia> .")})
    result = run("validate", "--changes", str(bad), "--format", "json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    assert report["conforms"] is False and report["removed"] == 1
    assert any(r["path"] == f"{CD}party" for r in report["results"])

    # A data file: the change that makes its graph hold exactly the file (here: nothing).
    same = run("validate", "--changes", str(ROOT / "graph" / "data" / "reference.ttl"))
    assert same.exit_code == 0 and "+0 −0" in same.output


def test_apply_then_export_as_of(tmp_path: Path, configured) -> None:
    configured(CITYDIP_STORE_PATH=str(tmp_path / "store"))
    first = changeset(tmp_path, "first", {"message": "First passage", "add": passage("cli-1")})
    second = changeset(tmp_path, "second", {"message": "Second", "add": passage("cli-2"),
                                            "remove": passage("cli-1")})
    broken = changeset(tmp_path, "broken", {"message": "Broken", "add": (
        f"<{ID}passage/cli-3> a <{CD}Passage> .")})

    applied = run("apply", str(first), "--author", "carol")
    assert applied.exit_code == 0, applied.output
    assert "committed as change 1" in applied.output
    again = run("apply", str(first))
    assert again.exit_code == 0 and "nothing to change" in again.output
    refused = run("apply", str(broken))
    assert refused.exit_code == 1 and "Violation" in refused.output
    assert run("apply", str(second)).exit_code == 0
    history = (tmp_path / "store.history.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in history[1:]]
    assert [(e["id"], e["author"], e["message"]) for e in entries] == [
        (1, "carol", "First passage"), (2, entries[1]["author"], "Second")]

    as_of_1 = run("export", "--as-of", "1", "--format", "nt")
    assert as_of_1.exit_code == 0, as_of_1.output
    assert f"<{ID}passage/cli-1>" in as_of_1.output
    assert f"<{ID}passage/cli-2>" not in as_of_1.output
    as_of_2 = run("export", "--as-of", "2", "--format", "nt")
    assert f"<{ID}passage/cli-2>" in as_of_2.output
    assert f"<{ID}passage/cli-1>" not in as_of_2.output
    assert run("export", "--as-of", "9").exit_code == 2


def test_apply_refuses_a_store_that_would_not_keep_the_change(tmp_path: Path,
                                                                configured) -> None:
    configured(CITYDIP_STORE_PATH=":memory:")
    first = changeset(tmp_path, "first", {"message": "First passage", "add": passage("cli-m")})
    result = run("apply", str(first))
    assert result.exit_code == 2 and "in memory" in result.output
