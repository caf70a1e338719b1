"""Importing pair lists of twinned cities: the list spec, reading, countries, reconciliation,
RDF, the import report and the world figures.
"""
