"""The `citydip` command line, one module per command group."""
