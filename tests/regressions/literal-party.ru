PREFIX cd: <https://w3id.org/citydiplomacy/ns#>
INSERT DATA { GRAPH <https://example.org/fuzz/graph> { <https://w3id.org/citydiplomacy/id/city/fuzz-a> cd:party "a literal party" } }
