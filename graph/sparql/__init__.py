"""SPARQL as text and as answers: lexical facts, the SERVICE guard, the one format table, the
named-query catalogue, query execution in killable workers, result serialization.
"""
