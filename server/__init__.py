"""The HTTP layer: FastAPI routes over graph's store backend (imports graph, never the reverse)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
TEMPLATES_DIR = Path(__file__).parent / "templates"
