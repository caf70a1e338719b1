"""Settings and namespaces: the leaves every other sub-package imports, importing nothing of
ours.
"""
