"""The partnership web as networks: data read from the store, projections, measures, cache
per data version, exports and pictures.
"""
