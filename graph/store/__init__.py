"""The stores: embedded pyoxigraph and remote SPARQL endpoints; loading, exporting,
validating.
"""
