"""`python -m graph.cli.main`: the `citydip` command line."""

from graph.cli.main import app

app()
