"""Writes are validated in a process of their own, with the verdict validation in the writer gives.

The validation process (graph/write/validation_process.py) keeps pyshacl's work off the GIL of
the process that answers reads. These tests pin what a data editor relies on: the same verdict
and findings as validating in the writer's own process; a write validated although the process
was killed; a write that takes too long refused with nothing written. (tests/unit/
test_incremental.py runs its soundness property through the process too: the default settings
use it.)
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pyoxigraph as ox
import pytest

import graph.write.incremental as incremental
from graph.core.namespaces import CD, GRAPH, ID
from graph.store.embedded import Store
from graph.store.load import load_ontology, materialise_shortcuts
from graph.write.changes import ChangeError, effective
from graph.write.history import History
from graph.write.writer import Writer

VALID = Path(__file__).resolve().parents[1] / "shapes" / "valid"
EDITS = ox.NamedNode(str(GRAPH["edits"]))
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
ALT_LABEL = ox.NamedNode("http://www.w3.org/2004/02/skos/core#altLabel")


def writer_for(settings, **changes) -> Writer:
    store = Store(None)
    load_ontology(store, settings)
    store.load_file(VALID / "sister-city-agreement-with-signatories.ttl", str(GRAPH["base"]))
    materialise_shortcuts(store, settings)
    return Writer(store, settings.model_copy(update=changes), History(None))


@pytest.fixture
def writer(settings):
    writer = writer_for(settings, validation_process=True)
    yield writer
    writer.close()


def good(n: int) -> list[ox.Quad]:
    """Another name for Gdynia: conforms."""
    return [ox.Quad(ox.NamedNode(str(ID["city/gdynia"])), ALT_LABEL,
                    ox.Literal(f"Gdingen {n}", language="de"), EDITS)]


def bad(n: int) -> list[ox.Quad]:
    """An agreement with a type and nothing else: several violations."""
    agreement = ox.NamedNode(str(ID[f"agreement/untold-{n}"]))
    return [ox.Quad(agreement, RDF_TYPE, ox.NamedNode(str(CD["SisterCityAgreement"])), EDITS),
            ox.Quad(agreement, LABEL, ox.Literal("Untold", language="en"), EDITS)]


def findings(report) -> list[tuple]:
    """What a finding says (an anonymous shape's rendering lists its triples in set order,
    which differs between processes)."""
    return sorted((f.severity, f.focus, f.path or "", f.value or "", f.component, f.message)
                  for f in report.findings)


def write(writer: Writer, quads: list[ox.Quad]):
    return writer.write(lambda: effective(writer.store, quads, []), "tester", "a test")


def test_a_write_is_validated_in_another_process_with_the_same_verdict(writer, settings,
                                                                       monkeypatch):
    here = writer_for(settings, validation_process=False)
    expected = here.stage(effective(here.store, bad(1), [])).verdict.report

    def not_here(*args, **kwargs):
        raise AssertionError("validated in the writer's process")

    monkeypatch.setattr(incremental, "validate", not_here)
    monkeypatch.setattr(incremental.KeptShapes, "validate", not_here)  # this process's class
    refused = write(writer, bad(1))
    assert not refused.committed
    assert refused.verdict.report.violations  # an agreement needs parties, a date, …
    assert findings(refused.verdict.report) == findings(expected)
    assert write(writer, good(1)).committed
    pid = writer.validator.process.pid()
    assert pid is not None and pid != os.getpid()


def test_a_killed_validation_process_costs_no_write(writer):
    assert write(writer, good(2)).committed
    process = writer.validator.process
    os.kill(process.pid(), signal.SIGKILL)
    process._process.wait(10)
    assert not write(writer, bad(2)).committed  # still refused: validated, not waved through
    assert write(writer, good(3)).committed
    assert process.restarts == 1
    assert process.pid() is not None and process._process.poll() is None


def test_a_validation_past_its_time_limit_is_refused_and_writes_nothing(settings):
    writer = writer_for(settings, validation_process=True, validation_seconds=1e-6)
    try:
        before = writer.store.count()
        with pytest.raises(ChangeError) as refused:
            write(writer, good(4))
        assert refused.value.status == 413
        assert "CITYDIP_VALIDATION_SECONDS" in str(refused.value)
        assert writer.store.count() == before
        assert writer.history.entries() == []
    finally:
        writer.close()


def test_closing_the_writer_stops_its_validation_process(settings):
    writer = writer_for(settings, validation_process=True)
    writer.start()
    child = writer.validator.process._process
    writer.close()
    assert child.poll() is not None
    assert write(writer, good(5)).committed  # validated in the writer's process from then on
