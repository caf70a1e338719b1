"""The one write path: changesets, payload parsing, staging, derived shortcuts, incremental
validation, the history log, the writer and the write tokens.
"""
