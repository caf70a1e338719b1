"""The shortcut rules as a write runs them (graph.write.derived.combined): one query that
constructs what the rule files construct one by one."""

from __future__ import annotations

from typing import cast

import pyoxigraph as ox

from graph.core.settings import Settings
from graph.store.load import build_store
from graph.write.derived import combined, load_rules


def constructed(store, queries: list[str]) -> set[ox.Triple]:
    return {t for query in queries for t in cast(ox.QueryTriples, store.query(query))}


def test_the_rules_combined_construct_what_they_construct_one_by_one() -> None:
    settings = Settings(store_path=":memory:")
    store = build_store(settings)
    rules = [p.read_text(encoding="utf-8") for p in sorted(settings.rules_dir.glob("*.rq"))]
    assert len(rules) >= 4 and load_rules(settings.rules_dir) == combined(rules)
    (one,) = combined(rules)
    separate = constructed(store, rules)
    assert {t.predicate.value.rsplit("#", 1)[1] for t in separate} >= {
        "partnerOf", "sisterCityOf", "friendshipCityOf"}
    assert constructed(store, [one]) == separate


def test_a_rule_of_another_form_keeps_the_rules_apart() -> None:
    rules = ["PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
             "CONSTRUCT { ?a cd:partnerOf ?b } WHERE { ?p cd:party ?a , ?b }",
             "PREFIX cd: <https://w3id.org/citydiplomacy/ns#>\n"
             "CONSTRUCT { ?b cd:partnerOf ?a . ?a a cd:City } WHERE { ?p cd:party ?a , ?b }"]
    assert combined(rules) == rules
    clash = [rules[0], rules[0].replace("ns#", "other#")]
    assert combined(clash) == clash
