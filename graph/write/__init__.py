"""The one write path: changesets, payload parsing, the refusal policy, the editors' changeset
document, staging, derived shortcuts, incremental validation, the history log, the writer and the
write tokens.
"""
